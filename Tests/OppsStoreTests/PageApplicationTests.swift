import Foundation
import OppsCore
import OppsTestSupport
import Testing

@testable import OppsStore

/// Page application and the pull's repair paths, on a real replica store (sync-protocol.md §6).
@Suite struct PageApplicationTests {
    let ws = Workspace.default
    static let me = ReplicaID(UUID128(high: 1, low: 0xA))
    static let other = ReplicaID(UUID128(high: 1, low: 0xB))

    func store() throws -> ReplicaStore {
        let dir = URL(fileURLWithPath: Scratch.directory("opps-pages"))
        return try ReplicaStore(path: dir.appendingPathComponent("replica.sqlite").path)
    }

    func state(_ v: Value, seq: UInt64, hlc: UInt64 = 100, replica: ReplicaID = other, author: String = "tom") -> FieldState {
        FieldState(value: v, stamp: Stamp(hlc: HLC(rawValue: hlc), replica: replica), author: author, authority: .own, sequence: seq)
    }

    /// A deal whose states carry sequences `seq`, `seq + 1`, `seq + 2`.
    func deal(_ n: UInt64, seq: UInt64, name: String = "Deal") -> Record {
        var r = Record(id: RecordID(high: 0x0190, low: n), entity: "opportunity", created: state(.member("discovery"), seq: seq))
        r.fields["stage"] = state(.member("discovery"), seq: seq + 1)
        r.fields["name"] = state(.text(name), seq: seq + 2)
        return r
    }

    func change(_ record: RecordID, _ field: String, _ value: Value, seq: UInt64, author: String = "tom") -> LogEntry {
        LogEntry(
            sequence: seq, record: record, entity: "opportunity", field: field, kind: .set, value: value,
            stamp: Stamp(hlc: HLC(rawValue: 200 + seq), replica: Self.other), author: author, authority: .own)
    }

    /// sam renames a deal "Mine" offline (a write waiting in the outbox, the view rebuilt on it).
    func renameOffline(_ id: RecordID, in s: ReplicaStore, base: UInt64) throws {
        try s.enqueue(
            FieldWrite(
                record: id, entity: "opportunity", field: "name", value: .text("Mine"), base: .sequence(base), author: "sam",
                stamp: Stamp(hlc: HLC(rawValue: 500), replica: Self.me)))
        try s.rebuildView(id, replica: Self.me, author: "sam", workspace: ws)
    }

    func fullChecksum(_ s: ReplicaStore) throws -> UInt64 { StateChecksum(of: try s.allConfirmed(workspace: ws), workspace: ws).value }

