import Foundation
import OppsCore
import OppsReplica
import OppsStore
import OppsTestSupport
import OppsWire
import SwiftProtobuf
import Testing

@testable import OppsHub

/// A sync with nothing to push opens with its pull (sync-protocol.md §3, protocol 4), and a page
/// that delivers no records keeps its token (§6.2): a quiet laptop costs the hub one exchange
/// that writes nothing. Every pull here runs with `verifySnapshots`, so a page that skipped an
/// acknowledgement it needed fails the pull itself (the store and the hub's memory disagree).
struct QuietSyncTests: ReplicaSyncSuite {
    let fixture: ReplicaSyncFixture
    init() throws { fixture = try ReplicaSyncFixture("opps-quiet") }

    func row(_ r: Replica) throws -> ReplicaRow { try #require(try engine.store.replica(r.id)) }

    /// What the replica holds is what its user may see, field for field.
    func expectHoldsWhatItMay(_ r: Replica, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let user = try #require(try engine.store.user(named: name))
        let expected = try engine.visibleState(for: user).sorted { $0.id < $1.id }
        let held = try r.store.allConfirmed(workspace: engine.workspace).sorted { $0.id < $1.id }
        #expect(held.map(\.id) == expected.map(\.id), sourceLocation: sourceLocation)
        for (h, e) in zip(held, expected) { #expect(h.fields.mapValues(\.value) == e.fields.mapValues(\.value), sourceLocation: sourceLocation) }
    }

    @Test func aSyncWithNothingToPushIsOnePullThatWritesNothing() async throws {
        let sam = try await replica("sam"), max = try await replica("max")
        var rng = SystemRandomNumberGenerator()
        let deal = try sam.create(entity: "opportunity", stage: "discovery", fields: [("name", .text("华北电网"))], using: &rng).record
        transport.reset()
        _ = try await sam.sync(transport: transport)
        #expect(transport.endpoints == [Endpoint.handshake, Endpoint.push], "writes to push: the handshake first; the push carries the pull (protocol 5)")
        _ = try await max.sync(transport: transport)

        // Nothing to push, nothing new: one pull, and the hub keeps the token and the row.
        _ = try await sam.sync(transport: transport)  // acknowledges the last page's ack watermark
        let before = try row(sam)
        clock.advance(5_000)
        transport.reset()
        let report = try await sam.sync(transport: transport)
        #expect(transport.endpoints == [Endpoint.pull])
        #expect(report.pages == 1 && report.pulled == 0)
        let after = try row(sam)
        #expect(after.pullToken == before.pullToken, "a page that delivers nothing keeps its token")
        #expect(after.lastSeenMilliseconds == before.lastSeenMilliseconds, "nothing written within a minute")
        #expect(after.ack == before.ack && after.sentCursor == before.sentCursor)

        // A minute later the last-seen time moves (the operator's status reads it).
        clock.advance(PullPage.lastSeenResolution)
        _ = try await sam.sync(transport: transport)
        #expect(try row(sam).lastSeenMilliseconds == clock.nowMilliseconds())
        #expect(try row(sam).pullToken == before.pullToken)

        // Their manager edits the deal sam holds: sam's pull carries the change; the token still
        // stays (a change to a held record is not a delivered record).
        try max.edit(deal, [("next_step", .text("演示"))])
        _ = try await max.sync(transport: transport)
        transport.reset()
        _ = try await sam.sync(transport: transport)
        #expect(transport.endpoints == [Endpoint.pull])
        #expect(try sam.store.view(deal, workspace: sam.workspace)?["next_step"] == .text("演示"))
        #expect(try row(sam).pullToken == before.pullToken)
        try expectHoldsWhatItMay(sam, "sam")
    }

    /// A record entering the user's view is a delivered record: its page mints a token, which
    /// the next quiet pull acknowledges, and a record leaving is removed the same way.
    @Test func recordsEnteringAndLeavingStillMoveTheToken() async throws {
        let sam = try await replica("sam"), tom = try await replica("tom"), max = try await replica("max")
        var rng = SystemRandomNumberGenerator()
        let deal = try tom.create(entity: "opportunity", stage: "discovery", fields: [("name", .text("东方航空"))], using: &rng).record
        _ = try await tom.sync(transport: transport)
        for r in [sam, max] { _ = try await r.sync(transport: transport) }
        _ = try await sam.sync(transport: transport)
        let quiet = try row(sam).pullToken
        #expect(try sam.store.view(deal, workspace: sam.workspace) == nil)

        try max.edit(deal, [("owner", .text("sam"))])
        _ = try await max.sync(transport: transport)
        transport.reset()
        _ = try await sam.sync(transport: transport)
        #expect(transport.endpoints == [Endpoint.pull])
        #expect(try sam.store.view(deal, workspace: sam.workspace)?["name"] == .text("东方航空"))
        let entered = try row(sam).pullToken
        #expect(entered > quiet, "a page delivering a record has a token of its own")

        // The next quiet pull echoes it: the store now counts the deal as held, and that page
        // (delivering nothing) keeps the token; the one after has nothing to acknowledge.
        _ = try await sam.sync(transport: transport)
        #expect(try engine.store.known(replica: sam.id)[deal] != nil)
        #expect(try row(sam).pullToken == entered)
        _ = try await sam.sync(transport: transport)
        #expect(try row(sam).pullToken == entered)

        try max.edit(deal, [("owner", .text("tom"))])
        _ = try await max.sync(transport: transport)
        _ = try await sam.sync(transport: transport)
        #expect(try sam.store.view(deal, workspace: sam.workspace) == nil, "a deal handed away leaves")
        _ = try await sam.sync(transport: transport)
        #expect(try engine.store.known(replica: sam.id)[deal] == nil)
        try expectHoldsWhatItMay(sam, "sam")

        // A restarted hub has no memory of its pages: its first pull acknowledges through the store.
        let restarted = try HubEngine(store: engine.store, configuration: engine.configuration)
        let other = RecordingTransport(LockedEngine(restarted))
        _ = try await sam.sync(transport: other)
        _ = try await sam.sync(transport: other)
        #expect(other.endpoints == [Endpoint.pull, Endpoint.pull])
        try expectHoldsWhatItMay(sam, "sam")
    }

    /// What a handshake would have said arrives with the pull: a new role, a new workspace
    /// (refused, then handshaken for), a hub that no longer knows the replica.
    /// A deal of tom's, so the log is not empty (a replica at cursor 0 pulls from nothing, and
    /// handshakes first).
    func logNotEmpty() async throws {
        let tom = try await replica("tom")
        var rng = SystemRandomNumberGenerator()
        _ = try tom.create(entity: "opportunity", stage: "discovery", fields: [("name", .text("中粮"))], using: &rng)
        _ = try await tom.sync(transport: transport)
    }

    @Test func whatAHandshakeSaysStillArrives() async throws {
        try await logNotEmpty()
        let sam = try await replica("sam")
        _ = try await sam.sync(transport: transport)

        _ = try engine.updateUser("sam") { $0.role = "expert" }
        transport.reset()
        _ = try await sam.sync(transport: transport)
        #expect(transport.endpoints == [Endpoint.pull])
        #expect(sam.role == "expert")
        #expect(try sam.store.meta("role") == "expert")

        let version = engine.workspace.version
        _ = try engine.apply(workspace: Workspace.defaultDocument.replacingOccurrences(of: "\"version\": \(version),", with: "\"version\": \(version + 1),"))
        transport.reset()
        _ = try await sam.sync(transport: transport)
        #expect(transport.endpoints == [Endpoint.pull, Endpoint.handshake, Endpoint.pull], "workspace-outdated, then the handshake that sends it")
        #expect(sam.workspace.version == version + 1)

        // Restored from a backup older than this replica: the hub does not know it.
        let store = try #require(engine.store as? SQLiteHubStore)
        try store.database.execute("DELETE FROM replicas WHERE id = ?", [.blob(sam.id.bytes)])
        transport.reset()
        _ = try await sam.sync(transport: transport)
        #expect(transport.endpoints == [Endpoint.pull, Endpoint.handshake, Endpoint.pull])
        #expect(try engine.store.replica(sam.id)?.user == "sam")

        // Writes waiting: pushed without a handshake too.
        _ = try engine.updateUser("sam") { $0.role = "sales" }
        _ = try await sam.sync(transport: transport)
        var rng = SystemRandomNumberGenerator()
        let deal = try sam.create(entity: "opportunity", stage: "discovery", fields: [("name", .text("招商银行"))], using: &rng).record
        transport.reset()
        var report = try await sam.sync(transport: transport)
        #expect(transport.endpoints == [Endpoint.push], "one exchange: the push carries the pull")
        #expect(report.pushed > 0 && report.applied == report.pushed)
        try expectHoldsWhatItMay(sam, "sam")

        // Restored from a backup older than its last batches: the next batch is out of order;
        // the handshake's last_batch renumbers it, and it goes again.
        try store.database.execute("UPDATE replicas SET last_batch = 0 WHERE id = ?", [.blob(sam.id.bytes)])
        try store.database.execute("DELETE FROM batches WHERE replica = ?", [.blob(sam.id.bytes)])
        try sam.edit(deal, [("next_step", .text("报价"))])
        transport.reset()
        report = try await sam.sync(transport: transport)
        #expect(transport.endpoints == [Endpoint.push, Endpoint.handshake, Endpoint.push])
        #expect(report.applied == 1)
        #expect(try engine.store.replica(sam.id)?.lastBatch == 1)
        try expectHoldsWhatItMay(sam, "sam")

        // Any other activity (a call) goes without a handshake.
        _ = try sam.create(entity: "activity", stage: nil, fields: [("opportunity", .reference(deal)), ("kind", .member("call"))], using: &rng)
        transport.reset()
        _ = try await sam.sync(transport: transport)
        #expect(transport.endpoints == [Endpoint.push])

        // A check-in waiting is checked against the hub's clock: the handshake says it.
        _ = try sam.create(entity: "activity", stage: nil, fields: [("opportunity", .reference(deal)), ("kind", .member("checkin"))], using: &rng)
        transport.reset()
        _ = try await sam.sync(transport: transport)
        #expect(transport.endpoints == [Endpoint.handshake, Endpoint.push])
    }

    /// A replica made before protocol 4 (no version remembered) or whose hub went back to an
    /// older version handshakes every time.
    @Test func withoutARememberedVersionEverySyncHandshakes() async throws {
        try await logNotEmpty()
        let sam = try await replica("sam")
        _ = try await sam.sync(transport: transport)
        try sam.store.setMeta("protocol", "3")
        transport.reset()
        _ = try await sam.sync(transport: transport)
        #expect(transport.endpoints == [Endpoint.handshake, Endpoint.pull])
        #expect(try sam.store.meta("protocol") == String(ProtocolVersion.current), "the handshake says it again")
        transport.reset()
        _ = try await sam.sync(transport: transport)
        #expect(transport.endpoints == [Endpoint.pull])
    }

    /// A push carries its pull only to a hub whose handshake settled on 5 or later (§5.4): a 4
    /// hub would take the field as part of the batch.
    @Test func aPullIsCarriedOnlyToAHubOfProtocolFive() async throws {
        try await logNotEmpty()
        let sam = try await replica("sam")
        _ = try await sam.sync(transport: transport)
        var rng = SystemRandomNumberGenerator()
        try sam.store.setMeta("protocol", "4")
        _ = try sam.create(entity: "opportunity", stage: "discovery", fields: [("name", .text("四川航空"))], using: &rng)
        transport.reset()
        let report = try await sam.sync(transport: transport)
        #expect(transport.endpoints == [Endpoint.push, Endpoint.pull], "protocol 4: the pull goes on its own")
        #expect(report.pushed > 0 && report.applied == report.pushed)
        try expectHoldsWhatItMay(sam, "sam")
        try sam.store.setMeta("protocol", "5")
        let deal = try sam.create(entity: "opportunity", stage: "discovery", fields: [("name", .text("成都银行"))], using: &rng).record
        transport.reset()
        _ = try await sam.sync(transport: transport)
        #expect(transport.endpoints == [Endpoint.push])
        #expect(try sam.store.confirmed(deal, workspace: engine.workspace) != nil, "the carried page brought the deal back confirmed")
        try expectHoldsWhatItMay(sam, "sam")
    }
}

/// The endpoints a replica called, in order (refused ones included).
final class RecordingTransport: Transport, @unchecked Sendable {
    let hub: LockedEngine
    private let lock = NSLock()
    private var called = [String]()
    init(_ hub: LockedEngine) { self.hub = hub }
    var endpoints: [String] { lock.withLock { called } }
    func reset() { lock.withLock { called = [] } }

    func send<Out: SwiftProtobuf.Message>(_ endpoint: String, body: [UInt8], token: String, as: Out.Type) async throws(TransportError) -> Out {
        lock.withLock { called.append(endpoint) }
        switch hub.answer(endpoint, body, token: token) {
        case let .success(bytes):
            do { return try BodyCodec.decode(Out.self, from: bytes, as: .protobuf) } catch { throw .refused(status: 200, error) }
        case let .failure(e): throw .refused(status: e.code.httpStatus, e)
        }
    }
}

/// Pulls answered as HTTP answers them — the page's whole records left raw for the replica to
/// read (`Transport.pull`) — with, when `damaging`, one whole record SwiftProtobuf refuses added.
final class RawPullTransport: Transport, @unchecked Sendable {
    let hub: LockedEngine
    let damaging: Bool
    init(_ hub: LockedEngine, damaging: Bool) { (self.hub, self.damaging) = (hub, damaging) }

    func send<Out: SwiftProtobuf.Message>(_ endpoint: String, body: [UInt8], token: String, as: Out.Type) async throws(TransportError) -> Out {
        switch hub.answer(endpoint, body, token: token) {
        case let .success(bytes):
            do { return try BodyCodec.decode(Out.self, from: bytes, as: .protobuf) } catch { throw .refused(status: 200, error) }
        case let .failure(e): throw .refused(status: e.code.httpStatus, e)
        }
    }

    func pull(body: [UInt8], token: String) async throws(TransportError) -> PulledPage {
        switch hub.answer(Endpoint.pull, body, token: token) {
        case let .success(bytes):
            // A record state whose first field claims five bytes and has one.
            let page = damaging ? bytes + [0x12, 0x03, 0x1A, 0x05, 0x08] : bytes
            do { return try PageCoding.pulled(page) } catch { throw .refused(status: 200, error) }
        case let .failure(e): throw .refused(status: e.code.httpStatus, e)
        }
    }
}

@Suite struct RawPullTests {
    /// A replica reading whole records raw holds what one reading them decoded holds; a page
    /// with a record SwiftProtobuf refuses is the hub's `malformed-body` refusal (as when the
    /// transport could not decode the page), and nothing of it is applied.
    @Test func aRawPullHoldsTheSameAndADamagedRecordIsARefusalThatAppliesNothing() async throws {
        let clock = TestClock(1_795_000_000_000)
        let (engine, tokens) = try testEngine(
            "opps-raw", clock: clock,
            users: [HubUser(name: "max", role: "manager"), HubUser(name: "sam", role: "sales", territory: "north", manager: "max")])
        let hub = LockedEngine(engine)
        func replica(_ t: any Transport) async throws -> Replica {
            try await Replica.create(home: Scratch.directory("opps-raw-r") + "/replica", hubURL: "in-process", token: tokens["sam"]!, transport: t, clock: clock)
        }
        let plain = RawPullTransport(hub, damaging: false)
        let writer = try await replica(plain)
        var rng = SystemRandomNumberGenerator()
        for i in 0..<4 { _ = try writer.create(entity: "opportunity", stage: "discovery", fields: [("name", .text("华东 \(i)"))], using: &rng) }
        _ = try await writer.sync(transport: plain)

        let raw = try await replica(plain), decoded = try await replica(RoundRobin([hub]))
        _ = try await raw.sync(transport: plain)
        _ = try await decoded.sync(transport: RoundRobin([hub]))
        let held = try raw.store.allConfirmed(workspace: raw.workspace)
        #expect(held.filter { $0.entity == "opportunity" }.count == 4)
        #expect(Set(held) == Set(try decoded.store.allConfirmed(workspace: decoded.workspace)))
        #expect(try raw.store.confirmedChecksum(workspace: raw.workspace) == decoded.store.confirmedChecksum(workspace: decoded.workspace))

        let damaged = RawPullTransport(hub, damaging: true)
        let victim = try await replica(damaged)
        await #expect {
            _ = try await victim.sync(transport: damaged)
        } throws: { error in
            guard case let .hubRefused(status, e)? = error as? ReplicaError else { return false }
            return status == 200 && e.code == .malformedBody
        }
        #expect(try victim.store.allConfirmed(workspace: victim.workspace).isEmpty)
        #expect(try victim.store.sync(.cursor) == 0)
    }
}
