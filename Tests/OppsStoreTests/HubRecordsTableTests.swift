import Foundation
import OppsCore
import OppsTestSupport
import Testing

@testable import OppsStore

/// The SQLite hub's `records` table since hub-12: a rowid table found through its id's unique
/// index, with no secondary index (queries by owner, creator, stage or parent read
/// `record_index`).
extension HubStorageConformance {
    /// An opportunity of about 1,100 bytes of fields: past the 1,002 bytes a WITHOUT ROWID table
    /// keeps of a row on its page.
    func kilobyteDeal(_ n: UInt64) -> Record {
        var r = opportunity(n, owner: "sam")
        r.fields["needs"] = state(.text(String(repeating: "统一各分公司的客户数据，", count: 28) + "\(n)"), seq: 4)
        r.fields["next_step"] = state(.text("send the revised quote"), replica: Self.replicaB, author: "tom", seq: 5)
        return r
    }

    @Test func aDealOfAKilobyteStaysOnItsHubPage() throws {
        let s = try initialised(.sqlite) as! SQLiteHubStore
        let deal = kilobyteDeal(1)
        try s.transaction { try s.saveRecord(deal, workspace: ws) }
        let row = try #require(try s.database.query("SELECT length(id) + length(created) + length(fields) FROM records").first?.first?.int)
        #expect(row > 1_002, "\(row) bytes: the row must be past what a WITHOUT ROWID page keeps")
        let overflow = try s.database.query("SELECT count(*) FROM dbstat WHERE name = 'records' AND pagetype = 'overflow'").first?.first?.int
        #expect(overflow == 0)
        #expect(try s.record(deal.id, workspace: ws) == deal)
    }

    /// A hub file whose `records` is the WITHOUT ROWID table of before (with its four secondary
    /// indexes) opens with every record as it was, in the rowid table a new hub has; a record
    /// saved after is found and updated through the id's unique index.
    @Test func aHubFileOfBeforeKeepsEveryRecordInTheRowidTable() throws {
        let fresh = try initialised(.sqlite) as! SQLiteHubStore
        var records = (1...5).map { opportunity($0, owner: $0 % 2 == 0 ? "tom" : "sam") } + [kilobyteDeal(6), kilobyteDeal(7)]
        records[2].deleted = state(.null, hlc: 900, seq: 9)
        var activity = Record(id: RecordID(high: 2, low: 1), entity: "activity", created: state(.null))
        activity.fields["at"] = state(.timestamp(Timestamp(milliseconds: 1_795_916_628_123)))
        records.append(activity)
        try fresh.transaction { try fresh.saveRecords(records, workspace: ws) }

        let path = Scratch.directory("opps-hub-rowid") + "/hub.sqlite"
        do {
            let old = try Database(path: path)
            try StagedChangesTests.migrateBefore("2026-12-07-hub-12-records-rowid", SQLiteHubStore.migrator, old)
            #expect(try old.query("SELECT sql FROM sqlite_master WHERE name = 'records'").first?.first?.string?.contains("WITHOUT ROWID") == true)
            try old.execute("ATTACH DATABASE ? AS fresh", [.text(fresh.database.path)])
            // The tables of the file of before (a table made by a later migration is not in it yet).
            let tables = try old.query("SELECT name FROM main.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations'")
            for table in tables.compactMap({ $0[0].string }) {
                try old.execute("DELETE FROM main.\(table)")
                try old.execute("INSERT INTO main.\(table) SELECT * FROM fresh.\(table)")
            }
            try old.execute("DETACH DATABASE fresh")
        }
        let upgraded = try SQLiteHubStore(path: path)
        // The old table's pages and its indexes' are free in the file; a new hub has none.
        #expect(try upgraded.freeBytes() > 0)
        #expect(try fresh.freeBytes() == 0)
        let schema = try upgraded.database.query("SELECT sql FROM sqlite_master WHERE name = 'records'").first?.first?.string ?? ""
        #expect(!schema.contains("WITHOUT ROWID"), "\(schema)")
        let indexes = try upgraded.database.query("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'records'").compactMap { $0[0].string }
        #expect(indexes == ["sqlite_autoindex_records_1"])
        let columns = "id, entity, kind, creator, owner, stage, parent, created, fields, deleted, term"
        let before = try fresh.database.query("SELECT \(columns) FROM records ORDER BY id")
        #expect(before.count == records.count)
        #expect(try upgraded.database.query("SELECT \(columns) FROM records ORDER BY id") == before)
        for r in records { #expect(try upgraded.record(r.id, workspace: ws) == r) }
        let plan = try upgraded.database.query("EXPLAIN QUERY PLAN SELECT fields FROM records WHERE id = ?", [.blob(records[0].id.bytes)])
            .compactMap { $0[3].string }.joined(separator: "; ")
        #expect(plan.contains("USING INDEX sqlite_autoindex_records_1 (id=?)"), "\(plan)")
        // Saved again after the move: one row still, with its new owner.
        var moved = records[0]
        moved.fields["owner"] = state(.text("tom"), seq: 12)
        try upgraded.transaction { try upgraded.saveRecord(moved, workspace: ws) }
        #expect(try upgraded.record(moved.id, workspace: ws) == moved)
        #expect(try upgraded.recordCount() == records.count)
        #expect(try upgraded.openRecords(owner: "tom", closedStages: []) == 3)
    }
}
