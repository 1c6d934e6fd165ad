import Foundation
import Hummingbird
import HummingbirdTesting
import OppsCore
import OppsStore
import OppsWire
import Testing

@testable import OppsHub

/// Deletion is not leaving (merge-semantics.md §7.2): a replica that held a deleted record gets
/// the `delete` change itself, in `changes`, and keeps the tombstone; a replica that never held
/// it gets nothing; a record that only went out of sight arrives in `left`. Checksums leave
/// tombstones out, so both kinds of replica agree with the hub's checkpoint.
@Suite struct DeletionTests {
    @Test func aReplicaThatHeldTheRecordLearnsItWasDeleted() async throws {
        let f = try HubFixture()
        try await f.application().test(.router) { client in
            let c = WireClient(client: client)
            var rng = SeededGenerator(seed: 41)
            var rs = try await f.replicas("sam", "max", client: c)
            var sam = rs[0], max = rs[1]
            let deal = sam.create(using: &rng)
            let other = sam.create(using: &rng)
            let activity = sam.create("activity", stage: nil, using: &rng)
            _ = try await sam.push(
                c,
                [
                    deal, sam.write(deal.record, "name", .text("北辰物流 续约")), other,
                    activity, sam.write(activity.record, "opportunity", .reference(deal.record), entity: "activity"),
                ])
            try await sam.pull(c)
            try await max.pull(c)
            #expect(sam.state[deal.record] != nil && max.state[deal.record] != nil)

            // The manager deletes the deal (the default workspace lets managers delete).
            let delete = FieldWrite(record: deal.record, entity: "opportunity", kind: .delete, author: "max", stamp: max.stamp())
            let answer = try await max.push(c, [delete])
            #expect(answer.results.first?.rule == RuleID.delete.rawValue)
            let deleteSequence = try #require(answer.results.first?.sequence)

            // sam held it: the page carries the delete change itself, not a `left` entry.
            let page = try await c.call(Endpoint.pull, sam.pullRequest(maxChanges: 0), token: sam.token, as: PullResponse.self)
            let deletes = page.changes.filter { $0.kind == .delete }
            #expect(deletes.count == 1)
            #expect(deletes.first?.record == Data(deal.record.bytes))
            #expect(deletes.first?.sequence == deleteSequence)
            #expect(page.authors[Int(deletes.first?.author ?? 99)] == "max")
            #expect(!page.left.contains(Data(deal.record.bytes)), "a deleted record is not 'no longer visible'")
            // What hung off it is out of sight now: that is leaving.
            #expect(page.left.contains(Data(activity.record.bytes)))
            #expect(page.changes.map(\.sequence) == page.changes.map(\.sequence).sorted(), "changes stay in sequence order")
            try sam.apply(page)
            #expect(sam.state[deal.record]?.isDeleted == true)
            #expect(sam.state[other.record]?.isDeleted == false)
            // The checkpoint leaves tombstones out: what the replica holds agrees with it.
            #expect(page.checkpoint.checksum == sam.checksum.value)
            #expect(page.checkpoint.records == 1)

            // The next pull does not send it again.
            let again = try await c.call(Endpoint.pull, sam.pullRequest(maxChanges: 0), token: sam.token, as: PullResponse.self)
            #expect(again.changes.isEmpty && again.left.isEmpty && again.entered.isEmpty)

            // A fresh replica never hears of the record.
            var fresh = TestReplica(user: "sam", token: f.tokens["sam"]!, seed: 77)
            _ = try await fresh.handshake(c)
            try await fresh.pull(c)
            #expect(fresh.state[deal.record] == nil)
            #expect(fresh.checkpoints.last?.checksum == sam.checksum.value)

            // The manager's own replica (it made the delete) learns it through the log as well.
            try await max.pull(c)
            #expect(max.state[deal.record]?.isDeleted == true)
            #expect(max.checkpoints.last?.checksum == max.checksum.value)

            // Writes to it afterwards are refused and kept (I9).
            let late = sam.write(deal.record, "name", .text("late"))
            let refused = try await sam.push(c, [late])
            #expect(refused.results.first?.rule == RuleID.recordDeleted.rawValue)
            #expect(refused.results.first?.conflict ?? 0 > 0)
            rs = [sam, max]
        }
    }

