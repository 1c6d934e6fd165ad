import Foundation
import OppsCore
import OppsTestSupport
import Testing

@testable import OppsStore

@Suite struct DatabaseTests {
    func temporaryPath() -> String {
        let dir = URL(fileURLWithPath: Scratch.directory("opps-store"))
        return dir.appendingPathComponent("test.sqlite").path
    }

    @Test func bindsAndReadsEveryType() throws {
        let db = try Database(path: temporaryPath())
        try db.execute("CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n)")
        try db.execute("INSERT INTO t VALUES (?, ?, ?, ?, ?)", [.integer(-7), .real(1.5), .text("商机"), .blob([0, 1, 255]), .null])
        let rows = try db.query("SELECT i, r, s, b, n FROM t")
        #expect(rows == [[.integer(-7), .real(1.5), .text("商机"), .blob([0, 1, 255]), .null]])
        #expect(try db.query("PRAGMA journal_mode")[0][0] == .text("wal"))
    }

    /// `scan` reads each value where SQLite holds it; what it reads is what `query` reads — and
    /// what a row of values (another engine's `scan`) reads: ints, texts, 16-byte blobs as ids,
    /// nil for a null or a value of another kind.
    @Test func aScanReadsWhatAQueryReads() throws {
        let db = try Database(path: temporaryPath())
        try db.execute("CREATE TABLE t (i INTEGER, s TEXT, b BLOB)")
        let id = UUID128(high: 0x0123_4567_89AB_CDEF, low: 0xFEDC_BA98_7654_3210)
        let rows: [[SQLValue]] = [
            [.integer(-7), .text("商机 pipeline"), .blob(id.bytes)],
            [.null, .null, .null],
            [.integer(1 << 40), .text(""), .blob([1, 2, 3])],  // not an id: 3 bytes
            [.real(1.5), .blob([7]), .text("x")],  // kinds other than asked (kept so by the columns' affinity): nil, as SQLValue says
        ]
        for r in rows { try db.execute("INSERT INTO t VALUES (?, ?, ?)", r) }
        struct Read: Equatable { var i: Int64?, s: String?, id: UUID128? }
        func read(_ row: SQLRow) -> Read { Read(i: row.int(0), s: row.string(1), id: row.id(2)) }
        var scanned = [Read]()
        try db.scan("SELECT i, s, b FROM t ORDER BY rowid", []) { scanned.append(read($0)) }
        let queried = try db.query("SELECT i, s, b FROM t ORDER BY rowid").map { read(SQLRow($0)) }
        #expect(scanned == queried)
        #expect(
            scanned == [
                Read(i: -7, s: "商机 pipeline", id: id), Read(i: nil, s: nil, id: nil), Read(i: 1 << 40, s: "", id: nil), Read(i: nil, s: nil, id: nil),
            ])
        // Bound values and a statement used again after a scan.
        var count = 0
        try db.scan("SELECT i FROM t WHERE i < ?", [.integer(0)]) { _ in count += 1 }
        let counted = try db.query("SELECT count(*) FROM t WHERE i < ?", [.integer(0)])
        #expect(count == 1 && counted == [[.integer(1)]])
    }

    @Test func aFailedTransactionLeavesNothingBehind() throws {
        let db = try Database(path: temporaryPath())
        try db.execute("CREATE TABLE t (k TEXT PRIMARY KEY)")
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try db.transaction { db in
                try db.execute("INSERT INTO t VALUES ('a')")
                throw Boom()
            }
        }
        #expect(try db.query("SELECT count(*) FROM t")[0][0] == .integer(0))
        try db.transaction { db in try db.execute("INSERT INTO t VALUES ('b')") }
        #expect(try db.query("SELECT k FROM t") == [[.text("b")]])
    }

    @Test func constraintViolationsAreStoreErrors() throws {
        let db = try Database(path: temporaryPath())
        try db.execute("CREATE TABLE t (k TEXT PRIMARY KEY)")
        try db.execute("INSERT INTO t VALUES ('a')")
        #expect(throws: StoreError.self) { try db.execute("INSERT INTO t VALUES ('a')") }
        #expect(throws: StoreError.self) { try db.execute("SELEKT 1") }
    }

    @Test func migrationsRunOnceInOrderAndRefuseANewerDatabase() throws {
        let path = temporaryPath()
        var m = Migrator()
        m.register("v1-create", "CREATE TABLE a (x INTEGER)")
        m.register("v2-add", "ALTER TABLE a ADD COLUMN y TEXT", "INSERT INTO a (x, y) VALUES (1, 'one')")
        do {
            let db = try Database(path: path)
            #expect(try m.migrate(db) == ["v1-create", "v2-add"])
            #expect(try m.migrate(db) == [])
        }
        var newer = m
        newer.register("v3-more", "CREATE TABLE b (z INTEGER)")
        do {
            let db = try Database(path: path)
            #expect(try newer.migrate(db) == ["v3-more"])
            #expect(try db.query("SELECT x, y FROM a") == [[.integer(1), .text("one")]])
        }
        // The older build refuses the database the newer one wrote.
        let db = try Database(path: path)
        #expect(throws: StoreError.self) { try m.migrate(db) }
    }

    @Test func aFailingMigrationIsRolledBack() throws {
        let db = try Database(path: temporaryPath())
        var m = Migrator()
        m.register("good", "CREATE TABLE a (x INTEGER)")
        m.register("bad", "CREATE TABLE b (x INTEGER)", "THIS IS NOT SQL")
        #expect(throws: StoreError.self) { try m.migrate(db) }
        #expect(try db.query("SELECT name FROM schema_migrations") == [[.text("good")]])
        #expect(try db.query("SELECT count(*) FROM sqlite_master WHERE name = 'b'")[0][0] == .integer(0))
    }

    /// An online backup of a database another connection commits to meanwhile (a serving hub
    /// commits every few milliseconds) copies one snapshot in one pass: it does not start over at
    /// each commit (it did, so a backup of a busy hub never ended), and the copy is the database
    /// as it was when the backup began.
    @Test func aBackupEndsWhileAnotherConnectionCommitsAndCopiesOneSnapshot() throws {
        let path = temporaryPath()
        let db = try Database(path: path)
        try db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)")
        try db.transaction { db in
            for i in 0..<3_000 { try db.execute("INSERT INTO t (id, v) VALUES (?, ?)", [.integer(Int64(i)), .blob([UInt8](repeating: 1, count: 900))]) }
        }
        let pages = try #require(db.query("PRAGMA page_count").first?.first?.int)
        let writer = try Database(path: path)
        let pageSize = try #require(db.query("PRAGMA page_size").first?.first?.int)
        var steps = 0
        var last: (Int64, Int64) = (0, 0)
        try db.backup(to: path + ".copy") { done, total in
            steps += 1
            last = (done, total)
            // A commit of another connection between two steps, as a serving hub's (the first 20:
            // a backup that starts over at each would otherwise never end).
            if steps <= 20 { try? writer.execute("UPDATE t SET v = ? WHERE id = ?", [.blob([2]), .integer(Int64(steps))]) }
        }
        #expect(steps <= Int(pages) / 256 + 2, "one pass over \(pages) pages: \(steps) steps")
        #expect(last == (pages * pageSize, pages * pageSize), "progress in bytes, ending at the whole file: \(last)")
        let copy = try Database(path: path + ".copy")
        #expect(try copy.query("SELECT count(*) FROM t WHERE length(v) = 900")[0][0] == .integer(3_000), "the copy is the snapshot the backup began with")
        #expect(try db.query("SELECT count(*) FROM t WHERE length(v) = 1")[0][0] == .integer(Int64(min(steps, 20))), "the writer's commits were taken meanwhile")
    }

    @Test func refusesAnUnopenablePath() {
        #expect(throws: StoreError.self) { try Database(path: "/nonexistent-dir/x/y.sqlite") }
    }
}

