import Foundation
import OppsCore
import OppsPostgres
import OppsTestSupport
import Testing

@testable import OppsStore

/// A storage backend under test. Every backend of `HubStorage` runs every test of this suite:
/// SQLite always, PostgreSQL when `OPPS_TEST_PG` names a cluster (`.ci/run` starts one).
struct Backend: Sendable, CustomTestStringConvertible {
    var name: String
    /// Makes an empty database; where it is.
    var fresh: @Sendable () throws -> String
    /// Opens a store (a connection of its own) on a database `fresh` made.
    var open: @Sendable (String) throws -> any HubStorage
    var testDescription: String { name }

    func make() throws -> any HubStorage { try open(fresh()) }

    static let sqlite = Backend(
        name: "sqlite",
        fresh: {
            let dir = URL(fileURLWithPath: Scratch.directory("opps-conformance"))
            return dir.appendingPathComponent("hub.sqlite").path
        },
        open: { try SQLiteHubStore(path: $0) })

    static let postgres = Backend(name: "postgres", fresh: { try ScratchPostgres.fresh() }, open: { try PostgresHubStore(url: $0) })

    static let all: [Backend] = [sqlite] + (ScratchPostgres.url == nil ? [] : [postgres])
}

@Suite struct HubStorageConformance {
    let ws = Workspace.default
    static let replicaA = ReplicaID(UUID128(high: 1, low: 0xA))
    static let replicaB = ReplicaID(UUID128(high: 1, low: 0xB))

    func state(_ v: Value, hlc: UInt64 = 100, replica: ReplicaID = replicaA, author: String = "sam", seq: UInt64 = 1) -> FieldState {
        FieldState(value: v, stamp: Stamp(hlc: HLC(rawValue: hlc), replica: replica), author: author, authority: .own, sequence: seq)
    }

    func opportunity(_ n: UInt64, owner: String?, creator: String = "sam", stage: String = "discovery") -> Record {
        var r = Record(id: RecordID(high: 0x0190, low: n), entity: "opportunity", created: state(.member(stage), author: creator))
        r.fields["stage"] = state(.member(stage), seq: 2)
        if let owner { r.fields["owner"] = state(.text(owner), seq: 3) }
        return r
    }

    func initialised(_ backend: Backend) throws -> any HubStorage {
        let s = try backend.make()
        try s.transaction { try s.initialize(hub: UUID128(high: 9, low: 9), workspace: Workspace.defaultDocument, version: 1, now: 1000) }
        for u in [
            HubUser(name: "max", role: "manager"), HubUser(name: "sam", role: "sales", manager: "max", capacity: 2),
            HubUser(name: "tom", role: "sales", manager: "max"), HubUser(name: "mia", role: "marketing"), HubUser(name: "eve", role: "expert"),
        ] {
            try s.addUser(u, now: 1000)
        }
        return s
    }

    struct Refused: Error {}

    /// Every store opened on a database (a hub process, or one opened again after a crash of
    /// the database ended its connection) mints page tokens above every token the ones before
    /// it may have minted (2³² apart), from its first pull on.
    @Test(arguments: Backend.all)
    func eachStoreOpenedMintsPageTokensAboveTheLastOnes(backend: Backend) throws {
        let place = try backend.fresh()
        var floors = [UInt64]()
        for _ in 0..<3 {
            let s = try backend.open(place)
            try s.bookkeeping {}
            floors.append(s.pageTokenFloor)
        }
        #expect(floors[0] >= 1 << 32)
        #expect(floors[1] >= floors[0] + (1 << 32) && floors[2] >= floors[1] + (1 << 32), "\(floors)")
    }

    /// A record saved again leaves the rows a fresh store gets for its last version, whether the
    /// save changed only its states (SQLite then updates them alone, `statesFirstUpTo`) or its
    /// owner, stage or parent too; queries by owner follow.
    @Test(arguments: Backend.all)
    func aRecordSavedAgainHasTheRowsOfItsLastVersion(backend: Backend) throws {
        let s = try initialised(backend)
        var r = opportunity(1, owner: "sam")
        func rows(_ store: any HubStorage) throws -> [[SQLValue]] {
            let c = (store as! SQLHubStore).connection
            return try c.query("SELECT entity, kind, creator, owner, stage, parent, created, fields, deleted, term FROM records", [])
                + c.query("SELECT entity, kind, creator, owner, stage, parent, live, term FROM record_index", [])
        }
        func check(_ version: Record, _ note: String) throws {
            try s.transaction { try s.saveRecord(version, workspace: ws) }
            let fresh = try initialised(backend)
            try fresh.transaction { try fresh.saveRecord(version, workspace: ws) }
            #expect(try rows(s) == rows(fresh), "\(note)")
        }
        try check(r, "new")
        r.fields["name"] = state(.text("苏州精密 ERP"), seq: 4)
        try check(r, "a field no index holds")
        r.fields["owner"] = state(.text("tom"), seq: 5)
        r.fields["stage"] = state(.member("proposal"), seq: 6)
        try check(r, "owner and stage")
        #expect(try s.openRecords(owner: "sam", closedStages: []) == 0)
        #expect(try s.openRecords(owner: "tom", closedStages: []) == 1)
        r.fields["name"] = state(.text("苏州精密 ERP 二期"), seq: 7)
        try check(r, "a field again")
        r.deleted = state(.null, seq: 8)
        try check(r, "deleted")
    }

