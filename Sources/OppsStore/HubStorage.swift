import OppsCore

/// A user as the hub stores them.
public struct HubUser: Sendable, Hashable {
    public var name: UserName
    public var role: String
    public var team: String?
    public var territory: String?
    public var manager: UserName?
    public var capacity: Int?
    public var disabled: Bool
    /// Set when the user came from the hub's token cache rather than the store, for this request
    /// (the hub checks it again inside the request's transaction if the directory has changed
    /// since); nil when read from the store.
    public var cached: Cached?

    /// The token's hash and the directory marker the cached user was good under.
    public struct Cached: Sendable, Hashable {
        public var tokenHash: [UInt8]
        public var marker: Int64
        public init(tokenHash: [UInt8], marker: Int64) {
            self.tokenHash = tokenHash
            self.marker = marker
        }
    }

    public init(
        name: UserName, role: String, team: String? = nil, territory: String? = nil, manager: UserName? = nil,
        capacity: Int? = nil, disabled: Bool = false
    ) {
        self.name = name
        self.role = role
        self.team = team
        self.territory = territory
        self.manager = manager
        self.capacity = capacity
        self.disabled = disabled
    }

    public var directoryEntry: Directory.User {
        Directory.User(name: name, role: role, manager: manager, territory: territory, capacity: capacity, disabled: disabled)
    }
}

/// A replica as the hub knows it.
public struct ReplicaRow: Sendable, Hashable {
    public var id: ReplicaID
    public var user: UserName
    public var lastBatch: UInt64
    public var ack: UInt64
    public var lastSeenMilliseconds: Int64
    public var pullToken: UInt64
    /// The token of the page that answered the last restart from nothing the hub honoured.
    public var resetToken: UInt64
    /// The protocol version its last handshake settled on (what its pulls may use).
    public var protocolVersion: UInt32
    /// The cursor of the last pull page the hub answered (what the replica was last sent).
    public var sentCursor: UInt64

    public init(
        id: ReplicaID, user: UserName, lastBatch: UInt64, ack: UInt64, lastSeenMilliseconds: Int64, pullToken: UInt64, resetToken: UInt64 = 0,
        protocolVersion: UInt32 = 1, sentCursor: UInt64 = 0
    ) {
        self.sentCursor = sentCursor
        self.resetToken = resetToken
        self.protocolVersion = protocolVersion
        self.id = id
        self.user = user
        self.lastBatch = lastBatch
        self.ack = ack
        self.lastSeenMilliseconds = lastSeenMilliseconds
        self.pullToken = pullToken
    }
}

/// A conflict record as stored, with the hub time it was made and whom it concerns.
public struct StoredConflict: Sendable, Hashable {
    public var conflict: ConflictRecord
    public var hubMilliseconds: Int64
    /// The record's owner when the conflict was made (the owner and their managers see it).
    public var owner: UserName?
}

/// One page of the log: entries with the hub time each was accepted.
public struct StoredLogEntry: Sendable, Hashable {
    public var entry: LogEntry
    public var hubMilliseconds: Int64
}

/// A log entry's sequence, record and entity, without its value.
/// Where the log and the conflicts stand (`HubStorage.logBounds`).
public struct LogBounds: Sendable, Hashable {
    public var head: UInt64
    public var compactedThrough: UInt64
    public var conflictHead: UInt64
    public init(head: UInt64, compactedThrough: UInt64, conflictHead: UInt64) {
        self.head = head
        self.compactedThrough = compactedThrough
        self.conflictHead = conflictHead
    }
}

/// What a handshake or a pull reads first, inside its transaction, in one go (one round trip on
/// PostgreSQL): the replica's row (locked where the engine locks rows), the log's bounds, and the
/// external-change marker when the store reads it with a statement (nil: ask `externalChanges`).
public struct Opening: Sendable, Hashable {
    public var row: ReplicaRow?
    public var bounds: LogBounds
    public var marker: Int64?
    public init(row: ReplicaRow?, bounds: LogBounds, marker: Int64?) {
        self.row = row
        self.bounds = bounds
        self.marker = marker
    }
}

/// What a sequenced `transaction` reads first, in one go, once it holds the sequencer: the
/// external-change marker, the hub clock every hub process shares (`hub_hlc`), and the log's
/// bounds. Nothing else appends to the log, adds a conflict, moves the clock or changes the
/// directory while the sequencer is held, so the caller may carry these forward itself through
/// the transaction (the head after each of its appends) instead of reading them again: on
/// PostgreSQL each read is a round trip on the one thread that sequences every push.
public struct SequencerOpening: Sendable, Hashable {
    public var marker: Int64
    public var hubClock: UInt64?
    public var bounds: LogBounds
    public init(marker: Int64, hubClock: UInt64?, bounds: LogBounds) {
        self.marker = marker
        self.hubClock = hubClock
        self.bounds = bounds
    }
}

