import ArgumentParser
import Foundation
import Logging
import OppsConsole
import OppsCore
import OppsHub
import OppsStore
import OppsWire

/// `opps-hub demo`: a working hub with a demo team and pipeline, in one command.
public struct Demo: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Start a demo hub: the default workspace, a small sales team and a few deals, served until interrupted.",
        discussion: """
            Creates the hub in --data (default ./opps-demo) the first time; later runs reuse it and issue the demo \
            users fresh tokens. Prints each user's token and the commands to sync as them. Deletes nothing.
            """
    )

    @Option(help: "The demo hub's data directory.")
    var data = "opps-demo"

    @Option(help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "The port to listen on; 0 picks a free port.")
    var port = 8080

    public init() {}

    static let team: [HubUser] = [
        HubUser(name: "max", role: "manager", team: "north"),
        HubUser(name: "sam", role: "sales", team: "north", territory: "north", manager: "max", capacity: 20),
        HubUser(name: "tom", role: "sales", team: "north", territory: "north", manager: "max", capacity: 20),
        HubUser(name: "mia", role: "marketing", team: "north", manager: "max"),
        HubUser(name: "eve", role: "expert", team: "north", manager: "max"),
        HubUser(name: "sue", role: "success", team: "north", manager: "max"),
    ]

    public func run() async throws {
        let configuration = HubConfiguration(dataDirectory: data, host: host, port: port)
        let fm = FileManager.default
        var rng = SystemRandomNumberGenerator()
        let fresh = !fm.fileExists(atPath: configuration.databasePath)
        var tokens = [(String, String, String)]()
        do {
            try fm.createDirectory(atPath: data, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let store = try SQLiteHubStore(path: configuration.databasePath)
            if fresh {
                _ = try HubEngine.initialise(store: store, workspace: Workspace.defaultDocument, now: SystemClock().nowMilliseconds(), rng: &rng)
            }
            let engine = try HubEngine(store: store, configuration: configuration)
            for user in Self.team {
                if try store.user(named: user.name) == nil {
                    tokens.append((user.name, user.role, try engine.addUser(user, rng: &rng)))
                } else {
                    // The stored tokens are hashed: a rerun issues new ones (the old stop working).
                    let token = Token.generate(using: &rng)
                    try store.transaction {
                        try store.revokeTokens(user: user.name)
                        try store.addToken(hash: Token.hash(token), user: user.name, now: SystemClock().nowMilliseconds())
                    }
                    tokens.append((user.name, user.role, token))
                }
            }
            if fresh { try seed(engine) }
        } catch let e as StoreError {
            throw CommandFailure("cannot use \(data): \(e.message)")
        }
        let lock = try adminCall { try HubLock(directory: self.data) }
        defer { withExtendedLifetime(lock) {} }
        let hub = try Hub(configuration: configuration)
        let server = HubServer(hub: hub, logger: Logger(label: "opps-hub"))
        let host = self.host
        let data = self.data
        let issued = tokens
        // The `opps` built next to this `opps-hub`, so the printed commands run as they are.
        let sibling = URL(fileURLWithPath: CommandLine.arguments.first ?? "opps-hub").deletingLastPathComponent().appendingPathComponent("opps").path
        let oppsCommand = FileManager.default.isExecutableFile(atPath: sibling) ? sibling : "opps"
        let app = try server.application(host: host, port: port) { bound in
            var lines = ["listening on http://\(host):\(bound)",
                         "",
                         "OppSync demo hub (\(fresh ? "new" : "reused"), data in \(data)). Users and their tokens:"]
            for (name, role, token) in issued { lines.append("  \(name.padding(toLength: 4, withPad: " ", startingAt: 0)) \(role.padding(toLength: 10, withPad: " ", startingAt: 0)) \(token)") }
            lines += ["",
                      "Sync as sam (the replica command line):",
                      "  \(oppsCommand) init --hub http://\(host):\(bound) --token \(issued.first { $0.0 == "sam" }!.2) --home ./opps-sam",
                      "  \(oppsCommand) list --home ./opps-sam",
                      "",
                      "Or talk to the protocol directly (JSON form):",
                      "  curl -s -X POST http://\(host):\(bound)/v1/handshake -H 'Content-Type: application/json' \\",
                      "       -H 'Authorization: Bearer \(issued.first { $0.0 == "max" }!.2)' \\",
                      "       -d '{\"minVersion\":1,\"maxVersion\":1,\"replica\":\"AAAAAAAAAAAAAAAAAAAAAQ==\"}'",
                      "  curl -s http://\(host):\(bound)/metrics | grep opps_",
                      "",
                      "Press Ctrl-C to stop; the data stays in \(data)."]
            FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        }
        do { try await app.runService() } catch {
            if let why = HubServer.startFailure(error, host: host, port: port) { throw CommandFailure(why) }
            throw error
        }
    }

    /// A small pipeline: sam's deals at several stages, a lead of mia's, an expert on one deal.
    func seed(_ engine: HubEngine) throws {
        var rng = SystemRandomNumberGenerator()
        var clock = HybridLogicalClock()
        let now = SystemClock().nowMilliseconds()
        func session(_ name: String) throws -> (HubUser, ReplicaID) {
            let user = try engine.store.user(named: name)!
            let replica = ReplicaID.random(using: &rng)
            var h = HandshakeRequest()
            h.minVersion = 1
            h.maxVersion = 1
            h.replica = Data(replica.bytes)
            _ = try engine.handshake(user: user, request: h)
            return (user, replica)
        }
        func push(_ s: (HubUser, ReplicaID), _ writes: [FieldWrite]) throws {
            var activity = HubActivity()
            _ = try engine.push(user: s.0, request: BatchCoding.encode(writes, replica: s.1, batch: 1, workspace: engine.workspace), activity: &activity)
        }
        let sam = try session("sam")
        var writes = [FieldWrite]()
        func stamp(_ r: ReplicaID) -> Stamp { Stamp(hlc: clock.tick(physical: now), replica: r) }
        let deals: [(String, String, Int64, String)] = [("ACME CRM rollout", "CNY", 48_000_000, "2027-03-31"), ("Globex field service", "USD", 12_500_000, "2027-02-15"),
                                                      ("Initech renewal", "CNY", 9_900_000, "2027-01-20")]
        var first: RecordID?
        for (name, currency, cents, close) in deals {
            let id = UUID128.version7(milliseconds: now, using: &rng)
            if first == nil { first = id }
            writes.append(FieldWrite(record: id, entity: "opportunity", kind: .create, value: .member("discovery"), author: "sam", stamp: stamp(sam.1)))
            for (f, v) in [("name", Value.text(name)), ("currency", .member(currency)), ("amount", .decimal(ExactDecimal(units: cents, scale: 2))),
                           ("close_date", .date(try CivilDate(parsing: close))), ("next_step", .text("call the sponsor"))] {
                writes.append(FieldWrite(record: id, entity: "opportunity", field: f, value: v, author: "sam", stamp: stamp(sam.1)))
            }
        }
        try push(sam, writes)
        let mia = try session("mia")
        let lead = UUID128.version7(milliseconds: now, using: &rng)
        try push(mia, [FieldWrite(record: lead, entity: "opportunity", kind: .create, value: .member("lead"), author: "mia", stamp: stamp(mia.1)),
                       FieldWrite(record: lead, entity: "opportunity", field: "name", value: .text("Umbrella pilot"), author: "mia", stamp: stamp(mia.1)),
                       FieldWrite(record: lead, entity: "opportunity", field: "lead_source", value: .member("event"), author: "mia", stamp: stamp(mia.1))])
        let max = try session("max")
        let membership = UUID128.version7(milliseconds: now, using: &rng)
        try push(max, [FieldWrite(record: membership, entity: "membership", kind: .create, author: "max", stamp: stamp(max.1))] +
                 [("opportunity", Value.reference(first!)), ("user", .text("eve")), ("role", .member("expert")), ("state", .member("active"))].map {
                     FieldWrite(record: membership, entity: "membership", field: $0.0, value: $0.1, author: "max", stamp: stamp(max.1))
                 })
    }
}
