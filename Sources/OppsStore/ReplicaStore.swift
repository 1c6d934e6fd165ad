import OppsCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A pending local write in the outbox, in the order it was made.
public struct OutboxEntry: Sendable, Hashable {
    public var position: Int64
    public var write: FieldWrite
    /// The batch it was sent in (0: not yet sent).
    public var batch: UInt64
    /// The edit it was made in: the position of that edit's first write (every write of one
    /// transaction shares it; `ReplicaStore.lastEdit`).
    public var edit: Int64 = 0
}

/// One line of a record's local history.
public struct HistoryLine: Sendable, Hashable {
    public var record: RecordID
    public var field: String
    public var old: Value
    public var new: Value
    public var author: UserName
    public var hlc: HLC
    /// `local` (an edit here), `hub` (a change pulled), `conflict`.
    public var source: String
    public var rule: String
    /// The rule of a line pulled from the hub that the hub wrote because of this laptop's own
    /// write (`ReplicaStore.applied`): the writer's doing, not another's.
    public static let following = "follows"

    public init(record: RecordID, field: String, old: Value, new: Value, author: UserName, hlc: HLC, source: String, rule: String) {
        self.record = record
        self.field = field
        self.old = old
        self.new = new
        self.author = author
        self.hlc = hlc
        self.source = source
        self.rule = rule
    }
}

/// A record as the replica shows it, with the columns lists filter on.
public struct ListedRecord: Sendable, Hashable {
    public var record: Record
    public var pendingFields: Set<String>
}

/// The replica's SQLite database (one file in the replica home, WAL). Records are stored twice
/// over in one row: the state the hub confirmed, and the view the user sees — confirmed plus
/// pending local writes (rebase). Every SQL statement of the replica is here.
public final class ReplicaStore {
    public let database: Database
    private let codec: StampCodec

    public static let migrator: Migrator = {
        var m = Migrator()
        m.register(
            "2026-11-29-replica-1",
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
            "CREATE TABLE replica_ids (idx INTEGER PRIMARY KEY, id BLOB UNIQUE NOT NULL)",
            """
            CREATE TABLE records (id BLOB PRIMARY KEY, entity TEXT NOT NULL, stage TEXT, owner TEXT, creator TEXT NOT NULL, due TEXT,
                created BLOB NOT NULL, confirmed BLOB, view BLOB NOT NULL, deleted BLOB, local_only INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID
            """,
            "CREATE INDEX records_entity ON records(entity, stage)",
            "CREATE INDEX records_owner ON records(owner)",
            "CREATE INDEX records_due ON records(due)",
            """
            CREATE TABLE outbox (position INTEGER PRIMARY KEY AUTOINCREMENT, record BLOB NOT NULL, entity TEXT NOT NULL, field TEXT NOT NULL,
                kind INTEGER NOT NULL, value BLOB NOT NULL, base_kind INTEGER NOT NULL, base_sequence INTEGER, base_hlc INTEGER,
                hlc INTEGER NOT NULL, batch INTEGER NOT NULL DEFAULT 0)
            """,
            "CREATE TABLE pending_batch (batch INTEGER PRIMARY KEY, request BLOB NOT NULL)",
            """
            CREATE TABLE conflicts (id INTEGER PRIMARY KEY, record BLOB NOT NULL, entity TEXT NOT NULL, field TEXT NOT NULL, outcome TEXT NOT NULL,
                rule TEXT NOT NULL, value BLOB NOT NULL, author TEXT NOT NULL, hlc INTEGER NOT NULL, winner BLOB, winner_author TEXT,
                hub_ms INTEGER NOT NULL, resolved INTEGER NOT NULL DEFAULT 0)
            """,
            """
            CREATE TABLE history (position INTEGER PRIMARY KEY AUTOINCREMENT, record BLOB NOT NULL, field TEXT NOT NULL, old BLOB NOT NULL,
                new BLOB NOT NULL, author TEXT NOT NULL, hlc INTEGER NOT NULL, source TEXT NOT NULL, rule TEXT NOT NULL)
            """,
            "CREATE INDEX history_record ON history(record, position)"
        )
        // `deleted` is the confirmed tombstone; `view_deleted` the view's (a delete made here
        // and not yet confirmed hides the record at once, while the confirmed state — and with
        // it the checksum — stays the hub's).
        m.register(
            "2026-11-29-replica-2-view-deleted",
            "ALTER TABLE records ADD COLUMN view_deleted BLOB",
            "UPDATE records SET view_deleted = deleted")
        // The record a child hangs off (an activity's deal): an edit looks up a deal's team and
        // open requests by it instead of reading every membership and request (O(children), not
        // O(records)). Filled on save; rows saved before it by `indexParents`.
        m.register(
            "2026-11-30-replica-3-parent",
            "ALTER TABLE records ADD COLUMN parent BLOB",
            "CREATE INDEX records_parent ON records(parent, entity)")
        // Records this replica dropped and asks the hub to send whole again (`forgetList`); they
        // were a comma-joined meta value, moved here when the store opens.
        m.register(
            "2026-11-30-replica-4-forget",
            "CREATE TABLE forget (record BLOB PRIMARY KEY) WITHOUT ROWID")
        // Record blobs written from now on are StampCodec's format 3, which an older `opps`
        // would misread: this marker makes it refuse the file instead (rows already written
        // stay format 2 until they are saved again; both are read).
        m.register(
            "2026-11-30-replica-5-stamps-format-3",
            "UPDATE meta SET value = value WHERE 0")
        // A batch's answer settles each of this laptop's trail lines by (record, field, hlc):
        // under the index by (record, position) that read every line the record ever had, so a
        // deal edited a thousand times cost a thousand row reads each sync (BENCHMARKS.md,
        // thirty-ninth session). By (record, hlc) it is one look-up; a record's trail, read by
        // record, is sorted by position after it is read.
        m.register(
            "2026-12-04-replica-6-history-settle",
            "CREATE INDEX history_settle ON history(record, hlc)",
            "DROP INDEX history_record")
        // Which edit (one transaction: one command, one form sent) each pending write belongs to,
        // so the last edit not yet sent can be taken back whole (`lastEdit`, `opps undo`): the
        // position of the edit's first write, null on that first write itself (and on writes
        // queued before this, each then an edit of its own).
        m.register(
            "2026-12-05-replica-7-outbox-edit",
            "ALTER TABLE outbox ADD COLUMN edit INTEGER")
        // The edit that closed a conflict by writing its value again (`conflicts restore`):
        // taking that edit back opens the conflict again, or the value it holds would be lost.
        m.register(
            "2026-12-05-replica-8-conflict-closed-by",
            "ALTER TABLE conflicts ADD COLUMN closed_by_edit INTEGER")
        // `records` was a WITHOUT ROWID table, which keeps at most 1,002 bytes of a row on its
        // page (4 KiB pages) and puts the rest on an overflow page of its own: a deal with about
        // 1 KB of fields, or any deal with an edit pending (its view beside its confirmed state),
        // took two pages, and the file grew 3.3 times for deals 230 bytes past the line
        // (BENCHMARKS.md, sixty-second session). A rowid table keeps about 4,000 bytes a row on
        // its page; the id's unique index finds a row. The secondary indexes are made again when
        // the store opens (`ensureRecordIndexes`).
        m.register(
            "2026-12-07-replica-9-records-rowid",
            """
            CREATE TABLE records_rowid (id BLOB PRIMARY KEY, entity TEXT NOT NULL, stage TEXT, owner TEXT, creator TEXT NOT NULL, due TEXT,
                created BLOB NOT NULL, confirmed BLOB, view BLOB NOT NULL, deleted BLOB, local_only INTEGER NOT NULL DEFAULT 0, view_deleted BLOB,
                parent BLOB)
            """,
            """
            INSERT INTO records_rowid (id, entity, stage, owner, creator, due, created, confirmed, view, deleted, local_only, view_deleted, parent)
                SELECT id, entity, stage, owner, creator, due, created, confirmed, view, deleted, local_only, view_deleted, parent FROM records ORDER BY id
            """,
            "DROP TABLE records",
            "ALTER TABLE records_rowid RENAME TO records")
        // What this replica held when it last began a pull from nothing (a repair, a cursor
        // compaction passed, an older copy going on as a new replica): the pull's news are told
        // against it — the records that changed, those that left — instead of every record
        // arriving as new (`ReplicaStore.resyncBefore`). Empty between such pulls.
        m.register(
            "2026-12-07-replica-10-resync-before",
            "CREATE TABLE resync_before (id BLOB PRIMARY KEY, entity TEXT NOT NULL, created BLOB NOT NULL, confirmed BLOB NOT NULL, deleted BLOB)")
        // The deals a sync took off this laptop, by id alone (no name: they are no longer this
        // user's to read), why and when: `opps show` of an id the sync printed says so, instead
        // of "no record here has the id" (`takenOff`). 26 bytes a deal.
        m.register(
            "2026-12-07-replica-11-taken-off",
            "CREATE TABLE taken_off (id BLOB PRIMARY KEY, reason INTEGER NOT NULL, at INTEGER NOT NULL) WITHOUT ROWID")
        return m
    }()

