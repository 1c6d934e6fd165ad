import OppsCore
import OppsStore

/// The hub's store as the batch decider reads it: the decider's one door to storage.
public struct StoreReader: HubStateReader {
    let store: any HubIngestStorage
    let workspace: Workspace
    /// The head and conflict head as the caller knows them inside its transaction (it holds the
    /// sequencer: nobody else moves them); nil: read from the store.
    var knownHead: UInt64? = nil
    var knownConflictHead: UInt64? = nil
    /// A push whose rows are written on another thread: every read waits for them first, so it
    /// sees what the push has written so far (`RowWriter`'s invariant).
    var writer: RowWriter? = nil

    public func record(_ id: RecordID) throws -> Record? {
        try writer?.settle()
        return try store.record(id, workspace: workspace)
    }
    public func records(_ ids: [RecordID]) throws -> [RecordID: Record] {
        try writer?.settle()
        return try store.records(ids, workspace: workspace)
    }
    public func recordsAndTeams(_ ids: [RecordID]) throws -> (records: [RecordID: Record], teams: [RecordID: Set<UserName>]?) {
        try writer?.settle()
        let (records, teams) = try store.recordsAndTeams(ids, workspace: workspace)
        return (records, teams)
    }
    public func compacted(_ ids: [RecordID]) throws -> Set<RecordID> {
        try writer?.settle()
        return try store.compacted(ids)
    }
    public func team(of record: RecordID) throws -> Set<UserName> {
        try writer?.settle()
        return try store.team(of: record)
    }
    public func head() throws -> UInt64 {
        if let knownHead { return knownHead }
        try writer?.settle()
        return try store.head()
    }
    public func conflictHead() throws -> UInt64 {
        if let knownConflictHead { return knownConflictHead }
        try writer?.settle()
        return try store.conflictHead()
    }
    public func meta(_ key: String) throws -> String? {
        try writer?.settle()
        return try store.meta(key)
    }
    public func openRecords(owner: UserName, closedStages: Set<String>) throws -> Int {
        try writer?.settle()
        return try store.openRecords(owner: owner, closedStages: closedStages)
    }
    public func referencing(_ target: RecordID) throws -> [RecordID] {
        try writer?.settle()
        return try store.referencing(target)
    }
    public func liveRecords(entity: String) throws -> [RecordID] {
        try writer?.settle()
        return try store.liveRecords(entity: entity)
    }
    public func children(of parent: RecordID, entity: String) throws -> [RecordID] {
        try writer?.settle()
        return try store.children(of: parent, entity: entity)
    }
    public func referencedByVisible(_ target: RecordID, actor: Actor, directory: Directory) throws -> Bool {
        try writer?.settle()
        return try store.referencedByVisible(target, query: VisibilityQuery.make(user: actor.user, role: actor.role, workspace: workspace, directory: directory))
    }
}