@Suite struct DurabilityTests {
    @Test func theHubStoreFsyncsEveryCommitTheReplicaDoesNot() throws {
        let dir = URL(fileURLWithPath: Scratch.directory("opps-durable"))
        let hub = try SQLiteHubStore(path: dir.appendingPathComponent("hub.sqlite").path)
        #expect(try hub.database.query("PRAGMA synchronous")[0][0] == .integer(2))  // FULL
        let replica = try ReplicaStore(path: dir.appendingPathComponent("replica.sqlite").path)
        #expect(try replica.database.query("PRAGMA synchronous")[0][0] == .integer(1))  // NORMAL
    }

    /// A large push's multi-row upserts keep their statement journals in memory: on a file, SQLite
    /// created and deleted a temporary file for each one past 64 KiB.
    @Test func theHubStoreKeepsItsStatementJournalsInMemory() throws {
        let dir = URL(fileURLWithPath: Scratch.directory("opps-durable"))
        let hub = try SQLiteHubStore(path: dir.appendingPathComponent("hub.sqlite").path)
        #expect(try hub.database.query("PRAGMA temp_store")[0][0] == .integer(2))  // MEMORY
    }

    /// A pull's bookkeeping runs relaxed; every durable transaction after it — also after a
    /// rolled-back one — runs with FULL again, so an acknowledged push is on disk.
    @Test func aDurableTransactionAfterBookkeepingIsFsyncedAgain() throws {
        let dir = URL(fileURLWithPath: Scratch.directory("opps-durable"))
        let store = try SQLiteHubStore(path: dir.appendingPathComponent("hub.sqlite").path)
        func level() throws -> SQLValue { try store.database.query("PRAGMA synchronous")[0][0] }
        var seen = [SQLValue]()
        try store.bookkeeping { seen.append(try level()) }
        try store.transaction { seen.append(try level()) }
        try store.bookkeeping {}
        do { try store.transaction { throw StoreError(code: -1, message: "rolled back") } } catch {}
        do { try store.bookkeeping { throw StoreError(code: -1, message: "rolled back") } } catch {}
        try store.transaction { seen.append(try level()) }
        #expect(seen == [.integer(1), .integer(2), .integer(2)])
    }
}

