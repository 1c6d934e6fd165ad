import Foundation
import OppsCommands
import OppsCore
import OppsReplica
import OppsStore
import OppsWire
import SwiftProtobuf
import Testing

/// Passes everything through, except that the page a push's answer carries names a field of the
/// opportunity this replica's workspace lacks (as a page of a newer workspace would), after
/// `before` has run (once).
final class PageSpoilingTransport: Transport, @unchecked Sendable {
    let inner: HTTPTransport
    let before: @Sendable () async -> Void
    let lock = NSLock()
    var spoiled = 0

    init(_ inner: HTTPTransport, before: @escaping @Sendable () async -> Void = {}) {
        self.inner = inner
        self.before = before
    }

    func send<Out: SwiftProtobuf.Message>(_ endpoint: String, body: [UInt8], token: String, as: Out.Type) async throws(TransportError) -> Out {
        let answer = try await inner.send(endpoint, body: body, token: token, as: Out.self)
        guard var push = answer as? PushResponse, push.hasPull, !push.pull.changes.isEmpty, lock.withLock({ spoiled == 0 }) else { return answer }
        lock.withLock { spoiled += 1 }
        await before()
        push.pull.changes[0].field = 9_999
        return push as! Out
    }
}

/// A sync with writes settles the batch's answer in the commit that applies the page the answer
/// carried (`Replica.apply`). When that page cannot be applied, the answer still stands: the
/// settle is committed alone, nothing is left pending, and the trail says what the hub decided —
/// whether the sync then goes on (a newer workspace to follow) or fails.
@Suite(.serialized) struct CarriedPageSettleTests {
    /// A deal made here and sent, whose copy from the hub did not come back with the answer (the
    /// page could not be applied): the laptop shows it as it was made. An edit to it is taken
    /// back to that, not refused: before, undo said it "cannot rebuild" the deal and kept the edit.
    @Test func anEditToADealTheHubHasNotSentBackIsTakenBack() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            let http = HTTPTransport(baseURL: url)
            defer { Task { await http.shutdown() } }
            let replica = try await f.samsLaptop(url, http)
            var rng = SeededGenerator(seed: 12)
            // A deal synced before, written again with the new one: the page the answer carries
            // has a change to spoil.
            let older = try replica.create(entity: "opportunity", stage: "discovery", fields: [("name", .text("北京仪表"))], using: &rng).record
            _ = try await replica.sync(transport: http)
            _ = try replica.edit(older, [("next_step", .text("拜访"))])
            let deal = try replica.create(
                entity: "opportunity", stage: "discovery", fields: [("name", .text("上海仪表")), ("amount", .decimal(ExactDecimal(units: 3_000_000, scale: 2)))],
                using: &rng
            ).record
            await #expect(throws: ReplicaError.self) { _ = try await replica.sync(transport: PageSpoilingTransport(http)) }
            #expect(try replica.store.confirmed(deal, workspace: replica.workspace) == nil && replica.store.outboxCount() == 0, "sent, not yet back")
            _ = try replica.edit(deal, [("amount", .decimal(ExactDecimal(units: 4_500_000, scale: 2))), ("next_step", .text("报价"))])
            let edit = try #require(try replica.lastEdit())
            try replica.undo(edit)
            let shown = try #require(try replica.record(deal))
            #expect(shown["amount"] == .decimal(ExactDecimal(units: 3_000_000, scale: 2)) && shown["next_step"] == .null && shown["name"] == .text("上海仪表"))
            #expect(try replica.store.outboxCount() == 0)
            // The next sync brings the hub's copy, which agrees.
            let after = try await replica.sync(transport: http)
            #expect(!after.repaired && after.pushed == 0)
            #expect(try replica.store.confirmed(deal, workspace: replica.workspace)?["amount"] == .decimal(ExactDecimal(units: 3_000_000, scale: 2)))
        }
    }

    @Test func aPushStandsWhenThePageItCarriedCannotBeApplied() async throws {
        let f = try CommandFixture()
        let (file, nextVersion) = try WorkspaceDuringPullTests.nextWorkspaceFile(in: f)
        try await f.serving { url in
            let http = HTTPTransport(baseURL: url)
            let replica = try await f.samsLaptop(url, http)
            var rng = SeededGenerator(seed: 11)
            let deal = try replica.create(entity: "opportunity", stage: "discovery", fields: [("name", .text("上海仪表"))], using: &rng).record
            _ = try await replica.sync(transport: http)

            // The next sync's page names a field this replica lacks; the operator has applied a
            // newer workspace meanwhile, so the replica takes it and pulls again.
            _ = try replica.edit(deal, [("next_step", .text("报价"))])
            let hubDirectory = f.root + "/hub"
            let spoiling = PageSpoilingTransport(http) {
                let applied = await oppsHub("workspace", "apply", file, "--data", hubDirectory)
                #expect(applied.code == 0, "\(applied.stdout) \(applied.stderr)")
            }
            let report = try await replica.sync(transport: spoiling)
            #expect(spoiling.spoiled == 1)
            #expect(replica.workspace.version == nextVersion, "the replica followed the newer workspace")
            #expect(report.applied == 1 && report.conflicts == 0)
            // The answer was settled though its page was not applied: nothing pending, the trail
            // says what the hub decided.
            #expect(try replica.store.pendingBatch() == nil)
            #expect(try replica.store.outboxCount() == 0)
            let line = try #require(try replica.store.history(deal).last { $0.field == "next_step" && $0.source == "local" })
            #expect(line.rule == "synced")
            #expect(try replica.store.confirmed(deal, workspace: replica.workspace)?["next_step"] == .text("报价"), "the pull after it brought the write back")

            // A sync that cannot follow (no newer workspace to take) fails, and the push stands.
            _ = try replica.edit(deal, [("next_step", .text("签约"))])
            let stuck = PageSpoilingTransport(http)
            await #expect(throws: ReplicaError.self) { _ = try await replica.sync(transport: stuck) }
            #expect(stuck.spoiled == 1)
            #expect(try replica.store.pendingBatch() == nil && replica.store.outboxCount() == 0)
            #expect(try replica.store.history(deal).last { $0.field == "next_step" && $0.source == "local" }?.rule == "synced")
            // The next sync is an ordinary one, verified against the hub's checkpoint.
            let after = try await replica.sync(transport: http)
            #expect(after.pushed == 0 && !after.repaired)
            #expect(try replica.store.confirmed(deal, workspace: replica.workspace)?["next_step"] == .text("签约"))
            #expect(try replica.store.meta("last_sync") != nil)
            await http.shutdown()
        }
    }
}
