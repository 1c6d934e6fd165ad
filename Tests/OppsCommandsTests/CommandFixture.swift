import Foundation
import Hummingbird
import Logging
import OppsConsole
import OppsCore
import OppsHub
import OppsHubCommands
import OppsReplica
import OppsStore
import OppsTestSupport
import Testing

@testable import OppsCommands

/// A hub with a team, served on a free loopback port for the duration of a test, and helpers to
/// run `opps` in-process against it.
struct CommandFixture: Sendable {
    let root: String
    let tokens: [String: String]
    let hub: Hub

    static let team: [HubUser] = [
        HubUser(name: "max", role: "manager"),
        HubUser(name: "sam", role: "sales", territory: "north", manager: "max"),
        HubUser(name: "tom", role: "sales", territory: "north", manager: "max"),
        HubUser(name: "mia", role: "marketing", manager: "max"),
        HubUser(name: "eve", role: "expert", manager: "max"),
    ]

    /// - Parameters:
    ///   - clock: the hub's clock (a scripted day moves it with the laptops' clocks).
    ///   - extra: users besides the standard team.
    init(clock: (any PhysicalClock)? = nil, extra: [HubUser] = []) throws {
        root = Scratch.directory("opps-cmd")
        try FileManager.default.createDirectory(atPath: root + "/hub", withIntermediateDirectories: true)
        var config = HubConfiguration(dataDirectory: root + "/hub", port: 0)
        config.verifySnapshots = true  // every brought-forward snapshot is checked against a full build
        if let clock { config.clock = clock }
        var rng = SystemRandomNumberGenerator()
        let store = try SQLiteHubStore(path: config.databasePath)
        _ = try HubEngine.initialise(store: store, workspace: Workspace.defaultDocument, now: 1_795_000_000_000, rng: &rng)
        let engine = try HubEngine(store: store, configuration: config)
        var tokens = [String: String]()
        for u in Self.team + extra { tokens[u.name] = try engine.addUser(u, rng: &rng) }
        self.tokens = tokens
        hub = try Hub(configuration: config)
    }

    /// Runs `body` with the hub listening; passes its URL.
    /// With `tls` (PEM certificate and key files) it serves HTTPS and passes an https:// URL.
    func serving(hub: Hub? = nil, tls: (certificate: String, key: String)? = nil, _ body: @Sendable (String) async throws -> Void) async throws {
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        var quiet = Logger(label: "opps-hub")  // warnings and errors only: CI shows the output's end
        quiet.logLevel = .warning
        let app = try HubServer(hub: hub ?? self.hub, logger: quiet).application(host: "127.0.0.1", port: 0, tls: tls) { port in continuation.yield(port) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.run() }
            var ports = stream.makeAsyncIterator()
            let port = await ports.next()!
            do {
                try await body((tls == nil ? "http" : "https") + "://127.0.0.1:\(port)")
            } catch {
                group.cancelAll()
                throw error
            }
            group.cancelAll()
        }
    }

    func home(_ user: String) -> String { root + "/" + user }

    /// A request as a client of its own making writes it (an older opps, or one that asks what
    /// opps would refuse to ask), on `user`'s laptop: `field` of the deal `id` (as printed) to
    /// `value`, of `kind`.
    func askDirectly(_ user: String, deal id: String, kind: String, field: String, value: String) throws {
        let replica = try Replica(home: home(user), clock: FixedClock(milliseconds: Int64(Date().timeIntervalSince1970 * 1000)))
        let deal = try replica.resolveID(id)
        var rng = SystemRandomNumberGenerator()
        _ = try replica.create(
            entity: "approval", stage: nil,
            fields: [
                ("opportunity", .reference(deal)), ("kind", .member(kind)), ("requested", .text("\(field) → \(value)")), ("target", .text(deal.description)),
                ("field", .text(field)), ("value", .text(value)),
            ], using: &rng)
    }

    /// Sam's laptop (`sam-laptop`): a replica made against the hub at `url` through
    /// `transport` (its first sync done), its clock fixed; pages of `pageSize` for the syncs
    /// after it, when given.
    func samsLaptop(_ url: String, _ transport: HTTPTransport, pageSize: UInt32? = nil) async throws -> Replica {
        let replica = try await Replica.create(
            home: home("sam-laptop"), hubURL: url, token: tokens["sam"]!, transport: transport, clock: FixedClock(milliseconds: 1_795_000_000_000))
        if let pageSize { replica.pageSize = pageSize }
        return replica
    }

    /// `opps init` of `user`'s replica, in their home, against the hub at `url`.
    func initReplica(_ user: String, _ url: String) async -> Run {
        await opps("init", "--hub", url, "--token", tokens[user]!, "--home", home(user))
    }
}

/// The result of one in-process `opps` run.
struct Run {
    var code: Int32
    var stdout: String
    var stderr: String

    var json: JSON? { try? JSON.parse(stdout.trimmingCharacters(in: .whitespacesAndNewlines)) }
}

func opps(_ args: String...) async -> Run { await opps(args) }

func opps(_ args: [String]) async -> Run {
    let buffer = OutputBuffer()
    let code = await Console.$capture.withValue(buffer) { await OppsMain.run(args) }
    return Run(code: code, stdout: buffer.stdout, stderr: buffer.stderr)
}

/// The same as `opps` at a terminal: stderr keeps the progress line's control sequences.
func oppsAtATerminal(_ args: String...) async -> Run {
    let buffer = OutputBuffer(terminal: true)
    let code = await Console.$capture.withValue(buffer) { await OppsMain.run(args) }
    return Run(code: code, stdout: buffer.stdout, stderr: buffer.stderr)
}