@Suite struct ReplicaSyncStateTests {
    /// The sync state is typed; the forget list, once a comma-joined meta value, is a table
    /// the store moves an old value into when it opens.
    @Test func theForgetListOfAnOlderReplicaMovesIntoItsTable() throws {
        let dir = URL(fileURLWithPath: Scratch.directory("opps-sync-state"))
        let path = dir.appendingPathComponent("replica.sqlite").path
        var rng = SeededGenerator(seed: 3)
        let ids = [UUID128.version7(milliseconds: 1, using: &rng), UUID128.version7(milliseconds: 2, using: &rng)].sorted()
        do {
            let store = try ReplicaStore(path: path)
            try store.setMeta("forget", ids.map(\.description).joined(separator: ","))
            try store.setSync(.cursor, 42)
        }
        let store = try ReplicaStore(path: path)
        #expect(try store.forgetList() == ids)
        #expect(try store.meta("forget") == nil)
        #expect(try store.sync(.cursor) == 42)
        try store.setForgetList([])
        #expect(try store.forgetList().isEmpty)
    }

    /// Every applied page empties the forget list; an empty list stays as it is, no page of it
    /// written (a bare `DELETE FROM` rewrote the table's root page at every page applied).
    @Test func emptyingAnEmptyForgetListWritesNothing() throws {
        let dir = URL(fileURLWithPath: Scratch.directory("opps-sync-state"))
        let path = dir.appendingPathComponent("replica.sqlite").path
        let store = try ReplicaStore(path: path)
        func logSize() throws -> Int { (try FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0 }
        try store.transaction { try store.setMeta("opened", "yes") }
        let before = try logSize()
        #expect(before > 0, "the commit before is in the log")
        try store.transaction { try store.setForgetList([]) }
        #expect(try logSize() == before, "no page written")
        var rng = SeededGenerator(seed: 9)
        try store.transaction { try store.setForgetList([UUID128.version7(milliseconds: 1, using: &rng)]) }
        let filled = try logSize()
        #expect(filled > before)
        try store.transaction { try store.setForgetList([]) }
        #expect(try store.forgetList().isEmpty)
        #expect(try logSize() > filled, "a list that held a record is emptied")
    }

    /// A savepoint's failure undoes what it wrote and nothing before it in the transaction,
    /// which then commits (a sync settles a push's answer even when the page it carried fails).
    @Test func aFailedSavepointUndoesOnlyItsOwnPart() throws {
        let dir = URL(fileURLWithPath: Scratch.directory("opps-sync-state"))
        let store = try ReplicaStore(path: dir.appendingPathComponent("replica.sqlite").path)
        var rng = SeededGenerator(seed: 5)
        let kept = UUID128.version7(milliseconds: 1, using: &rng), undone = UUID128.version7(milliseconds: 2, using: &rng)
        var thrown: (any Error)?
        try store.transaction {
            try store.setMeta("settled", "yes")
            try store.setForgetList([kept])
            do {
                try store.savepoint {
                    try store.setMeta("page", "applied")
                    try store.setForgetList([kept, undone])
                    throw StoreError(code: -1, message: "the page could not be applied")
                }
            } catch { thrown = error }
            #expect(try store.meta("page") == nil, "undone at once, inside the transaction")
            let after = try store.savepoint { try store.meta("settled") }
            #expect(after == "yes", "a savepoint that succeeds returns its value")
        }
        #expect((thrown as? StoreError)?.message == "the page could not be applied")
        #expect(try store.meta("settled") == "yes")
        #expect(try store.meta("page") == nil)
        #expect(try store.forgetList() == [kept])
    }
}

/// `SQLConnection.insert`: SQLite's binding straight into the statement and the other engines'
/// collected values write the same rows.
@Suite struct MultiRowInsertTests {
    /// A connection that only runs statements: `insert` takes the protocol's collecting path.
    final class Collecting: SQLConnection {
        let db: Database
        init(_ db: Database) { self.db = db }
        func run(_ sql: String, _ values: [SQLValue]) throws -> Int { try db.run(sql, values) }
        func query(_ sql: String, _ values: [SQLValue]) throws -> [[SQLValue]] { try db.query(sql, values) }
        func atomically<T>(_ body: () throws -> T) throws -> T { try db.atomically(body) }
    }

