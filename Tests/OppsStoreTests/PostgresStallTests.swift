import Foundation
import OppsPostgres
import OppsTestSupport
import Testing

@testable import OppsStore

/// A PostgreSQL server that stalls but stays alive: a statement waits at most the connection's
/// answer limit, then fails as unavailable; while the server stays silent a new connection fails
/// alike; once it answers again, the next statement opens a new connection and runs. Over both
/// links (the hub's own client, and postgres-nio).
@Suite(.enabled(if: ScratchPostgres.url != nil, "needs OPPS_TEST_PG (Tools/pg/cluster.sh)"))
struct PostgresStallTests {
    @Test(.timeLimit(.minutes(1)), arguments: PostgresConnectionTests.links)
    func aServerThatStopsAnsweringFailsTheStatementWithinTheLimit(sslmode: String) throws {
        var location = try PostgresLocation(url: ScratchPostgres.fresh() + "?sslmode=" + sslmode)
        let proxy = try StallingProxy(host: location.host, port: location.port)
        defer { proxy.close() }
        location.port = proxy.port
        let c = try PostgresSQLConnection(location: location, answerLimit: .milliseconds(500))
        #expect(try c.query("SELECT ?::bigint", [.integer(1)]) == [[.integer(1)]])
        let first = try #require(try c.query("SELECT pg_backend_pid()").first?[0].int)

        proxy.stalled = true
        for statement in ["SELECT ?::bigint", "SELECT ?::bigint + 1"] {
            // A statement on the connection (prepared before, and a new one), then one that must
            // open a new connection first: each fails within about the limit.
            let started = ContinuousClock.now
            #expect {
                try c.query(statement, [.integer(2)])
            } throws: { error in
                guard let e = error as? StoreError else { return false }
                return e.code == StoreError.unavailable && e.message.contains("PostgreSQL did not answer within 500 ms")
            }
            let waited = ContinuousClock.now - started
            #expect(waited >= .milliseconds(450) && waited < .seconds(5), "\(waited)")
        }

        proxy.stalled = false
        #expect(try c.query("SELECT ?::bigint", [.integer(3)]) == [[.integer(3)]])
        #expect(try c.query("SELECT pg_backend_pid()").first?[0].int != first)
    }

    /// Without a limit (the operator's commands) a statement waits as long as the server takes:
    /// here a statement that runs 1.2 s on a connection whose limit would have been 0.5 s.
    @Test(.timeLimit(.minutes(1)), arguments: PostgresConnectionTests.links)
    func aLongStatementWithoutALimitWaitsForItsAnswer(sslmode: String) throws {
        let location = try PostgresLocation(url: ScratchPostgres.fresh() + "?sslmode=" + sslmode)
        let c = try PostgresSQLConnection(location: location)
        #expect(try c.query("SELECT 1 FROM pg_sleep(1.2)").count == 1)
        c.answerLimit = .milliseconds(500)
        #expect(throws: StoreError.self) { try c.query("SELECT 1 FROM pg_sleep(1.2)") }
        c.answerLimit = nil
        #expect(try c.query("SELECT 2 FROM pg_sleep(0.6)") == [[.integer(2)]])
    }
}