    /// A save that keeps a record's indexed columns writes its states alone; one that changes any
    /// of them (stage, owner, due, parent) moves it in every query by them. Both leave the row a
    /// fresh insert of the same record would (`ReplicaStore.statesUpdate`).
    @Test func aSaveWritesTheIndexedColumnsOnlyWhenTheyChange() throws {
        let s = try store()
        try s.setMeta("workspace", Workspace.defaultDocument)
        var d = deal(1, seq: 10, name: "苏州精密 ERP")
        d.fields["owner"] = state(.text("sam"), seq: 13)
        try s.save(confirmed: d, view: d, workspace: ws)
        func row(_ store: ReplicaStore) throws -> [SQLValue] {
            try #require(
                try store.database.query("SELECT entity, stage, owner, creator, due, created, confirmed, view, deleted, view_deleted, local_only, parent FROM records")
                    .first)
        }
        // A field that no index holds: the states change, the indexed columns stay.
        var renamed = d
        renamed.fields["name"] = state(.text("苏州精密 ERP 二期"), seq: 14)
        try s.save(confirmed: d, view: renamed, workspace: ws)
        #expect(try s.view(d.id, workspace: ws)?["name"] == .text("苏州精密 ERP 二期"))
        #expect(try s.confirmed(d.id, workspace: ws)?["name"] == .text("苏州精密 ERP"))
        #expect(try s.list(entity: "opportunity", stage: "discovery", owner: "sam", workspace: ws).map(\.id) == [d.id])
        // The stage, owner and due date move: the queries by them follow.
        var moved = renamed
        moved.fields["stage"] = state(.member("proposal"), seq: 15)
        moved.fields["owner"] = state(.text("tom"), seq: 16)
        moved.fields["next_step_due"] = state(.date(try #require(CivilDate(year: 2026, month: 12, day: 11))), seq: 17)
        try s.save(confirmed: moved, view: moved, workspace: ws)
        #expect(try s.list(entity: "opportunity", stage: "discovery", workspace: ws).isEmpty)
        #expect(try s.list(entity: "opportunity", owner: "sam", workspace: ws).isEmpty)
        #expect(try s.list(entity: "opportunity", stage: "proposal", owner: "tom", workspace: ws).map(\.id) == [d.id])
        // Whatever the path, the row is the one a fresh store gets for the same record.
        let fresh = try store()
        try fresh.setMeta("workspace", Workspace.defaultDocument)
        try fresh.save(confirmed: moved, view: moved, workspace: ws)
        #expect(try row(s) == row(fresh))
        var again = moved
        again.fields["name"] = state(.text("ERP 三期"), seq: 18)
        try s.save(confirmed: again, view: again, workspace: ws)
        try fresh.save(confirmed: again, view: again, workspace: ws)
        #expect(try row(s) == row(fresh))
        let due = try s.database.query("SELECT due FROM records").first?[0]
        #expect(due == .text("2026-12-11"))
    }

    /// The metadata benchmark's accounting: every stored value is data — the fields' and the
    /// creation's (the stage a deal started at) — and the rest of the record's bytes are stamps.
    @Test func storageCountsEveryValueAsDataAndTheRestAsStamps() throws {
        let s = try store()
        try s.setMeta("workspace", Workspace.defaultDocument)
        let d = deal(1, seq: 10, name: "华北电网 ACME")
        try s.save(confirmed: d, view: d, workspace: ws)
        let b = try s.storageBreakdown()
        let values = d.created.value.storedBytes.count + d.fields.values.reduce(0) { $0 + $1.value.storedBytes.count }
        #expect(b.data == values)
        let blobs = try s.database.query("SELECT length(created) + length(confirmed) FROM records", []).first?[0].int
        #expect(b.stamps == Int(blobs ?? 0) - values)
        #expect(b.outbox == 0 && b.history == 0)
    }

    /// A record as a page reader gives it read straight from the bytes, its term its own
    /// unless `term` says otherwise.
    func whole(_ r: Record, term: UInt64? = nil) throws -> WholeRecord {
        let entity = try #require(ws.entity(r.entity))
        let fields = r.fields.sorted { $0.value.sequence < $1.value.sequence }.map { name, state in
            NumberedField(number: entity.field(name)!.number, name: name, state: state)
        }
        return WholeRecord(id: r.id, entity: r.entity, created: r.created, fields: fields, term: term ?? StateChecksum.term(of: r, numbering: WireNumbering(ws)))
    }

    /// What a store holds of its records, row by row: the columns, and the states decoded.
    func rows(_ s: ReplicaStore) throws -> [[String]] {
        try s.database.query(
            "SELECT hex(id), entity, stage, owner, creator, due, hex(created), deleted IS NULL, view_deleted IS NULL, local_only, hex(parent), length(view) FROM records ORDER BY id",
            []
        ).map { row in (0..<12).map { row[$0].string ?? row[$0].int.map { "\($0)" } ?? "null" } }
    }

    /// Records of every kind, with every column a row keeps (stage, owner, due, parent) and
    /// states whose replica, author and clock differ from their creation's.
    func assorted() -> [Record] {
        var d = deal(1, seq: 10, name: "华北电网 ACME")
        d.fields["owner"] = state(.text("sam"), seq: 13)
        d.fields["amount"] = state(.decimal(ExactDecimal(units: 4_200_050, scale: 2)), seq: 14, hlc: 90, replica: Self.me, author: "max")
        d.fields["next_step_due"] = state(.date(CivilDate(year: 2026, month: 12, day: 24)!), seq: 15)
        var t = Record(id: RecordID(high: 0x0190, low: 2), entity: "task", created: state(.null, seq: 20, author: "max"))
        t.fields["opportunity"] = state(.reference(d.id), seq: 21)
        t.fields["due"] = state(.date(CivilDate(year: 2027, month: 1, day: 2)!), seq: 22)
        t.fields["done"] = state(.boolean(false), seq: 23, hlc: 7)
        let bare = Record(id: RecordID(high: 0x0190, low: 3), entity: "opportunity", created: state(.member("discovery"), seq: 30))
        return [d, t, bare]
    }

    /// A page's whole records read straight from the bytes (`ReceivedPage.whole`) are stored as
    /// the same records entered as `Record`s are: the same rows, states, views and checksum.
    @Test func aWholeRecordIsStoredAsItsRecordIs() throws {
        let (byRecord, byWhole) = (try store(), try store())
        var a = ReceivedPage(), b = ReceivedPage()
        a.entered = assorted().map { ($0.id, $0) }
        b.whole = try assorted().map { try whole($0) }
        #expect(try byRecord.transaction { try byRecord.apply(a, replica: Self.me, user: "sam", workspace: ws) } == 3)
        #expect(try byWhole.transaction { try byWhole.apply(b, replica: Self.me, user: "sam", workspace: ws) } == 3)
        #expect(try rows(byWhole) == rows(byRecord))
        #expect(try byWhole.allConfirmed(workspace: ws) == byRecord.allConfirmed(workspace: ws))
        #expect(try byWhole.allConfirmed(workspace: ws).count == 3)
        for r in assorted() { #expect(try byWhole.view(r.id, workspace: ws) == r) }
        #expect(try byWhole.confirmedChecksum(workspace: ws) == fullChecksum(byWhole))
        #expect(try byWhole.confirmedChecksum(workspace: ws) == byRecord.confirmedChecksum(workspace: ws))
        // The columns a list filters on, as read from the fields.
        let stored = try rows(byWhole)
        #expect(stored[0][2] == "discovery" && stored[0][3] == "sam" && stored[0][5] == "2026-12-24")
        #expect(stored[1][5] == "2027-01-02" && stored[1][10] == stored[0][0])
        // Its term is taken as given (the page reader's tests hold that the terms it gives are right).
        let t = try store()
        var wrong = ReceivedPage()
        wrong.whole = [try whole(deal(1, seq: 1), term: 7)]
        try t.transaction { _ = try t.apply(wrong, replica: Self.me, user: "sam", workspace: ws) }
        #expect(try t.confirmedChecksum(workspace: ws) == 7)
    }

    /// A whole record is stored as it came only when nothing else concerns it: one this laptop
    /// holds (its moved fields go on the trail), one with a write of its own waiting (the view
    /// keeps it on top), one a change of the same page moves (the change applies, and the
    /// term is the record's own, not the one given).
    @Test func aWholeRecordHeldWaitingOrChangedIsEnteredAsARecord() throws {
        let s = try store()
        let held = deal(1, seq: 1), mine = deal(2, seq: 4), moved = deal(3, seq: 7)
        var first = ReceivedPage()
        first.entered = [(held.id, held), (mine.id, mine)]
        _ = try s.transaction { try s.apply(first, replica: Self.me, user: "sam", workspace: ws) }
        try renameOffline(mine.id, in: s, base: 6)
        var page = ReceivedPage()
        page.whole = [try whole(deal(1, seq: 1, name: "Renamed")), try whole(deal(2, seq: 4, name: "Theirs")), try whole(moved, term: 12_345)]
        page.changes = [change(moved.id, "name", .text("Moved"), seq: 12)]
        #expect(try s.transaction { try s.apply(page, replica: Self.me, user: "sam", workspace: ws) } == 4)
        #expect(try s.history(held.id).contains { $0.field == "name" && $0.old == .text("Deal") && $0.new == .text("Renamed") })
        #expect(try s.view(mine.id, workspace: ws)?["name"] == .text("Mine"))
        #expect(try s.confirmed(mine.id, workspace: ws)?["name"] == .text("Theirs"))
        #expect(try s.confirmed(moved.id, workspace: ws)?["name"] == .text("Moved"))
        #expect(try s.confirmedChecksum(workspace: ws) == fullChecksum(s))
    }

    /// A page naming a record both among `entered` and as read (which the page reader never
    /// makes) enters it as a `Record`: the one read holds, and the checksum is the state's.
    @Test func aWholeRecordAlsoEnteredIsEnteredAsARecord() throws {
        let s = try store()
        var page = ReceivedPage()
        page.entered = [(deal(1, seq: 1).id, deal(1, seq: 1))]
        page.whole = [try whole(deal(1, seq: 1, name: "Later"))]
        #expect(try s.transaction { try s.apply(page, replica: Self.me, user: "sam", workspace: ws) } == 2)
        #expect(try s.confirmed(deal(1, seq: 1).id, workspace: ws)?["name"] == .text("Later"))
        #expect(try s.confirmedChecksum(workspace: ws) == fullChecksum(s))
    }

    /// A replica filled from nothing builds its parent index with children only, and a lookup
    /// of a deal's children goes through it.
    @Test func aBulkLoadedReplicasParentIndexHoldsChildrenAndServesTheirLookup() throws {
        let s = try store()
        #expect(try s.beginBulkLoad())
        var page = ReceivedPage()
        page.whole = try assorted().map { try whole($0) }
        _ = try s.transaction { try s.apply(page, replica: Self.me, user: "sam", workspace: ws) }
        try s.ensureRecordIndexes()
        let sql = try s.database.query("SELECT sql FROM sqlite_master WHERE name = 'records_parent'").first?[0].string
        #expect(sql?.hasSuffix("WHERE parent IS NOT NULL") == true)
        let plan = try s.database.query(
            "EXPLAIN QUERY PLAN SELECT id FROM records WHERE parent = ? AND entity = ? AND view_deleted IS NULL ORDER BY id", [.blob([1]), .text("task")]
        ).compactMap { $0[3].string }.joined(separator: "; ")
        #expect(plan.contains("USING INDEX records_parent"), "\(plan)")
        let deal = assorted()[0]
        #expect(try s.children(of: deal.id, entity: "task", workspace: ws).map(\.id) == [assorted()[1].id])
        #expect(try s.children(of: deal.id, entity: "activity", workspace: ws).isEmpty)
    }

    /// A batch's answer settles this laptop's own trail line for (record, field, hlc) with one
    /// index look-up, whatever the record's trail holds (it read every line of the record
    /// before); the trail still reads in the order it was written, whatever the lines' clocks.
    @Test func settlingATrailLineLooksItUpWithoutReadingTheRecordsWholeTrail() throws {
        let s = try store()
        let id = deal(1, seq: 1).id, other = deal(2, seq: 1).id
        func line(_ record: RecordID, _ n: Int, hlc: UInt64, source: String = "local") -> HistoryLine {
            HistoryLine(
                record: record, field: n % 2 == 0 ? "name" : "next_step", old: .text("v\(n)"), new: .text("v\(n + 1)"), author: "sam",
                hlc: HLC(rawValue: hlc), source: source, rule: "pending")
        }
        // Lines of this laptop (clocks rising), a change pulled from another (an older clock,
        // learnt later), and another record's line at the same clock.
        for n in 0..<40 { try s.addHistory(line(id, n, hlc: 1_000 + UInt64(n))) }
        try s.addHistory(line(id, 2, hlc: 500, source: "hub"))
        try s.addHistory(line(other, 2, hlc: 1_002))
        try s.settleHistory(record: id, field: "name", hlc: HLC(rawValue: 1_002), rule: "synced")
        // Only its own line: not the pulled one, not the other record's, not another field's.
        let trail = try s.history(id)
        #expect(trail.map(\.hlc.rawValue) == (0..<40).map { 1_000 + UInt64($0) } + [500])
        #expect(trail.filter { $0.rule == "synced" }.map(\.hlc.rawValue) == [1_002])
        #expect(try s.history(other).map(\.rule) == ["pending"])
        try s.settleHistory(record: id, field: "name", hlc: HLC(rawValue: 1_003), rule: "synced")
        #expect(try s.history(id).filter { $0.rule == "synced" }.count == 1, "1,003 is next_step's line, not name's")
        let plan = try s.database.query(
            "EXPLAIN QUERY PLAN UPDATE history SET rule = ? WHERE record = ? AND field = ? AND hlc = ? AND source = 'local'",
            [.text("synced"), .blob(id.bytes), .text("name"), .integer(1_002)]
        ).compactMap { $0[3].string }.joined(separator: "; ")
        #expect(plan.contains("USING INDEX history_settle (record=? AND hlc=?)"), "\(plan)")
    }

    /// The benchmark's floors copy what a replica holds: the replica's own (every column, its
    /// indexes built after) and the plain one (a row of four columns each confirmed record).
    @Test func theColdSyncFloorsCopyEveryRecordTheReplicaHolds() throws {
        let s = try store()
        var page = ReceivedPage()
        page.whole = try assorted().map { try whole($0) }
        _ = try s.transaction { try s.apply(page, replica: Self.me, user: "sam", workspace: ws) }
        let directory = Scratch.directory("opps-floor")
        let copied = try RawBaselines.insertReplicaCopy(of: s.database.path, into: directory + "/replica.sqlite") { 0 }
        #expect(copied.rows == assorted().count)
        // Both floors load with a rollback journal (file format bytes 18–19: 1, where the
        // write-ahead log writes 2): one large transaction in the log is no floor.
        func formatBytes(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))[18...19]) }
        #expect(try formatBytes(directory + "/replica.sqlite") == [1, 1])
        #expect(try formatBytes(s.database.path) == [2, 2])
        let copy = try ReplicaStore(path: directory + "/replica.sqlite")
        #expect(try copy.recordIndexNames() == s.recordIndexNames())
        for r in assorted() { #expect(try copy.confirmed(r.id, workspace: ws) == s.confirmed(r.id, workspace: ws)) }
        #expect(try RawBaselines.insertCopy(of: s.database.path, into: directory + "/raw.sqlite") { 0 }.rows == assorted().count)
        #expect(try formatBytes(directory + "/raw.sqlite") == [1, 1])
    }