public struct LogTouch: Sendable, Hashable {
    public var sequence: UInt64
    public var record: RecordID
    public var entity: String
    public init(sequence: UInt64, record: RecordID, entity: String) {
        self.sequence = sequence
        self.record = record
        self.entity = entity
    }
}

/// What the hub knows a replica holds of a record: its view signature (which fields it may see).
public struct KnownRecord: Sendable, Hashable {
    public var record: RecordID
    public var signature: UInt64
}

/// A savepoint's changes could not be undone (see `HubStorage.savepoint`).
public struct SavepointLost: Error, CustomStringConvertible {
    public let underlying: any Error
    public init(underlying: any Error) { self.underlying = underlying }
    public var description: String { "could not undo a failed part of a transaction: \(underlying)" }
}

/// The hub's storage, split by what uses it so that a second backend (PostgreSQL next)
/// implements small interfaces, each held to its part of the conformance suite
/// (Tests/OppsStoreTests/HubStorageConformance.swift): `HubStoreBase` (transactions, the
/// heads, records), `HubIngestStorage` (what a push decides and writes), `HubPullStorage` (what
/// a pull reads and its bookkeeping) and `HubAdminStorage` (identity, workspace, users, tokens,
/// operating). Calls are synchronous and made by one owner at a time; `transaction` makes a
/// group of them atomic — all of it commits, or none of it.
public typealias HubStorage = HubIngestStorage & HubPullStorage & HubAdminStorage

/// What every role of the hub's storage shares.
public protocol HubStoreBase: AnyObject {
    /// Runs `body` atomically; what it committed is on disk when it returns.
    func transaction<T>(_ body: () throws -> T) throws -> T
    /// Runs `body` atomically; its commit may not be on disk until `laterSync` has synced it
    /// (nil: it is when this returns). Nothing it committed may be told to anyone before then.
    func transactionSyncedLater<T>(_ body: () throws -> T) throws -> T
    var laterSync: (any CommitSync)? { get }
    /// Changes whenever someone else (an operator command, another process) commits to the
    /// store: the hub re-reads users and the workspace only then.
    func externalChanges() throws -> Int64
    /// How long the last `transaction` waited for the sequencer, which the other hub processes
    /// on this store hold while they commit (PostgreSQL's lock on `hub_state`); zero where one
    /// process writes (SQLite).
    var sequencerWait: Duration { get }
    func meta(_ key: String) throws -> String?
    func setMeta(_ key: String, _ value: String) throws
    /// The lowest page token a pull may mint now (sync-protocol.md §2.6: a token is minted once).
    /// A pull's bookkeeping commits without waiting for the disk, so a crash of the database (of
    /// the machine, under SQLite) can lose the last tokens minted; minting `pull_token + 1`
    /// again would give a lost token's number to another page. Each connection, before its
    /// first pull, raises a durable epoch by one; the floor is that epoch times 2³², above every
    /// token minted on any connection before it.
    var pageTokenFloor: UInt64 { get }
    /// The highest sequence in the log; it never goes back (not even after compaction).
    func head() throws -> UInt64
    /// The head, the sequence the log was compacted through (0: never) and the conflict head,
    /// in one read.
    func logBounds() throws -> LogBounds
    /// The id of the newest conflict (0 when there is none).
    func conflictHead() throws -> UInt64
    func record(_ id: RecordID, workspace: Workspace) throws -> Record?
    /// Several records in one statement per 500; those absent are left out.
    func records(_ ids: [RecordID], workspace: Workspace) throws -> [RecordID: Record]
    /// The same, with the team of every id asked (empty when it has none), in one statement per 250.
    func recordsAndTeams(_ ids: [RecordID], workspace: Workspace) throws -> (records: [RecordID: Record], teams: [RecordID: Set<UserName>])
    /// Of `ids`, those whose tombstone compaction removed (`compactTombstones`): deleted records
    /// whose ids stay taken, so that no write makes them again.
    func compacted(_ ids: [RecordID]) throws -> Set<RecordID>
    func user(tokenHash: [UInt8]) throws -> HubUser?
    func user(named: UserName) throws -> HubUser?
    func replica(_ id: ReplicaID) throws -> ReplicaRow?
    func saveReplica(_ row: ReplicaRow) throws
    /// The replica's row, the log's bounds and the marker together (`Opening`).
    func opening(replica id: ReplicaID) throws -> Opening
    /// Runs `body`, whose writes may reach the database together (PostgreSQL: as one statement
    /// where they write different tables; `SQLConnection.together`). For writes of rows none of
    /// the others depends on.
    func together<T>(_ body: () throws -> T) throws -> T
    /// Inside a `transaction`, first thing: what it reads once it holds the sequencer
    /// (`SequencerOpening`). Read it once; later in the transaction it may be stale.
    func sequencerOpening() throws -> SequencerOpening
}

