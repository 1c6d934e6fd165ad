import Foundation
import OppsCSV
import OppsConsole
import OppsCore

extension Replica {
    /// The records of `entity` as a person reads them in a spreadsheet (`opps export --sheet`,
    /// the web's download): the short id opps takes back, every field but the stage log headed
    /// by its label, references by name, choices as they read, numbers a spreadsheet sums (no
    /// thousands separators; a percentage with its sign), times in local time, then when and by
    /// whom each was made — CSV (RFC 4180, formulas guarded) after a byte-order mark, so Excel
    /// reads Chinese; an approval request's target, field and values as `opps show` reads them.
    /// Not what `opps-hub import` reads.
    public func sheet(_ entity: Entity, words: Vocabulary, chinese: Bool) throws -> String {
        func say(_ en: String, _ zh: String) -> String { chinese ? zh : en }
        let fields = entity.fields.filter { $0.name != workspace.stageHistory }
        // English reads a field by its name elsewhere (as typed); a sheet's header reads as words.
        func heading(_ name: String) -> String {
            if chinese { return words.field(entity.name, name) }
            let spaced = name.replacingOccurrences(of: "_", with: " ")
            return spaced.prefix(1).uppercased() + spaced.dropFirst()
        }
        let header = [say("ID", "编号")] + fields.map { heading($0.name) } + [say("Created at", "创建时间"), say("Created by", "创建人")]
        let code = try shortIDs()
        var names = [RecordID: String]()
        func cell(_ entityName: String, _ name: String, _ v: Value) throws -> String {
            let unit = workspace.entity(entityName)?.field(name)?.unit
            switch v {
            case .null: return ""
            case let .reference(id):
                if let known = names[id] { return known }
                let name = try record(id).map { $0["name"].isNull ? code(id) : $0["name"].canonicalText } ?? code(id)
                names[id] = name
                return name
            case let .decimal(d): return unit == .percent ? d.trimmed.description + "%" : d.description
            case let .integer(i): return unit == .percent ? "\(i)%" : String(i)
            case let .timestamp(t): return LocalTime.minute(t.milliseconds)
            case let .boolean(b): return chinese ? (b ? "是" : "否") : (b ? "true" : "false")
            case .member: return words.value(entityName, name, v)
            default: return v.canonicalText
            }
        }
        var rows = [header]
        for record in try store.list(entity: entity.name, workspace: workspace) {
            rows.append(
                [code(record.id)]
                    + (try fields.map { f in
                        try requestText(record, field: f.name, words: words, chinese: chinese, value: cell) ?? cell(entity.name, f.name, record[f.name])
                    })
                    + [LocalTime.minute(record.created.stamp.hlc.milliseconds), record.creator])
        }
        return "\u{FEFF}" + rows.map(CSV.line).joined(separator: "\r\n")
    }
}