    /// A savepoint that throws leaves nothing of itself; the ones around it commit (group commit).
    @Test(arguments: Backend.all)
    func aFailedSavepointIsUndoneAloneAndTheTransactionCommits(backend: Backend) throws {
        let s = try initialised(backend)
        try s.transaction {
            try s.savepoint { try s.saveRecord(opportunity(1, owner: "sam"), workspace: ws) }
            var refused = false
            do {
                try s.savepoint { () throws -> Void in
                    try s.saveRecord(opportunity(2, owner: "tom"), workspace: ws)
                    try s.setMeta("half", "written")
                    throw Refused()
                }
            } catch is Refused {
                refused = true
            }
            #expect(refused, "the savepoint's own error comes back")
            try s.savepoint { try s.saveRecord(opportunity(3, owner: "sam"), workspace: ws) }
        }
        #expect(try s.record(RecordID(high: 0x0190, low: 1), workspace: ws) != nil)
        #expect(try s.record(RecordID(high: 0x0190, low: 2), workspace: ws) == nil)
        #expect(try s.meta("half") == nil)
        #expect(try s.record(RecordID(high: 0x0190, low: 3), workspace: ws) != nil)
    }

    /// A write the database refuses inside a savepoint (a sequence taken twice) fails that
    /// savepoint alone, even where the engine learns of it late (PostgreSQL pipelines writes and
    /// reports a failure at the savepoint's release): the rest of the transaction commits.
    /// A compaction's log goes a slice at a time from its oldest entry, never past the mark,
    /// gaps in the sequence included; the mark is the log's bound from the moment it is set.
    @Test(arguments: Backend.all)
    func theLogIsPrunedASliceAtATimeUpToTheMark(backend: Backend) throws {
        let s = try initialised(backend)
        let id = RecordID(high: 8, low: 9)
        // Sequences 1–10 and 20–29: a gap, as after a restore.
        let sequences: [UInt64] = Array(1...10) + Array(20...29)
        try s.transaction {
            try s.append(
                sequences.map {
                    LogEntry(
                        sequence: $0, record: id, entity: "opportunity", field: "amount", kind: .set, value: .integer(Int64($0)),
                        stamp: Stamp(hlc: HLC(rawValue: $0), replica: Self.replicaA), author: "sam", authority: .own)
                }, hubMilliseconds: 1)
        }
        try s.transaction { try s.markCompacted(through: 24) }
        #expect(try s.logBounds().compactedThrough == 24 && s.logBounds().head == 29)
        var slices = [Int]()
        while case let n = try s.transaction({ try s.pruneLog(through: 24, limit: 4) }), n > 0 { slices.append(n) }
        // 1–4, 5–8, 9–12 (9 and 10), 20–23, 24.
        #expect(slices == [4, 4, 2, 4, 1], "\(slices)")
        #expect(try s.log(after: 0, limit: 100).map(\.entry.sequence) == Array(25...29))
        #expect(try s.logBounds().head == 29)
        // The one-transaction form gives the same, and a mark never moves back.
        try s.transaction { _ = try s.compact(below: 26) }
        try s.transaction { try s.markCompacted(through: 3) }
        #expect(try s.log(after: 0, limit: 100).map(\.entry.sequence) == [27, 28, 29] && s.logBounds().compactedThrough == 26)
    }

    /// A tombstone compaction removes leaves its id taken (merge-semantics.md §7.2): the store
    /// names it among the compacted ones, a live record and one never seen it does not, and a
    /// second compaction keeps it so.
    @Test(arguments: Backend.all)
    func aCompactedTombstoneLeavesItsIDTaken(backend: Backend) throws {
        let s = try initialised(backend)
        var deleted = opportunity(1, owner: "sam"), live = opportunity(2, owner: "sam")
        deleted.deleted = state(.null, seq: 4)
        live.fields["name"] = state(.text("北辰 二期"), seq: 5)
        try s.transaction {
            try s.saveRecord(deleted, workspace: ws)
            try s.saveRecord(live, workspace: ws)
        }
        let never = RecordID(high: 0x0190, low: 3)
        #expect(try s.compacted([deleted.id, live.id, never]).isEmpty, "nothing compacted yet")
        #expect(try s.transaction { try s.compactTombstones(below: 3) } == 0, "deleted after the mark: kept")
        #expect(try s.transaction { try s.compactTombstones(below: 5) } == 1)
        #expect(try s.record(deleted.id, workspace: ws) == nil && s.record(live.id, workspace: ws) != nil)
        #expect(try s.compacted([deleted.id, live.id, never]) == [deleted.id])
        #expect(try s.transaction { try s.compactTombstones(below: 9) } == 0)
        #expect(try s.compacted([never, deleted.id]) == [deleted.id])
    }

    @Test(arguments: Backend.all)
    func aRefusedWriteFailsItsSavepointEvenWhenReportedLate(backend: Backend) throws {
        let s = try initialised(backend)
        let id = RecordID(high: 8, low: 8)
        func entry(_ seq: UInt64) -> LogEntry {
            LogEntry(
                sequence: seq, record: id, entity: "opportunity", field: "amount", kind: .set, value: .integer(Int64(seq)),
                stamp: Stamp(hlc: HLC(rawValue: seq), replica: Self.replicaA), author: "sam", authority: .own)
        }
        var refused = false
        try s.transaction {
            try s.savepoint { try s.append(entry(1), hubMilliseconds: 1) }
            do {
                try s.savepoint {
                    try s.setMeta("between", "kept?")
                    try s.append(entry(1), hubMilliseconds: 2)  // taken: refused
                }
            } catch is SavepointLost {
                throw SavepointLostInTest()
            } catch {
                refused = true
            }
            // A refused write still in flight when the body fails for its own reason: the
            // savepoint is undone alone (SQLite refuses the write at once, PostgreSQL later;
            // either way the savepoint fails and the transaction goes on).
            var failed = false
            do {
                try s.savepoint { () throws -> Void in
                    try s.append(entry(1), hubMilliseconds: 4)
                    throw Refused()
                }
            } catch is SavepointLost {
                throw SavepointLostInTest()
            } catch {
                failed = true
            }
            #expect(failed)
            try s.savepoint { try s.append(entry(2), hubMilliseconds: 3) }
        }
        #expect(refused, "the second use of sequence 1 was refused")
        #expect(try s.log(after: 0, limit: 10).map(\.hubMilliseconds) == [1, 3])
        #expect(try s.meta("between") == nil, "the failed savepoint's other writes are undone with it")
    }