/// The same with the environment `opps` reads pinned (OPPS_HOME, LANG) for this run alone.
func opps(_ args: [String], environment: [String: String]) async -> Run {
    await ProcessEnvironment.$pinned.withValue(environment) { await opps(args) }
}

extension Run {
    /// stdout with the lines a long timeline event continues on joined back to it (`opps show`
    /// wraps them under themselves at 80 columns): one line per event. English breaks only at
    /// spaces, so an English event reads exactly as it was; Chinese compare with `unspaced`.
    var unwrapped: String {
        stdout.split(separator: "\n", omittingEmptySubsequences: false).reduce(into: [String]()) { lines, line in
            let indent = String(repeating: " ", count: 29)
            if line.hasPrefix(indent), let last = lines.popLast() {
                let rest = line.dropFirst(indent.count)
                let wide = (last.last?.displayWidth ?? 1) == 2 || (rest.first?.displayWidth ?? 1) == 2
                lines.append(last + (wide ? "" : " ") + rest)
            } else {
                lines.append(String(line))
            }
        }.joined(separator: "\n")
    }
}

/// Text without its spaces and line breaks: for Chinese, which may break between any two characters.
func unspaced(_ text: String) -> String { text.filter { !$0.isWhitespace } }

func oppsHub(_ args: String...) async -> Run { await oppsHub(args) }

func oppsHub(_ args: [String]) async -> Run {
    let buffer = OutputBuffer()
    let code = await Console.$capture.withValue(buffer) { await OppsHubMain.run(args) }
    return Run(code: code, stdout: buffer.stdout, stderr: buffer.stderr)
}

/// The same with the environment `opps-hub` reads pinned (LANG) for this run alone.
func oppsHub(_ args: [String], environment: [String: String]) async -> Run {
    await ProcessEnvironment.$pinned.withValue(environment) { await oppsHub(args) }
}

/// Scenarios more than one suite starts from.
extension CommandFixture {
    /// sam's deal "ACME rollout" (amount 100.00 CNY), synced to max; then, offline on both
    /// laptops, max overrides amount and next step and sam changes both; both sync. sam holds two
    /// conflicts: his amount lost to the override (`amount`), and max's next step lost to sam,
    /// the owner (`step`). Returns the deal's id and the two conflicts' numbers on sam's laptop.
    func conflictsOnADeal() async throws -> (deal: String, amount: Int, step: Int) {
        let sam = home("sam"), max = home("max")
        let id = try #require(
            await opps("new", "ACME rollout", "--account", "ACME", "--amount", "100.00", "--currency", "CNY", "--home", sam, "--json").json?["id"]?.string)
        #expect(await opps("sync", "--home", sam).code == 0)
        #expect(await opps("sync", "--home", max).code == 0)
        #expect(await opps("set", id, "amount=300.00", "next_step=call the CFO", "--home", max).code == 0)
        #expect(await opps("set", id, "amount=200.00", "next_step=send the quote", "--home", sam).code == 0)
        #expect(await opps("sync", "--home", max).code == 0)
        #expect(await opps("sync", "--home", sam).code == 0)
        let conflicts = await opps("conflicts", "--home", sam, "--json").json?.array ?? []
        let amount = try #require(conflicts.first { $0["field"]?.string == "amount" && $0["author"]?.string == "sam" }?["id"]?.int)
        let step = try #require(conflicts.first { $0["field"]?.string == "next_step" && $0["author"]?.string == "max" }?["id"]?.int)
        return (id, amount, step)
    }

    /// sam's and max's replicas made against the hub at `url`, then `aLossWaitingForMax()`.
    /// sam's and max's replicas made, and a deal of sam's named `name` (on account ACME), not
    /// yet synced: its id.
    func samsDeal(_ name: String, initialising url: String) async throws -> String {
        for user in ["sam", "max"] { #expect(await initReplica(user, url).code == 0) }
        return try #require(await opps("new", name, "--account", "ACME", "--home", home("sam"), "--json").json?["id"]?.string)
    }

    func aLossWaitingForMax(initialising url: String) async throws -> (deal: String, request: String) {
        for user in ["sam", "max"] { #expect(await initReplica(user, url).code == 0) }
        return try await aLossWaitingForMax()
    }

    /// sam's deal "Doomed" moved to lost with the reason price: one approval request, synced to
    /// max. Returns the deal's id and the request's id.
    func aLossWaitingForMax() async throws -> (deal: String, request: String) {
        let sam = home("sam"), max = home("max")
        let id = try #require(await opps("new", "Doomed", "--account", "ACME", "--home", sam, "--json").json?["id"]?.string)
        let asked = await opps("stage", id, "lost", "--reason", "price", "--home", sam)
        #expect(asked.code == 0)
        #expect(asked.stdout.split(separator: "\n").filter { $0.hasPrefix("requested approval") }.count == 1, "\(asked.stdout)")
        #expect(asked.stdout.contains("stage and loss_reason"), "\(asked.stdout)")
        #expect(await opps("sync", "--home", sam).code == 0)
        #expect(await opps("sync", "--home", max).code == 0)
        let requests = await opps("approvals", "--home", max, "--json").json?.array ?? []
        #expect(requests.count == 1, "\(requests)")
        #expect(requests.first?["requested"]?.string == "stage → lost, loss_reason → price")
        return (id, try #require(requests.first?["id"]?.string))
    }
}
