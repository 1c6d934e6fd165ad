import Foundation
import Hummingbird
import HummingbirdTesting
import OppsCore
import OppsStore
import OppsTestSupport
import OppsWire
import SwiftProtobuf
import Testing

@testable import OppsHub

/// A push that carries its pull (protocol 5, sync-protocol.md §5.4), through the HTTP handlers
/// and the hub's group commit: the page is the one a pull of its own would get, the pull is not
/// part of the batch, a refused pull leaves the push standing, and a pull for another replica
/// refuses the whole request.
@Suite struct CarriedPullTests {
    @Test func theCarriedPageIsThePageAPullWouldGetAfterThePush() async throws {
        let f = try HubFixture()
        try await f.live { c in
            var rng = SeededGenerator(seed: 3)
            let rs = try await f.replicas("sam", "ann", client: c)
            var sam = rs[0], ann = rs[1]
            // A deal and its amount, with the pull: the page brings them back (as of after the push).
            let deal = sam.create(using: &rng)
            let amount = sam.write(deal.record, "amount", .decimal(ExactDecimal(units: 4_200_000, scale: 2)))
            let response = try await c.call(
                Endpoint.push, try sam.batch([deal, amount], pull: sam.pullRequest(maxChanges: 0)), token: sam.token, as: PushResponse.self)
            #expect(response.results.map(\.outcome) == [.applied, .applied])
            #expect(response.hasPull && !response.hasPullError)
            #expect(!response.pull.more && response.pull.hasCheckpoint)
            try sam.apply(response.pull)
            sam.expectHolds([deal.record])
            #expect(sam.state[deal.record]?["amount"] == amount.value)
            #expect(sam.cursor == response.head, "the page covers the push it followed")

            // The next carried page holds the user's own write as a change, as a pull would.
            let step = sam.write(deal.record, "next_step", .text("报价"))
            let next = try await c.call(Endpoint.push, try sam.batch([step], pull: sam.pullRequest(maxChanges: 0)), token: sam.token, as: PushResponse.self)
            #expect(next.pull.changes.map(\.sequence) == [next.results[0].sequence])
            try sam.apply(next.pull)
            sam.expectHolds([deal.record])

            // The operator counts syncs by pages served: a carried page is one (no pull request was made).
            let metrics = String(buffer: try await c.get(Endpoint.metrics).body)
            #expect(metrics.split(separator: "\n").contains { $0.hasPrefix("opps_pull_pages_total ") && $0.hasSuffix(" 2") })
            // No pull was asked for: its count, registered from the start, is still 0.
            let pulls = metrics.split(separator: "\n").filter { $0.hasPrefix("opps_http_requests_total{") && $0.contains("route=\"pull\"") }
            #expect(pulls.count == 1 && pulls.allSatisfy { $0.hasSuffix(" 0") }, "\(pulls)")

            // The carried page was the whole answer: a pull of its own now brings nothing more.
            let after = try await c.call(Endpoint.pull, sam.pullRequest(maxChanges: 0), token: sam.token, as: PullResponse.self)
            #expect(after.changes.isEmpty && after.entered.isEmpty && after.left.isEmpty && !after.more)
            #expect(after.cursor == next.pull.cursor && after.checkpoint.checksum == next.pull.checkpoint.checksum)

            // What another rep's carried pull brings is what they may see: not sam's deal.
            let own = ann.create(using: &rng)
            let annPage = try await c.call(Endpoint.push, try ann.batch([own], pull: ann.pullRequest(maxChanges: 0)), token: ann.token, as: PushResponse.self)
            try ann.apply(annPage.pull)
            ann.expectHolds([own.record])
        }
    }