    static let head = "INSERT INTO t (k, s, b, n, i) VALUES "

    /// 650 rows (three statements: 300, 300, 50), with empty texts and blobs, NULLs, ids.
    func write(_ connection: any SQLConnection) throws {
        let ids = (0..<650).map { UUID128(high: UInt64($0) &* 0x9E37_79B9_7F4A_7C15, low: ~UInt64($0)) }
        try connection.insert(Self.head, width: 5, count: ids.count, then: " ON CONFLICT(k) DO UPDATE SET i = excluded.i") { i, v in
            v.blob(ids[i])
            v.text(i % 3 == 0 ? "" : (i % 3 == 1 ? nil : "商机 \(i)"))
            v.blob(i % 2 == 0 ? [] : [UInt8(i & 0xFF), 0, 255])
            v.null()
            v.value(i % 5 == 0 ? .real(Double(i) / 4) : .integer(Int64(-i)))
        }
    }

    @Test func bindingAndCollectingWriteTheSameRows() throws {
        var tables = [[[SQLValue]]]()
        for collect in [false, true] {
            let db = try Database(path: DatabaseTests().temporaryPath())
            try db.execute("CREATE TABLE t (k BLOB PRIMARY KEY, s TEXT, b BLOB, n, i)")
            try db.transaction { _ in try write(collect ? Collecting(db) : db) }
            let rows = try db.query("SELECT k, s, b, n, i FROM t ORDER BY rowid")
            #expect(rows.count == 650)
            // An empty text is '' and an empty blob X'', not NULL; an id is its 16 bytes.
            #expect(rows[0][1] == .text("") && rows[0][2] == .blob([]))
            #expect(rows[1][1] == .null && rows[1][2] == .blob([1, 0, 255]))
            #expect(rows[2][1] == .text("商机 2") && rows[599][4] == .integer(-599) && rows[600][4] == .real(150))
            #expect(rows[7][0] == .blob(UUID128(high: 7 &* 0x9E37_79B9_7F4A_7C15, low: ~7).bytes))
            tables.append(rows)
        }
        #expect(tables[0] == tables[1])
    }