    @Test func aRecordThatOnlyWentOutOfSightLeaves() async throws {
        let f = try HubFixture()
        try await f.application().test(.router) { client in
            let c = WireClient(client: client)
            var rng = SeededGenerator(seed: 42)
            let rs = try await f.replicas("sam", "max", client: c)
            var sam = rs[0], max = rs[1]
            let deal = sam.create(using: &rng)
            _ = try await sam.push(c, [deal])
            try await sam.pull(c)
            try await max.pull(c)
            _ = try await max.push(c, [max.write(deal.record, "owner", .text("tom"))])
            let page = try await c.call(Endpoint.pull, sam.pullRequest(maxChanges: 0), token: sam.token, as: PullResponse.self)
            #expect(page.left == [Data(deal.record.bytes)])
            #expect(page.changes.allSatisfy { $0.kind != .delete })
        }
    }
}

/// A merge is a delete naming a survivor (merge-semantics.md §7.3): refused for a bad survivor,
/// logged with value null, and every reference — in records the merger sees or not — re-pointed.
@Suite struct MergeSemanticsTests {
    @Test func aMergeRepointsEveryReferenceAndRefusesABadSurvivor() async throws {
        let f = try HubFixture()
        try await f.application().test(.router) { client in
            let c = WireClient(client: client)
            var rng = SeededGenerator(seed: 43)
            let rs = try await f.replicas("sam", "tom", "max", client: c)
            var sam = rs[0], tom = rs[1], max = rs[2]
            // Two Omegas, each with a deal; tom's also with a contact only tom sees.
            let omega = sam.create("account", stage: nil, using: &rng), omega2 = tom.create("account", stage: nil, using: &rng)
            let samDeal = sam.create(using: &rng), tomDeal = tom.create(using: &rng)
            let contact = tom.create("contact", stage: nil, using: &rng)
            _ = try await sam.push(
                c,
                [
                    omega, sam.write(omega.record, "name", .text("Omega"), entity: "account"),
                    samDeal, sam.write(samDeal.record, "account", .reference(omega.record)),
                ])
            _ = try await tom.push(
                c,
                [
                    omega2, tom.write(omega2.record, "name", .text("OMEGA Ltd."), entity: "account"),
                    tomDeal, tom.write(tomDeal.record, "account", .reference(omega2.record)),
                    contact, tom.write(contact.record, "account", .reference(omega2.record), entity: "contact"),
                ])
            try await max.pull(c)
            try await tom.pull(c)
            #expect(max.state[omega2.record] != nil && max.state[contact.record] == nil, "the manager sees the account through the deal, not tom's contact")

            func merge(_ survivor: Value, author: inout TestReplica) async throws -> WriteResult? {
                let w = FieldWrite(record: omega2.record, entity: "account", kind: .delete, value: survivor, author: author.user, stamp: author.stamp())
                return try await author.push(c, [w]).results.first
            }
            // Bad survivors: itself, a deal, a record that does not exist; a rep may not delete at all.
            #expect(try await merge(.reference(omega2.record), author: &max)?.rule == RuleID.typeMismatch.rawValue)
            #expect(try await merge(.reference(samDeal.record), author: &max)?.rule == RuleID.typeMismatch.rawValue)
            #expect(try await merge(.reference(RecordID(high: 9, low: 9)), author: &max)?.rule == RuleID.typeMismatch.rawValue)
            #expect(try await merge(.text("Omega"), author: &max)?.rule == RuleID.typeMismatch.rawValue)
            #expect(try await merge(.reference(omega.record), author: &tom)?.rule == RuleID.deleteNotPermitted.rawValue)

            let done = try await merge(.reference(omega.record), author: &max)
            #expect(done?.rule == RuleID.delete.rawValue, "\(String(describing: done))")
            // Everyone who holds a referencing record gets the new reference, the merger's name on it.
            try await tom.pull(c)
            #expect(tom.state[tomDeal.record]?["account"] == .reference(omega.record))
            #expect(tom.state[contact.record]?["account"] == .reference(omega.record), "re-pointed although the manager never saw it")
            #expect(tom.state[contact.record]?.fields["account"]?.author == "max")
            #expect(tom.state[omega.record] != nil, "the account kept reaches tom through his deal")
            #expect(tom.state[omega2.record]?.isDeleted == true)
            // The tombstone names nobody: the delete is logged with value null.
            let log = try SQLiteHubStore(path: f.configuration.databasePath).log(record: omega2.record)
            #expect(log.last?.entry.kind == .delete && log.last?.entry.value == .null)
            try await sam.pull(c)
            #expect(sam.state[samDeal.record]?["account"] == .reference(omega.record))
        }
    }
}
