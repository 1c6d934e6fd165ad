import Foundation
import OppsChildProcess
import OppsCore
import OppsHub
import OppsPostgres
import OppsReplica
import OppsStore
import OppsWire
import SwiftProtobuf

/// The faults the network and the machines can inject, each with its probability per request.
public struct FaultRates: Sendable {
    /// The request never reaches the hub.
    public var dropRequest = 0.04
    /// The hub handles the request; the answer is lost.
    public var dropResponse = 0.04
    /// The request reaches the hub twice.
    public var duplicate = 0.03
    /// The request is held and reaches the hub later, after other traffic (its answer is lost).
    public var delay = 0.03
    /// The body arrives cut short.
    public var truncate = 0.02
    /// The hub process dies between requests and restarts from its database.
    public var hubCrash = 0.01

    public init() {}
    public static let none: FaultRates = {
        var f = FaultRates()
        f.dropRequest = 0; f.dropResponse = 0; f.duplicate = 0; f.delay = 0; f.truncate = 0; f.hubCrash = 0
        return f
    }()
}

/// The hub the simulated replicas talk to: real HubEngine on a real SQLite file, called
/// in-process with the protocol's bytes, through a lossy network.
final class SimulatedHub: @unchecked Sendable {
    let configuration: HubConfiguration
    private(set) var engine: HubEngine
    private(set) var crashes = 0
    private(set) var databaseCrashes = 0
    var delayed: [(String, [UInt8], String)] = []
    /// In process mode: the real `opps-hub serve` processes the replicas talk to over HTTP —
    /// one, or several on PostgreSQL behind a load balancer.
    private(set) var processes: [HubProcess] = []
    private var balancer: LoadBalancer?
    private(set) var http: HTTPTransport?
    /// The throwaway PostgreSQL cluster, when PostgreSQL itself may crash.
    let cluster: PostgresCluster?

    var process: HubProcess? { processes.first }

    init(
        configuration: HubConfiguration, executable: String? = nil, hubs: Int = 1, randomBalance: Bool = false, cluster: PostgresCluster? = nil, root: String = ""
    ) throws {
        self.configuration = configuration
        self.cluster = cluster
        engine = try HubEngine(store: configuration.openStore(), configuration: configuration)
        if let executable {
            let url: String
            if hubs > 1 {
                let ports = try (0..<hubs).map { _ in try LoadBalancer.freePort() }
                processes = try ports.map { try HubProcess(executable: executable, configuration: configuration, port: $0) }
                let lb = try LoadBalancer(backends: ports, directory: root, random: randomBalance)
                balancer = lb
                url = lb.url
            } else {
                processes = [try HubProcess(executable: executable, configuration: configuration, port: 0)]
                url = processes[0].url
            }
            http = HTTPTransport(baseURL: url, connectTimeout: .seconds(2), requestTimeout: .seconds(20))
        }
    }

    /// A hub process dies and starts again: everything not committed is gone, nothing committed
    /// is. In process mode this is a real kill -9 of an `opps-hub` (with several, each in turn;
    /// the others go on serving behind the balancer) and a restart on its store.
    func crash() throws {
        if !processes.isEmpty {
            let i = crashes % processes.count
            let old = processes[i]
            old.kill()
            if processes.count > 1 {
                processes[i] = try HubProcess(executable: old.executable, configuration: configuration, port: old.port)
            } else {
                let p = try HubProcess(executable: old.executable, configuration: configuration, port: 0)
                processes[i] = p
                let previous = http
                http = HTTPTransport(baseURL: p.url, connectTimeout: .seconds(2), requestTimeout: .seconds(20))
                Task { await previous?.shutdown() }
            }
        }
        if !configuration.isPostgres {
            engine = try HubEngine(store: configuration.openStore(), configuration: configuration)
        }
        crashes += 1
    }

    /// PostgreSQL stopped as a crash would (`-m immediate`) and started again: every hub loses
    /// its connection and its transaction in flight; what was committed is there after.
    func crashDatabase() throws {
        guard let cluster, let url = configuration.storeURL else { return }
        try cluster.crashAndRestart()
        try PostgresCluster.waitUntilAnswering(url)
        databaseCrashes += 1
    }

    func stop() async {
        for p in processes { p.kill() }
        balancer?.stop()
        await http?.shutdown()
    }

    /// Handles one request body as the HTTP layer would; returns the response body or a protocol error.
    func handle(_ endpoint: String, _ body: [UInt8], token: String) -> Result<[UInt8], WireError> {
        engine.answer(endpoint, body, token: token)
    }

    /// Delivers held requests (their answers are long lost).
    func deliverDelayed(upTo n: Int) async {
        for (endpoint, body, token) in delayed.prefix(n) { _ = await send(endpoint, body, token: token) }
        delayed.removeFirst(min(n, delayed.count))
    }

