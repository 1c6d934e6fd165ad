import Foundation
import OppsCSV
import OppsCore
import OppsStore
import OppsTestSupport
import OppsWire
import Testing

@testable import OppsHub

/// A large push's rows written on a second thread while its later writes are decided
/// (`RowWriter`): what it leaves and answers is what the same push leaves without it, and a row
/// the writer cannot write fails the push with nothing of it kept.
@Suite struct RowWriterTests {
    static let team = [
        HubUser(name: "max", role: "manager"),
        HubUser(name: "sam", role: "sales", territory: "north", manager: "max"),
    ]

    /// A hub whose pushes of at least `from` writes use the writer, and its users by name.
    static func engine(rowsBesideDecisionsFrom from: Int) throws -> (HubEngine, [String: HubUser]) {
        let (engine, _) = try testEngine("opps-row-writer", clock: TestClock(1_795_000_000_000), users: team) {
            $0.rowsBesideDecisionsFrom = from
        }
        var users = [String: HubUser]()
        for u in team { users[u.name] = try engine.store.user(named: u.name) }
        return (engine, users)
    }

    /// 60 new deals of `replica`'s, each created and written ten times (`value`: the field and
    /// value of deal i's write j): the writes in order, and the deals.
    static func newDeals(
        _ replica: inout TestReplica, rng: inout SeededGenerator, value: (Int, Int) -> (String, Value)
    ) -> (writes: [FieldWrite], deals: [RecordID]) {
        var writes = [FieldWrite]()
        var deals = [RecordID]()
        for i in 0..<60 {
            let deal = replica.create(using: &rng)
            deals.append(deal.record)
            writes.append(deal)
            for j in 0..<10 {
                let (field, v) = value(i, j)
                writes.append(replica.write(deal.record, field, v))
            }
        }
        return (writes, deals)
    }

    /// Three pushes of 120–660 writes — new deals, then stale writes that lose (conflicts
    /// written between the rows handed over) beside fresh ones, then the manager's writes over
    /// the rep's — and a replayed one, on a hub that writes rows beside its decisions and one
    /// that does not: the same answers, byte for byte, and the same log, conflicts and records.
    @Test func aLargePushLeavesWhatItLeavesWithoutTheWriter() throws {
        var outcomes = [(answers: [[UInt8]], log: [StoredLogEntry], conflicts: [StoredConflict], records: [RecordID: Record])]()
        for from in [1, Int.max] {
            let (engine, users) = try Self.engine(rowsBesideDecisionsFrom: from)
            var rng = SeededGenerator(seed: 11)
            var sam = TestReplica(user: "sam", token: "", seed: 1)
            var max = TestReplica(user: "max", token: "", seed: 2)
            try engineHandshake(engine, users["sam"]!, sam)
            try engineHandshake(engine, users["max"]!, max)
            var answers = [[UInt8]]()
            // 60 new deals, 11 writes each; the stamps of their first name kept for later.
            var (writes, deals) = Self.newDeals(&sam, rng: &rng) { i, j in
                let field = ["name", "next_step", "amount"][j % 3]
                return (field, field == "amount" ? .decimal(ExactDecimal(units: Int64(100 * i + j), scale: 2)) : .text("商机 \(i)-\(j)"))
            }
            let first = deals.indices.map { writes[$0 * 11 + 1] }
            let created = try sam.batch(writes)
            answers.append(try enginePush(engine, users["sam"]!, created))
            // 8 fresh writes and 2 stale ones (the first name's stamp: older than what holds) per deal.
            writes = []
            for (i, deal) in deals.enumerated() {
                for j in 0..<8 { writes.append(sam.write(deal, "next_step", .text("下一步 \(i)-\(j)"))) }
                for _ in 0..<2 {
                    var stale = first[i]
                    stale.value = .text("过时 \(i)")
                    writes.append(stale)
                }
            }
            answers.append(try enginePush(engine, users["sam"]!, try sam.batch(writes)))
            // The manager over the rep: amounts and steps of every deal.
            writes = deals.flatMap { [max.write($0, "amount", .decimal(ExactDecimal(units: 99, scale: 0))), max.write($0, "next_step", .text("经理"))] }
            answers.append(try enginePush(engine, users["max"]!, try max.batch(writes)))
            // The first push again: answered from its stored answer.
            answers.append(try enginePush(engine, users["sam"]!, created))
            let store = engine.store
            outcomes.append(
                (
                    answers, try store.log(after: 0, limit: 100_000),
                    try store.conflicts(after: 0, concerning: ["sam", "max"], author: "sam", limit: 100_000),
                    try store.records(deals, workspace: engine.workspace)
                ))
        }
        let (with, without) = (outcomes[0], outcomes[1])
        #expect(with.log.count > 1_200, "every write that holds is logged")
        #expect(with.conflicts.count >= 120, "the stale writes lost")
        #expect(with.records.count == 60)
        #expect(with.answers == without.answers)
        #expect(with.log == without.log)
        #expect(with.conflicts == without.conflicts)
        #expect(with.records == without.records)
    }

