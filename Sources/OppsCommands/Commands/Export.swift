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
    @Option(help: "The record type: opportunity, account, contact, activity, task, approval, membership.") var type = "opportunity"
    @OptionGroup var home: HomeOption

    func run() throws {
        let r = try home.open()
        let words = home.words(r)
        // `opps export 客户`, as a rep types it, or `--type 客户`; not two different ones.
        if let kind, kind != type, type != "opportunity" {
            throw ReplicaError.invalid("two types: \(kind) and --type \(type): give one", chinese: "给了两个类型：\(kind) 和 --type \(type)：只写一个")
        }
        let type = kind ?? type
        guard let entity = r.workspace.entity(type) ?? r.workspace.entities.first(where: { Workspace.matches(type, $0.labels) }) else {
            throw ReplicaError.invalid(
                "unknown type \"\(type)\" (\(r.workspace.entities.map(\.name).joined(separator: ", ")))",
                chinese: "没有类型「\(type)」（类型：\(r.workspace.entities.map { words.entity($0.name) }.joined(separator: "、"))）")
        }
        if sheet { return Console.out(try Self.sheet(r, entity, words: words)) }
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

    /// The records of `entity` as a person reads them in a spreadsheet (`--sheet`): the short
    /// id, every field but the stage log by label, the creation's local time and author.
    static func sheet(_ r: Replica, _ entity: Entity, words: Vocabulary) throws -> String {
        let say = words.say
        let fields = entity.fields.filter { $0.name != r.workspace.stageHistory }
        // English reads a field by its name elsewhere (as typed); a sheet's header reads as words.
        func heading(_ name: String) -> String {
            if say.chinese { return words.field(entity.name, name) }
            let spaced = name.replacingOccurrences(of: "_", with: " ")
            return spaced.prefix(1).uppercased() + spaced.dropFirst()
        }
        let header = [say("ID", "编号")] + fields.map { heading($0.name) } + [say("Created at", "创建时间"), say("Created by", "创建人")]
        let code = try r.shortIDs()
        var names = [RecordID: String]()
        func cell(_ field: Field, _ v: Value) throws -> String {
            switch v {
            case .null: return ""
            case let .reference(id):
                if let known = names[id] { return known }
                let name = try r.record(id).map { $0["name"].isNull ? code(id) : $0["name"].canonicalText } ?? code(id)
                names[id] = name
                return name
            // A number a spreadsheet sums: no thousands separators; a percentage with its sign.
            case let .decimal(d): return field.unit == .percent ? d.trimmed.description + "%" : d.description
            case let .integer(i): return field.unit == .percent ? "\(i)%" : String(i)
            case let .timestamp(t): return LocalTime.minute(t.milliseconds)
            case .member, .boolean: return say.value(words, entity.name, field.name, v)
            default: return v.canonicalText
            }
        }
        var rows = [header]
        for record in try r.store.list(entity: entity.name, workspace: r.workspace) {
            rows.append(
                // (A request's own fields — its target, field and values — as opps show says them.)
                [code(record.id)] + (try fields.map { try requestText(r, words, record, $0.name) ?? cell($0, record[$0.name]) })
                    + [LocalTime.minute(record.created.stamp.hlc.milliseconds), record.creator])
        }
        return "\u{FEFF}" + rows.map(CSV.line).joined(separator: "\r\n")
    }
}
