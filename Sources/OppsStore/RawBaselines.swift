import Foundation

/// The floors the benchmarks report every figure against (issue 20): what SQLite alone costs
/// for the same work, measured in the same run by the same binary. Kept here because every SQL
/// statement of the project is in this module.
public enum RawBaselines {
    /// Copies the confirmed records of the replica at `source` into a new SQLite file at `path`,
    /// as plain rows (id, entity, creation, fields: the same bytes), in one transaction — what a
    /// cold sync of those records costs with no network, no decoding, no rules. Returns the rows
    /// and the seconds the insert and its commit took (reading the source is not timed).
    public static func insertCopy(of source: String, into path: String, clock: () -> Double) throws -> (rows: Int, seconds: Double) {
        let from = try Database(path: source, readOnly: true)
        let rows = try from.query("SELECT id, entity, created, confirmed FROM records WHERE confirmed IS NOT NULL ORDER BY id")
        let to = try Database(path: path)
        try loadWithRollbackJournal(to)
        // A rowid table with the id's unique index: the faster of SQLite's two layouts for rows
        // of a kilobyte (a WITHOUT ROWID row spills past 1,002 bytes: BENCHMARKS.md, sixty-second
        // session), so the floor is no slower than it need be.
        try to.execute("CREATE TABLE records (id BLOB PRIMARY KEY, entity TEXT NOT NULL, created BLOB NOT NULL, fields BLOB NOT NULL)")
        let t0 = clock()
        _ = try to.transaction { db in
            for row in rows { try db.execute("INSERT INTO records (id, entity, created, fields) VALUES (?, ?, ?, ?)", row) }
        }
        return (rows.count, clock() - t0)
    }

    /// Copies the records of the replica at `source` into a new replica file at `path` through
    /// the replica's own schema and statement (`ReplicaStore.recordUpsert`, every column as
    /// stored), loaded as a first pull loads (`beginBulkLoad`: in id order, the secondary indexes
    /// built once at the end), in one transaction with a rollback journal — what this replica's
    /// storage costs for a cold sync with no network, no decoding, no checksum and no rules.
    /// Returns the rows and the seconds the insert, its commit and the index builds took
    /// (reading the source is not timed).
    public static func insertReplicaCopy(of source: String, into path: String, clock: () -> Double) throws -> (rows: Int, seconds: Double) {
        let from = try Database(path: source, readOnly: true)
        let rows = try from.query(
            "SELECT id, entity, stage, owner, creator, due, created, confirmed, view, deleted, view_deleted, local_only, parent FROM records ORDER BY id")
        let to = try ReplicaStore(path: path)
        // The stamps' replica numbering, so the copy reads as the source does (not timed: a handful of rows).
        for row in try from.query("SELECT idx, id FROM replica_ids") { try to.database.execute("INSERT OR REPLACE INTO replica_ids (idx, id) VALUES (?, ?)", row) }
        _ = try to.beginBulkLoad()
        try loadWithRollbackJournal(to.database)
        let t0 = clock()
        try to.transaction { for row in rows { try to.database.execute(ReplicaStore.recordUpsert, row) } }
        try to.ensureRecordIndexes()
        return (rows.count, clock() - t0)
    }

    /// A new SQLite file as SQLite makes it: a rollback journal, the commit fsynced. The same
    /// one large transaction in the write-ahead log (these floors until the thirty-eighth
    /// session) cost about 3.5× as much in the bench (medians 1.54 s against 0.43 s, 100,000
    /// deals): every page went to the log, was looked up there while the transaction grew, and
    /// was written again at the checkpoint — a cost of the log with one huge transaction. A
    /// replica committing page by page does not pay it: its own load measured the same with
    /// either journal, so it keeps the log.
    /// SQLite keeps the log when it cannot leave it (another connection holds the file): then
    /// there is no floor to measure, and this says so.
    static func loadWithRollbackJournal(_ database: Database) throws {
        let mode = try database.query("PRAGMA journal_mode=DELETE").first?.first?.string
        guard mode == "delete" else { throw StoreError(code: -1, message: "\(database.path): the floor needs a rollback journal, SQLite kept \(mode ?? "none")") }
        try database.execute("PRAGMA synchronous=FULL")
    }

    /// A database of one row, updated with every commit fsynced (`synchronous=FULL`) — the disk
    /// half of a round trip's floor.
    ///
    /// It starts in the state a hub's file is in after its first minutes: its write-ahead log at
    /// the size SQLite keeps reusing. A new file's log grows a frame a commit until the first
    /// checkpoint, and while it grows each fsync also writes the file's new size: 256–287 µs a
    /// commit on this machine's disk against 111–157 µs once the log is reused (BENCHMARKS.md,
    /// "Sixty-second session"). A floor sampled while its log grew was
    /// slower by that difference than the hub it was compared with, whose log the seeding had
    /// long grown.
    public final class FsyncedRow {
        let database: Database
        var n: Int64 = 0

        public init(path: String) throws {
            database = try Database(path: path, durable: true)
            try database.execute("CREATE TABLE IF NOT EXISTS one (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)")
            try database.execute("INSERT OR REPLACE INTO one (id, value) VALUES (1, 0)")
            // One frame a commit: the log reaches its full size at the automatic checkpoint's
            // number of frames, and is written from its start again after it.
            let frames = Int(try database.query("PRAGMA wal_autocheckpoint").first?.first?.int ?? 1_000)
            for _ in 0..<(frames + frames / 10) { try update() }
        }

        /// The size of its write-ahead log, in bytes (0 if there is none).
        public var logBytes: Int {
            (try? FileManager.default.attributesOfItem(atPath: database.path + "-wal")[.size] as? Int) ?? 0
        }

        /// One update, committed and fsynced.
        public func update() throws {
            n += 1
            _ = try database.transaction { db in try db.execute("UPDATE one SET value = ? WHERE id = 1", [.integer(n)]) }
        }
    }
}
