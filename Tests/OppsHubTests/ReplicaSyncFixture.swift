import Foundation
import OppsCore
import OppsReplica
import OppsStore
import OppsTestSupport

@testable import OppsHub

/// A hub engine with three users (max, a manager; sam and tom, reps in the north under him), a
/// transport that records every exchange, and real replicas syncing through it in-process: the
/// opening of the tests that follow what a replica's sync asks of the hub.
struct ReplicaSyncFixture {
    let clock = TestClock(1_795_000_000_000)
    let engine: HubEngine
    let tokens: [String: String]
    let transport: RecordingTransport
    let scratch: String

    /// `scratch` names the temporary directories (the hub's, each replica's); `configure`
    /// changes the hub's configuration (its store, say) before it is opened.
    init(_ scratch: String, configure: (inout HubConfiguration) -> Void = { _ in }) throws {
        self.scratch = scratch
        (engine, tokens) = try testEngine(
            scratch, clock: clock,
            users: [
                HubUser(name: "max", role: "manager"), HubUser(name: "sam", role: "sales", territory: "north", manager: "max"),
                HubUser(name: "tom", role: "sales", territory: "north", manager: "max"),
            ], configure: configure)
        transport = RecordingTransport(LockedEngine(engine))
    }

    /// A new replica of `user`, after its first sync.
    func replica(_ user: String) async throws -> Replica {
        let home = Scratch.directory(scratch + "-r") + "/replica"
        return try await Replica.create(home: home, hubURL: "in-process", token: tokens[user]!, transport: transport, clock: clock)
    }
}

/// A suite opened by a `ReplicaSyncFixture`: its parts by their own names.
protocol ReplicaSyncSuite {
    var fixture: ReplicaSyncFixture { get }
}

extension ReplicaSyncSuite {
    var clock: TestClock { fixture.clock }
    var engine: HubEngine { fixture.engine }
    var tokens: [String: String] { fixture.tokens }
    var transport: RecordingTransport { fixture.transport }
    func replica(_ user: String) async throws -> Replica { try await fixture.replica(user) }
}