    struct SavepointLostInTest: Error {}

    @Test(arguments: Backend.all)
    func identityAndWorkspace(backend: Backend) throws {
        let s = try initialised(backend)
        #expect(try s.hubID() == UUID128(high: 9, low: 9))
        #expect(try s.workspace()?.version == 1)
        try s.addWorkspace(version: 2, document: "{}", now: 2000)
        #expect(try s.workspace()?.version == 2)
        try s.setMeta("k", "v1")
        try s.setMeta("k", "v2")
        #expect(try s.meta("k") == "v2")
        #expect(try s.meta("missing") == nil)
    }

    @Test(arguments: Backend.all)
    func usersAndTokens(backend: Backend) throws {
        let s = try initialised(backend)
        #expect(try s.user(named: "sam")?.manager == "max")
        #expect(try s.users().map(\.name) == ["eve", "max", "mia", "sam", "tom"])
        #expect(throws: (any Error).self) { try s.addUser(HubUser(name: "sam", role: "sales"), now: 1) }
        try s.addToken(hash: [1, 2, 3], user: "sam", now: 1)
        #expect(try s.user(tokenHash: [1, 2, 3])?.name == "sam")
        #expect(try s.user(tokenHash: [9]) == nil)
        #expect(throws: (any Error).self) { try s.addToken(hash: [4], user: "nobody", now: 1) }
        try s.revokeTokens(user: "sam")
        #expect(try s.user(tokenHash: [1, 2, 3]) == nil)
        var sam = try #require(try s.user(named: "sam"))
        sam.disabled = true
        sam.territory = "north"
        try s.updateUser(sam)
        #expect(try s.user(named: "sam")?.disabled == true)
        #expect(try s.user(named: "sam")?.territory == "north")
    }

    @Test(arguments: Backend.all)
    func recordsRoundTripEveryValueKind(backend: Backend) throws {
        let s = try initialised(backend)
        var r = opportunity(1, owner: "sam")
        r.fields["amount"] = state(.decimal(ExactDecimal(units: 1_200_000, scale: 2)), seq: 4)
        r.fields["name"] = state(.text("商机 ACME"), replica: Self.replicaB, author: "tom", seq: 5)
        r.fields["probability"] = state(.integer(-40), seq: 6)
        r.fields["close_date"] = state(.date(CivilDate(daysSinceEpoch: 20818)), seq: 7)
        r.fields["check_need"] = state(.boolean(true), seq: 8)
        r.fields["account"] = state(.reference(RecordID(high: 7, low: 7)), seq: 9)
        r.fields["next_step"] = state(.null, seq: 10)
        r.fields["amount"]?.authority = .override
        try s.transaction { try s.saveRecord(r, workspace: ws) }
        #expect(try s.record(r.id, workspace: ws) == r)
        r.deleted = state(.null, hlc: 900, seq: 11)
        try s.saveRecord(r, workspace: ws)
        #expect(try s.record(r.id, workspace: ws) == r)
        #expect(try s.record(RecordID(high: 5, low: 5), workspace: ws) == nil)
        #expect(try s.recordCount() == 1)
        var activity = Record(id: RecordID(high: 2, low: 1), entity: "activity", created: state(.null))
        activity.fields["at"] = state(.timestamp(Timestamp(milliseconds: 1_795_916_628_123)))
        try s.saveRecord(activity, workspace: ws)
        #expect(try s.record(activity.id, workspace: ws) == activity)
    }