    public init(path: String) throws {
        database = try Database(path: path)
        try Self.migrator.migrate(database)
        codec = try StampCodec(database: database, compact: true)
        // A first pull that stopped half-way (`beginBulkLoad`) left them out. Not while that pull
        // is still running in another process (`opps list` in a second terminal): building them
        // would hold the file's write lock for seconds at a million records, and the pull's next
        // page could give up waiting for it; the pull builds them itself when it ends.
        if !(try bulkLoadRunningElsewhere()) { try ensureRecordIndexes() }
        if let legacy = try meta("forget") {
            try transaction {
                try setForgetList(legacy.split(separator: ",").compactMap { RecordID(parsing: String($0)) })
                try database.execute("DELETE FROM meta WHERE key = 'forget'")
            }
        }
    }

    // MARK: Bulk loading

    /// The secondary indexes of `records` (the migrations above made them; each statement here
    /// makes one again when it is missing). Only queries use them: no result depends on them.
    /// The parent index holds only children (a deal has no parent): built after a first pull of
    /// 100,000 deals, 0.04 s instead of 0.12 s. A lookup by parent (`parent = ?`) implies it is not
    /// null, so SQLite uses it there; a replica from before keeps its full one, which serves alike.
    static let recordIndexes: [(name: String, columns: String, condition: String)] = [
        ("records_entity", "entity, stage", ""), ("records_owner", "owner", ""), ("records_due", "due", ""),
        ("records_parent", "parent, entity", " WHERE parent IS NOT NULL"),
        // The records made here the hub has not confirmed yet: a handful, found at each pull's
        // end without reading the table (`unconfirmedWithNothingToSend`).
        ("records_made_here", "id", " WHERE local_only = 1"),
    ]

    /// A replica filling from nothing: when it holds no record at all, drops the secondary
    /// indexes of `records`, so the pages of a first pull each insert one b-tree entry a record
    /// (in id order) instead of five at random places; `ensureRecordIndexes` builds them again,
    /// sorted once, at the end (BENCHMARKS.md, fourteenth session). Returns whether it dropped them.
    /// If the process dies before, the next `ReplicaStore` to open the file builds them.
    public func beginBulkLoad() throws -> Bool {
        guard try database.query("SELECT 1 FROM records LIMIT 1").isEmpty else { return false }
        try transaction {
            for index in Self.recordIndexes { try database.execute("DROP INDEX IF EXISTS \(index.name)") }
            // Which process is loading: another one opening the file leaves the indexes to it.
            try setMeta("bulk_load", String(getpid()))
        }
        return true
    }

    /// Makes every secondary index of `records` that is missing (cheap when none is).
    public func ensureRecordIndexes() throws {
        let present = Set(try database.query("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'records'").compactMap { $0[0].string })
        let missing = Self.recordIndexes.filter { !present.contains($0.name) }
        let marked = try meta("bulk_load") != nil
        guard !missing.isEmpty || marked else { return }
        try transaction {
            for index in missing { try database.execute("CREATE INDEX IF NOT EXISTS \(index.name) ON records(\(index.columns))\(index.condition)") }
            try database.execute("DELETE FROM meta WHERE key = 'bulk_load'")
        }
    }

    /// Whether another process, still running, is loading this file from nothing (`beginBulkLoad`).
    /// A process that died is not running: the next open builds the indexes it left out.
    func bulkLoadRunningElsewhere() throws -> Bool {
        guard let text = try meta("bulk_load"), let pid = Int32(text), pid > 0, pid != getpid() else { return false }
        return kill(pid, 0) == 0 || errno == EPERM
    }

    /// The names of the secondary indexes `records` has now (tests).
    public func recordIndexNames() throws -> Set<String> {
        Set(try database.query("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'records' AND sql IS NOT NULL").compactMap { $0[0].string })
    }

    // MARK: Sync state

    /// Where this replica stands with the hub, one typed value each (kept in `meta`).
    public enum SyncKey: String, Sendable, CaseIterable {
        /// The hub sequence the confirmed state is complete through.
        case cursor
        /// The token of the last pull page applied (echoed on the next pull).
        case pullToken = "pull_token"
        /// The newest conflict received.
        case conflictCursor = "conflict_cursor"
        /// The number of the last push batch made.
        case batch
        /// The replica's hybrid logical clock, as its raw value.
        case hlc
    }

    public func sync(_ key: SyncKey) throws -> UInt64 { try metaInt(key.rawValue) }
    public func setSync(_ key: SyncKey, _ value: UInt64) throws { try setMeta(key.rawValue, String(value)) }