/// What a push reads and writes: the batch decider's reads (`StoreReader`) and its effects.
public protocol HubIngestStorage: HubStoreBase {
    /// Inside a `transaction`: runs `body` so that if it throws, exactly its changes are undone
    /// and its error rethrown, and the transaction goes on (a group commit's pushes fail one by
    /// one). If undoing them fails, throws `SavepointLost`: the transaction then holds part of
    /// `body`'s work and must not commit.
    func savepoint<T>(_ body: () throws -> T) throws -> T
    func append(_ entry: LogEntry, hubMilliseconds: Int64) throws
    /// Several entries at once (multi-row statements): what a push appended, written when its
    /// decisions are done.
    func append(_ entries: [LogEntry], hubMilliseconds: Int64) throws
    func saveRecord(_ record: Record, workspace: Workspace) throws
    /// Several records at once (multi-row statements), as `saveRecord` would leave each; of a
    /// record named twice, the last.
    func saveRecords(_ records: [Record], workspace: Workspace) throws
    /// Stores a conflict under its id (0: the next one) and returns the id.
    func addConflict(_ conflict: ConflictRecord, owner: UserName?, hubMilliseconds: Int64) throws -> UInt64
    func batch(replica: ReplicaID, number: UInt64) throws -> (digest: [UInt8], response: [UInt8])?
    func saveBatch(replica: ReplicaID, number: UInt64, digest: [UInt8], response: [UInt8]) throws
    /// Forgets a replica's stored answers up to batch `number` (sync-protocol.md §5.2: a batch
    /// whose answer is no longer kept is `batch-mismatch`).
    func forgetBatches(replica: ReplicaID, through number: UInt64) throws
    /// The active team of a staged record (`Workspace.teamRule`).
    func team(of opportunity: RecordID) throws -> Set<UserName>
    /// Open (not closed, not deleted) staged records a user owns: the assignment rule's capacity.
    func openRecords(owner: UserName, closedStages: Set<String>) throws -> Int
    /// The same records themselves, as the record index has them, of one owner (`user disable`
    /// says who still sees them) or, with `owner` nil, of every owner or none (`workspace apply`
    /// asks who would see each deal under the new version).
    func openRecordColumns(
        owner: UserName?, closedStages: Set<String>
    ) throws -> [(
        id: RecordID, entity: String, owner: UserName?, creator: UserName, stage: String?
    )]
    /// The staged records (deals) that reference `target` in some field: the refs index.
    func referencing(_ target: RecordID) throws -> [RecordID]
    /// The live records of an entity, by id (a merge scans the unstaged entities that may
    /// reference the merged record: contacts of an account).
    func liveRecords(entity: String) throws -> [RecordID]
    /// The records of `entity` hanging off `parent` (a deal's approval requests, when one is
    /// decided or withdrawn): one indexed look-up, not a read of every activity on the deal.
    func children(of parent: RecordID, entity: String) throws -> [RecordID]
    /// Whether a live staged record the query's user sees references `target`: what makes an
    /// account or contact visible (one indexed query, however many deals reference it).
    func referencedByVisible(_ target: RecordID, query: VisibilityQuery) throws -> Bool
}

