import ArgumentParser
import Foundation
import OppsCSV
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

/// `opps export --csv`: the records this laptop holds, as CSV (RFC 4180).
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write the records of one type on this laptop as CSV to stdout (a header row, then one row per record).",
        discussion: """
            The type by name or label. A text that starts with =, +, -, or @ (and is not a number) is written after an \
            apostrophe, so a spreadsheet shows it as text instead of running it as a formula; opps-hub import takes the \
            apostrophe away.

            Example: opps export account > accounts.csv (or --type account)

            --sheet writes the same records for reading in a spreadsheet (Excel, WPS, Numbers): columns headed by \
            label, references by name, choices as they read, amounts as plain numbers, times in local time, each row led \
            by the short id opps takes back, with a byte-order mark so Excel reads Chinese. opps-hub import does not \
            read it: it reads the form without --sheet.

            Example: opps export --sheet > deals.csv
            """)

    @Argument(help: "The record type, as --type takes it.") var kind: String?
    @Flag(help: "CSV output (the only format, and the default).") var csv = false
    @Flag(help: "For a spreadsheet: labels, names, local times, a byte-order mark (not for opps-hub import).") var sheet = false
    @Option(help: "The record type: opportunity (the default), account, contact, activity, task, approval, membership.") var type: String?
    @OptionGroup var home: HomeOption

    func run() throws {
        let r = try home.open()
        let words = home.words(r)
        // `opps export 客户`, as a rep types it, or `--type 客户`; not two different ones.
        if let kind, let type, kind != type {
            throw ReplicaError.invalid("two types: \(kind) and --type \(type): give one", chinese: "给了两个类型：\(kind) 和 --type \(type)：只写一个")
        }
        let type = kind ?? type ?? "opportunity"
        guard let entity = r.workspace.entity(type) ?? r.workspace.entities.first(where: { Workspace.matches(type, $0.labels) }) else {
            throw ReplicaError.invalid(
                "unknown type \"\(type)\" (\(r.workspace.entities.map(\.name).joined(separator: ", ")))",
                chinese: "没有类型「\(type)」（类型：\(r.workspace.entities.map { words.entity($0.name) }.joined(separator: "、"))）")
        }
        if sheet { return Console.out(try r.sheet(entity, words: words, chinese: words.say.chinese)) }
        // The creation's device time and author close the row, so an import keeps the history
        // whole (time in the first stage, the creator's sight of a lead): a lossless round trip.
        // A staged record also names the stage it was created in: the stage log starts after it.
        let staged = entity.stageField != nil
        var lines = [(["id"] + entity.fields.map(\.name) + ["created_at", "created_by"] + (staged ? ["created_stage"] : [])).joined(separator: ",")]
        for record in try r.store.list(entity: entity.name, workspace: r.workspace) {
            lines.append(
                ([record.id.description] + entity.fields.map { record[$0.name].isNull ? "" : CSV.cell(record[$0.name].canonicalText) }
                    + [record.created.stamp.hlc.timestamp.description, CSV.cell(record.creator)]
                    + (staged ? [record.created.value.isNull ? "" : record.created.value.canonicalText] : [])).joined(separator: ","))
        }
        Console.out(lines.joined(separator: "\r\n"))
    }
}
