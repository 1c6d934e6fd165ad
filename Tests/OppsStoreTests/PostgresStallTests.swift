import Foundation
import OppsPostgres
import OppsTestSupport
import Testing

@testable import OppsStore

#if canImport(Glibc)
    import Glibc
#endif

/// A TCP proxy in front of PostgreSQL that can stop passing bytes on while it keeps every
/// connection open: to the hub, a server frozen but alive (its kernel still acknowledges what it
/// is sent; nothing comes back). New connections are still accepted and reach the server.
final class StallingProxy: @unchecked Sendable {
    let port: Int
    private let listener: Int32
    private let lock = NSLock()
    private var isStalled = false
    private var isClosed = false
    private var sockets: [Int32] = []

    var stalled: Bool {
        get { lock.withLock { isStalled } }
        set { lock.withLock { isStalled = newValue } }
    }

    init(host: String, port target: Int) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        listener = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw StoreError(code: -1, message: "the proxy cannot listen") }
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in
            while true {
                let client = accept(listener, nil, nil)
                guard client >= 0 else { return }
                guard let server = Self.connect(host: host, port: target) else {
                    Glibc.close(client)
                    continue
                }
                lock.withLock { sockets += [client, server] }
                Thread.detachNewThread { self.pump(from: client, to: server) }
                Thread.detachNewThread { self.pump(from: server, to: client) }
            }
        }
    }

    private static func connect(host: String, port: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr(host == "localhost" ? "127.0.0.1" : host)
        let connected = withUnsafePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        if connected { return fd }
        Glibc.close(fd)
        return nil
    }

    /// Passes bytes on while not stalled; stalled, it reads nothing, so they wait in the kernel.
    private func pump(from: Int32, to: Int32) {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while !lock.withLock({ isClosed }) {
            if stalled {
                Thread.sleep(forTimeInterval: 0.01)
                continue
            }
            var p = pollfd(fd: from, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 10) >= 0 else { return }
            guard p.revents != 0, !stalled else { continue }
            let n = buffer.withUnsafeMutableBytes { recv(from, $0.baseAddress, $0.count, 0) }
            guard n > 0 else {
                shutdown(to, Int32(SHUT_WR))
                return
            }
            var sent = 0
            while sent < n {
                let m = buffer.withUnsafeBytes { send(to, $0.baseAddress! + sent, n - sent, Int32(MSG_NOSIGNAL)) }
                guard m > 0 else { return }
                sent += m
            }
        }
    }

    func close() {
        let open = lock.withLock {
            isClosed = true
            return sockets
        }
        shutdown(listener, Int32(SHUT_RDWR))
        Glibc.close(listener)
        for fd in open { shutdown(fd, Int32(SHUT_RDWR)) }
    }
}

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