/// What a pull reads, and the bookkeeping of what each replica holds.
public protocol HubPullStorage: HubStoreBase {
    /// Runs `body` atomically, without waiting for its commit to reach the disk: it survives a
    /// process crash at once and a power loss once the next `transaction` commits. For a pull's
    /// bookkeeping (what the replica holds, its page token), which a replica can rebuild.
    func bookkeeping<T>(_ body: () throws -> T) throws -> T
    /// Inside `bookkeeping`: this transaction's commit is on disk when `bookkeeping` returns,
    /// after all. For a pull page that mints a token (sync-protocol.md §2.6): the replica that
    /// applies the page echoes that token, and a token lost to a crash of the database would
    /// leave the hub not knowing what the page delivered or removed — a record it delivered that
    /// later left the user's sight would never be removed from the replica.
    func commitDurably() throws
    func log(after: UInt64, limit: Int) throws -> [StoredLogEntry]
    /// The entries of these records after `after`, in sequence order, at most `limit`.
    func log(records: [RecordID], after: UInt64, limit: Int) throws -> [StoredLogEntry]
    /// Which record each entry after `after` touched (at most `limit` entries, in sequence
    /// order), without reading the values: what a visibility snapshot needs to move forward.
    func touches(after: UInt64, limit: Int) throws -> [LogTouch]
    /// The same, each with its record's row of the record index as the caller's transaction sees
    /// it (nil: no row), in the same statement.
    func touchesWithColumns(after: UInt64, limit: Int) throws -> [(touch: LogTouch, columns: RecordColumns?)]
    func conflicts(after: UInt64, concerning users: Set<UserName>, author: UserName, limit: Int) throws -> [StoredConflict]
    /// The records a query's user sees: the fast path of `Workspace.view` (Visibility.swift).
    func records(visibleTo query: VisibilityQuery) throws -> Set<RecordID>
    func known(replica: ReplicaID) throws -> [RecordID: UInt64]
    /// Records as a page writer takes them: `records(ids, workspace:)` with each record's fields
    /// numbered, in an array, in the order stored (no table keyed by names to build).
    func numberedRecords(_ ids: [RecordID], workspace: Workspace) throws -> [RecordID: NumberedRecord]
    /// `numberedRecords(ids, workspace:)`, asked for now and read later: the engine may fetch
    /// them while the caller encodes the records before them (a pull reads a page's records 500
    /// at a time).
    func prefetchRecords(_ ids: [RecordID], workspace: Workspace) throws -> () throws -> [RecordID: NumberedRecord]
    /// What the replica holds once it acknowledges page `token`: these changes (nil: no longer
    /// held), applied after those staged for page `carrying` — the page a pipelined request said
    /// was in flight when this one was built — if that one was not acknowledged first. A token
    /// is staged once (staging it again replaces what it staged).
    func stageKnown(replica: ReplicaID, token: UInt64, changes: [(RecordID, UInt64?)], carrying: UInt64?) throws
    /// The replica applied page `token`: its staged changes (after those of the page it carries)
    /// become what it holds; every page up to it is done with.
    func acknowledge(replica: ReplicaID, token: UInt64) throws
    /// Forgets what the hub thought a replica holds (a replica re-syncing from nothing).
    func resetKnown(replica: ReplicaID) throws
    /// Forgets that a replica holds these records (it dropped them and needs them whole).
    func forget(replica: ReplicaID, records: [RecordID]) throws
    /// Each record's checksum term as stored (merge-semantics.md §8), unfiltered.
    func terms(of ids: Set<RecordID>) throws -> [RecordID: UInt64]
    /// The indexed columns of records, without decoding their fields.
    func columns(of ids: [RecordID]) throws -> [RecordID: RecordColumns]
    /// The records each of `sources` references (what makes accounts and contacts visible).
    func references(from sources: [RecordID]) throws -> [RecordID: [RecordID]]
    /// The records hanging off any of `parents`.
    func children(of parents: [RecordID]) throws -> [RecordID]
    /// The user's active team memberships: each membership record with the deal it puts them on.
    func memberships(of user: UserName) throws -> [RecordID: RecordID]
    func recordCount() throws -> Int
}

