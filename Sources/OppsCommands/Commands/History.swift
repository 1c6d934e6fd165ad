import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history", abstract: "A record's trail on this laptop: who changed what, when (device time).",
        discussion: "Changes made here, and those pulled after the record arrived; what happened before is its timeline (opps show).\n\nExample: opps history 7dka36sd")

    @Argument(help: "The record: its short id as opps list prints it (4+ characters do), a full id, its name, or a part of it only one name holds.")
    var id: String

    @OptionGroup var home: HomeOption

    @Flag(help: "Print a JSON array, one object per change.")
    var json = false

    func run() throws {
        let r = try home.open()
        let recordID = try r.resolveID(id, reading: true)
        let lines = try r.store.history(recordID)
        // A full id is taken as it is: one that names nothing here (and has no trail here) is
        // said so, not read as a record with no changes.
        if lines.isEmpty, try r.record(recordID) == nil { throw try r.lookup(.unknown, typed: id, []) }
        let words = home.words(r)
        let entity = try r.record(recordID)?.entity ?? "opportunity"
        if json {
            Console.out(try lines.map(HistoryJSON.init).jsonLine())
            return
        }
        let say = words.say
        let short = try r.shortIDs()
        // A reference reads as the record's name and short id, as `opps show` prints it.
        func shown(_ field: String, _ v: Value) throws -> String { try valueText(r, words, entity, field, v) }
        // Where a line comes from and what became of it, in the reader's words.
        func tag(_ h: HistoryLine) -> String {
            switch h.source {
            case "local":
                if h.rule == "pending" { return say("here, not synced yet", "本机，待同步") }
                if h.rule == "synced" { return say("here, synced", "本机，已同步") }
                let parts = h.rule.split(separator: " ", maxSplits: 1).map(String.init)
                let outcome = Vocabulary.outcome(parts.first ?? h.rule, chinese: say.chinese)
                let why = parts.count > 1 ? words.reason(rule: parts[1], entity: entity, field: h.field, chinese: say.chinese) : ""
                return say("here, \(outcome)" + (why.isEmpty ? "" : ": \(why)"), "本机，\(outcome)" + (why.isEmpty ? "" : "：\(why)"))
            case "hub":
                if h.rule == HistoryLine.following { return say("from the hub, after your change", "来自服务器，随你的修改") }
                return say("from the hub", "来自服务器")
            case "conflict":
                let why = words.reason(rule: h.rule, entity: entity, field: h.field, chinese: say.chinese)
                return say("conflict: \(why)", "冲突：\(why)")
            default:
                return h.source + (h.rule.isEmpty ? "" : " " + h.rule)
            }
        }
        // The stage log is the stage's own changes again, in its storage form (one line per move,
        // hub times in milliseconds): the stage's lines say it, as `opps show`'s timeline does.
        let stageLog = r.workspace.entity(entity)?.stageField != nil ? r.workspace.stageHistory : nil
        let shownLines = lines.filter { $0.field != stageLog || $0.field.isEmpty }
        if shownLines.isEmpty {
            // A record that came whole (a first sync) has no trail here yet: say so, and where its story is.
            let code = short(recordID)
            Console.out(
                say(
                    "No change to this record on this laptop since it arrived; its timeline: opps show \(code)",
                    "这条记录来到本机以来还没有修改；它的时间线：opps show \(code)"))
            return
        }
        for h in shownLines {
            // A line without a field is the record's deletion (merge-semantics.md §7.2).
            // A conflict line holds the value that did not hold (`old`) and the one that did
            // (`new`): said as such, not as a change from the one to the other.
            let label = words.field(entity, h.field)
            let change =
                h.field.isEmpty
                ? say.deletedTheRecord
                : h.source == "conflict"
                    ? say(
                        "\(label): \(say.quoted(try shown(h.field, h.old))) did not hold, \(say.quoted(try shown(h.field, h.new))) did",
                        "\(label)：\(say.quoted(try shown(h.field, h.old)))未被采用，保留\(say.quoted(try shown(h.field, h.new)))")
                    : say("\(label): ", "\(label)：") + "\(try shown(h.field, h.old)) → \(try shown(h.field, h.new))"
            // To the minute in device time, as the timeline; a long change continues under itself.
            let head = "\(LocalTime.minute(h.hlc.milliseconds))  \(authorName(h.author, chinese: say.chinese).padding(6)) "
            let text = say("\(change) [\(tag(h))]", "\(change)【\(tag(h))】")
            Console.out(hanging(head, text))
        }
    }
}