    /// The running checksum of the confirmed state (merge-semantics.md §8); nil: not known yet.
    public func checksum() throws -> UInt64? { try meta("checksum").flatMap(UInt64.init) }
    public func setChecksum(_ value: UInt64) throws { try setMeta("checksum", String(value)) }

    /// The records to ask the hub to send whole again at the next pull.
    public func forgetList() throws -> [RecordID] {
        try database.query("SELECT record FROM forget ORDER BY record").compactMap { $0[0].bytes.flatMap { RecordID(bytes: $0) } }
    }

    public func setForgetList(_ ids: [RecordID]) throws {
        // With a condition: a bare `DELETE FROM` clears the table by rewriting its root page even
        // when it is empty (a page of every applied page's commit).
        try database.execute("DELETE FROM forget WHERE record IS NOT NULL")
        for id in ids { try database.execute("INSERT OR IGNORE INTO forget (record) VALUES (?)", [.blob(id.bytes)]) }
    }

    private var depth = 0
    /// The position of the first write the running transaction queued (`enqueue`).
    private var editStart: Int64?
    /// The edit the running transaction makes: nil before it queues a write.
    public var currentEdit: Int64? { editStart }

    /// Runs `body` in one transaction: a crash never leaves half of it. Nested calls join the
    /// outer transaction (one failure anywhere rolls back all of it).
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        if depth > 0 {
            depth += 1
            defer { depth -= 1 }
            return try body()
        }
        depth = 1
        defer { (depth, editStart) = (0, nil) }
        do {
            return try database.transaction { _ in try body() }
        } catch {
            try codec.reload()
            throw error
        }
    }

    /// Inside a `transaction`: runs `body` so that a failure undoes only what it did and the
    /// transaction goes on (`SQLConnection.savepoint`). If undoing fails, throws
    /// `SavepointLost`: the transaction must not commit.
    public func savepoint<T>(_ body: () throws -> T) throws -> T {
        precondition(depth > 0, "a savepoint is taken inside a transaction")
        return try database.savepoint(body, undone: codec.reload)
    }

    // MARK: Meta

    public func meta(_ key: String) throws -> String? {
        try database.query("SELECT value FROM meta WHERE key = ?", [.text(key)]).first?[0].string
    }

    public func setMeta(_ key: String, _ value: String) throws {
        try database.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [.text(key), .text(value)])
    }

    public func metaInt(_ key: String) throws -> UInt64 { UInt64(try meta(key) ?? "0") ?? 0 }

    // MARK: Records

    /// The hub-confirmed record (nil when only local, or unknown).
    public func confirmed(_ id: RecordID, workspace: Workspace) throws -> Record? {
        guard
            let row = try database.query(
                "SELECT id, entity, created, confirmed, deleted FROM records WHERE id = ? AND confirmed IS NOT NULL", [.blob(id.bytes)]
            ).first
        else { return nil }
        return try confirmedRecord(row, workspace: workspace)
    }

    /// A row of `id, entity, created, confirmed, deleted` as the hub-confirmed record.
    func confirmedRecord(_ row: [SQLValue], workspace: Workspace) throws -> Record? {
        guard let b = row[0].bytes, let id = RecordID(bytes: b), let entity = row[1].string, let created = row[2].bytes, let c = row[3].bytes else { return nil }
        let base = try codec.state(created)
        var r = Record(id: id, entity: entity, created: base, fields: try codec.fields(c, entity: workspace.entity(entity), base: base))
        if let d = row[4].bytes { r.deleted = try codec.state(d) }
        return r
    }

    /// Which of `ids` have a confirmed state here, in one query per 500 ids (a page of a first
    /// sync asks about thousands of records, none of them here yet).
    public func withConfirmed(_ ids: [RecordID]) throws -> Set<RecordID> {
        Set(
            try database.query(chunking: ids.map { .blob($0.bytes) }) { "SELECT id FROM records WHERE confirmed IS NOT NULL AND id IN (\($0))" }
                .compactMap { $0[0].bytes.flatMap(RecordID.init(bytes:)) })
    }

    /// The record as the user sees it: confirmed state with pending local writes on top.
    public func view(_ id: RecordID, workspace: Workspace) throws -> Record? {
        guard let row = try database.query("SELECT id, entity, created, view, view_deleted, confirmed FROM records WHERE id = ?", [.blob(id.bytes)]).first
        else { return nil }
        return try viewRecord(row, workspace: workspace)
    }

    /// A row of `id, entity, created, view, view_deleted, confirmed` as the record the user sees.
    func viewRecord(_ row: [SQLValue], workspace: Workspace) throws -> Record? {
        guard let idBytes = row[0].bytes, let id = RecordID(bytes: idBytes), let entity = row[1].string, let created = row[2].bytes,
            let v = Self.viewBytes(row[3].bytes, confirmed: row[5].bytes)
        else { return nil }
        let base = try codec.state(created)
        var r = Record(id: id, entity: entity, created: base, fields: try codec.fields(v, entity: workspace.entity(entity), base: base))
        if let d = row[4].bytes { r.deleted = try codec.state(d) }
        return r
    }

    /// A row's view of its record: an empty view blob means "the same as the confirmed state"
    /// (nothing pending), stored once.
    static func viewBytes(_ view: [UInt8]?, confirmed: [UInt8]?) -> [UInt8]? {
        guard let view else { return nil }
        return view.isEmpty ? confirmed ?? view : view
    }

    /// A record's row, written whole (`save(confirmed:view:)`, `save(whole:)`).
    static let recordUpsert = """
        INSERT INTO records (id, entity, stage, owner, creator, due, created, confirmed, view, deleted, view_deleted, local_only, parent)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT(id) DO UPDATE SET stage = excluded.stage, owner = excluded.owner, due = excluded.due, created = excluded.created,
            confirmed = excluded.confirmed, view = excluded.view, deleted = excluded.deleted, view_deleted = excluded.view_deleted,
            local_only = excluded.local_only, parent = excluded.parent
        """

    /// A record's row whose indexed columns (stage, owner, due, parent) keep their values: only
    /// the states change. `recordUpsert` sets the indexed columns too, and SQLite rewrites an
    /// index entry whose column is set even to the value it had: five pages a save instead of
    /// one (measured in BENCHMARKS.md, thirty-seventh session). An edit, the answer to its push
    /// and the page that confirms it each save the record once.
    static let statesUpdate = """
        UPDATE records SET created = ?, confirmed = ?, view = ?, deleted = ?, view_deleted = ?, local_only = ?
            WHERE id = ? AND stage IS ? AND owner IS ? AND due IS ? AND parent IS ?
        """

    /// Stores a record: its confirmed state (nil for a record only made here) and its view.
    public func save(confirmed: Record?, view: Record, workspace: Workspace) throws {
        guard let entity = workspace.entity(view.entity) else { throw StoreError(code: -3, message: "unknown entity \(view.entity)") }
        var stage: SQLValue = .null
        if let sf = entity.stageField, case let .member(s) = view[sf] { stage = .text(s) }
        var due: SQLValue = .null
        for f in ["next_step_due", "due"] { if case let .date(d) = view[f] { due = .text(d.description) } }
        var parent: SQLValue = .null
        if let via = entity.visibleVia, case let .reference(p) = view[via] { parent = .blob(p.bytes) }
        // Both field blobs are stored relative to the one creation state stored with them.
        let base = (confirmed ?? view).created
        let owner: SQLValue = view.owner.map { .text($0) } ?? .null
        let created: SQLValue = .blob(try codec.bytes(base))
        let confirmedFields: SQLValue = try confirmed.map { .blob(try codec.fieldsBytes($0.fields, entity: entity, base: base)) } ?? .null
        let viewFields: SQLValue = .blob(confirmed?.fields == view.fields ? [] : try codec.fieldsBytes(view.fields, entity: entity, base: base))
        let deleted: SQLValue = try confirmed?.deleted.map { .blob(try codec.bytes($0)) } ?? .null
        let viewDeleted: SQLValue = try view.deleted.map { .blob(try codec.bytes($0)) } ?? .null
        let localOnly: SQLValue = .integer(confirmed == nil ? 1 : 0)
        // Most saves change no indexed column: the states alone, leaving the indexes untouched.
        try database.execute(
            Self.statesUpdate,
            [created, confirmedFields, viewFields, deleted, viewDeleted, localOnly, .blob(view.id.bytes), stage, owner, due, parent])
        guard database.changes == 0 else { return }
        try database.execute(
            Self.recordUpsert,
            [
                .blob(view.id.bytes), .text(view.entity), stage, owner, .text(view.creator), due, created, confirmedFields, viewFields, deleted,
                viewDeleted, localOnly, parent,
            ])
    }

    /// The fields a record's row keeps in columns of its own, by number (`save(whole:)`).
    struct ColumnFields {
        let stage: UInt32?, owner: UInt32?, nextStepDue: UInt32?, due: UInt32?, parent: UInt32?

        init(_ entity: Entity) {
            stage = entity.stageField.flatMap { entity.field($0)?.number }
            owner = entity.field("owner")?.number
            nextStepDue = entity.field("next_step_due")?.number
            due = entity.field("due")?.number
            parent = entity.visibleVia.flatMap { entity.field($0)?.number }
        }
    }

    /// Stores a whole record a page gave (`ReceivedPage.whole`) as its confirmed state and its
    /// view: the row `save(confirmed: r, view: r)` stores for `r = whole.record`, without
    /// building `r` (each field found by number, stored in the page's order).
    func save(whole: WholeRecord, entity: Entity, columns: ColumnFields) throws {
        var stage: SQLValue = .null, owner: SQLValue = .null, parent: SQLValue = .null
        var nextStepDue: SQLValue = .null, due: SQLValue = .null
        for f in whole.fields {
            switch (f.number, f.state.value) {
            case let (n, .member(s)) where n == columns.stage: stage = .text(s)
            case let (n, .text(name)) where n == columns.owner: owner = .text(name)
            case let (n, .date(d)) where n == columns.nextStepDue: nextStepDue = .text(d.description)
            case let (n, .date(d)) where n == columns.due: due = .text(d.description)
            case let (n, .reference(p)) where n == columns.parent: parent = .blob(p.bytes)
            default: break
            }
        }
        if case .null = due { due = nextStepDue }
        try database.execute(
            Self.recordUpsert,
            [
                .blob(whole.id.bytes), .text(whole.entity), stage, owner, .text(whole.created.author), due, .blob(try codec.bytes(whole.created)),
                .blob(try codec.compactFieldsBytes(whole.fields, base: whole.created)), .blob([]), .null, .null, .integer(0), parent,
            ])
    }

    /// The live records of `entity` that hang off `parent` (its `visible_via` names it).
    public func children(of parent: RecordID, entity: String, workspace: Workspace) throws -> [Record] {
        try database.query(
            "SELECT id, entity, created, view, view_deleted, confirmed FROM records WHERE parent = ? AND entity = ? AND view_deleted IS NULL ORDER BY id",
            [.blob(parent.bytes), .text(entity)]
        ).compactMap { try viewRecord($0, workspace: workspace) }
    }

    /// Fills `parent` for rows saved before it existed (once per replica; cheap when done).
    public func indexParents(workspace: Workspace) throws {
        guard try meta("parents_indexed") == nil else { return }
        try transaction {
            for e in workspace.entities where e.visibleVia != nil {
                for r in try list(entity: e.name, workspace: workspace) + (try deletedRecords(entity: e.name, workspace: workspace)) {
                    guard let via = e.visibleVia, case let .reference(p) = r[via] else { continue }
                    try database.execute("UPDATE records SET parent = ? WHERE id = ?", [.blob(p.bytes), .blob(r.id.bytes)])
                }
            }
            try setMeta("parents_indexed", "1")
        }
    }

    func deletedRecords(entity: String, workspace: Workspace) throws -> [Record] {
        try database.query("SELECT id FROM records WHERE entity = ? AND view_deleted IS NOT NULL ORDER BY id", [.text(entity)]).compactMap { row in
            guard let b = row[0].bytes, let id = RecordID(bytes: b) else { return nil }
            return try view(id, workspace: workspace)
        }
    }

    public func remove(_ id: RecordID) throws {
        try database.execute("DELETE FROM records WHERE id = ?", [.blob(id.bytes)])
    }

    /// Keeps that a sync took these deals off this laptop, why, and when (`at`: this device's
    /// clock, ms): the id of one is then told apart from an id that never named anything here.
    public func noteTakenOff(_ taken: some Sequence<(RecordID, Gone.Reason)>, at: Int64) throws {
        for (id, reason) in taken {
            try database.execute("INSERT OR REPLACE INTO taken_off (id, reason, at) VALUES (?, ?, ?)", [.blob(id.bytes), .integer(reason.rawValue), .integer(at)])
        }
    }

    /// Every deal a sync took off this laptop that it does not hold again, with why and when.
    public func takenOff() throws -> [(id: RecordID, reason: Gone.Reason, at: Int64)] {
        try database.query("SELECT t.id, t.reason, t.at FROM taken_off t WHERE NOT EXISTS (SELECT 1 FROM records r WHERE r.id = t.id)").compactMap { row in
            guard let b = row[0].bytes, let id = RecordID(bytes: b), let reason = row[1].int.flatMap(Gone.Reason.init(rawValue:)), let at = row[2].int else { return nil }
            return (id, reason, at)
        }
    }

    /// Records made on this laptop that the hub has not confirmed and that have nothing left in
    /// the outbox, as the user sees them: what a pull that reached the hub's head finds the hub
    /// keeps from this replica (deleted since, or not this user's to see; sync-protocol.md §6.2).
    /// Empty while a load from nothing runs (no such record existed when it began, and the
    /// index that finds them is built at its end).
    public func unconfirmedWithNothingToSend(workspace: Workspace) throws -> [Record] {
        guard try meta("bulk_load") == nil else { return [] }
        let made = try database.query("SELECT id, entity, created, view, view_deleted, confirmed FROM records WHERE local_only = 1")
        guard !made.isEmpty else { return [] }
        let pending = try recordsWithPendingWrites()
        return try made.compactMap { row in
            guard let r = try viewRecord(row, workspace: workspace), !pending.contains(r.id) else { return nil }
            return r
        }
    }

    /// Forgets every confirmed state (a repair re-fetches them); records made only here stay.
    public func forgetConfirmed() throws {
        try database.execute("DELETE FROM records WHERE local_only = 0")
    }

    /// The distinct owners of an entity's live records (a board's owner filter).
    public func owners(entity: String) throws -> [String] {
        try database.query("SELECT DISTINCT owner FROM records WHERE entity = ? AND owner IS NOT NULL AND view_deleted IS NULL ORDER BY owner", [.text(entity)])
            .compactMap { $0[0].string }
    }

    /// Ids of records whose ids start with `prefix` (hex, hyphens ignored).
    /// Every record id held (short ids are computed over them).
    public func allIDs() throws -> [RecordID] {
        try database.query("SELECT id FROM records ORDER BY id").compactMap { $0[0].bytes.flatMap(RecordID.init(bytes:)) }
    }

    /// How many records the table holds and its highest row number: with `ids(afterRow:)`, what
    /// tells that records were only added since (a record is added at a row number past every
    /// other; one removed, or written again as a new row, leaves the two out of step).
    public func idExtent() throws -> (count: Int, lastRow: Int64) {
        let row = try database.query("SELECT count(*), coalesce(max(rowid), 0) FROM records").first
        return (Int(row?[0].int ?? 0), row?[1].int ?? 0)
    }

    /// The ids of the rows past `row`, by row number.
    public func ids(afterRow row: Int64) throws -> [(row: Int64, id: RecordID)] {
        try database.query("SELECT rowid, id FROM records WHERE rowid > ? ORDER BY rowid", [.integer(row)]).compactMap { r in
            guard let n = r[0].int, let id = r[1].bytes.flatMap(RecordID.init(bytes:)) else { return nil }
            return (n, id)
        }
    }

    public func ids(prefix: String) throws -> [RecordID] {
        let clean = prefix.lowercased().filter { $0 != "-" }
        return try database.query("SELECT id FROM records ORDER BY id").compactMap { row in
            guard let b = row[0].bytes, let id = RecordID(bytes: b), id.hex.hasPrefix(clean) else { return nil }
            return id
        }
    }

    /// Records of an entity, optionally in a stage and owned by a user, newest first.
    public func list(entity: String, stage: String? = nil, owner: String? = nil, workspace: Workspace) throws -> [Record] {
        // One query for the rows and their blobs (a board reads every deal).
        var sql = "SELECT id, entity, created, view, view_deleted, confirmed FROM records WHERE entity = ? AND view_deleted IS NULL"
        var args: [SQLValue] = [.text(entity)]
        if let stage { sql += " AND stage = ?"; args.append(.text(stage)) }
        if let owner { sql += " AND owner = ?"; args.append(.text(owner)) }
        sql += " ORDER BY id DESC"
        return try database.query(sql, args).compactMap { try viewRecord($0, workspace: workspace) }
    }

    /// Each live record of `entity` (at one of `stages`, when given), in id order (the oldest
    /// first, for ids made by time; `newestFirst` as `list` orders them), read one row at a time:
    /// memory stays flat however many a laptop holds (`list` decodes them all at once: 880 MB for
    /// 100,000 deals). `body` must not use the store: the statement is still stepping.
    ///
    /// `naming`: only records whose state holds a reference to that record (an account's deals)
    /// come to `body`, and possibly a few more, which the caller's own test of the field sets
    /// aside: SQLite looks for the reference's bytes (its tag and the 16 of the id, as
    /// `ByteWriter.value` writes them in every blob format) in each row before anything is
    /// decoded — a scan of bytes, where decoding a deal takes about 5 µs.
    public func forEach(
        entity: String, stages: [String]? = nil, naming: RecordID? = nil, newestFirst: Bool = false, workspace: Workspace, _ body: (Record) throws -> Void
    ) throws {
        var sql = "SELECT id, entity, created, view, view_deleted, confirmed FROM records WHERE entity = ? AND view_deleted IS NULL"
        var args: [SQLValue] = [.text(entity)]
        if let stages {
            guard !stages.isEmpty else { return }
            sql += " AND stage IN (" + Array(repeating: "?", count: stages.count).joined(separator: ", ") + ")"
            args += stages.map { .text($0) }
        }
        if let naming {
            // An empty view is the confirmed state (`viewRecord`).
            sql += " AND instr(CASE WHEN length(view) = 0 THEN confirmed ELSE view END, ?) > 0"
            args.append(.blob([Value.reference(naming).tag] + naming.bytes))
        }
        try database.scan(sql + (newestFirst ? " ORDER BY id DESC" : " ORDER BY id"), args) { row in
            if let r = try viewRecord((0..<6).map { row.value($0) }, workspace: workspace) { try body(r) }
        }
    }

    /// Each live record of `entity` that hangs off another, as that record (its `parent`), the
    /// value of one of its fields (nil: unset) and its creation's device time: what a report
    /// reads of an activity — its deal and when — without decoding the rest (a manager's laptop
    /// holds hundreds of thousands). `body` must not use the store.
    public func forEachChild(
        entity: String, field: String, workspace: Workspace, _ body: (_ parent: RecordID, _ value: Value?, _ createdMilliseconds: Int64) throws -> Void
    ) throws {
        guard let number = workspace.entity(entity)?.field(field)?.number else { return }
        let sql = "SELECT parent, created, view, confirmed FROM records WHERE entity = ? AND view_deleted IS NULL AND parent IS NOT NULL"
        try database.scan(sql, [.text(entity)]) { row in
            guard let parent = row.id(0), let created = row.value(1).bytes, let v = Self.viewBytes(row.value(2).bytes, confirmed: row.value(3).bytes) else { return }
            try body(parent, try codec.value(ofField: number, in: v), try codec.state(created).stamp.hlc.milliseconds)
        }
    }

    /// Each live record of `entity` as its id and the value of one of its fields (nil: unset),
    /// the other values passed over (`StampCodec.value(ofField:in:)`): a look-up by name reads
    /// every deal's name, not every deal. `body` must not use the store.
    public func forEachValue(
        entity: String, field: String, newestFirst: Bool = false, workspace: Workspace, _ body: (_ id: RecordID, _ value: Value?) throws -> Void
    ) throws {
        guard let number = workspace.entity(entity)?.field(field)?.number else { return }
        let sql = "SELECT id, view, confirmed FROM records WHERE entity = ? AND view_deleted IS NULL" + (newestFirst ? " ORDER BY id DESC" : " ORDER BY id")
        try database.scan(sql, [.text(entity)]) { row in
            guard let id = row.id(0), let v = Self.viewBytes(row.value(1).bytes, confirmed: row.value(2).bytes) else { return }
            try body(id, try codec.value(ofField: number, in: v))
        }
    }

    /// The first of them (`forEach`) for which `match` holds; the rest are not read.
    public func first(entity: String, stages: [String]? = nil, naming: RecordID? = nil, workspace: Workspace, where match: (Record) -> Bool) throws -> Record? {
        struct Found: Error { let record: Record }
        do {
            try forEach(entity: entity, stages: stages, naming: naming, workspace: workspace) { if match($0) { throw Found(record: $0) } }
        } catch let found as Found {
            return found.record
        }
        return nil
    }

    /// Every confirmed record (for the checkpoint checksum).
    public func allConfirmed(workspace: Workspace) throws -> [Record] {
        try database.query("SELECT id, entity, created, confirmed, deleted FROM records WHERE confirmed IS NOT NULL ORDER BY id").compactMap {
            try confirmedRecord($0, workspace: workspace)
        }
    }

    /// Bytes the replica spends on data and on metadata (for the metadata benchmark): `data` is
    /// the stored values (the fields' and the creation's), `stamps` the rest of the record blobs
    /// (clocks, replicas, authors, sequences, field numbers), `outbox` and `history` those tables.
    public func storageBreakdown() throws -> (data: Int, stamps: Int, outbox: Int, history: Int) {
        var data = 0, stamps = 0
        let ws = try? Workspace.decode(try meta("workspace") ?? "")
        for row in try database.query("SELECT created, confirmed, view, entity FROM records") {
            guard let entity = row[3].string, let e = ws?.entity(entity), let created = row[0].bytes else { continue }
            if let c = row[1].bytes {
                let fields = try codec.fields(c, entity: e, base: try codec.state(created))
                let values = fields.values.reduce(0) { $0 + $1.value.storedBytes.count }
                data += values
                stamps += c.count - values
            }
            // The creation's value (the stage a deal started at: exported, timed by the pipeline
            // report) is data like a field's; its stamp is metadata.
            let createdValue = try codec.state(created).value.storedBytes.count
            data += createdValue
            stamps += created.count - createdValue
            // A view is stored only while writes are pending (else it is the confirmed state).
            stamps += row[2].bytes?.count ?? 0
        }
        let outbox = Int(try database.query("SELECT coalesce(sum(length(value)) + count(*) * 40, 0) FROM outbox").first?[0].int ?? 0)
        let history = Int(try database.query("SELECT coalesce(sum(length(old) + length(new) + length(field) + length(author) + 30), 0) FROM history").first?[0].int ?? 0)
        return (data, stamps, outbox, history)
    }

    /// Moves whenever another connection (a sync, `opps` in a terminal) commits to this
    /// database (SQLite's `data_version`); this connection's own commits do not move it.
    public func dataVersion() throws -> Int64 { try database.dataVersion() }

    /// A mark that moves with every change to the file, this connection's (`totalChanges`) or
    /// another's (`dataVersion`): the same mark twice, the same records in between.
    public func changeMark() throws -> [Int64] { [try database.dataVersion(), database.totalChanges] }

    public func recordCount() throws -> Int { Int(try database.query("SELECT count(*) FROM records").first?[0].int ?? 0) }

    /// Live records of one entity (what `list(entity:)` would return), counted up to `limit`:
    /// each is a row to look at, so a question like "none?" or "at most 500?" stops early (a
    /// board of 100,000 deals asks whether there is any).
    public func recordCount(entity: String, upTo limit: Int) throws -> Int {
        Int(
            try database.query(
                "SELECT count(*) FROM (SELECT 1 FROM records WHERE entity = ? AND view_deleted IS NULL LIMIT ?)", [.text(entity), .integer(Int64(limit))]
            ).first?[0].int ?? 0)
    }

    // MARK: Outbox

    public func enqueue(_ w: FieldWrite) throws {
        var baseKind: Int64 = 0
        var baseSeq: SQLValue = .null
        var baseHLC: SQLValue = .null
        switch w.base {
        case .none: break
        case let .sequence(s): baseKind = 1; baseSeq = .integer(Int64(s))
        case let .stamp(st): baseKind = 2; baseHLC = .integer(Int64(bitPattern: st.hlc.rawValue))
        }
        try database.execute(
            """
            INSERT INTO outbox (record, entity, field, kind, value, base_kind, base_sequence, base_hlc, hlc, edit) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .blob(w.record.bytes), .text(w.entity), .text(w.field), .integer(Self.kindCode(w.kind)), .blob(w.value.storedBytes),
                .integer(baseKind), baseSeq, baseHLC, .integer(Int64(bitPattern: w.stamp.hlc.rawValue)), editStart.map { .integer($0) } ?? .null,
            ])
        // Every write of one transaction is one edit (outside one, each write is its own).
        if editStart == nil, depth > 0 { editStart = database.lastInsertRowID }
    }

    static func kindCode(_ k: WriteKind) -> Int64 { k == .set ? 0 : (k == .create ? 1 : 2) }
    static func kind(_ c: Int64?) -> WriteKind { c == 1 ? .create : (c == 2 ? .delete : .set) }

    /// Pending writes in order; `replica` and `author` are this replica's.
    /// (`record`, `edit`, `field`: those writes only.)
    public func outbox(
        replica: ReplicaID, author: UserName, limit: Int = Int.max, record: RecordID? = nil, edit: Int64? = nil, field: String? = nil
    ) throws -> [OutboxEntry] {
        var sql = "SELECT position, record, entity, field, kind, value, base_kind, base_sequence, base_hlc, hlc, batch, coalesce(edit, position) FROM outbox"
        var conditions = [String](), args = [SQLValue]()
        if let record { conditions.append("record = ?"); args.append(.blob(record.bytes)) }
        if let edit { conditions.append("coalesce(edit, position) = ?"); args.append(.integer(edit)) }
        if let field { conditions.append("field = ?"); args.append(.text(field)) }
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        sql += " ORDER BY position LIMIT ?"
        args.append(.integer(Int64(min(limit, Int(Int32.max)))))
        return try database.query(sql, args).map { row in
            guard let pos = row[0].int, let rb = row[1].bytes, let id = RecordID(bytes: rb), let entity = row[2].string, let field = row[3].string,
                let vb = row[5].bytes, let hlc = row[9].int
            else { throw ByteReader.damaged }
            let base: Base =
                switch row[6].int {
                case 1: .sequence(UInt64(row[7].int ?? 0))
                case 2: .stamp(Stamp(hlc: HLC(rawValue: UInt64(bitPattern: row[8].int ?? 0)), replica: replica))
                default: .none
                }
            let w = FieldWrite(
                record: id, entity: entity, field: field, kind: Self.kind(row[4].int), value: try Value(storedBytes: vb), base: base,
                author: author, stamp: Stamp(hlc: HLC(rawValue: UInt64(bitPattern: hlc)), replica: replica))
            return OutboxEntry(position: pos, write: w, batch: UInt64(row[10].int ?? 0), edit: row[11].int ?? pos)
        }
    }

    /// Every write of the last edit made here (in order), sent or not; empty when the outbox is.
    public func lastEdit(replica: ReplicaID, author: UserName) throws -> [OutboxEntry] {
        guard let last = try database.query("SELECT coalesce(edit, position) FROM outbox ORDER BY position DESC LIMIT 1").first?[0].int else { return [] }
        return try outbox(replica: replica, author: author, edit: last)
    }

    /// This laptop's trail lines of the writes `entries` (a write shown as made has one; a
    /// proposal none), in the order they were written.
    public func trail(of entries: [OutboxEntry]) throws -> [HistoryLine] {
        try entries.flatMap { e in
            try database.query(
                "SELECT record, field, old, new, author, hlc, source, rule FROM history WHERE record = ? AND hlc = ? AND field = ? AND source = 'local' ORDER BY position",
                [.blob(e.write.record.bytes), .integer(Int64(bitPattern: e.write.stamp.hlc.rawValue)), .text(e.write.field)]
            ).map(Self.historyLine)
        }
    }

    /// Takes writes never sent back out of the outbox, with their trail lines (sync-protocol.md
    /// §5.3: a write may leave the outbox unanswered only while no batch holds it). Call inside a
    /// transaction, then rebuild each record's view.
    public func dropUnsent(_ entries: [OutboxEntry]) throws {
        precondition(entries.allSatisfy { $0.batch == 0 }, "a write in a batch stays in the outbox until the batch is answered")
        for e in entries {
            try database.execute(
                "DELETE FROM history WHERE record = ? AND hlc = ? AND field = ? AND source = 'local'",
                [.blob(e.write.record.bytes), .integer(Int64(bitPattern: e.write.stamp.hlc.rawValue)), .text(e.write.field)])
            try database.execute("DELETE FROM outbox WHERE position = ? AND batch = 0", [.integer(e.position)])
        }
    }

    /// How many edits wait in the outbox (one command's writes are one edit; `opps status`,
    /// `opps connect` and the web app's bar count these, not writes).
    public func editCount() throws -> Int {
        Int(try database.query("SELECT count(DISTINCT coalesce(edit, position)) FROM outbox").first?[0].int ?? 0)
    }

    /// How many edits wait in the outbox, none of their writes sent yet.
    public func unsentEditCount() throws -> Int {
        Int(
            try database.query(
                "SELECT count(DISTINCT coalesce(edit, position)) FROM outbox WHERE coalesce(edit, position) NOT IN (SELECT coalesce(edit, position) FROM outbox WHERE batch != 0)"
            )
            .first?[0].int ?? 0)
    }

    /// Made unique by the set: SQLite's `DISTINCT` here opens a temporary table each time.
    public func recordsWithPendingWrites() throws -> Set<RecordID> {
        Set(try database.query("SELECT record FROM outbox").compactMap { $0[0].bytes.flatMap(RecordID.init(bytes:)) })
    }

    public func outboxCount() throws -> Int { Int(try database.query("SELECT count(*) FROM outbox").first?[0].int ?? 0) }

    public func assign(batch: UInt64, positions: [Int64], request: [UInt8]) throws {
        for p in positions { try database.execute("UPDATE outbox SET batch = ? WHERE position = ?", [.integer(Int64(batch)), .integer(p)]) }
        try database.execute("INSERT INTO pending_batch (batch, request) VALUES (?, ?)", [.integer(Int64(batch)), .blob(request)])
    }

    /// The batch sent but not yet answered, to resend exactly.
    public func pendingBatch() throws -> (batch: UInt64, request: [UInt8])? {
        guard let row = try database.query("SELECT batch, request FROM pending_batch ORDER BY batch LIMIT 1").first,
            let b = row[0].int, let r = row[1].bytes
        else { return nil }
        return (UInt64(b), r)
    }

    /// Gives an unanswered batch another number (the hub was restored and expects a lower one).
    public func renumber(batch: UInt64, to number: UInt64, request: [UInt8]) throws {
        try database.execute("UPDATE outbox SET batch = ? WHERE batch = ?", [.integer(Int64(number)), .integer(Int64(batch))])
        try database.execute("DELETE FROM pending_batch WHERE batch = ?", [.integer(Int64(batch))])
        try database.execute("INSERT INTO pending_batch (batch, request) VALUES (?, ?)", [.integer(Int64(number)), .blob(request)])
    }

    /// Takes every write out of the batch it was given (none is answered): they are sent again,
    /// in batches numbered afresh (a replica that took a new id, sync-protocol.md §5.5).
    public func unassignBatches() throws {
        try database.execute("UPDATE outbox SET batch = 0 WHERE batch <> 0")
        try database.execute("DELETE FROM pending_batch")
    }

    /// The position of the outbox's last write (0 when it is empty).
    public func lastOutboxPosition() throws -> Int64 {
        try database.query("SELECT coalesce(max(position), 0) FROM outbox").first?[0].int ?? 0
    }

    /// The batch was answered: its writes leave the outbox.
    public func complete(batch: UInt64) throws {
        try database.execute("DELETE FROM outbox WHERE batch = ?", [.integer(Int64(batch))])
        try database.execute("DELETE FROM pending_batch WHERE batch = ?", [.integer(Int64(batch))])
    }

    /// Made unique by the set, as `recordsWithPendingWrites`.
    public func records(inBatch batch: UInt64) throws -> Set<RecordID> {
        Set(try database.query("SELECT record FROM outbox WHERE batch = ?", [.integer(Int64(batch))]).compactMap { $0[0].bytes.flatMap(RecordID.init(bytes:)) })
    }

    // MARK: Conflicts and history

    /// Keeps a conflict record the hub sent; false when this replica already had it (a repair's
    /// pull sends every conflict again).
    @discardableResult
    public func addConflict(_ c: LocalConflict) throws -> Bool {
        try database.execute(
            """
            INSERT OR IGNORE INTO conflicts (id, record, entity, field, outcome, rule, value, author, hlc, winner, winner_author, hub_ms)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .integer(Int64(c.id)), .blob(c.record.bytes), .text(c.entity), .text(c.field), .text(c.outcome), .text(c.rule), .blob(c.value.storedBytes),
                .text(c.author), .integer(Int64(bitPattern: c.hlc.rawValue)), c.winner.map { .blob($0.storedBytes) } ?? .null,
                c.winnerAuthor.map { .text($0) } ?? .null, .integer(c.hubMilliseconds),
            ])
        return database.changes > 0
    }

    /// Marks a conflict dealt with on this laptop (dismissed or restored); false when there is none.
    /// Closes a conflict; `byEdit`: the edit that wrote its value again (`currentEdit`), which
    /// opens it again if taken back (`reopenConflicts`).
    public func resolveConflict(_ id: UInt64, byEdit edit: Int64? = nil) throws -> Bool {
        try database.execute(
            "UPDATE conflicts SET resolved = 1, closed_by_edit = ? WHERE id = ? AND resolved = 0", [edit.map { .integer($0) } ?? .null, .integer(Int64(id))])
        return database.changes > 0
    }

    /// The conflicts the edit `edit` closed (`resolveConflict(_:byEdit:)`), by id.
    public func conflicts(closedBy edit: Int64) throws -> [UInt64] {
        try database.query("SELECT id FROM conflicts WHERE closed_by_edit = ? ORDER BY id", [.integer(edit)]).compactMap { $0[0].int.map(UInt64.init) }
    }

    /// Opens again the conflicts the edit `edit` closed (it was taken back).
    public func reopenConflicts(closedBy edit: Int64) throws {
        try database.execute("UPDATE conflicts SET resolved = 0, closed_by_edit = NULL WHERE closed_by_edit = ?", [.integer(edit)])
    }

    public func conflicts(includeResolved: Bool = false) throws -> [LocalConflict] {
        try database.query(
            """
            SELECT id, record, entity, field, outcome, rule, value, author, hlc, winner, winner_author, hub_ms FROM conflicts
            \(includeResolved ? "" : "WHERE resolved = 0") ORDER BY id
            """
        ).map { row in
            guard let id = row[0].int, let rb = row[1].bytes, let record = RecordID(bytes: rb), let entity = row[2].string, let field = row[3].string,
                let outcome = row[4].string, let rule = row[5].string, let vb = row[6].bytes, let author = row[7].string, let hlc = row[8].int,
                let ms = row[11].int
            else { throw ByteReader.damaged }
            return LocalConflict(
                id: UInt64(id), record: record, entity: entity, field: field, outcome: outcome, rule: rule, value: try Value(storedBytes: vb),
                author: author, hlc: HLC(rawValue: UInt64(bitPattern: hlc)), winner: try row[9].bytes.map { try Value(storedBytes: $0) },
                winnerAuthor: row[10].string, hubMilliseconds: ms)
        }
    }

    public func addHistory(_ h: HistoryLine) throws {
        try database.execute(
            "INSERT INTO history (record, field, old, new, author, hlc, source, rule) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                .blob(h.record.bytes), .text(h.field), .blob(h.old.storedBytes), .blob(h.new.storedBytes), .text(h.author),
                .integer(Int64(bitPattern: h.hlc.rawValue)), .text(h.source), .text(h.rule),
            ])
    }

    /// Marks this laptop's own line for a write (record, field, hlc) with what the hub decided:
    /// a line stays "pending" only until the write's batch is answered.
    public func settleHistory(record: RecordID, field: String, hlc: HLC, rule: String) throws {
        try database.execute(
            "UPDATE history SET rule = ? WHERE record = ? AND field = ? AND hlc = ? AND source = 'local'",
            [.text(rule), .blob(record.bytes), .text(field), .integer(Int64(bitPattern: hlc.rawValue))])
    }

    /// A row of `SELECT record, field, old, new, author, hlc, source, rule FROM history`.
    private static func historyLine(_ row: [SQLValue]) throws -> HistoryLine {
        guard let rb = row[0].bytes, let id = RecordID(bytes: rb), let field = row[1].string, let old = row[2].bytes, let new = row[3].bytes,
            let author = row[4].string, let hlc = row[5].int, let source = row[6].string, let rule = row[7].string
        else { throw ByteReader.damaged }
        return HistoryLine(
            record: id, field: field, old: try Value(storedBytes: old), new: try Value(storedBytes: new), author: author,
            hlc: HLC(rawValue: UInt64(bitPattern: hlc)), source: source, rule: rule)
    }

    /// Where the trail ends now: the lines a sync adds after it are `pulledRecords(after:…)`'s.
    public func historyEnd() throws -> Int64 { try database.query("SELECT coalesce(max(position), 0) FROM history").first?[0].int ?? 0 }

    /// The records of `entities` that lines pulled from the hub after `position` changed — lines
    /// not by `author` and not of `field`, nor following this laptop's own write, nor of a write a conflict line settled (one that held
    /// when it reached the hub and lost later) — each once, in the order the sync first changed
    /// them. Ids only, nothing decoded: a catch-up of 100,000 changes names its deals without
    /// reading their values (`pulledHistory(of:after:)` reads the few a surface shows).
    public func pulledRecords(after position: Int64, entities: [String], notBy author: String, skipping field: String?) throws -> [RecordID] {
        guard !entities.isEmpty else { return [] }
        let marks = Array(repeating: "?", count: entities.count).joined(separator: ", ")
        return try database.query(
            """
            SELECT h.record FROM history h JOIN records r ON r.id = h.record
            WHERE h.position > ? AND h.source = 'hub' AND h.rule != '\(HistoryLine.following)' AND h.author != ? AND h.field IS NOT ?
              AND r.entity IN (\(marks))
              AND h.position NOT IN (
                SELECT s.position FROM history c CROSS JOIN history s ON s.record = c.record AND s.hlc = c.hlc AND s.field = c.field AND s.source = 'hub'
                WHERE c.position > ? AND c.source = 'conflict')
            GROUP BY h.record ORDER BY min(h.position)
            """,
            // (The settled lines found from the conflict lines after `position` — a few — each
            // by the index on (record, hlc), in that order (CROSS JOIN): not a look-up for each
            // of a catch-up's 100,000 lines, nor a scan of the whole trail.)
            [.integer(position), .text(author), field.map { .text($0) } ?? .null] + entities.map { .text($0) } + [.integer(position)]
        ).compactMap { $0[0].bytes.flatMap(RecordID.init(bytes:)) }
    }

    /// One record's lines pulled from the hub after `position`, in order, but those of writes a
    /// conflict line settled (as `pulledRecords`).
    public func pulledHistory(of record: RecordID, after position: Int64) throws -> [HistoryLine] {
        try database.query(
            """
            SELECT record, field, old, new, author, hlc, source, rule FROM history h
            WHERE record = ? AND position > ? AND source = 'hub' AND rule != '\(HistoryLine.following)' AND NOT EXISTS (\(Self.settled))
            ORDER BY position
            """,
            [.blob(record.bytes), .integer(position)]
        ).map(Self.historyLine)
    }

    /// A conflict line of the write the history line `h` pulled: it did not hold.
    private static let settled = "SELECT 1 FROM history c WHERE c.record = h.record AND c.hlc = h.hlc AND c.source = 'conflict' AND c.field = h.field"

    public func history(_ record: RecordID) throws -> [HistoryLine] {
        try database.query(
            "SELECT record, field, old, new, author, hlc, source, rule FROM history WHERE record = ? ORDER BY position",
            [.blob(record.bytes)]
        ).map(Self.historyLine)
    }
}