    /// A deal of about a kilobyte with an edit pending (its view beside its confirmed state)
    /// stays on its page: `records` keeps rows up to about 4,000 bytes in line. As a WITHOUT
    /// ROWID table it kept 1,002, and each such save took an overflow page of its own.
    @Test func aDealWithAnEditPendingStaysOnItsPage() throws {
        let s = try store()
        var confirmed = deal(7, seq: 1)
        confirmed.fields["needs"] = state(.text(String(repeating: "unify customer data across branches; ", count: 30)), seq: 4)
        var view = confirmed
        view.fields["next_step"] = state(.text("send the revised quote"), seq: 0, replica: Self.me, author: "sam")
        try s.transaction { try s.save(confirmed: confirmed, view: view, workspace: ws) }
        let row = try #require(try s.database.query("SELECT length(confirmed) + length(view) FROM records").first?.first?.int)
        #expect(row > 2_000, "\(row) bytes: the row must be past what a WITHOUT ROWID page keeps")
        let overflow = try s.database.query("SELECT count(*) FROM dbstat WHERE name = 'records' AND pagetype = 'overflow'").first?.first?.int
        #expect(overflow == 0)
        #expect(try s.view(confirmed.id, workspace: ws) == view)
        #expect(try s.confirmed(confirmed.id, workspace: ws) == confirmed)
    }