    /// Sends a request body in-process, or over HTTP to the hub process.
    func send(_ endpoint: String, _ body: [UInt8], token: String) async -> Result<[UInt8], WireError> {
        guard let http else { return handle(endpoint, body, token: token) }
        do {
            let reply: [UInt8] =
                switch endpoint {
                case Endpoint.handshake:
                    try BodyCodec.encode(
                        try await http.call(endpoint, try HandshakeRequest(serializedBytes: body), token: token, as: HandshakeResponse.self), as: .protobuf)
                case Endpoint.push:
                    try BodyCodec.encode(try await http.call(endpoint, try PushRequest(serializedBytes: body), token: token, as: PushResponse.self), as: .protobuf)
                default: try BodyCodec.encode(try await http.call(endpoint, try PullRequest(serializedBytes: body), token: token, as: PullResponse.self), as: .protobuf)
                }
            return .success(reply)
        } catch let e as TransportError {
            switch e {
            case let .refused(_, w): return .failure(w)
            case let .unreachable(why): return .failure(WireError(.unavailable, why))
            case let .certificate(why): return .failure(WireError(.unavailable, why))
            case let .unsendable(e): return .failure(e)
            case let .notAHub(status): return .failure(WireError(.notFound, "status \(status)"))
            case let .speaksHTTP(url): return .failure(WireError(.unavailable, url))
            }
        } catch {
            return .failure(WireError(.malformedBody, "\(error)"))
        }
    }
}

/// A real `opps-hub serve` process on a free port of 127.0.0.1 (the simulator's process mode,
/// the concurrency benchmark).
public final class HubProcess: @unchecked Sendable {
    public let executable: String
    let process: ChildProcess
    public let url: String

    /// The port it listens on.
    public let port: Int

    /// `logLevel`: `error` keeps the simulator quiet; the benchmark runs the default (`info`,
    /// a line per request, as operators run it). The log goes to /dev/null either way.
    public convenience init(executable: String, data: String, logLevel: String = "error") throws {
        try self.init(executable: executable, store: ["--data", data], environment: [:], port: 0, logLevel: logLevel)
    }

    /// The simulator's hub log: what its processes said at level `error`, where a run that fails
    /// on a 500 finds why (the answer carries only the bare code).
    public static func errorLogPath(_ configuration: HubConfiguration) -> String { configuration.dataDirectory + "/hub-errors.log" }

    /// On the store `configuration` names (its PostgreSQL URL passed in the environment, out of
    /// the process list), on `port` (0: a free one). With `verifySnapshots` (the simulator), the
    /// process checks its caches on every pull too, through its `--config` file, and logs to
    /// `errorLogPath`: a divergence is a 500 the run reports, with the log's line.
    public convenience init(executable: String, configuration: HubConfiguration, port: Int, logLevel: String = "error") throws {
        var options = [String]()
        var environment = [String: String]()
        var log: String?
        if configuration.verifySnapshots {
            log = Self.errorLogPath(configuration)
            try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
            let path = configuration.dataDirectory + "/verify.json"
            try #"{"verify_snapshots": true}"#.write(toFile: path, atomically: true, encoding: .utf8)
            options = ["--config", path]
        }
        if let url = configuration.storeURL {
            environment["OPPS_HUB_STORE"] = url
            try self.init(executable: executable, store: options, environment: environment, port: port, logLevel: logLevel, errorLog: log)
        } else {
            try self.init(
                executable: executable, store: ["--data", configuration.dataDirectory] + options, environment: environment, port: port, logLevel: logLevel,
                errorLog: log)
        }
    }

    /// `errorLog`: where the process's log goes (nil: nowhere).
    init(executable: String, store: [String], environment: [String: String], port: Int, logLevel: String, errorLog: String? = nil) throws {
        self.executable = executable
        // A hub restarted on its port (behind the balancer) may find the port held for a moment
        // by another socket: the port was free when the run began, so any connection made since
        // may have been given it as its own end — the balancer's to this very port included,
        // while nobody listened. It tries again a few times; a hub that cannot start for any
        // other reason fails each time, and says why.
        var attempt = 0
        while true {
            // Its log is appended to the file, shared by the hubs of one run.
            let process = try ChildProcess(
                executable, ["serve"] + store + ["--host", "127.0.0.1", "--port", String(port), "--log-level", logLevel],
                environment: ProcessInfo.processInfo.environment.merging(environment) { $1 }, standardOutput: .capture,
                standardError: errorLog.map { .append($0) } ?? .discard)
            let text = process.readLine() ?? ""
            if text.hasPrefix("listening on ") {
                self.process = process
                url = String(text.dropFirst("listening on ".count))
                self.port = Int(url.split(separator: ":").last ?? "") ?? port
                return
            }
            process.kill()
            attempt += 1
            guard port != 0, attempt < 5 else {
                let said = errorLog.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) }?.split(separator: "\n").last.map(String.init)
                throw WireError(.unavailable, "opps-hub did not start (\(attempt) tries): \(text.isEmpty ? said ?? "it exited without a word" : text)")
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
    }