    @Test(arguments: [WireFormat.protobuf, .json])
    func theCarriedPullIsNotPartOfTheBatch(media: WireFormat) async throws {
        let f = try HubFixture()
        try await f.live { client in
            var c = client
            c.media = media
            var rng = SeededGenerator(seed: 5)
            var sam = try await f.replicas("sam", client: c)[0]
            let deal = sam.create(using: &rng)
            let first = try sam.batch([deal], pull: sam.pullRequest(maxChanges: 0))
            let answered = try await c.call(Endpoint.push, first, token: sam.token, as: PushResponse.self)
            #expect(!answered.replayed && answered.results[0].outcome == .applied)
            // The same batch with another pull, and with none: replays, not batch-mismatch.
            var other = first
            other.pull = sam.pullRequest(maxChanges: 1)
            other.pull.cursor = answered.head
            var bare = first
            bare.clearPull()
            for again in [other, bare] {
                let replay = try await c.call(Endpoint.push, again, token: sam.token, as: PushResponse.self)
                #expect(replay.replayed)
                #expect(replay.results == answered.results)
                #expect(replay.hasPull == again.hasPull, "a replay answers the pull it carries too")
            }
            // Different writes under the same number are still a mismatch, whatever the pull.
            var forged = first
            forged.writes[0].hlcDelta += 1
            await #expect { _ = try await c.call(Endpoint.push, forged, token: sam.token, as: PushResponse.self) } throws: { error in
                (error as? WireClient.Failure)?.error.code == .batchMismatch
            }
            #expect(try await f.hub.head() == answered.head, "nothing applied twice")
        }
    }

    @Test func aRefusedCarriedPullLeavesThePushStanding() async throws {
        let f = try HubFixture()
        try await f.live { c in
            var rng = SeededGenerator(seed: 7)
            var sam = try await f.replicas("sam", client: c)[0]
            let deal = sam.create(using: &rng)
            var pull = sam.pullRequest(maxChanges: 0)
            pull.cursor = 1_000_000  // beyond the head: cursor-ahead
            let response = try await c.call(Endpoint.push, try sam.batch([deal], pull: pull), token: sam.token, as: PushResponse.self)
            #expect(response.results.map(\.outcome) == [.applied])
            #expect(!response.hasPull && response.hasPullError)
            #expect(WireError(body: response.pullError).code == .cursorAhead)
            // The push stands: a pull of its own brings the deal.
            try await sam.pull(c)
            sam.expectHolds([deal.record])
        }
    }

    @Test func aCarriedPullForAnotherReplicaRefusesTheWholeRequest() async throws {
        let f = try HubFixture()
        try await f.live { c in
            var rng = SeededGenerator(seed: 9)
            let rs = try await f.replicas("sam", "tom", client: c)
            var sam = rs[0]
            let head = try await f.hub.head()
            let deal = sam.create(using: &rng)
            // tom's replica, though tom's token is not sam's: the hub must not build his pages.
            let request = try sam.batch([deal], pull: rs[1].pullRequest(maxChanges: 0))
            await #expect { _ = try await c.call(Endpoint.push, request, token: sam.token, as: PushResponse.self) } throws: { error in
                (error as? WireClient.Failure)?.error.code == .malformedBody && (error as? WireClient.Failure)?.status == 400
            }
            #expect(try await f.hub.head() == head, "nothing of the batch applied")
        }
    }

    /// Pushes that commit in one group each get their own page, built after the commit.
    @Test func aGroupOfPushesEachGetTheirOwnPage() async throws {
        let f = try HubFixture()
        try await f.live { c in
            let names = ["sam", "tom", "ann", "max"]
            let laptops = try await f.replicas("sam", "tom", "ann", "max", client: c)
            let pages = try await withThrowingTaskGroup(of: (String, RecordID, PushResponse).self) { group in
                for (i, laptop) in laptops.enumerated() {
                    group.addTask {
                        var r = laptop
                        var rng = SeededGenerator(seed: UInt64(40 + i))
                        let deal = r.create(using: &rng)
                        let request = try r.batch([deal], pull: r.pullRequest(maxChanges: 0))
                        return (names[i], deal.record, try await c.call(Endpoint.push, request, token: r.token, as: PushResponse.self))
                    }
                }
                var out = [(String, RecordID, PushResponse)]()
                for try await p in group { out.append(p) }
                return out
            }
            #expect(pages.count == names.count)
            for (name, deal, response) in pages {
                #expect(response.results.first?.outcome == .applied, "\(name)")
                #expect(response.hasPull, "\(name)")
                let entered = Set(response.pull.entered.compactMap { RecordID(bytes: $0.record) })
                #expect(entered.contains(deal), "\(name)'s page holds their own deal")
                #expect(response.pull.cursor >= response.results[0].sequence, "\(name)'s page was built after the commit")
            }
        }
    }
}
