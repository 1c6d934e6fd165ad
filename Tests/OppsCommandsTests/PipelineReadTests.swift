import Foundation
import OppsCore
import OppsReplica
import Testing

/// The reports read an activity as its deal and time straight from its row (`forEachChild`:
/// the parent column and one field, the rest passed over): the same pipeline as decoding every
/// activity whole, for activities confirmed by the hub and still pending, by this user and by
/// another, with a time given and one made without (read from its creation).
@Suite struct PipelineReadTests {
    @Test func activitiesReadFromTheirRowsAreTheWholeRecordsActivities() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            for u in ["sam", "max"] { #expect(await f.initReplica(u, url).code == 0) }
            let (sam, max) = (f.home("sam"), f.home("max"))
            var deals = [String]()
            for n in 1...3 {
                deals.append(try #require(await opps("new", "Deal \(n)", "--account", "ACME", "--home", sam, "--json").json?["id"]?.string))
            }
            #expect(await opps("log", deals[0], "call", "spoke to the CIO", "--at", "2026-11-02 10:00", "--home", sam).code == 0)
            #expect(await opps("log", deals[1], "visit", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            #expect(await opps("log", deals[1], "meeting", "reviewed the quote", "--home", max).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            #expect(await opps("sync", "--home", sam).code == 0)
            // One still pending here, and one made with no time of its own (a hand-made write).
            #expect(await opps("log", deals[2], "note", "sent the case study", "--home", sam).code == 0)
            let r = try Replica(home: sam, clock: FixedClock(milliseconds: 1_795_000_000_000))
            var rng = SeededGenerator(seed: 3)
            _ = try r.create(
                entity: "activity", stage: nil, fields: [("opportunity", .reference(try #require(RecordID(parsing: deals[2])))), ("kind", .member("call"))], using: &rng)
            let held = try r.store.list(entity: "activity", workspace: r.workspace)
            #expect(held.count == 5 && held.contains { $0["at"].isNull })
            let whole = Pipeline(workspace: r.workspace, records: held).activities
            let fromRows = try r.pipeline().activities
            #expect(fromRows == whole, "\(fromRows) \(whole)")
            #expect(fromRows.values.reduce(0) { $0 + $1.count } == 5)
            // A name read alone (a look-up by name) is the record's, pending or confirmed.
            #expect(await opps("set", deals[0], "name=Deal 1 renamed", "--home", sam).code == 0)
            for entity in ["opportunity", "account"] {
                var names = [RecordID: Value?]()
                try r.store.forEachValue(entity: entity, field: "name", workspace: r.workspace) { names[$0] = $1 }
                let records = try r.store.list(entity: entity, workspace: r.workspace)
                #expect(names.count == records.count && records.allSatisfy { names[$0.id] == $0["name"] }, "\(entity)")
            }
            #expect(await opps("show", "Deal 1 renamed", "--home", sam).stdout.contains("Deal 1 renamed"))
        }
    }
}
