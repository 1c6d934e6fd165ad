import Foundation
import OppsCore
import OppsPostgres
import OppsReplica
import OppsSimulation
import OppsStore
import OppsTestSupport
import OppsWire
import Testing

@testable import OppsHub

#if canImport(Glibc)
    import Glibc
#endif

/// A crash of PostgreSQL loses a pull's bookkeeping that did not wait for the disk, and nothing a
/// replica relies on (sync-protocol.md §2.6): a page that delivers or removes records commits
/// with the disk before it is sent, and a hub whose connection was opened again no longer trusts
/// what it remembers of the replicas' pulls. Each test crashes a PostgreSQL cluster of its own
/// (Tools/pg/cluster.sh, as the shared one is made), so the tests beside it keep theirs. The
/// crash: PostgreSQL's log writer is stopped before the pull (so a commit that did not wait for
/// the disk stays in memory — an idle writer flushes one within a moment, a busy server's only
/// every `wal_writer_delay`, as the simulator met it), then killed: the server ends every
/// connection and recovers from the log on disk, as after a power cut.
@Suite(.serialized, .enabled(if: ScratchPostgres.url != nil, "needs PostgreSQL (OPPS_TEST_PG says Tools/pg/cluster.sh can make a cluster)"))
struct DatabaseCrashTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Tools/pg/cluster.sh").path

    /// The simulator's seed 8 (three hubs, PostgreSQL crashed) found it: PostgreSQL crashed just
    /// after a page delivered a deal to sam; the page's token was lost with its bookkeeping, so
    /// when sam echoed it the hub acknowledged nothing, and when the deal was reassigned away the
    /// hub did not know sam held it — the deal stayed on sam's laptop until the checksum found it
    /// and sam's replica downloaded everything again.
    @Test func aDealDeliveredJustBeforePostgreSQLCrashesIsRemovedWhenItLeaves() async throws {
        try await withCrashableHub { hub in
            // Their manager gives the deal to sam; sam's next page delivers it, with a new token.
            try hub.max.edit(hub.deal, [("owner", .text("sam"))])
            _ = try await hub.max.sync(transport: hub.transport)
            try await hub.crashing { _ = try await hub.sam.sync(transport: hub.transport) }
            #expect(try hub.sam.store.view(hub.deal, workspace: hub.sam.workspace)?["name"] == .text("长城汽车"))
            #expect(try hub.engine.store.replica(hub.sam.id)?.pullToken == hub.sam.store.sync(.pullToken), "the page's token was lost")
            try await hub.dealGoesBackToTom()
        }
    }

    /// A pull that delivers nothing acknowledges the page before it without waiting for the
    /// disk; the hub remembers that acknowledgement (what the replica holds) to spare its next
    /// pull reading it back. A crash loses it from the database: the hub must not go on from its
    /// memory (its next page would be built on an acknowledgement the database no longer has).
    @Test func anAcknowledgementLostInACrashIsMadeAgainNotTakenFromMemory() async throws {
        try await withCrashableHub { hub in
            try hub.max.edit(hub.deal, [("owner", .text("sam"))])
            _ = try await hub.max.sync(transport: hub.transport)
            _ = try await hub.sam.sync(transport: hub.transport)
            // sam's quiet pull echoes that page's token: the deal is held, as of a commit lost.
            try await hub.crashing { _ = try await hub.sam.sync(transport: hub.transport) }
            // The hub checks its memory against the store on every pull here (verifySnapshots).
            let report = try await hub.sam.sync(transport: hub.transport)
            #expect(!report.repaired)
            #expect(try hub.engine.store.known(replica: hub.sam.id)[hub.deal] != nil, "the acknowledgement was not made again")
            try await hub.dealGoesBackToTom()
        }
    }

    /// A handshake binds a replica to its user and says the protocol version the hub will answer
    /// it in. Both must outlive a crash: a version lost would have the hub answer the replica in
    /// the version before (a v5 row: no names of the users) until it happened to handshake again.
    @Test func aReplicaBoundJustBeforePostgreSQLCrashesStaysBound() async throws {
        try await withCrashableHub { hub in
            let user = try #require(try hub.engine.store.user(named: "sam"))
            var rng = SystemRandomNumberGenerator()
            let laptop = ReplicaID.random(using: &rng)
            func handshake(_ replica: ReplicaID, version: UInt32) throws -> HandshakeResponse {
                var h = HandshakeRequest()
                h.minVersion = 1
                h.maxVersion = version
                h.replica = Data(replica.bytes)
                return try hub.engine.handshake(user: user, request: h)
            }
            // sam's replica speaks protocol 5 for a while (long enough for PostgreSQL's log writer
            // to have flushed that row whatever the hub asked), then a newer opps speaks 6, and
            // sam's second laptop is bound — just before PostgreSQL crashes.
            #expect(try handshake(hub.sam.id, version: 5).version == 5)
            try await Task.sleep(for: .seconds(1))
            var told = [UInt32]()
            try await hub.crashing {
                told.append(try handshake(hub.sam.id, version: ProtocolVersion.current).version)
                told.append(try handshake(laptop, version: ProtocolVersion.current).version)
            }
            #expect(told == [ProtocolVersion.current, ProtocolVersion.current])
            #expect(try hub.engine.store.replica(hub.sam.id)?.protocolVersion == ProtocolVersion.current, "the version it was told was lost")
            #expect(try hub.engine.store.replica(laptop)?.user == "sam", "the laptop it bound was lost")
        }
    }

    /// A hub on a PostgreSQL cluster of the test's own, its users (max, a manager; sam and tom,
    /// reps under him) with a replica each, and a deal of tom's that sam does not see.
    struct CrashableHub {
        let cluster: PostgresCluster
        let url: String
        let fixture: ReplicaSyncFixture
        let sam: Replica, tom: Replica, max: Replica
        let deal: RecordID
        var engine: HubEngine { fixture.engine }
        var transport: RecordingTransport { fixture.transport }

        /// Runs `body` (a pull, say) with PostgreSQL's log writer stopped, then crashes PostgreSQL
        /// and waits until it answers again, and until the hub's connection, which the crash
        /// ended, is open again (its first statement fails; a replica's next sync would retry).
        func crashing(_ body: () async throws -> Void) async throws {
            let c = try PostgresSQLConnection(location: PostgresLocation(url: url))
            let writer = pid_t(try #require(try c.query("SELECT pid FROM pg_stat_activity WHERE backend_type = 'walwriter'", []).first?[0].int))
            try Self.stopIdle(writer, on: c)
            do { try await body() } catch {
                kill(writer, SIGCONT)
                throw error
            }
            kill(writer, SIGKILL)
            try PostgresCluster.waitUntilAnswering(url)
            if (try? engine.store.head()) == nil { _ = try engine.store.head() }
        }

        /// Stops the log writer (SIGSTOP) where it holds no lock: waiting for work in its main
        /// loop. Stopped in the middle of a write or a flush, it would keep the log's write lock,
        /// and every commit after it would wait for that lock for ever (one run of the suite hung
        /// so, in a commit of the body's pull, until it was killed).
        static func stopIdle(_ writer: pid_t, on c: PostgresSQLConnection) throws {
            for _ in 0..<1000 {
                kill(writer, SIGSTOP)
                let waiting = try c.query("SELECT wait_event FROM pg_stat_activity WHERE pid = ?", [.integer(Int64(writer))]).first?[0]
                if waiting == .text("WalWriterMain") { return }
                kill(writer, SIGCONT)
                usleep(2000)
            }
            Issue.record("PostgreSQL's log writer was never found waiting for work")
        }

        /// The deal goes back to tom: sam's next sync removes it without a repair, and sam's
        /// replica holds what the hub says sam may see.
        func dealGoesBackToTom() async throws {
            try max.edit(deal, [("owner", .text("tom"))])
            _ = try await max.sync(transport: transport)
            let report = try await sam.sync(transport: transport)
            #expect(!report.repaired, "sam's replica differed from the hub and downloaded everything again")
            #expect(try sam.store.view(deal, workspace: sam.workspace) == nil)
            let user = try #require(try engine.store.user(named: "sam"))
            let expected = try engine.visibleState(for: user).map(\.id).sorted()
            #expect(try sam.store.allConfirmed(workspace: engine.workspace).map(\.id).sorted() == expected)
        }
    }

    func withCrashableHub(_ body: (CrashableHub) async throws -> Void) async throws {
        let directory = NSTemporaryDirectory() + "opps-pgcrash-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (cluster, url) = try PostgresCluster.start(directory: directory, script: Self.script)
        defer { try? cluster.stop() }
        let fixture = try ReplicaSyncFixture("opps-pgcrash") { $0.storeURL = url }
        let transport = fixture.transport
        let sam = try await fixture.replica("sam"), tom = try await fixture.replica("tom"), max = try await fixture.replica("max")
        var rng = SystemRandomNumberGenerator()
        let deal = try tom.create(entity: "opportunity", stage: "discovery", fields: [("name", .text("长城汽车"))], using: &rng).record
        _ = try await tom.sync(transport: transport)
        _ = try await max.sync(transport: transport)
        _ = try await sam.sync(transport: transport)
        #expect(try sam.store.view(deal, workspace: sam.workspace) == nil)
        try await body(CrashableHub(cluster: cluster, url: url, fixture: fixture, sam: sam, tom: tom, max: max, deal: deal))
    }
}
