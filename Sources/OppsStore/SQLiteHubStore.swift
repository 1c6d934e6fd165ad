import OppsCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The hub store on one SQLite file (WAL): the schema, and how SQLite opens, commits and
/// notices other processes. The statements are `SQLHubStore`'s.
public final class SQLiteHubStore: SQLHubStore {
    public let database: Database

    public static let migrator: Migrator = {
        var m = Migrator()
        m.register(
            "2026-11-29-hub-1",
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
            """
            CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, role TEXT NOT NULL, team TEXT, territory TEXT,
                manager TEXT, capacity INTEGER, disabled INTEGER NOT NULL DEFAULT 0, created_ms INTEGER NOT NULL)
            """,
            "CREATE TABLE tokens (hash BLOB PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), created_ms INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0)",
            "CREATE TABLE workspaces (version INTEGER PRIMARY KEY, document TEXT NOT NULL, applied_ms INTEGER NOT NULL)",
            "CREATE TABLE replica_ids (idx INTEGER PRIMARY KEY, id BLOB UNIQUE NOT NULL)",
            """
            CREATE TABLE records (id BLOB PRIMARY KEY, entity TEXT NOT NULL, kind INTEGER NOT NULL, creator TEXT NOT NULL, owner TEXT,
                stage TEXT, parent BLOB, created BLOB NOT NULL, fields BLOB NOT NULL, deleted BLOB) WITHOUT ROWID
            """,
            "CREATE INDEX records_owner ON records(owner)",
            "CREATE INDEX records_creator ON records(creator)",
            "CREATE INDEX records_stage ON records(stage)",
            "CREATE INDEX records_parent ON records(parent)",
            "CREATE TABLE refs (source BLOB NOT NULL, target BLOB NOT NULL, PRIMARY KEY (source, target)) WITHOUT ROWID",
            "CREATE TABLE teams (membership BLOB PRIMARY KEY, opportunity BLOB NOT NULL, user TEXT NOT NULL) WITHOUT ROWID",
            "CREATE INDEX teams_user ON teams(user)",
            "CREATE INDEX teams_opportunity ON teams(opportunity)",
            """
            CREATE TABLE log (seq INTEGER PRIMARY KEY, record BLOB NOT NULL, entity TEXT NOT NULL, field TEXT NOT NULL, kind INTEGER NOT NULL,
                value BLOB NOT NULL, hlc INTEGER NOT NULL, replica INTEGER NOT NULL, author TEXT NOT NULL, authority INTEGER NOT NULL,
                hub_ms INTEGER NOT NULL)
            """,
            "CREATE INDEX log_record ON log(record, seq)",
            """
            CREATE TABLE conflicts (id INTEGER PRIMARY KEY, record BLOB NOT NULL, entity TEXT NOT NULL, field TEXT NOT NULL,
                outcome TEXT NOT NULL, rule TEXT NOT NULL, loser BLOB NOT NULL, author TEXT NOT NULL, winner BLOB,
                winner_author TEXT, owner TEXT, hub_ms INTEGER NOT NULL, resolved INTEGER NOT NULL DEFAULT 0)
            """,
            "CREATE INDEX conflicts_author ON conflicts(author, id)",
            "CREATE INDEX conflicts_owner ON conflicts(owner, id)",
            "CREATE INDEX conflicts_record ON conflicts(record)",
            """
            CREATE TABLE replicas (id BLOB PRIMARY KEY, user TEXT NOT NULL, last_batch INTEGER NOT NULL DEFAULT 0,
                ack INTEGER NOT NULL DEFAULT 0, last_seen_ms INTEGER NOT NULL, pull_token INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID
            """,
            "CREATE TABLE batches (replica BLOB NOT NULL, batch INTEGER NOT NULL, digest BLOB NOT NULL, response BLOB NOT NULL, PRIMARY KEY (replica, batch)) WITHOUT ROWID",
            "CREATE TABLE replica_records (replica BLOB NOT NULL, record BLOB NOT NULL, signature INTEGER NOT NULL, PRIMARY KEY (replica, record)) WITHOUT ROWID",
            "CREATE TABLE replica_pending (replica BLOB NOT NULL, token INTEGER NOT NULL, record BLOB NOT NULL, signature INTEGER, PRIMARY KEY (replica, token, record)) WITHOUT ROWID"
        )
        m.register(
            "2026-11-29-hub-2-admin-log",
            "CREATE TABLE admin_log (id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, action TEXT NOT NULL, subject TEXT NOT NULL, detail TEXT NOT NULL)")
        m.register(
            "2026-11-29-hub-3-record-terms",
            "ALTER TABLE records ADD COLUMN term INTEGER NOT NULL DEFAULT 0")
        // A narrow copy of the hot columns: visibility, column and checksum scans read it
        // instead of the wide record rows (whose field blobs make full scans slow).
        m.register(
            "2026-11-29-hub-4-record-index",
            """
            CREATE TABLE record_index (id BLOB PRIMARY KEY, entity TEXT NOT NULL, kind INTEGER NOT NULL, creator TEXT NOT NULL, owner TEXT,
                stage TEXT, parent BLOB, live INTEGER NOT NULL, term INTEGER NOT NULL) WITHOUT ROWID
            """,
            "INSERT INTO record_index SELECT id, entity, kind, creator, owner, stage, parent, deleted IS NULL, term FROM records",
            "CREATE INDEX record_index_owner ON record_index(owner)",
            "CREATE INDEX record_index_creator ON record_index(creator)",
            "CREATE INDEX record_index_stage ON record_index(stage)",
            "CREATE INDEX record_index_parent ON record_index(parent)")
        // The token that answered the replica's last honoured restart from nothing: a late copy
        // of an older restart (a lower token) must not wipe what the replica holds since.
        m.register(
            "2026-11-29-hub-5-reset-token",
            "ALTER TABLE replicas ADD COLUMN reset_token INTEGER NOT NULL DEFAULT 0")
        m.register(
            "2026-11-30-hub-6-replica-protocol",
            "ALTER TABLE replicas ADD COLUMN protocol INTEGER NOT NULL DEFAULT 1")
        // Which live deals reference an account or contact: the push checks a writer may see it.
        m.register(
            "2026-11-29-hub-7-refs-target",
            "CREATE INDEX refs_target ON refs(target)")
        // The cursor of the last page each replica was sent: its lag in `opps-hub status`.
        m.register(
            "2026-11-29-hub-8-replica-sent",
            "ALTER TABLE replicas ADD COLUMN sent INTEGER NOT NULL DEFAULT 0")
        // A page built on the page a pipelined request says is in flight: acknowledging it makes
        // that page's staged records held too, without staging them a second time.
        m.register(
            "2026-11-30-hub-9-replica-carries",
            "CREATE TABLE replica_carries (replica BLOB NOT NULL, token INTEGER NOT NULL, carries INTEGER NOT NULL, PRIMARY KEY (replica, token)) WITHOUT ROWID")
        // A page's staged records in one row (StagedChanges), the page it carries beside them.
        // Pages in flight during the upgrade lose what they staged: acknowledging one then makes
        // nothing held, and its records are sent again with the next page (as after a lost
        // acknowledgement) — the bookkeeping is rebuilt, nothing a replica holds is lost.
        m.register(
            "2026-12-01-hub-10-replica-staged",
            "CREATE TABLE replica_staged (replica BLOB NOT NULL, token INTEGER NOT NULL, carries INTEGER, changes BLOB NOT NULL, PRIMARY KEY (replica, token)) WITHOUT ROWID",
            "DROP TABLE replica_pending",
            "DROP TABLE replica_carries")
        // A batch's stored answer in a table keyed by rowid, its (replica, batch) in an index of
        // its own. As a WITHOUT ROWID table the answer was part of the key: an import's answer
        // of 100 KB spilled into overflow pages, and SQLite copies a key whole to compare it, so
        // every push's insert and look-up copied such answers at each level of the tree (a tenth
        // of the hub's thread in a one-write round trip: BENCHMARKS.md, thirty-ninth session).
        // The rows are copied once, when the hub opens the file.
        m.register(
            "2026-12-04-hub-11-batches-by-rowid",
            "CREATE TABLE batches_by_rowid (replica BLOB NOT NULL, batch INTEGER NOT NULL, digest BLOB NOT NULL, response BLOB NOT NULL)",
            "INSERT INTO batches_by_rowid (replica, batch, digest, response) SELECT replica, batch, digest, response FROM batches ORDER BY replica, batch",
            "DROP TABLE batches",
            "ALTER TABLE batches_by_rowid RENAME TO batches",
            "CREATE UNIQUE INDEX batches_key ON batches(replica, batch)")
        // `records` was a WITHOUT ROWID table, which keeps at most 1,002 bytes of a row on its
        // page (4 KiB pages): a deal of about 1,100 bytes took an overflow page of its own, and
        // SQLite copies such a row's key whole at each comparison of a look-up or an insert
        // (the replica's table moved for the same reason: BENCHMARKS.md, sixty-second session).
        // A rowid table keeps about 4,000 bytes a row on its page; the id's unique index finds
        // a row. Its four secondary indexes (owner, creator, stage, parent) go: every query of
        // those columns reads `record_index` since hub-4, yet each new record wrote four entries
        // in them and each change of owner, stage or parent rewrote them. The rows are copied
        // once, when the hub opens the file.
        m.register(
            "2026-12-07-hub-12-records-rowid",
            """
            CREATE TABLE records_rowid (id BLOB PRIMARY KEY, entity TEXT NOT NULL, kind INTEGER NOT NULL, creator TEXT NOT NULL, owner TEXT,
                stage TEXT, parent BLOB, created BLOB NOT NULL, fields BLOB NOT NULL, deleted BLOB, term INTEGER NOT NULL DEFAULT 0)
            """,
            """
            INSERT INTO records_rowid (id, entity, kind, creator, owner, stage, parent, created, fields, deleted, term)
                SELECT id, entity, kind, creator, owner, stage, parent, created, fields, deleted, term FROM records ORDER BY id
            """,
            "DROP TABLE records",
            "ALTER TABLE records_rowid RENAME TO records")
        // The ids of deleted records whose tombstones compaction removed (merge-semantics.md
        // §7.2): without them, a create naming one — an older copy of a replica sending what the
        // other copy sent before the delete — made the record again. 16 bytes a deleted record.
        m.register(
            "2026-12-07-hub-13-gone",
            "CREATE TABLE gone (id BLOB PRIMARY KEY) WITHOUT ROWID")
        return m
    }()

