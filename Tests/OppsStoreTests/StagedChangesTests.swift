import Foundation
import OppsCore
import OppsPostgres
import OppsTestSupport
import Testing

@testable import OppsStore

/// A pull page's staged records, one blob a page (StagedChanges): its layout, and hubs upgraded
/// with pages in flight.
@Suite struct StagedChangesTests {
    @Test func packsEachRecordIn25BytesAndUnpacksThem() throws {
        let changes: [(RecordID, UInt64?)] = [
            (RecordID(high: 0x0102_0304_0506_0708, low: 0x090A_0B0C_0D0E_0F10), 0x1122_3344_5566_7788), (RecordID(high: 0, low: 0), nil),
            (RecordID(high: .max, low: .max), .max),
        ]
        let bytes = StagedChanges.encode(changes)
        #expect(bytes.count == 75)
        #expect(Array(bytes[0..<25]) == Array(1...16) + [1, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88])
        #expect(Array(bytes[25..<50]) == Array(repeating: 0, count: 25))
        let back = try StagedChanges.decode(bytes)
        #expect(back.map(\.0) == changes.map(\.0) && back.map(\.1) == changes.map(\.1))
        #expect(try StagedChanges.decode([]).isEmpty)
    }

    @Test func refusesBytesItDidNotWrite() {
        let one = StagedChanges.encode([(RecordID(high: 1, low: 2), 3)])
        #expect(throws: StoreError.self) { try StagedChanges.decode(Array(one.dropLast())) }
        var flagged = one
        flagged[16] = 2
        #expect(throws: StoreError.self) { try StagedChanges.decode(flagged) }
    }

    /// A staged page whose blob is not StagedChanges' (a damaged row) is acknowledged as nothing
    /// staged — its records are sent again — on both stores, instead of failing every pull.
    @Test(arguments: HubStoreKind.all)
    func aDamagedStagedPageIsAcknowledgedAsNothingStaged(store kind: HubStoreKind) throws {
        let s: SQLHubStore
        if kind == .postgres {
            s = try PostgresHubStore(url: ScratchPostgres.fresh())
        } else {
            let dir = URL(fileURLWithPath: Scratch.directory("opps-staged"))
            s = try SQLiteHubStore(path: dir.appendingPathComponent("hub.sqlite").path)
        }
        try s.stageKnown(replica: Self.replica, token: 1, changes: [(Self.a, 5)], carrying: nil)
        try s.acknowledge(replica: Self.replica, token: 1)
        try s.stageKnown(replica: Self.replica, token: 2, changes: [(Self.b, 6)], carrying: nil)
        try s.connection.run("UPDATE replica_staged SET changes = ? WHERE token = 2", [.blob([1, 2, 3])])
        try s.acknowledge(replica: Self.replica, token: 2)
        #expect(try s.known(replica: Self.replica) == [Self.a: 5])
        #expect(try s.connection.query("SELECT count(*) FROM replica_staged", []) == [[.integer(0)]])
    }

    static let replica = ReplicaID(UUID128(high: 1, low: 0xA))
    static let a = RecordID(high: 1, low: 1), b = RecordID(high: 1, low: 2)

    /// A SQLite hub at the schema before staged pages were packed, with page 7 in flight (a
    /// staged, b dropped) and one it carries: upgraded, acknowledging 7 changes nothing (its
    /// records are sent again by the next page, as after a lost acknowledgement), and staging works.
    @Test func aSQLiteHubUpgradedWithAPageInFlightKeepsWhatWasHeld() throws {
        let dir = URL(fileURLWithPath: Scratch.directory("opps-staged"))
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("hub.sqlite").path
        do {
            let old = try Database(path: path)
            try Self.migrateBefore("2026-12-01-hub-10-replica-staged", SQLiteHubStore.migrator, old)
            try Self.stageTheOldWay(old)
        }
        try Self.checkUpgraded(try SQLiteHubStore(path: path))
    }

    @Test(.enabled(if: ScratchPostgres.url != nil, "needs OPPS_TEST_PG (Tools/pg/cluster.sh)"))
    func aPostgresHubUpgradedWithAPageInFlightKeepsWhatWasHeld() throws {
        let url = try ScratchPostgres.fresh()
        do {
            let old = try PostgresSQLConnection(location: PostgresLocation(url: url))
            try Self.migrateBefore("2026-12-01-pg-3-replica-staged", PostgresHubStore.migrator, old)
            try Self.stageTheOldWay(old)
        }
        let upgraded = try PostgresHubStore(url: url)
        try Self.checkUpgraded(upgraded)
        // A hub of the older build, still running during a rolling upgrade, finds its tables.
        let r: SQLValue = .blob(Self.replica.bytes)
        try upgraded.database.run("INSERT INTO replica_pending (replica, token, record, signature) VALUES (?, 9, ?, 16)", [r, .blob(Self.a.bytes)])
        try upgraded.database.run("INSERT INTO replica_carries (replica, token, carries) VALUES (?, 9, 8)", [r])
    }

    static func migrateBefore(_ name: String, _ migrator: Migrator, _ db: any SQLConnection) throws {
        try db.run("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, position INTEGER NOT NULL)", [])
        for (position, m) in migrator.migrations.enumerated() {
            if m.name == name { return }
            for statement in m.sql { try db.run(statement, []) }
            try db.run("INSERT INTO schema_migrations (name, position) VALUES (?, ?)", [.text(m.name), .integer(Int64(position))])
        }
        Issue.record("no migration \(name)")
    }

    static func stageTheOldWay(_ db: any SQLConnection) throws {
        let r: SQLValue = .blob(replica.bytes)
        try db.run("INSERT INTO replica_records (replica, record, signature) VALUES (?, ?, 5), (?, ?, 6)", [r, .blob(a.bytes), r, .blob(b.bytes)])
        try db.run("INSERT INTO replica_pending (replica, token, record, signature) VALUES (?, 7, ?, 15), (?, 7, ?, NULL)", [r, .blob(a.bytes), r, .blob(b.bytes)])
        try db.run("INSERT INTO replica_carries (replica, token, carries) VALUES (?, 7, 6)", [r])
    }

    static func checkUpgraded(_ s: any HubStorage) throws {
        #expect(try s.known(replica: replica) == [a: 5, b: 6])
        try s.acknowledge(replica: replica, token: 7)
        #expect(try s.known(replica: replica) == [a: 5, b: 6])
        try s.stageKnown(replica: replica, token: 8, changes: [(a, 15), (b, nil)], carrying: 7)
        try s.acknowledge(replica: replica, token: 8)
        #expect(try s.known(replica: replica) == [a: 15])
    }
}
