import Foundation
import OppsCore
import OppsPostgres
import OppsReplica
import OppsStore
import OppsTestSupport
import OppsWire
import SwiftProtobuf
import Testing

@testable import OppsHub

/// Several hubs on one PostgreSQL database (SCALE-OUT.md): engines of their own, each with its
/// own connection and caches, answering the same replicas. Needs a cluster (`OPPS_TEST_PG`).
@Suite(.enabled(if: ScratchPostgres.url != nil, "needs OPPS_TEST_PG (Tools/pg/cluster.sh)"))
struct MultiHubTests {
    let configuration: HubConfiguration
    let engines: [LockedEngine]
    let tokens: [String: String]
    let clock = TestClock(1_795_000_000_000)

    init(hubs: Int = 2) throws {
        var c = HubConfiguration(dataDirectory: "")
        c.storeURL = try ScratchPostgres.fresh()
        c.verifySnapshots = true
        c.clock = clock
        configuration = c
        var rng = SystemRandomNumberGenerator()
        let first = try c.openStore()
        _ = try HubEngine.initialise(store: first, workspace: Workspace.defaultDocument, now: clock.nowMilliseconds(), rng: &rng)
        let engine = try HubEngine(store: first, configuration: c)
        var tokens = [String: String]()
        for u in [
            HubUser(name: "max", role: "manager"), HubUser(name: "sam", role: "sales", territory: "north", manager: "max"),
            HubUser(name: "tom", role: "sales", territory: "north", manager: "max"), HubUser(name: "mia", role: "marketing", manager: "max"),
        ] {
            tokens[u.name] = try engine.addUser(u, rng: &rng)
        }
        self.tokens = tokens
        engines = [LockedEngine(engine)] + (try (1..<hubs).map { _ in LockedEngine(try HubEngine(store: c.openStore(), configuration: c)) })
    }

    /// A handshake of `replica` on the default workspace.
    static func hello(_ replica: ReplicaID) -> HandshakeRequest {
        var h = HandshakeRequest()
        h.minVersion = 1
        h.maxVersion = ProtocolVersion.current
        h.replica = Data(replica.bytes)
        h.workspaceVersion = Workspace.default.version
        return h
    }

    func replica(_ user: String, via transport: any Transport) async throws -> Replica {
        let home = Scratch.directory("opps-multihub") + "/replica"
        return try await Replica.create(home: home, hubURL: "in-process", token: tokens[user]!, transport: transport, clock: clock)
    }

