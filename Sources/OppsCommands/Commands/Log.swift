import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

/// `opps log`: an activity on a deal — append-only, stamped with device time, merged as a union.
struct LogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log", abstract: "Log a call, visit, email, meeting or check-in on a deal (works offline; activities are never overwritten).",
        discussion: """
            The kind first, then what happened, as words or as --kind and --note: the kind by name or label.

            Example: opps log 7dka36sd visit "met the CFO" --place "Beta HQ"
            """)

    @Argument(help: "The deal: its short id as opps list prints it, or its exact name.") var id: String
    @Argument(help: "The kind (call, visit, email, meeting, checkin or note), then what happened.") var what: [String] = []
    @Option(help: "call, visit, email, meeting, checkin or note (instead of the first word).") var kind: String?
    @Option(help: "What happened (instead of the words after the kind).") var note: String?
    @Option(
        help: ArgumentHelp(
            "When (YYYY-MM-DD HH:MM on this device's clock, with UTC after it in UTC, or in full YYYY-MM-DDTHH:MM:SSZ; or a day and a time: yesterday 15:00, 12-03 9:30; a day alone is its noon); default: now.",
            valueName: "time")) var at: String?
    @Option(help: "Where (for visits and check-ins).") var place: String?
    @OptionGroup var home: HomeOption
    @Flag(help: "Print the new activity as JSON.") var json = false

    /// The kind and the note, from the words or the options, each said once; `kinds`: the kinds
    /// the workspace offers, by name and in the reader's words, for the line that asks for one.
    /// `code`: the deal as the line that asks for a kind names it (its short id).
    func kindAndNote(kinds: (names: [String], shown: [String]), code: String) throws -> (kind: String, note: String?) {
        var words = what[...]
        guard let kind = kind ?? words.popFirst() else {
            throw ReplicaError.invalid(
                "say what kind of activity: opps log \(code) visit \"what happened\" (\(kinds.names.joined(separator: ", ")))",
                chinese: "请写明跟进类型：opps log \(code) 拜访 \"发生了什么\"（\(kinds.shown.joined(separator: "、"))）")
        }
        if note != nil, !words.isEmpty {
            throw ReplicaError.invalid(
                "what happened is said twice: as --note and as \"\(words.joined(separator: " "))\"; give one",
                chinese: "「发生了什么」写了两次：--note 和「\(words.joined(separator: " "))」；只写一次")
        }
        return (kind, note ?? (words.isEmpty ? nil : words.joined(separator: " ")))
    }

    func run() throws {
        let r = try home.open()
        let deal = try dealID(r, id)
        guard let entity = r.workspace.entity("activity") else { throw ReplicaError.invalid("this workspace has no activities") }
        let words = home.words(r)
        var names = [String]()
        if case let .enumeration(members)? = entity.field("kind")?.type { names = members }
        let shown = names.map { words.value("activity", "kind", .member($0)) }
        let code = try r.shortIDs()(deal)
        let (kind, note) = try kindAndNote(kinds: (names, shown), code: code)
        // Words without a kind first (opps log ID 见了王总): the line says the kind comes first.
        if self.kind == nil, let field = entity.field("kind"), (try? r.parse(kind, for: field, of: entity.name)) == nil {
            let said = what.joined(separator: " ")
            throw ReplicaError.invalid(
                "\"\(kind)\" is not a kind of activity (\(names.joined(separator: ", "))): the kind comes first, as in opps log \(code) visit \"\(said)\"",
                chinese: "「\(kind)」不是跟进类型（\(shown.joined(separator: "、"))）：先写类型，例如 opps log \(code) 拜访 \"\(said)\"")
        }
        let when = try at.map { try r.parse($0, for: entity.field("at")!, of: entity.name) } ?? .timestamp(deviceNow())
        let result = try r.logActivity(deal: deal, kind: kind, at: when, note: note, place: place)
        if json { return try printRecord(r, result.record, json: true, words: words) }
        // What was logged, on which deal, and when when it was not now: `已记录 拜访：见了王总（华为云 试点）`.
        guard let logged = try r.record(result.record) else { return }
        let dealName = try r.record(deal).flatMap { $0["name"].isNull ? nil : $0["name"].canonicalText }
        var time: String?
        if at != nil, case let .timestamp(t) = logged["at"] { time = LocalTime.minute(t.milliseconds) }
        Console.out(
            words.say.logged(
                try r.shortIDs()(result.record), kind: words.say.value(words, entity.name, "kind", logged["kind"]),
                note: logged["note"].isNull ? nil : logged["note"].canonicalText,
                deal: dealName, at: time, place: logged["place"].isNull ? nil : logged["place"].canonicalText))
    }
}
