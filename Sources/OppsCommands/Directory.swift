import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

/// The records of `entity` this laptop holds, optionally those whose name contains `search`
/// (as a search compares names: `searchFolded`), by name.
func directory(_ r: Replica, _ entity: String, search: String?) throws -> [Record] {
    let needle = search?.searchFolded
    return try r.store.list(entity: entity, workspace: r.workspace)
        .filter { needle == nil || $0["name"].canonicalText.searchFolded.contains(needle!) }
        .sorted { $0["name"].canonicalText < $1["name"].canonicalText }
}

/// The deals on this laptop that name `id` in `field`.
func deals(_ r: Replica, referencing id: RecordID, in field: String) throws -> [Record] {
    // One deal at a time: only those kept are held (a laptop may hold 100,000 deals).
    var out = [Record]()
    try r.store.forEach(entity: "opportunity", naming: id, newestFirst: true, workspace: r.workspace) { if $0[field] == .reference(id) { out.append($0) } }
    return out
}

/// A record's name, or its short id when it has none.
func name(of id: RecordID?, _ r: Replica, _ short: ShortIDs) throws -> String {
    guard let id else { return "-" }
    guard let record = try r.record(id) else { return short(id) }
    return record["name"].isNull ? short(id) : record["name"].canonicalText
}

/// Parses FIELD=VALUE assignments for `entity`, one clear line for a bad one.
func assignments(_ r: Replica, _ entity: String, _ texts: [String]) throws -> [(String, Value)] {
    guard let e = r.workspace.entity(entity) else { throw ReplicaError.invalid("no \(entity) in this workspace") }
    let typed = try texts.map { text -> (field: Field, text: String) in
        guard let (name, value) = AssignmentWords.split(text) else {
            throw ReplicaError.invalid("\"\(text)\" is not FIELD=VALUE", chinese: "「\(text)」不是 字段=值 的形式")
        }
        guard let field = e.field(input: name) else {
            throw ReplicaError.unknownField(entity: entity, typed: name, fields: e.fields.map(\.name))
        }
        return (field, value)
    }
    return try r.parse(typed, of: entity)
}