    /// A replica whose `records` is the WITHOUT ROWID table of before opens with every record
    /// as it was, as a rowid table with the secondary indexes a new replica has.
    @Test func aReplicaOfBeforeKeepsItsRecordsInTheRowidTable() throws {
        let fresh = try store()
        var page = ReceivedPage()
        page.whole = try assorted().map { try whole($0) }
        _ = try fresh.transaction { try fresh.apply(page, replica: Self.me, user: "sam", workspace: ws) }
        let path = Scratch.directory("opps-rowid") + "/replica.sqlite"
        do {
            let old = try Database(path: path)
            try StagedChangesTests.migrateBefore("2026-12-07-replica-9-records-rowid", ReplicaStore.migrator, old)
            #expect(try old.query("SELECT sql FROM sqlite_master WHERE name = 'records'").first?.first?.string?.contains("WITHOUT ROWID") == true)
            let columns = "id, entity, stage, owner, creator, due, created, confirmed, view, deleted, view_deleted, local_only, parent"
            for row in try fresh.database.query("SELECT \(columns) FROM records") {
                try old.execute("INSERT INTO records (\(columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
            }
            for table in ["meta", "replica_ids"] {
                try old.execute("DELETE FROM \(table)")
                for row in try fresh.database.query("SELECT * FROM \(table)") {
                    try old.execute("INSERT INTO \(table) VALUES (\(Array(repeating: "?", count: row.count).joined(separator: ", ")))", row)
                }
            }
        }
        let upgraded = try ReplicaStore(path: path)
        #expect(try upgraded.database.query("SELECT sql FROM sqlite_master WHERE name = 'records'").first?.first?.string?.contains("WITHOUT ROWID") == false)
        #expect(try upgraded.recordIndexNames() == fresh.recordIndexNames())
        for r in assorted() {
            #expect(try upgraded.confirmed(r.id, workspace: ws) == fresh.confirmed(r.id, workspace: ws))
            #expect(try upgraded.view(r.id, workspace: ws) == fresh.view(r.id, workspace: ws))
        }
        #expect(try upgraded.confirmedChecksum(workspace: ws) == fresh.confirmedChecksum(workspace: ws))
    }

    /// The round trip's floor starts as a hub's file is after its first minutes: its log at the
    /// size SQLite reuses, so no sample pays for the log growing (the hub's never does).
    @Test func theRoundTripFloorSamplesALogThatNoLongerGrows() throws {
        let directory = Scratch.directory("opps-floor")
        let row = try RawBaselines.FsyncedRow(path: directory + "/floor.sqlite")
        let grown = row.logBytes
        // The log reached the automatic checkpoint's thousand 4 KiB frames…
        #expect(grown >= 1_000 * 4_096, "\(grown)")
        // …and later updates write it again from its start.
        for _ in 0..<200 { try row.update() }
        #expect(row.logBytes == grown)
    }

    @Test func pagesKeepTheChecksumOfTheWholeStateAndMoveTheCursors() throws {
        let s = try store()
        var first = ReceivedPage()
        first.entered = [(deal(1, seq: 1).id, deal(1, seq: 1)), (deal(2, seq: 4).id, deal(2, seq: 4))]
        first.cursor = 6
        first.token = 11
        first.conflictCursor = 0
        #expect(try s.transaction { try s.apply(first, replica: Self.me, user: "sam", workspace: ws) } == 2)
        #expect(try s.confirmedChecksum(workspace: ws) == fullChecksum(s))

        var second = ReceivedPage()
        second.changes = [change(deal(1, seq: 1).id, "name", .text("Renamed"), seq: 7)]
        second.left = [deal(2, seq: 4).id]
        second.cursor = 7
        second.token = 12
        second.conflictCursor = 3
        #expect(try s.transaction { try s.apply(second, replica: Self.me, user: "sam", workspace: ws) } == 1)
        #expect(try s.confirmedChecksum(workspace: ws) == fullChecksum(s))
        #expect(try s.confirmed(deal(2, seq: 4).id, workspace: ws) == nil)
        #expect(try s.confirmed(deal(1, seq: 1).id, workspace: ws)?["name"] == .text("Renamed"))
        #expect(try s.sync(.cursor) == 7)
        #expect(try s.sync(.pullToken) == 12)
        #expect(try s.sync(.conflictCursor) == 3)
        // Another user's change goes on the trail with the old and new value.
        let trail = try s.history(deal(1, seq: 1).id)
        #expect(trail.contains { $0.field == "name" && $0.old == .text("Deal") && $0.new == .text("Renamed") && $0.author == "tom" })
    }

    @Test func aPendingWriteStaysOnTopOfTheHubsChanges() throws {
        let s = try store()
        let d = deal(1, seq: 1)
        var first = ReceivedPage()
        first.entered = [(d.id, d)]
        _ = try s.transaction { try s.apply(first, replica: Self.me, user: "sam", workspace: ws) }
        // sam renames the deal offline; the hub then moves its stage.
        try renameOffline(d.id, in: s, base: 3)
        var page = ReceivedPage()
        page.changes = [change(d.id, "stage", .member("qualification"), seq: 4)]
        _ = try s.transaction { try s.apply(page, replica: Self.me, user: "sam", workspace: ws) }
        let view = try #require(try s.view(d.id, workspace: ws))
        #expect(view["name"] == .text("Mine"))
        #expect(view["stage"] == .member("qualification"))
        #expect(try s.confirmed(d.id, workspace: ws)?["name"] == .text("Deal"))
    }

    /// The hub was restored from a backup and its head is 5: what it still has stays, a record
    /// with a state above 5 is forgotten and named for the hub to send whole again.
    @Test func aHubBehindKeepsWhatItStillHasAndForgetsTheRest() throws {
        let s = try store()
        var page = ReceivedPage()
        let kept = deal(1, seq: 1)  // states 1…3
        let lost = deal(2, seq: 4)  // states 4…6: 6 is past the hub's head
        page.entered = [(kept.id, kept), (lost.id, lost)]
        page.cursor = 9
        page.token = 4
        _ = try s.transaction { try s.apply(page, replica: Self.me, user: "sam", workspace: ws) }
        let dropped = try s.transaction { try s.reconcile(withHead: 5, maxForget: 100, workspace: ws) }
        #expect(dropped == [lost.id])
        #expect(try s.forgetList() == [lost.id])
        #expect(try s.confirmed(kept.id, workspace: ws) != nil)
        #expect(try s.confirmed(lost.id, workspace: ws) == nil)
        #expect(try s.sync(.cursor) == 5)
        #expect(try s.sync(.pullToken) == 0)
        #expect(try s.checksum() == fullChecksum(s))
    }

    @Test func moreToForgetThanAPullMayNameRestartsFromNothing() throws {
        let s = try store()
        var page = ReceivedPage()
        page.entered = [(deal(1, seq: 1).id, deal(1, seq: 1)), (deal(2, seq: 4).id, deal(2, seq: 4))]
        page.cursor = 6
        _ = try s.transaction { try s.apply(page, replica: Self.me, user: "sam", workspace: ws) }
        let dropped = try s.transaction { try s.reconcile(withHead: 0, maxForget: 1, workspace: ws) }
        #expect(dropped.isEmpty)
        #expect(try s.forgetList().isEmpty)
        #expect(try s.allConfirmed(workspace: ws).isEmpty)
        #expect(try s.sync(.cursor) == 0)
        #expect(try s.checksum() == 0)
    }

    /// A restart forgets the hub's state only: a record made here and its pending writes stay,
    /// and the page token stays so the hub can tell the restart from a late copy (§6.1).
    @Test func aRestartKeepsWhatWasMadeHereAndThePageToken() throws {
        let s = try store()
        var page = ReceivedPage()
        page.entered = [(deal(1, seq: 1).id, deal(1, seq: 1))]
        page.cursor = 3
        page.token = 8
        _ = try s.transaction { try s.apply(page, replica: Self.me, user: "sam", workspace: ws) }
        let mine = Record(
            id: RecordID(high: 0x0190, low: 99), entity: "opportunity", created: state(.member("discovery"), seq: 0, replica: Self.me, author: "sam"))
        try s.save(confirmed: nil, view: mine, workspace: ws)
        try s.enqueue(
            FieldWrite(record: mine.id, entity: "opportunity", kind: .create, value: .member("discovery"), author: "sam", stamp: mine.created.stamp))
        try s.transaction { try s.resetForRepair() }
        #expect(try s.allConfirmed(workspace: ws).isEmpty)
        #expect(try s.view(mine.id, workspace: ws) != nil)
        #expect(try s.outboxCount() == 1)
        #expect(try s.sync(.cursor) == 0)
        #expect(try s.sync(.pullToken) == 8)
        #expect(try s.confirmedChecksum(workspace: ws) == 0)
    }
}