    /// Replicas whose every request goes to the next hub in turn (a load balancer that does not
    /// stick, the worst case for every cache) end exactly where one hub would leave them.
    @Test func replicasSpreadOverTwoHubsConvergeWithNothingLeakedOrLost() async throws {
        let roundRobin = RoundRobin(engines)
        let sam = try await replica("sam", via: roundRobin), max = try await replica("max", via: roundRobin)
        let tom = try await replica("tom", via: roundRobin)
        var rng = SystemRandomNumberGenerator()
        var deals = [RecordID]()
        for i in 0..<6 {
            deals.append(
                try sam.create(
                    entity: "opportunity", stage: "discovery",
                    fields: [("name", .text("华东 \(i)")), ("amount", .decimal(ExactDecimal(units: Int64(i) * 1000, scale: 2)))],
                    using: &rng
                ).record)
        }
        _ = try await sam.sync(transport: roundRobin)
        _ = try await max.sync(transport: roundRobin)
        _ = try tom.create(entity: "opportunity", stage: "discovery", fields: [("name", .text("tom's"))], using: &rng)
        // Both change one deal's next step offline: one of them loses, and sees it.
        clock.advance(1000)
        try sam.edit(deals[0], [("next_step", .text("sam's plan"))])
        clock.advance(1000)
        try max.edit(deals[0], [("next_step", .text("max's plan"))])
        // Marketing hands two leads off, one sync each (so through different hubs): the hub
        // assigns each to a rep, stamping the owner itself at the same wall-clock millisecond.
        let mia = try await replica("mia", via: roundRobin)
        for i in 0..<2 {
            let account = try mia.create(entity: "account", stage: nil, fields: [("name", .text("云帆 \(i)"))], using: &rng).record
            let contact = try mia.create(entity: "contact", stage: nil, fields: [("name", .text("王 \(i)"))], using: &rng).record
            let lead = try mia.create(
                entity: "opportunity", stage: "lead",
                fields: [
                    ("name", .text("线索 \(i)")), ("account", .reference(account)), ("contact", .reference(contact)), ("lead_source", .member("event")),
                    ("qualification", .text("budget ok")), ("check_need", .boolean(true)), ("check_budget", .boolean(true)),
                    ("check_timing", .boolean(true)), ("check_contact", .boolean(true)), ("territory", .text("north")),
                ], using: &rng
            ).record
            _ = try mia.moveStage(lead, to: "qualified", reason: nil)
            _ = try await mia.sync(transport: roundRobin)
        }
        for r in [max, sam, tom, max, sam, tom, mia] { _ = try await r.sync(transport: roundRobin) }

        let engine = engines[0].engine
        for (name, r) in [("sam", sam), ("max", max), ("tom", tom), ("mia", mia)] {
            let user = try #require(try engine.store.user(named: name))
            let expected = Dictionary(uniqueKeysWithValues: try engine.visibleState(for: user).map { ($0.id, $0) })
            let held = try r.store.allConfirmed(workspace: r.workspace).filter { !$0.isDeleted }
            #expect(Set(held.map(\.id)) == Set(expected.keys), "\(name) holds exactly what they may see")
            for record in held { #expect(record == expected[record.id], "\(name)'s copy of \(record.id) is the hub's") }
            #expect(try r.store.outboxCount() == 0)
        }
        #expect(try sam.store.allConfirmed(workspace: sam.workspace).count >= 6)
        #expect(try tom.store.allConfirmed(workspace: tom.workspace).filter { $0.entity == "opportunity" }.allSatisfy { $0.owner == "tom" })
        // One log, gapless, each stamp once, whichever hub wrote it.
        let log = try engine.store.log(after: 0, limit: 100_000)
        #expect(log.map(\.entry.sequence) == Array(1...(try engine.store.head())))
        #expect(Set(log.map { "\($0.entry.record) \($0.entry.field) \($0.entry.stamp)" }).count == log.count)
        // The hub's own writes (assignments), minted by either hub, never share a stamp.
        let minted = log.filter { $0.entry.stamp.replica == engine.hubReplica }
        #expect(minted.count >= 2, "both leads were assigned by the hub")
        #expect(Set(minted.map(\.entry.stamp)).count == minted.count)
        #expect(try engine.store.openConflicts(user: nil).contains { $0.conflict.field == "next_step" })
        #expect(roundRobin.sent.allSatisfy { $0 > 0 }, "both hubs answered")
    }

    /// The same batch sent through two hubs at once (a retry that raced the original): one
    /// applies it, the other answers it as a replay, with the same results.
    @Test func theSameBatchThroughTwoHubsAtOnceAppliesOnce() throws {
        let a = engines[0].engine
        let sam = try #require(try a.store.user(named: "sam"))
        let replica = ReplicaID(UUID128(high: 0x5A, low: 1))
        _ = try a.handshake(user: sam, request: Self.hello(replica))
        var hlc = HybridLogicalClock()
        let id = RecordID(high: 0x0190, low: 77)
        func stamp() -> Stamp { Stamp(hlc: hlc.tick(physical: clock.nowMilliseconds()), replica: replica) }
        let writes = [
            FieldWrite(record: id, entity: "opportunity", kind: .create, value: .member("discovery"), author: "sam", stamp: stamp()),
            FieldWrite(record: id, entity: "opportunity", field: "name", value: .text("raced"), author: "sam", stamp: stamp()),
        ]
        let request = try BatchCoding.encode(writes, replica: replica, batch: 1, workspace: .default)
        let answers = Answers()
        let group = DispatchGroup()
        for hub in engines.prefix(2) {
            group.enter()
            Thread.detachNewThread {
                var activity = HubActivity()
                answers.add(hub.lock.withLock { Result { try hub.engine.push(user: sam, request: request, activity: &activity) } })
                group.leave()
            }
        }
        group.wait()
        let responses = try answers.all.map { try $0.get() }
        #expect(responses.filter(\.replayed).count == 1)
        #expect(responses[0].results == responses[1].results)
        // A create is logged with its stage and owner: four entries, once.
        #expect(try a.store.log(record: id).map(\.entry.field) == ["", "stage", "owner", "name"], "applied once")
    }

    /// Two hubs minting a stamp of their own at the same wall-clock millisecond (each in its
    /// transaction, as an assignment does) never mint the same one: the clock is the store's.
    @Test func twoHubsNeverMintTheSameStamp() throws {
        let t = clock.nowMilliseconds()
        var minted = [HLC]()
        for hub in engines + engines {
            let e = hub.engine
            minted.append(try e.store.transaction { try e.onSharedClock { e.clock.tick(physical: t) } })
        }
        #expect(Set(minted).count == minted.count, "\(minted)")
    }

    /// A token another hub has cached (TokenCache) is refused by that hub's next request once it
    /// is revoked, or its user disabled, through this one: the request's transaction reads the
    /// directory marker and confirms the token against the store.
    @Test func aTokenCachedOnOneHubIsRefusedOnceRevokedThroughAnother() throws {
        let a = engines[0].engine, b = engines[1].engine
        let samToken = "Bearer " + tokens["sam"]!, tomToken = "Bearer " + tokens["tom"]!
        var rng = SeededGenerator(seed: 7)
        var sam = TestReplica(user: "sam", token: tokens["sam"]!, seed: 1), tom = TestReplica(user: "tom", token: tokens["tom"]!, seed: 2)
        let head0 = try a.store.head()
        _ = try b.handshake(user: b.authenticateForRequest(authorization: samToken), request: Self.hello(sam.id))
        _ = try b.handshake(user: b.authenticateForRequest(authorization: tomToken), request: Self.hello(tom.id))
        // Both tokens are now cached on b: no read of the store for them. (Sam's first was read
        // before b had read the directory: nothing is remembered then.)
        #expect(try b.authenticateForRequest(authorization: samToken).cached == nil)
        #expect(try b.authenticateForRequest(authorization: samToken).cached != nil)
        #expect(try b.authenticateForRequest(authorization: tomToken).cached != nil)
        _ = try a.rotateToken("sam", rng: &rng)
        _ = try a.updateUser("tom") { $0.disabled = true }
        // b has not read the directory since: its cache still answers…
        let staleSam = try b.authenticateForRequest(authorization: samToken), staleTom = try b.authenticateForRequest(authorization: tomToken)
        #expect(staleSam.cached != nil && staleTom.cached != nil)
        // …but no request goes through with it.
        var pull = PullRequest()
        pull.replica = Data(sam.id.bytes)
        var activity = HubActivity()
        #expect { try b.pull(user: staleSam, request: pull, activity: &activity) } throws: { ($0 as? WireError)?.code == .unauthenticated }
        let push = try BatchCoding.encode([sam.create(using: &rng)], replica: sam.id, batch: 1, workspace: .default)
        #expect { try b.push(user: staleSam, request: push, activity: &activity) } throws: { ($0 as? WireError)?.code == .unauthenticated }
        let tomsPush = try BatchCoding.encode([tom.create(using: &rng)], replica: tom.id, batch: 1, workspace: .default)
        let group = b.push(group: [(staleTom, tomsPush, nil)])
        #expect(throws: WireError.self) { try group[0].get() }
        #expect(throws: WireError.self) { try b.handshake(user: staleSam, request: Self.hello(sam.id)) }
        // And the cache forgot them once b read the moved marker.
        #expect(throws: WireError.self) { try b.authenticateForRequest(authorization: samToken) }
        #expect(throws: WireError.self) { try b.authenticateForRequest(authorization: tomToken) }
        #expect(try a.store.head() == head0)
    }

    /// A crash of PostgreSQL may lose the last pulls' bookkeeping (it commits without waiting for
    /// the disk): here, the page hub a answered last. Hub b, on its connection opened after the
    /// crash, must not give another page that lost page's token — else hub a, whose cache still
    /// holds the lost page, would take the replica's echo of b's page for its own and build on
    /// what the replica never received (sync-protocol.md §2.6: a token is minted once).
    @Test func aPageTokenLostToADatabaseCrashIsNeverMintedAgain() throws {
        // a opened its connection after b's: b's floor is below a's tokens until b's connection,
        // opened again after the crash, raises it.
        let a = engines[1].engine, b = engines[0].engine
        let sam = try #require(try a.store.user(named: "sam")), max = try #require(try a.store.user(named: "max"))
        var writer = TestReplica(user: "sam", token: tokens["sam"]!, seed: 11)
        var reader = TestReplica(user: "max", token: tokens["max"]!, seed: 12)
        var rng = SeededGenerator(seed: 13)
        _ = try a.handshake(user: sam, request: Self.hello(writer.id))
        _ = try a.handshake(user: max, request: Self.hello(reader.id))
        var activity = HubActivity()
        // Sam's deals enter max's view, each delivered whole by a page with a token of its own.
        func deal(through hub: HubEngine) throws {
            _ = try hub.push(user: sam, request: try writer.batch([writer.create(using: &rng)]), activity: &activity)
        }
        func pull(_ hub: HubEngine) throws -> PullResponse {
            let page = try hub.pull(user: max, request: reader.pullRequest(maxChanges: 0), activity: &activity)
            try reader.apply(page)
            return page
        }
        try deal(through: a)
        let first = try pull(a)
        let durable = try #require(try a.store.replica(reader.id))
        try deal(through: a)
        let lost = try pull(a)
        #expect(lost.token > first.token)
        #expect(try a.store.known(replica: reader.id).count == 1, "the first page acknowledged by the second request")
        // The crash: the last page's bookkeeping is gone, and so is every connection.
        let admin = try PostgresSQLConnection(location: PostgresLocation(url: try #require(configuration.storeURL)))
        _ = try admin.run("DELETE FROM replica_staged WHERE replica = ? AND token = ?", [.blob(reader.id.bytes), .integer(Int64(lost.token))])
        try a.store.saveReplica(durable)
        _ = try admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()", [])
        // Each hub learns of it from its next statement, which fails (a 503, retried by the
        // client); the one after opens a connection again.
        for hub in [a, b] { _ = try? hub.store.head() }
        // Another deal meanwhile: the page b answers the replica's echo of the lost one with differs from it.
        try deal(through: b)
        let again = try pull(b)
        #expect(again.token != lost.token, "b minted the lost page's token again")
        #expect(again.token > lost.token, "tokens still grow past the lost one")
        // The echo of b's page, on a: a must not take its cache of the lost page for b's (both
        // engines check their known-records cache against the store on every pull).
        _ = try pull(a)
        #expect(try a.store.known(replica: reader.id).count == 3, "max's replica holds the three deals")
    }

    /// A change made through one hub is what every other hub answers by from its next request.
    @Test func aChangeThroughOneHubIsSeenByTheNextRequestOnAnother() throws {
        let a = engines[0].engine, b = engines[1].engine
        #expect(try b.authenticate(authorization: "Bearer " + tokens["sam"]!).name == "sam")
        _ = try a.updateUser("sam") { $0.disabled = true }
        #expect(throws: WireError.self) { try b.authenticate(authorization: "Bearer " + tokens["sam"]!) }
        // A workspace applied through one hub: the other refuses a pull on the old one.
        let tom = try #require(try b.store.user(named: "tom"))
        let replica = ReplicaID(UUID128(high: 0x70, low: 1))
        let h = Self.hello(replica)
        _ = try b.handshake(user: tom, request: h)
        let version = Workspace.default.version
        _ = try a.apply(workspace: Workspace.defaultDocument.replacingOccurrences(of: "\"version\": \(version),", with: "\"version\": \(version + 1),"))
        var pull = PullRequest()
        pull.replica = Data(replica.bytes)
        pull.workspaceVersion = Workspace.default.version
        var activity = HubActivity()
        #expect(throws: WireError.self) { try b.pull(user: tom, request: pull, activity: &activity) }
        #expect(try b.handshake(user: tom, request: h).workspaceVersion == Workspace.default.version + 1)
    }
}

/// An engine with a lock: engines are not thread-safe, a hub process serialises its calls.
final class LockedEngine: @unchecked Sendable {
    let engine: HubEngine
    let lock = NSLock()
    init(_ engine: HubEngine) { self.engine = engine }
    func answer(_ endpoint: String, _ body: [UInt8], token: String) -> Result<[UInt8], WireError> {
        lock.withLock { engine.answer(endpoint, body, token: token) }
    }
}

/// Each request to the next hub in turn.
final class RoundRobin: Transport, @unchecked Sendable {
    let hubs: [LockedEngine]
    private let lock = NSLock()
    private var next = 0
    private(set) var sent: [Int]

    init(_ hubs: [LockedEngine]) {
        self.hubs = hubs
        sent = Array(repeating: 0, count: hubs.count)
    }

    func send<Out: SwiftProtobuf.Message>(_ endpoint: String, body: [UInt8], token: String, as: Out.Type) async throws(TransportError) -> Out {
        let i = lock.withLock {
            defer { next = (next + 1) % hubs.count }
            sent[next] += 1
            return next
        }
        switch hubs[i].answer(endpoint, body, token: token) {
        case let .success(bytes):
            do { return try BodyCodec.decode(Out.self, from: bytes, as: .protobuf) } catch { throw .refused(status: 200, error) }
        case let .failure(e) where e.code == .unavailable: throw .unreachable(e.message)
        case let .failure(e): throw .refused(status: e.code.httpStatus, e)
        }
    }
}

final class Answers: @unchecked Sendable {
    private let lock = NSLock()
    private var results = [Result<PushResponse, any Error>]()
    func add(_ r: Result<PushResponse, any Error>) { lock.withLock { results.append(r) } }
    var all: [Result<PushResponse, any Error>] { lock.withLock { results } }
}