/// Identity, workspace, users and tokens, and what the operator runs.
public protocol HubAdminStorage: HubStoreBase {
    func initialize(hub: UUID128, workspace: String, version: UInt64, now: Int64) throws
    func hubID() throws -> UUID128?
    func workspace() throws -> (version: UInt64, document: String)?
    /// The current workspace version (cheap: checked on every request).
    func workspaceVersion() throws -> UInt64
    func addWorkspace(version: UInt64, document: String, now: Int64) throws
    func addUser(_ user: HubUser, now: Int64) throws
    func updateUser(_ user: HubUser) throws
    func users() throws -> [HubUser]
    func addToken(hash: [UInt8], user: UserName, now: Int64) throws
    func revokeTokens(user: UserName) throws
    func replicas() throws -> [ReplicaRow]
    func log(record: RecordID) throws -> [StoredLogEntry]
    func conflicts(record: RecordID) throws -> [StoredConflict]
    func conflict(_ id: UInt64) throws -> StoredConflict?
    /// Unresolved conflicts of a user's writes or on records they own (all users: nil).
    func openConflicts(user: UserName?) throws -> [StoredConflict]
    func resolveConflict(_ id: UInt64) throws
    /// A compaction's first step: the tombstones whose deletion every replica within the window has
    /// seen (sequence at or below `sequence`), with their rows; each id is kept (`compacted`). How many.
    func compactTombstones(below sequence: UInt64) throws -> Int
    /// From here on a replica whose cursor is below `sequence` re-syncs from nothing
    /// (`cursor-expired`): set before the log below it is pruned, so a replica never reads a log
    /// with entries missing.
    func markCompacted(through sequence: UInt64) throws
    /// Prunes up to `limit` sequences of the log from its oldest entry, none above `sequence`;
    /// how many entries went (0: none is left at or below it). A compaction prunes a slice per
    /// transaction, so a serving hub's commits go between them.
    func pruneLog(through sequence: UInt64, limit: Int) throws -> Int
    func logCount(below sequence: UInt64) throws -> Int
    /// The space the hub's data takes (SQLite: the file and its log; PostgreSQL: the database).
    func databaseBytes() throws -> Int64
    /// Of `databaseBytes`, what holds nothing now (SQLite: free pages, left by compaction or by a
    /// migration that copied a table, used again as the hub grows; PostgreSQL: 0, its own vacuum
    /// keeps that).
    func freeBytes() throws -> Int64
    /// Records an operator action.
    func audit(action: String, subject: String, detail: String, now: Int64) throws
    func adminLog(subject: String?) throws -> [(at: Int64, action: String, subject: String, detail: String)]
}

/// The indexed columns of a stored record.
public struct RecordColumns: Sendable, Hashable {
    public var entity: String
    /// 0: staged (visible by role rules), 1: visible with its parent, 2: visible when referenced.
    public var kind: Int
    public var creator: UserName
    public var owner: UserName?
    public var stage: String?
    /// The record it hangs off (kind 1).
    public var parent: RecordID?
    /// False once deleted.
    public var live: Bool
    /// The record's term of the state checksum (`HubStorage.terms`), read with the rest.
    public var term: UInt64

    public init(
        entity: String, kind: Int, creator: UserName, owner: UserName?, stage: String?, parent: RecordID? = nil, live: Bool = true, term: UInt64 = 0
    ) {
        self.entity = entity
        self.kind = kind
        self.creator = creator
        self.owner = owner
        self.stage = stage
        self.parent = parent
        self.live = live
        self.term = term
    }
}

/// Who a user sees, in terms the store can query: the role's visibility conditions resolved
/// against the directory.
public struct VisibilityQuery: Sendable, Hashable {
    public var user: UserName
    public var owner: Bool
    public var creator: Bool
    public var team: Bool
    /// Users whose records the user sees because they manage them (transitively).
    public var managed: Set<UserName>
    public var stages: Set<String>
    public var all: Bool

    public init(
        user: UserName, owner: Bool = false, creator: Bool = false, team: Bool = false, managed: Set<UserName> = [],
        stages: Set<String> = [], all: Bool = false
    ) {
        self.user = user
        self.owner = owner
        self.creator = creator
        self.team = team
        self.managed = managed
        self.stages = stages
        self.all = all
    }

    /// The query for a user of `role` in `workspace`, given the directory.
    public static func make(user: UserName, role: String, workspace: Workspace, directory: Directory) -> VisibilityQuery {
        var q = VisibilityQuery(user: user)
        for c in workspace.role(role)?.sees ?? [] {
            switch c {
            case .all: q.all = true
            case let .stage(s): q.stages.insert(s)
            case .relation(.owner): q.owner = true
            case .relation(.creator): q.creator = true
            case .relation(.team): q.team = true
            case .relation(.managed):
                q.managed = Set(directory.users.keys.filter { directory.manages(user, $0) })
            case .relation(.member), .relation(.assignee): break  // not ways to see a deal (refused when the workspace is read)
            }
        }
        return q
    }
}

extension HubAdminStorage {
    /// Log entries with sequence at or below `sequence`, and tombstoned records, pruned in the
    /// caller's one transaction: `compactTombstones`, `markCompacted`, then `pruneLog` until it
    /// prunes nothing. (A serving hub's compaction prunes a slice per transaction instead:
    /// `HubEngine.compact`.)
    public func compact(below sequence: UInt64) throws -> (entries: Int, tombstones: Int) {
        let tombstones = try compactTombstones(below: sequence)
        try markCompacted(through: sequence)
        var entries = 0
        while case let n = try pruneLog(through: sequence, limit: Int.max), n > 0 { entries += n }
        return (entries, tombstones)
    }
}