    /// A log row the writer cannot write (a trigger refuses the 600th of the push: in a later
    /// group handed over) fails the push; nothing of it is kept — no log entry, no record, the
    /// batch not taken — and the same push goes through once the row can be written.
    @Test func aRowTheWriterCannotWriteFailsThePushAndLeavesNothing() throws {
        let (engine, users) = try Self.engine(rowsBesideDecisionsFrom: 1)
        let sqlite = try #require(engine.store as? SQLiteHubStore)
        var rng = SeededGenerator(seed: 12)
        var sam = TestReplica(user: "sam", token: "", seed: 1)
        try engineHandshake(engine, users["sam"]!, sam)
        let (writes, deals) = Self.newDeals(&sam, rng: &rng) { i, j in ("next_step", .text("\(i)-\(j)")) }
        let request = try sam.batch(writes)
        let head = try engine.store.head()
        try sqlite.database.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON log WHEN NEW.seq = \(head + 600) BEGIN SELECT RAISE(ABORT, 'refused by the test'); END")
        #expect(throws: (any Error).self) { try enginePush(engine, users["sam"]!, request) }
        #expect(try engine.store.head() == head)
        #expect(try engine.store.records(deals, workspace: engine.workspace).isEmpty)
        #expect(try engine.store.replica(sam.id)?.lastBatch == 0)
        try sqlite.database.execute("DROP TRIGGER refuse")
        let answer = try BodyCodec.decode(PushResponse.self, from: try enginePush(engine, users["sam"]!, request), as: .protobuf)
        #expect(answer.results.count == writes.count)
        // The later writes to a field win over the earlier ones of the batch (none names a base).
        #expect(answer.results.allSatisfy { $0.outcome == .applied || $0.outcome == .won })
        #expect(try engine.store.head() >= head + UInt64(writes.count))
        #expect(try engine.store.records(deals, workspace: engine.workspace).count == 60)
    }
}

extension RowWriterTests {
    /// An import of a few hundred accounts and the deals naming them, on a hub that writes each
    /// thousand rows beside the next ones and on one that writes them in place: the same log and
    /// records (the deals' references read back the accounts the writer saved).
    @Test func anImportLeavesWhatItLeavesWithoutTheWriter() throws {
        var rng = SeededGenerator(seed: 13)
        let accounts = (0..<100).map { _ in UUID128.version7(milliseconds: 1_794_000_000_000, using: &rng) }
        let deals = (0..<1_050).map { _ in UUID128.version7(milliseconds: 1_794_000_000_001, using: &rng) }
        let accountFile = "id,name,industry\n" + accounts.enumerated().map { "\($1),客户 \($0),manufacturing\n" }.joined()
        let dealFile = "id,name,stage,owner,account,amount\n" + deals.enumerated().map { "\($1),商机 \($0),discovery,sam,\(accounts[$0 % 100]),\($0).00\n" }.joined()
        // The hubs' own replica ids differ (the imported writes carry them): compared without them.
        var outcomes = [(log: [String], records: [RecordID: [String: Value]])]()
        for from in [1, Int.max] {
            let (engine, _) = try Self.engine(rowsBesideDecisionsFrom: from)
            for (type, file) in [("account", accountFile), ("opportunity", dealFile)] {
                let result = try engine.importRecords(entity: type, rows: try CSV.parse(file), author: nil, skipInvalid: false)
                #expect(result.problems.isEmpty, "\(result.problems.prefix(3))")
            }
            let log = try engine.store.log(after: 0, limit: 100_000).map {
                "\($0.entry.sequence) \($0.entry.record) \($0.entry.field) \($0.entry.kind) \($0.entry.value) \($0.entry.stamp.hlc) \($0.entry.author)"
            }
            let records = try engine.store.records(accounts + deals, workspace: engine.workspace).mapValues { r in
                r.fields.mapValues(\.value).merging(["": r.created.value]) { a, _ in a }
            }
            outcomes.append((log, records))
        }
        #expect(outcomes[0].records.count == 1_150)
        #expect(outcomes[0].log.count > 1_150 * 3)
        #expect(outcomes[0].log == outcomes[1].log)
        #expect(outcomes[0].records == outcomes[1].records)
    }
}