    /// A row with a value too few or too many is refused before its statement runs: outside any
    /// transaction nothing of the statement is written, and the statement works again after.
    @Test func aRowWithTheWrongNumberOfValuesIsRefusedBeforeItsStatementRuns() throws {
        for collect in [false, true] {
            let db = try Database(path: DatabaseTests().temporaryPath())
            try db.execute("CREATE TABLE t (k BLOB PRIMARY KEY, s TEXT, b BLOB, n, i)")
            let connection: any SQLConnection = collect ? Collecting(db) : db
            for extra in [-1, 1] {
                #expect(throws: StoreError.self) {
                    try connection.insert(Self.head, width: 5, count: 3, then: "") { i, v in
                        (0..<(i == 1 ? 5 + extra : 5)).forEach { _ in v.integer(Int64(i)) }
                    }
                }
                #expect(try db.query("SELECT count(*) FROM t") == [[.integer(0)]])
            }
            try connection.insert(Self.head, width: 5, count: 3, then: "") { i, v in (0..<5).forEach { _ in v.integer(Int64(i)) } }
            #expect(try db.query("SELECT k, i FROM t ORDER BY k") == [[.integer(0), .integer(0)], [.integer(1), .integer(1)], [.integer(2), .integer(2)]])
        }
    }

    /// A hub file from before batches were keyed by rowid keeps every stored answer through the
    /// migration (each replayed byte for byte), and after it a batch is found through its own
    /// index: no longer a WITHOUT ROWID table whose key holds the answer (an import's answer
    /// of 100 KB was copied whole at each comparison of every push's insert and look-up).
    @Test func storedBatchAnswersSurviveTheMoveToARowidTable() throws {
        let path = DatabaseTests().temporaryPath()
        let all = SQLiteHubStore.migrator.migrations
        guard let at = all.firstIndex(where: { $0.name == "2026-12-04-hub-11-batches-by-rowid" }) else {
            Issue.record("the migration is not registered")
            return
        }
        // The file as the build before wrote it, with a large answer among small ones.
        var before = Migrator()
        for m in all[..<at] { before.register(m.name, m.sql) }
        let replicas = (1...3).map { ReplicaID(UUID128(high: 7, low: $0)) }
        let big = [UInt8]((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        do {
            let old = try Database(path: path)
            try before.migrate(old)
            #expect(try old.query("SELECT sql FROM sqlite_master WHERE name = 'batches'").first?[0].string?.hasSuffix("WITHOUT ROWID") == true)
            for (i, r) in replicas.enumerated() {
                for n in 1...4 {
                    let answer = i == 1 && n == 2 ? big : [UInt8(i), UInt8(n)]
                    try old.execute(
                        "INSERT INTO batches (replica, batch, digest, response) VALUES (?, ?, ?, ?)",
                        [SQLValue.blob(r.bytes), .integer(Int64(n)), .blob([UInt8(n)]), .blob(answer)])
                }
            }
        }
        let store = try SQLiteHubStore(path: path)
        for (i, r) in replicas.enumerated() {
            for n in 1...4 {
                let stored = try store.batch(replica: r, number: UInt64(n))
                #expect(stored?.digest == [UInt8(n)])
                #expect(stored?.response == (i == 1 && n == 2 ? big : [UInt8(i), UInt8(n)]))
            }
        }
        #expect(try store.batch(replica: replicas[0], number: 5) == nil)
        let sql = try store.database.query("SELECT sql FROM sqlite_master WHERE name = 'batches'").first?[0].string ?? ""
        #expect(!sql.contains("WITHOUT ROWID"), "\(sql)")
        let plan = try store.database.query(
            "EXPLAIN QUERY PLAN SELECT digest, response FROM batches WHERE replica = ? AND batch = ?", [.blob(replicas[0].bytes), .integer(1)]
        ).compactMap { $0[3].string }.joined(separator: "; ")
        #expect(plan.contains("USING INDEX batches_key (replica=? AND batch=?)"), "\(plan)")
        // A batch is stored once: the index keeps the key unique.
        try store.saveBatch(replica: replicas[0], number: 5, digest: [5], response: [5])
        #expect(throws: StoreError.self) { try store.saveBatch(replica: replicas[0], number: 5, digest: [6], response: [6]) }
        #expect(try store.batch(replica: replicas[0], number: 5)?.response == [5])
    }
}