    /// Opens (creating and migrating) the hub database at `path`.
    public init(path: String) throws {
        // A push is acknowledged when its transaction commits: that commit must survive power loss.
        let database = try Database(path: path, durable: true)
        // A multi-row upsert keeps a statement journal (to undo itself alone if a row fails);
        // past 64 KiB SQLite spills it to a temporary file, created and deleted each time — a
        // large push's rows did so several times a push (BENCHMARKS.md "Thirty-sixth session").
        // Kept in memory, it costs what the statement changed; nothing durable is in it.
        try database.execute("PRAGMA temp_store=MEMORY")
        try Self.migrator.migrate(database)
        self.database = database
        // The migration's reads opened the log: it exists from here until the connection closes.
        log = try LogFile(path: path + "-wal")
        try super.init(connection: database, dialect: .sqlite)
    }

    public override func externalChanges() throws -> Int64 { try database.dataVersion() }

    /// The database's write-ahead log, synced from another thread after a push group's commit.
    let log: LogFile
    public override var laterSync: (any CommitSync)? { log }

    /// Commits with `synchronous=NORMAL`: the frames are in the log (a crash of the process loses
    /// nothing) but not yet on disk; `laterSync` puts them there. Whoever reads what it committed
    /// before then must not tell anyone until it has (the hub holds back every answer).
    public override func transactionSyncedLater<T>(_ body: () throws -> T) throws -> T {
        try durability(full: false)
        return try atomically(body)
    }

