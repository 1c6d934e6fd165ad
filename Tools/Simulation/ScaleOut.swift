import Foundation
import OppsChildProcess
import OppsPostgres
import OppsWire

#if canImport(Glibc)
    import Glibc
#endif

/// HAProxy (Debian's) in front of several `opps-hub serve` processes, round-robin — a load
/// balancer that does not stick, the worst case for the hubs' caches. A hub that is down is
/// skipped (its connection refused, the request goes to another before anything was sent).
public final class LoadBalancer: @unchecked Sendable {
    let process: ChildProcess
    public let url: String

    /// `random`: each request to a hub picked at random rather than in turn.
    public init(backends: [Int], directory: String, random: Bool = false, executable: String = "/usr/sbin/haproxy") throws {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw WireError(.unavailable, "HAProxy is not installed (apt-get install haproxy)")
        }
        let port = try Self.freePort()
        let servers = backends.enumerated().map { "    server hub\($0.offset) 127.0.0.1:\($0.element)" }.joined(separator: "\n")
        let config = """
            global
                maxconn 4000
            defaults
                mode http
                timeout connect 1s
                timeout client 30s
                timeout server 30s
                retries 3
                option redispatch 1
            frontend opps
                bind 127.0.0.1:\(port)
                default_backend hubs
            backend hubs
                balance \(random ? "random" : "roundrobin")
            \(servers)

            """
        let path = directory + "/haproxy-\(port).cfg"
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        process = try ChildProcess(executable, ["-f", path, "-db", "-q"])
        url = "http://127.0.0.1:\(port)"
        // Ready when it accepts connections.
        for _ in 0..<100 {
            if Self.accepts(port: port) { return }
            usleep(20_000)
        }
        stop()
        throw WireError(.unavailable, "HAProxy did not start on port \(port)")
    }

    deinit { stop() }

    public func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    /// A port of 127.0.0.1 nobody listens on now.
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw WireError(.unavailable, "no socket") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard bound else { throw WireError(.unavailable, "no free port") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}

/// A throwaway PostgreSQL cluster made by Tools/pg/cluster.sh, which the simulator may crash:
/// `pg_ctl stop -m immediate` (no checkpoint, as a power cut leaves it) and a start.
public struct PostgresCluster: Sendable {
    public var directory: String
    public var script: String

    public init(directory: String, script: String) {
        self.directory = directory
        self.script = script
    }

    /// Creates and starts a cluster of its own in `directory` (which must not hold one): a test
    /// that crashes PostgreSQL must not take the shared one from under the tests beside it.
    public static func start(directory: String, script: String) throws -> (cluster: PostgresCluster, url: String) {
        let cluster = PostgresCluster(directory: directory, script: script)
        try cluster.run("start")
        let url = try String(contentsOfFile: directory + "/url", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        return (cluster, url)
    }

    /// Stops it (a fast shutdown).
    public func stop() throws { try run("stop") }

    public func crashAndRestart() throws {
        for command in ["kill", "restart"] { try run(command) }
    }

    /// Returns once the server at `url` answers a query (after its crash recovery, not merely
    /// when pg_ctl returns); throws its refusal after a minute.
    public static func waitUntilAnswering(_ url: String) throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            do {
                _ = try PostgresSQLConnection(location: PostgresLocation(url: url)).query("SELECT 1", [])
                return
            } catch {
                guard ContinuousClock.now < deadline else { throw error }
                usleep(100_000)
            }
        }
    }

    private func run(_ command: String) throws {
        // Not Foundation's Process: its waitUntilExit was seen to hang here after the script
        // (whose server daemonizes) had exited.
        let status = try ChildProcess("/bin/bash", [script, command, directory]).waitUntilExit()
        guard status == 0 else { throw WireError(.unavailable, "PostgreSQL did not \(command) (\(script) \(command) \(directory))") }
    }
}
