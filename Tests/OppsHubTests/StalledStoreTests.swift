import Foundation
import HummingbirdTesting
import OppsCore
import OppsPostgres
import OppsStore
import OppsTestSupport
import OppsWire
import Testing

@testable import OppsHub

/// A serving hub whose PostgreSQL stalls but stays alive (frozen, its disk hung: its
/// connections open, nothing coming back) answers 503 `unavailable` once `storeAnswerLimit`
/// has passed, instead of holding every request for good; once the database answers again, the
/// hub serves again on a new connection. The operator's commands open the store unbounded.
@Suite(.enabled(if: ScratchPostgres.url != nil, "needs OPPS_TEST_PG (Tools/pg/cluster.sh)"))
struct StalledStoreTests {
    @Test(.timeLimit(.minutes(1))) func aServingHubAnswersUnavailableWhileItsDatabaseStallsAndServesAfter() async throws {
        let url = try ScratchPostgres.fresh()
        let location = try PostgresLocation(url: url)
        let proxy = try StallingProxy(host: location.host, port: location.port)
        defer { proxy.close() }
        let f = try HubFixture {
            $0.storeURL = proxy.route(url)
            $0.storeAnswerLimit = .milliseconds(500)
        }
        try await f.application().test(.router) { client in
            let c = WireClient(client: client)
            var sam = TestReplica(user: "sam", token: f.tokens["sam"]!, seed: 3)
            _ = try await sam.handshake(c)
            proxy.stalled = true
            let started = ContinuousClock.now
            do {
                _ = try await sam.handshake(c)
                Issue.record("the hub answered while its database said nothing")
            } catch let failure as WireClient.Failure {
                #expect(failure.status == 503 && failure.error.code == .unavailable, "\(failure)")
            }
            let waited = ContinuousClock.now - started
            #expect(waited >= .milliseconds(450) && waited < .seconds(10), "\(waited)")
            proxy.stalled = false
            _ = try await sam.handshake(c)
        }
        // The operator's commands wait as long as their statements take.
        let command = try #require(try f.configuration.openStore() as? PostgresHubStore)
        #expect(command.database.answerLimit == nil)
    }
}