    @Test(arguments: Backend.all)
    func logAndConflicts(backend: Backend) throws {
        let s = try initialised(backend)
        #expect(try s.head() == 0)
        let id = RecordID(high: 3, low: 3)
        for seq in 1...5 as ClosedRange<UInt64> {
            try s.append(
                LogEntry(
                    sequence: seq, record: id, entity: "opportunity", field: seq == 1 ? "" : "amount", kind: seq == 1 ? .create : .set,
                    value: .decimal(ExactDecimal(units: Int64(seq), scale: 2)), stamp: Stamp(hlc: HLC(rawValue: seq), replica: Self.replicaB),
                    author: "sam", authority: .own), hubMilliseconds: 5000 + Int64(seq))
        }
        #expect(try s.head() == 5)
        let page = try s.log(after: 2, limit: 2)
        #expect(page.map(\.entry.sequence) == [3, 4])
        #expect(page[0].entry.stamp.replica == Self.replicaB)
        #expect(page[0].hubMilliseconds == 5003)
        #expect(try s.log(record: id).count == 5)
        #expect(try s.log(after: 0, limit: 10).first?.entry.kind == .create)
        // Sequences are unique: appending one twice fails.
        #expect(throws: (any Error).self) {
            try s.append(
                LogEntry(
                    sequence: 5, record: id, entity: "opportunity", field: "amount", kind: .set, value: .null,
                    stamp: Stamp(hlc: .zero, replica: Self.replicaA), author: "sam", authority: .own), hubMilliseconds: 1)
        }
        let c1 = try s.addConflict(
            ConflictRecord(
                id: 0, record: id, entity: "opportunity", field: "amount", outcome: .lost, rule: .authority,
                loser: state(.integer(1), author: "sam"), winner: state(.integer(2), author: "max")), owner: "sam", hubMilliseconds: 7)
        let c2 = try s.addConflict(
            ConflictRecord(
                id: 0, record: id, entity: "opportunity", field: "discount", outcome: .proposal, rule: .approvalRequired,
                loser: state(.integer(3), author: "tom"), winner: nil), owner: "tom", hubMilliseconds: 8)
        #expect(c2 > c1)
        #expect(try s.conflicts(after: 0, concerning: ["sam"], author: "sam", limit: 10).map(\.conflict.id) == [c1])
        #expect(try s.conflicts(after: 0, concerning: ["max", "sam", "tom"], author: "max", limit: 10).map(\.conflict.id) == [c1, c2])
        #expect(try s.conflicts(after: c1, concerning: ["max", "sam", "tom"], author: "max", limit: 10).map(\.conflict.id) == [c2])
        #expect(try s.conflicts(after: 0, concerning: [], author: "tom", limit: 10).first?.conflict.loser.value == .integer(3))
        #expect(try s.conflicts(record: id).count == 2)
    }

    /// The ingest role alone (what a push's effects need): a conflict keeps the id the batch
    /// decider gave it — the next after the head, gapless — and one without an id takes the next.
    @Test(arguments: Backend.all)
    func ingestKeepsTheConflictIdsTheDeciderGives(backend: Backend) throws {
        let s: any HubIngestStorage = try initialised(backend)
        let id = RecordID(high: 4, low: 4)
        func conflict(_ n: UInt64) -> ConflictRecord {
            ConflictRecord(id: n, record: id, entity: "opportunity", field: "amount", outcome: .rejected, rule: .readOnly, loser: state(.integer(Int64(n))), winner: nil)
        }
        #expect(try s.conflictHead() == 0)
        #expect(try s.addConflict(conflict(1), owner: "sam", hubMilliseconds: 1) == 1)
        #expect(try s.conflictHead() == 1)
        #expect(try s.addConflict(conflict(0), owner: "sam", hubMilliseconds: 2) == 2)
        // An id already taken is refused, never overwritten.
        #expect(throws: (any Error).self) { try s.addConflict(conflict(2), owner: "sam", hubMilliseconds: 3) }
        #expect(try s.conflictHead() == 2)
    }

    /// A pull reads only the entries of the records a replica holds; a snapshot only which
    /// records entries touched. Both in sequence order, across chunks of ids, within the limit.
    @Test(arguments: Backend.all)
    func entriesOfSomeRecordsAndTouches(backend: Backend) throws {
        let s = try initialised(backend)
        #expect(try s.conflictHead() == 0)
        // 1,200 records (more than one chunk of ids), entries interleaved: seq n touches record n % 1,200.
        let ids = (0..<1_200).map { RecordID(high: 5, low: UInt64($0)) }
        for seq in 1...2_400 as ClosedRange<UInt64> {
            try s.append(
                LogEntry(
                    sequence: seq, record: ids[Int(seq) % ids.count], entity: seq == 7 ? "membership" : "opportunity", field: "amount", kind: .set,
                    value: .integer(Int64(seq)), stamp: Stamp(hlc: HLC(rawValue: seq), replica: Self.replicaA), author: "sam", authority: .own),
                hubMilliseconds: 1)
        }
        // Records 3 and 1,100 (in different chunks when all are asked for) have entries 3, 1,100, 1,203 and 2,300.
        let some = try s.log(records: [ids[1_100], ids[3]], after: 0, limit: 10)
        #expect(some.map(\.entry.sequence) == [3, 1_100, 1_203, 2_300])
        #expect(some[0].entry.value == .integer(3))
        #expect(try s.log(records: [ids[1_100], ids[3]], after: 1_100, limit: 10).map(\.entry.sequence) == [1_203, 2_300])
        #expect(try s.log(records: [ids[1_100], ids[3]], after: 0, limit: 3).map(\.entry.sequence) == [3, 1_100, 1_203])
        let everything = try s.log(records: ids.reversed(), after: 2_000, limit: 1_000)
        #expect(everything.map(\.entry.sequence) == Array(2_001...2_400))
        #expect(try s.log(records: ids, after: 0, limit: 5).map(\.entry.sequence) == [1, 2, 3, 4, 5])
        #expect(try s.log(records: [], after: 0, limit: 5).isEmpty)
        let touches = try s.touches(after: 5, limit: 3)
        #expect(
            touches == [
                LogTouch(sequence: 6, record: ids[6], entity: "opportunity"), LogTouch(sequence: 7, record: ids[7], entity: "membership"),
                LogTouch(sequence: 8, record: ids[8], entity: "opportunity"),
            ])
        #expect(try s.touches(after: 2_400, limit: 3).isEmpty)
        let c = try s.addConflict(
            ConflictRecord(
                id: 0, record: ids[0], entity: "opportunity", field: "amount", outcome: .lost, rule: .authority,
                loser: state(.integer(1)), winner: state(.integer(2))), owner: "sam", hubMilliseconds: 7)
        #expect(try s.conflictHead() == c)
    }

    @Test(arguments: Backend.all)
    func replicasBatchesAndAtomicity(backend: Backend) throws {
        let s = try initialised(backend)
        try s.saveReplica(ReplicaRow(id: Self.replicaA, user: "sam", lastBatch: 0, ack: 0, lastSeenMilliseconds: 1, pullToken: 0))
        var row = try #require(try s.replica(Self.replicaA))
        row.lastBatch = 3
        try s.saveReplica(row)
        #expect(try s.replica(Self.replicaA)?.lastBatch == 3)
        // What a handshake or a pull reads first, in one go, is what the single reads give; the
        // marker comes with it where the store reads it with a statement (PostgreSQL).
        try s.transaction {
            let opening = try s.opening(replica: Self.replicaA)
            #expect(opening.row == (try s.replica(Self.replicaA)))
            #expect(opening.bounds == (try s.logBounds()))
            if let marker = opening.marker { #expect(marker == (try s.externalChanges())) }
            #expect((opening.marker != nil) == (backend.name != "sqlite"))
            #expect(try s.opening(replica: Self.replicaB).row == nil)
        }
        #expect(try s.replicas().count == 1)
        try s.saveBatch(replica: Self.replicaA, number: 3, digest: [1], response: [2, 3])
        #expect(try s.batch(replica: Self.replicaA, number: 3)?.response == [2, 3])
        #expect(try s.batch(replica: Self.replicaA, number: 4) == nil)
        // Forgetting a replica's older answers keeps its later ones and every other replica's.
        for n in UInt64(4)...8 { try s.saveBatch(replica: Self.replicaA, number: n, digest: [UInt8(n)], response: [UInt8(n)]) }
        try s.saveBatch(replica: Self.replicaB, number: 2, digest: [2], response: [2])
        try s.forgetBatches(replica: Self.replicaA, through: 5)
        #expect(try (3...8).map { try s.batch(replica: Self.replicaA, number: $0)?.response } == [nil, nil, nil, [6], [7], [8]])
        #expect(try s.batch(replica: Self.replicaB, number: 2)?.response == [2])
        try s.forgetBatches(replica: Self.replicaA, through: 8)
        // A failed transaction leaves nothing: not the record, not the log entry, not the batch.
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try s.transaction {
                try s.saveRecord(opportunity(1, owner: "sam"), workspace: ws)
                try s.append(
                    LogEntry(
                        sequence: 1, record: RecordID(high: 0x0190, low: 1), entity: "opportunity", field: "", kind: .create, value: .null,
                        stamp: Stamp(hlc: .zero, replica: Self.replicaB), author: "sam", authority: .own), hubMilliseconds: 1)
                try s.saveBatch(replica: Self.replicaA, number: 4, digest: [1], response: [1])
                throw Boom()
            }
        }
        #expect(try s.recordCount() == 0)
        #expect(try s.head() == 0)
        #expect(try s.batch(replica: Self.replicaA, number: 4) == nil)
        // Replica indexes cached during the rolled-back transaction are gone too.
        let r = opportunity(2, owner: "sam")
        var withB = r
        withB.fields["name"] = state(.text("x"), replica: ReplicaID(UUID128(high: 77, low: 77)))
        try s.saveRecord(withB, workspace: ws)
        #expect(try s.record(r.id, workspace: ws) == withB)
    }

    @Test(arguments: Backend.all)
    func visibilityFollowsTheRoles(backend: Backend) throws {
        let s = try initialised(backend)
        let samDeal = opportunity(1, owner: "sam")
        let tomDeal = opportunity(2, owner: "tom", creator: "tom")
        let lead = opportunity(3, owner: nil, creator: "mia", stage: "lead")
        var won = opportunity(4, owner: "tom", creator: "tom", stage: "won")
        won.fields["account"] = state(.reference(RecordID(high: 0xACC, low: 1)), seq: 9)
        let account = Record(id: RecordID(high: 0xACC, low: 1), entity: "account", created: state(.null, author: "tom"))
        var call = Record(id: RecordID(high: 0xCA1, low: 1), entity: "activity", created: state(.null, author: "tom"))
        call.fields["opportunity"] = state(.reference(tomDeal.id))
        var membership = Record(id: RecordID(high: 0x3E3, low: 1), entity: "membership", created: state(.null, author: "max"))
        membership.fields["opportunity"] = state(.reference(tomDeal.id))
        membership.fields["user"] = state(.text("eve"))
        membership.fields["state"] = state(.member("active"))
        var gone = opportunity(5, owner: "sam")
        gone.deleted = state(.null, seq: 20)
        for r in [samDeal, tomDeal, lead, won, account, call, membership, gone] { try s.saveRecord(r, workspace: ws) }
        let directory = Directory(users: try s.users().map(\.directoryEntry))
        func visible(_ user: String, _ role: String) throws -> Set<RecordID> {
            try s.records(visibleTo: VisibilityQuery.make(user: user, role: role, workspace: ws, directory: directory))
        }
        #expect(try visible("sam", "sales") == [samDeal.id])
        #expect(try visible("tom", "sales") == [tomDeal.id, won.id, account.id, call.id, membership.id])
        #expect(try visible("mia", "marketing") == [lead.id])
        #expect(try visible("eve", "expert") == [tomDeal.id, call.id, membership.id])
        #expect(try visible("sue", "success") == [won.id, account.id])
        #expect(try visible("max", "manager") == [samDeal.id, tomDeal.id, won.id, account.id, call.id, membership.id])
        #expect(try s.team(of: tomDeal.id) == ["eve"])
        #expect(try s.memberships(of: "eve") == [membership.id: tomDeal.id])
        #expect(try s.memberships(of: "tom").isEmpty)
        // What hangs off a deal, by entity (a deal's requests, not its activities).
        #expect(Set(try s.children(of: [tomDeal.id])) == [call.id, membership.id])
        #expect(try s.children(of: tomDeal.id, entity: "activity") == [call.id])
        #expect(try s.children(of: tomDeal.id, entity: "membership") == [membership.id])
        #expect(try s.children(of: samDeal.id, entity: "activity").isEmpty)
        // Records and their teams in one read (a push's prefetch) give what the single reads give:
        // every id asked has a team, empty when it has none; an absent id has no record.
        let absent = RecordID(high: 0x0191, low: 9)
        let asked = [samDeal.id, tomDeal.id, account.id, absent]
        let together = try s.recordsAndTeams(asked, workspace: ws)
        #expect(together.records == (try s.records(asked, workspace: ws)))
        #expect(together.records.count == 3)
        #expect(together.teams == [samDeal.id: [], tomDeal.id: ["eve"], account.id: [], absent: []])
        // Removing the membership takes the deal out of the expert's view.
        membership.fields["state"] = state(.member("removed"), seq: 30)
        try s.saveRecord(membership, workspace: ws)
        #expect(try visible("eve", "expert").isEmpty)
        #expect(try s.openRecords(owner: "tom", closedStages: ["won", "lost"]) == 1)
        // The same records themselves (what `user disable` looks at), the deleted one left out.
        let toms = try s.openRecordColumns(owner: "tom", closedStages: ["won", "lost"])
        #expect(toms.map(\.id) == [tomDeal.id] && toms.first?.entity == "opportunity" && toms.first?.stage == tomDeal["stage"].canonicalText)
        #expect(try s.openRecordColumns(owner: "sam", closedStages: []).map(\.id) == [samDeal.id])
        // Every owner's, and none's (what `workspace apply` asks about), closed ones included.
        let every = try s.openRecordColumns(owner: nil, closedStages: [])
        #expect(every.map(\.id) == [samDeal.id, tomDeal.id, lead.id, won.id])
        #expect(every.map(\.owner) == ["sam", "tom", nil, "tom"] && every.map(\.creator) == ["sam", "tom", "mia", "tom"])
        let leadTerm = try #require(try s.terms(of: [lead.id])[lead.id])
        #expect(leadTerm != 0)
        #expect(
            try s.columns(of: [samDeal.id, lead.id])[lead.id]
                == RecordColumns(entity: "opportunity", kind: 0, creator: "mia", owner: nil, stage: "lead", term: leadTerm))
    }

    @Test(arguments: Backend.all)
    func whatAReplicaHoldsMovesOnlyWhenAPageIsAcknowledged(backend: Backend) throws {
        let s = try initialised(backend)
        let a = RecordID(high: 1, low: 1), b = RecordID(high: 1, low: 2), c = RecordID(high: 1, low: 3)
        try s.stageKnown(replica: Self.replicaA, token: 1, changes: [(a, 11), (b, 12)], carrying: nil)
        #expect(try s.known(replica: Self.replicaA).isEmpty)  // not yet acknowledged
        try s.acknowledge(replica: Self.replicaA, token: 1)
        #expect(try s.known(replica: Self.replicaA) == [a: 11, b: 12])
        // Page 2 (b leaves, c enters) is lost: acknowledging token 1 again drops it.
        try s.stageKnown(replica: Self.replicaA, token: 2, changes: [(b, nil), (c, 13)], carrying: nil)
        try s.acknowledge(replica: Self.replicaA, token: 1)
        #expect(try s.known(replica: Self.replicaA) == [a: 11, b: 12])
        // Page 3 is received.
        try s.stageKnown(replica: Self.replicaA, token: 3, changes: [(b, nil), (c, 13), (a, 21)], carrying: nil)
        try s.acknowledge(replica: Self.replicaA, token: 3)
        #expect(try s.known(replica: Self.replicaA) == [a: 21, c: 13])
        #expect(try s.known(replica: Self.replicaB).isEmpty)
        // A page of a cold sync stages thousands; a record named twice keeps its last
        // signature, and a record no longer held is dropped from what was held before.
        var big = (1...700).map { (RecordID(high: 2, low: UInt64($0)), UInt64?.some(UInt64($0))) }
        big.append((RecordID(high: 2, low: 5), 5_000))
        try s.transaction { try s.stageKnown(replica: Self.replicaA, token: 4, changes: big, carrying: nil) }
        try s.acknowledge(replica: Self.replicaA, token: 4)
        var held = try s.known(replica: Self.replicaA)
        #expect(held.count == 2 + 700)
        #expect(held[RecordID(high: 2, low: 5)] == 5_000 && held[RecordID(high: 2, low: 700)] == 700 && held[RecordID(high: 2, low: 6)] == 6)
        // Signatures keep all 64 bits (the store unpacks them itself on PostgreSQL).
        let extreme: [(RecordID, UInt64?)] = [(RecordID(high: .max, low: .max), .max), (RecordID(high: 0, low: 0), 1 << 63), (RecordID(high: 2, low: 6), nil)]
        try s.stageKnown(replica: Self.replicaA, token: 5, changes: extreme, carrying: nil)
        try s.acknowledge(replica: Self.replicaA, token: 5)
        held = try s.known(replica: Self.replicaA)
        #expect(held.count == 2 + 699 + 2)
        #expect(held[RecordID(high: .max, low: .max)] == .max && held[RecordID(high: 0, low: 0)] == 1 << 63 && held[RecordID(high: 2, low: 6)] == nil)
        // A token is staged once (the replica's row, locked, numbers them); staged again, the
        // second staging is the page.
        try s.stageKnown(replica: Self.replicaA, token: 6, changes: [(RecordID(high: 2, low: 7), 70)], carrying: nil)
        try s.stageKnown(replica: Self.replicaA, token: 6, changes: [(RecordID(high: 2, low: 8), nil)], carrying: nil)
        try s.acknowledge(replica: Self.replicaA, token: 6)
        held = try s.known(replica: Self.replicaA)
        #expect(held[RecordID(high: 2, low: 7)] == 7 && held[RecordID(high: 2, low: 8)] == nil && held.count == 2 + 699 + 2 - 1)
        try s.resetKnown(replica: Self.replicaA)
        #expect(try s.known(replica: Self.replicaA).isEmpty)
    }

    /// A pipelined pull (sync-protocol.md §6.1): page n + 1 is built while the replica applies
    /// page n, and carries it — acknowledging n + 1 alone makes n's records held too, n's first
    /// and n + 1's over them, though n's were staged once, under n.
    @Test(arguments: Backend.all)
    func aPageBuiltOnAnInFlightOneCarriesIt(backend: Backend) throws {
        let s = try initialised(backend)
        let a = RecordID(high: 1, low: 1), b = RecordID(high: 1, low: 2), c = RecordID(high: 1, low: 3), d = RecordID(high: 1, low: 4)
        let r = Self.replicaA
        try s.stageKnown(replica: r, token: 1, changes: [(a, 11), (b, 12)], carrying: nil)
        try s.stageKnown(replica: r, token: 2, changes: [(b, nil), (c, 13)], carrying: 1)
        // Only page 2's token comes back (the last page of a pipelined pull often is).
        try s.acknowledge(replica: r, token: 2)
        #expect(try s.known(replica: r) == [a: 11, c: 13])
        // Page 3 carries 2, already acknowledged: only its own changes move; 2's stay as they were.
        try s.stageKnown(replica: r, token: 3, changes: [(d, 14)], carrying: 2)
        try s.acknowledge(replica: r, token: 3)
        #expect(try s.known(replica: r) == [a: 11, c: 13, d: 14])
        // Page 4 was built without carrying (a request that acknowledged 3 first): acknowledging
        // 5 carrying 4 applies both; a page 6 not carrying 5 never brings 5 in.
        try s.stageKnown(replica: r, token: 4, changes: [(a, 21)], carrying: nil)
        try s.stageKnown(replica: r, token: 5, changes: [(a, nil), (b, 22)], carrying: 4)
        try s.stageKnown(replica: r, token: 6, changes: [(c, 23)], carrying: nil)
        try s.acknowledge(replica: r, token: 6)
        #expect(try s.known(replica: r) == [a: 11, c: 23, d: 14])
        // 4 and 5 were superseded by 6: a late copy acknowledging 5 finds nothing staged.
        try s.acknowledge(replica: r, token: 5)
        #expect(try s.known(replica: r) == [a: 11, c: 23, d: 14])
        // Carried changes land first: the page's own win for a record both name.
        try s.stageKnown(replica: r, token: 7, changes: [(d, 31)], carrying: nil)
        try s.stageKnown(replica: r, token: 8, changes: [(d, 32), (b, 33)], carrying: 7)
        try s.acknowledge(replica: r, token: 8)
        #expect(try s.known(replica: r) == [a: 11, b: 33, c: 23, d: 32])
        // A restart forgets every staged page: one built on a page from before it brings nothing of it.
        try s.stageKnown(replica: r, token: 9, changes: [(a, 41)], carrying: nil)
        try s.resetKnown(replica: r)
        try s.stageKnown(replica: r, token: 10, changes: [(b, 42)], carrying: 9)
        try s.acknowledge(replica: r, token: 10)
        #expect(try s.known(replica: r) == [b: 42])
        #expect(try s.known(replica: Self.replicaB).isEmpty)
    }

    /// An account is visible to whoever sees a live deal referencing it: one query, the role's
    /// conditions applied to the referencing deals (the push checks it before an account write).
    @Test(arguments: Backend.all)
    func anAccountIsReferencedByAVisibleDealOnlyForThoseWhoSeeOne(backend: Backend) throws {
        let s = try initialised(backend)
        let account = Record(id: RecordID(high: 0x0191, low: 1), entity: "account", created: state(.null, author: "sam"))
        var deal = opportunity(7, owner: "sam")
        deal.fields["account"] = state(.reference(account.id), seq: 4)
        try s.transaction {
            try s.saveRecord(account, workspace: ws)
            try s.saveRecord(deal, workspace: ws)
        }
        let query = { (user: String, role: String) in
            VisibilityQuery.make(user: user, role: role, workspace: ws, directory: Directory(users: try s.users().map(\.directoryEntry)))
        }
        #expect(try s.referencedByVisible(account.id, query: query("sam", "sales")))
        #expect(try s.referencedByVisible(account.id, query: query("max", "manager")))  // manages sam
        #expect(try !s.referencedByVisible(account.id, query: query("tom", "sales")))
        #expect(try !s.referencedByVisible(account.id, query: query("eve", "expert")))
        // A deleted deal makes nothing visible.
        deal.deleted = state(.null, seq: 9)
        try s.transaction { try s.saveRecord(deal, workspace: ws) }
        #expect(try !s.referencedByVisible(account.id, query: query("sam", "sales")))
    }

    /// The ingest benchmark's floor (multi-row INSERTs, more rows than one statement takes)
    /// leaves exactly what the hub's per-row path leaves: the log, the records, their index rows.
    @Test(arguments: Backend.all)
    func theBulkFloorLeavesWhatThePerRowPathLeaves(backend: Backend) throws {
        let perRow = try initialised(backend), bulk = try initialised(backend)
        var records = [Record](), entries = [LogEntry]()
        for n in 1...320 {
            let owner: String? = n % 3 == 0 ? nil : "sam"
            let r = opportunity(UInt64(n), owner: owner, stage: n % 2 == 0 ? "discovery" : "proposal")
            records.append(r)
            let stamp = Stamp(hlc: HLC(rawValue: UInt64(1000 + n)), replica: Self.replicaA)
            entries.append(
                LogEntry(
                    sequence: UInt64(n), record: r.id, entity: r.entity, field: "name", kind: .set, value: .text("商机 \(n)"), stamp: stamp,
                    author: "sam", authority: .own))
        }
        try perRow.transaction {
            for e in entries { try perRow.append(e, hubMilliseconds: 7) }
            for r in records { try perRow.saveRecord(r, workspace: ws) }
        }
        let sql = try #require(bulk as? SQLHubStore)
        try bulk.transaction { try sql.insertBulk(entries, records: records, workspace: ws, hubMilliseconds: 7) }
        #expect(try bulk.log(after: 0, limit: 1000) == perRow.log(after: 0, limit: 1000))
        #expect(try bulk.head() == 320)
        let ids = records.map { $0.id }
        #expect(try bulk.columns(of: ids) == perRow.columns(of: ids))
        #expect(try bulk.terms(of: Set(ids)) == perRow.terms(of: Set(ids)))
        for id in ids.prefix(5) { #expect(try bulk.record(id, workspace: ws) == perRow.record(id, workspace: ws)) }
        // Several records in one read (a push's prefetch): each as one read gives it; absent ones left out.
        let absent = RecordID(high: 0x0191, low: 1)
        let many = try bulk.records(ids + [absent], workspace: ws)
        #expect(many.count == ids.count && many[absent] == nil)
        for id in ids { #expect(many[id] == (try perRow.record(id, workspace: ws))) }
        // The same with teams, past one statement's 250 ids.
        #expect(try bulk.recordsAndTeams(ids + [absent], workspace: ws).records == many)
        // As a page writer takes them: fields numbered as the workspace numbers them, each
        // once, in the order stored (workspace order); read now or fetched ahead.
        let numbered = try bulk.numberedRecords(ids + [absent], workspace: ws)
        #expect(numbered.count == ids.count && numbered.mapValues(\.record) == many)
        let fetched = try bulk.prefetchRecords(Array(ids.prefix(100)) + [absent], workspace: ws)()
        #expect(fetched.count == 100 && fetched.allSatisfy { numbered[$0.key] == $0.value })
        for r in numbered.values {
            let entity = try #require(ws.entity(r.entity))
            #expect(r.fields.map(\.number) == r.fields.map { entity.field($0.name)?.number }.compactMap { $0 })
            let positions = r.fields.compactMap { entity.position(of: $0.name) }
            #expect(positions.count == r.fields.count && positions == positions.sorted() && Set(positions).count == positions.count)
        }
        // The other floor, a bulk copy (PostgreSQL's COPY), leaves the same; SQLite has none.
        let copied = try initialised(backend)
        let copier = try #require(copied as? SQLHubStore)
        guard backend.name == "postgres" else {
            #expect(throws: StoreError.self) { try copied.transaction { try copier.copyBulk(entries, records: records, workspace: ws, hubMilliseconds: 7) } }
            return
        }
        try copied.transaction { try copier.copyBulk(entries, records: records, workspace: ws, hubMilliseconds: 7) }
        #expect(try copied.log(after: 0, limit: 1000) == perRow.log(after: 0, limit: 1000))
        #expect(try copied.head() == 320)
        #expect(try copied.columns(of: ids) == perRow.columns(of: ids))
        #expect(try copied.terms(of: Set(ids)) == perRow.terms(of: Set(ids)))
        #expect(try copied.records(ids, workspace: ws) == many)
    }

    /// A big push's entries written together (streamed with COPY on PostgreSQL, past
    /// `copyFrom`) leave what one append each leaves, in the push's transaction: undone with it.
    @Test(arguments: Backend.all)
    func aBigPushsEntriesLeaveWhatOneByOneLeaves(backend: Backend) throws {
        let together = try initialised(backend), oneByOne = try initialised(backend)
        var entries = [LogEntry]()
        for n in 1...(SQLHubStore.copyFrom + 100) {
            let value: Value = n % 2 == 0 ? .text("商机\t\(n)\\ \n") : .decimal(ExactDecimal(units: Int64(n), scale: 2))
            let stamp = Stamp(hlc: HLC(rawValue: UInt64(5000 + n)), replica: n % 3 == 0 ? Self.replicaA : Self.replicaB)
            let kind: WriteKind = n % 37 == 0 ? .create : .set
            entries.append(
                LogEntry(
                    sequence: UInt64(n), record: RecordID(high: 0x0193, low: UInt64(n % 37)), entity: "opportunity", field: n % 2 == 0 ? "name" : "amount",
                    kind: kind, value: value, stamp: stamp, author: "sam", authority: .own))
        }
        try oneByOne.transaction { for e in entries { try oneByOne.append(e, hubMilliseconds: 9) } }
        #expect(throws: (any Error).self) {
            try together.transaction {
                try together.append(entries, hubMilliseconds: 9)
                throw StoreError(code: -1, message: "the push failed after its entries")
            }
        }
        #expect(try together.head() == 0)
        try together.transaction { try together.append(entries, hubMilliseconds: 9) }
        #expect(try together.log(after: 0, limit: 10_000) == oneByOne.log(after: 0, limit: 10_000))
        #expect(try together.head() == UInt64(entries.count))
    }

    /// A push's records written together (saveRecords: multi-row upserts, the deals' references
    /// replaced in bulk) leave what one saveRecord each leaves; of a record named twice, the last.
    @Test(arguments: Backend.all)
    func recordsSavedTogetherLeaveWhatOneByOneLeaves(backend: Backend) throws {
        let oneByOne = try initialised(backend), together = try initialised(backend)
        let account = RecordID(high: 0x0192, low: 1), other = RecordID(high: 0x0192, low: 2)
        var first = [Record]()
        for n in 1...310 {
            var r = opportunity(UInt64(n), owner: n % 4 == 0 ? nil : "sam")
            r.fields["account"] = state(.reference(n % 2 == 0 ? account : other), seq: 4)
            first.append(r)
        }
        // Saved once before: the second save must replace what the first left (references too).
        for s in [oneByOne, together] { try s.transaction { for r in first { try s.saveRecord(r, workspace: ws) } } }
        var second = first.map { r -> Record in
            var r = r
            r.fields["account"] = state(.reference(account), seq: 5)
            return r
        }
        var renamed = second[0]
        renamed.fields["owner"] = state(.text("tom"), seq: 6)
        second.insert(renamed, at: 1)  // named twice in one statement's rows: the last counts
        try oneByOne.transaction { for r in second { try oneByOne.saveRecord(r, workspace: ws) } }
        try together.transaction { try together.saveRecords(second, workspace: ws) }
        let ids = first.map { $0.id }
        #expect(try together.columns(of: ids) == oneByOne.columns(of: ids))
        #expect(try together.columns(of: [ids[0]])[ids[0]]?.owner == "tom")
        #expect(try together.terms(of: Set(ids)) == oneByOne.terms(of: Set(ids)))
        #expect(try together.referencing(account) == oneByOne.referencing(account))
        #expect(try together.referencing(account).count == 310)
        #expect(try together.referencing(other).isEmpty)
        for id in ids.prefix(3) { #expect(try together.record(id, workspace: ws) == oneByOne.record(id, workspace: ws)) }
    }
}