    /// A hub nobody holds any more is not left running (a failed run, a test that threw).
    deinit { kill() }

    func kill() { process.kill() }

    /// Asks it to shut down gracefully (SIGTERM) and waits.
    public func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    /// Its peak resident memory so far (VmHWM), KiB; 0 once it has exited.
    public var peakKiB: Int {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
        else { return 0 }
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }

    /// CPU time it has used so far (user + system, from /proc/PID/stat), seconds; 0 once it
    /// has exited.
    public var cpuSeconds: Double { Self.cpuSeconds(of: process.processIdentifier) }

    /// CPU time process `pid` has used so far (user + system), seconds; 0 when it is gone.
    public static func cpuSeconds(of pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return 0 }
        // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}

/// A replica's view of the network to the simulated hub, injecting seeded faults.
final class SimulatedTransport: Transport, @unchecked Sendable {
    let hub: SimulatedHub
    let faults: FaultRates
    var rng: SeededGenerator
    /// After this many more pulls, the replica process "crashes" (the sync is cut off).
    var pullsUntilCrash: Int?
    var log: (String) -> Void

    init(hub: SimulatedHub, faults: FaultRates, seed: UInt64, log: @escaping (String) -> Void) {
        self.hub = hub
        self.faults = faults
        rng = SeededGenerator(seed: seed)
        self.log = log
    }

    func chance(_ p: Double) -> Bool { p > 0 && Double(rng.next() % 1_000_000) / 1_000_000 < p }

    func send<Out: SwiftProtobuf.Message>(_ endpoint: String, body: [UInt8], token: String, as: Out.Type) async throws(TransportError) -> Out {
        if endpoint == Endpoint.pull, let n = pullsUntilCrash {
            if n <= 0 { log("  replica crashes mid-sync"); throw .unreachable("replica crashed") }
            pullsUntilCrash = n - 1
        }
        var body = body
        if chance(faults.hubCrash) {
            log("  hub crashes and restarts")
            do { try hub.crash() } catch { throw .unreachable("hub did not restart: \(error)") }
        }
        if hub.cluster != nil, chance(faults.hubCrash / 2) {
            log("  PostgreSQL crashes (-m immediate) and restarts")
            do { try hub.crashDatabase() } catch { throw .unreachable("PostgreSQL did not restart: \(error)") }
        }
        if chance(faults.dropRequest) { log("  \(endpoint) request dropped"); throw .unreachable("request dropped") }
        if chance(faults.delay) {
            log("  \(endpoint) request delayed")
            hub.delayed.append((endpoint, body, token))
            throw .unreachable("request delayed")
        }
        if chance(faults.truncate), body.count > 2 {
            // A body cut short in transit fails HTTP framing (Content-Length) or decoding at the
            // hub; either way it is refused as malformed and nothing is applied.
            log("  \(endpoint) body truncated")
            body = Array(body.prefix(body.count / 2))
            throw .refused(status: 400, WireError(.malformedBody, "truncated body"))
        }
        if chance(faults.duplicate) {
            log("  \(endpoint) request duplicated")
            _ = await hub.send(endpoint, body, token: token)
        }
        let result: Result<[UInt8], WireError>
        if hub.process != nil, chance(faults.hubCrash * 2) {
            // kill -9 while the hub handles this very request, then restart it.
            log("  hub killed during \(endpoint)")
            let send = Task { await hub.send(endpoint, body, token: token) }
            try? await Task.sleep(for: .milliseconds(Int(rng.next() % 8)))
            do { try hub.crash() } catch { throw .unreachable("hub did not restart: \(error)") }
            _ = await send.value
            throw .unreachable("hub killed")
        } else {
            result = await hub.send(endpoint, body, token: token)
        }
        if chance(faults.dropResponse) { log("  \(endpoint) response dropped"); throw .unreachable("response dropped") }
        switch result {
        case let .success(bytes):
            do { return try BodyCodec.decode(Out.self, from: bytes, as: .protobuf) } catch { throw .refused(status: 200, error) }
        case let .failure(e) where e.code == .unavailable:
            throw .unreachable(e.message)
        case let .failure(e):
            throw .refused(status: e.code.httpStatus, e)
        }
    }
}
