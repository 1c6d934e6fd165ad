import OppsCore
import OppsStore

/// What others changed on a staged record (a deal) in one sync, as the sync's trail holds it.
public struct ChangeByOthers: Sendable {
    public var record: RecordID
    public var entity: String
    /// Its name as it reads now; nil when it has none (a surface says the entity's word).
    public var name: String?
    /// Each field changed, with where it ended (a field changed twice reads once); an empty
    /// field name is the record's deletion.
    public var fields: [(String, Value)]
    /// Who changed it, in the order they did (`BatchDecider.systemAuthor`: the hub itself,
    /// assigning an owner).
    public var authors: [String]
}

extension Replica {
    /// The deals others changed since the trail ended at `position` (`ReplicaStore.historyEnd`
    /// before a sync), in the order the sync brought them. Records that arrived whole are not in
    /// the trail, nor this user's own writes from another laptop, nor the stage's own log.
    public func changesByOthers(after position: Int64) throws -> [ChangeByOthers] {
        let staged = Set(workspace.entities.filter { $0.stageField != nil }.map(\.name))
        let stageLog = workspace.stageHistory
        var order: [RecordID] = []
        var changes: [RecordID: ChangeByOthers] = [:]
        for line in try store.pulledHistory(after: position) where line.author != user && line.field != stageLog {
            if changes[line.record] == nil {
                guard let record = try record(line.record), staged.contains(record.entity) else { continue }
                order.append(line.record)
                let name = record["name"].isNull ? nil : record["name"].canonicalText
                changes[line.record] = ChangeByOthers(record: line.record, entity: record.entity, name: name, fields: [], authors: [])
            }
            var c = changes[line.record]!
            c.fields.removeAll { $0.0 == line.field }
            c.fields.append((line.field, line.field.isEmpty ? .null : line.new))
            if !c.authors.contains(line.author) { c.authors.append(line.author) }
            changes[line.record] = c
        }
        return order.compactMap { changes[$0] }
    }
}