    public override func databaseBytes() throws -> Int64 {
        var bytes: Int64 = 0
        for suffix in ["", "-wal"] {
            var info = stat()
            if stat(database.path + suffix, &info) == 0 { bytes += Int64(info.st_size) }
        }
        return bytes
    }

    public override func freeBytes() throws -> Int64 {
        let pages = try database.query("PRAGMA freelist_count").first?[0].int ?? 0
        let size = try database.query("PRAGMA page_size").first?[0].int ?? 0
        return pages * size
    }

    /// True while the connection runs with `synchronous=NORMAL` (set for bookkeeping).
    private var relaxed = false

    /// Sets the connection's durability before a transaction begins. A durable transaction
    /// never runs relaxed: if FULL cannot be set, it fails before anything is acknowledged.
    private func durability(full: Bool) throws {
        guard relaxed == full else { return }
        try database.execute(full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL")
        relaxed = !full
    }

    public override func bookkeeping<T>(_ body: () throws -> T) throws -> T {
        // The page-token epoch, raised once, before this store's first pull (a connection to a
        // file is never lost and opened again; a crash of the machine ends the process with it).
        if pageTokenFloor == 0 { try transaction { try raisePageTokenEpoch() } }
        // WAL with synchronous=NORMAL: the commit is in the log, not yet fsynced; the next
        // FULL commit syncs the log, this commit with it.
        try durability(full: false)
        syncAfterCommit = false
        let result = try atomically(body)
        if syncAfterCommit {
            // The commit's frames are in the log; on disk once the log is (what a FULL commit
            // would have waited for, without changing the connection's mode inside a transaction).
            syncAfterCommit = false
            try log.sync()
        }
        return result
    }

    /// Set by `commitDurably` inside `bookkeeping`: the log is synced once the commit is made.
    private var syncAfterCommit = false

    public override func commitDurably() throws { syncAfterCommit = true }

    public override func transaction<T>(_ body: () throws -> T) throws -> T {
        try durability(full: true)
        return try atomically(body)
    }

    private func atomically<T>(_ body: () throws -> T) throws -> T {
        do {
            return try database.transaction { _ in try body() }
        } catch {
            // A rolled-back transaction may have cached replica indexes that no longer exist.
            try codec.reload()
            throw error
        }
    }
}
