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
        abstract: "Start a demo hub holding a sales team's last quarter, served until interrupted.",
        discussion: """
            The first time, creates the hub in --data (default ./opps-demo) and plays a quarter of two \
            territories through it — north in English, east in Chinese: 11 users, --deals opportunities \
            across every stage with their activities, tasks, approvals and two conflicts, all made by \
            replicas through the hub's rules in device time (the same seed makes the same quarter). \
            Later runs reuse the hub and issue the users fresh tokens. Prints each user's token and what \
            to try next. Deletes nothing.

            Example: opps-hub demo --data /tmp/opps-demo --port 8080 --deals 300
            """
    )

    @Option(help: "The demo hub's data directory.")
    var data = "opps-demo"

    @Option(help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "The port to listen on; 0 picks a free port.")
    var port = 8080

    @Option(help: "Opportunities in the quarter (a new hub only): 300 by default; 100000 to feel the speed.")
    var deals = 300

    @Option(help: "The seed the quarter is generated from (a new hub only).")
    var seed: UInt64 = 2026

    @Option(help: "The language the workspace reads in for users without their own (a new hub only): zh-CN or en.")
    var locale: String?

    public init() {}

    public func validate() throws {
        guard (1...2_000_000).contains(deals) else { throw ValidationError("--deals is 1 … 2000000") }
        if let locale, !Workspace.default.locales.contains(locale) {
            throw ValidationError("--locale is one of \(Workspace.default.locales.joined(separator: ", "))")
        }
    }

    static var team: [HubUser] { DemoQuarter.team }

    public func run() async throws {
        let configuration = HubConfiguration(dataDirectory: data, host: host, port: port)
        let fm = FileManager.default
        var rng = SystemRandomNumberGenerator()
        let fresh = !fm.fileExists(atPath: configuration.databasePath)
        var tokens = [(String, String, String)]()
        var seeded: (DemoQuarter.Summary, Double)?
        do {
            try fm.createDirectory(atPath: data, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let store = try SQLiteHubStore(path: configuration.databasePath)
            if fresh {
                _ = try HubEngine.initialise(store: store, workspace: Workspace.defaultDocument(locale: locale), now: SystemClock().nowMilliseconds(), rng: &rng)
            }
            let engine = try HubEngine(store: store, configuration: configuration)
            for user in Self.team {
                if try store.user(named: user.name) == nil {
                    tokens.append((user.name, user.role, try engine.addUser(user, rng: &rng)))
                } else {
                    // The stored tokens are hashed: a rerun rotates them (audited; the old stop working).
                    tokens.append((user.name, user.role, try engine.rotateToken(user.name, rng: &rng)))
                }
            }
            if fresh {
                let started = Date()
                Console.err("playing a quarter of \(deals) deals through the hub (seed \(seed))…")
                let quarter = DemoQuarter(seed: seed, deals: deals, now: SystemClock().nowMilliseconds())
                let summary = try await quarter.run(
                    store: store, configuration: configuration,
                    tokens: Dictionary(uniqueKeysWithValues: tokens.map { ($0.0, $0.2) })
                ) { Console.err($0) }
                seeded = (summary, Date().timeIntervalSince(started))
            }
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
        let quarter = seeded
        // The `opps` built next to this `opps-hub`, so the printed commands run as they are.
        let sibling = URL(fileURLWithPath: CommandLine.arguments.first ?? "opps-hub").deletingLastPathComponent().appendingPathComponent("opps").path
        let oppsCommand = FileManager.default.isExecutableFile(atPath: sibling) ? sibling : "opps"
        let app = try server.application(host: host, port: port) { bound in
            var lines = [
                "listening on http://\(host):\(bound)",
                "",
                "OppSync demo hub (\(fresh ? "new" : "reused"), data in \(data)). Users and their tokens:",
            ]
            for (name, role, token) in issued {
                lines.append("  \(name.padding(toLength: 4, withPad: " ", startingAt: 0)) \(role.padding(toLength: 10, withPad: " ", startingAt: 0)) \(token)")
            }
            if let (summary, seconds) = quarter {
                let stages = Workspace.default.stages.map { "\($0.name) \(summary.byStage[$0.name] ?? 0)" }.joined(separator: ", ")
                lines += [
                    "",
                    "The quarter: \(summary.deals) deals (\(stages)), \(summary.accounts) accounts, \(summary.contacts) contacts, "
                        + "\(summary.activities) activities, \(summary.tasks) tasks, \(summary.writes) writes; seeded in \(String(format: "%.1f", seconds)) s.",
                ]
            }
            let samToken = issued.first { $0.0 == "sam" }!.2, weiToken = issued.first { $0.0 == "wei" }!.2
            lines += [
                "",
                "Try next, as sam (a rep in the north territory):",
                "  \(oppsCommand) init --hub http://\(host):\(bound) --token \(samToken) --home ./opps-sam",
                "  \(oppsCommand) board --home ./opps-sam",
                "  \(oppsCommand) today --home ./opps-sam",
                "As wei (east territory, in Chinese): \(oppsCommand) init --hub http://\(host):\(bound) --token \(weiToken) --home ./opps-wei",
                "  then \(oppsCommand) locale zh-CN --home ./opps-wei; \(oppsCommand) board --home ./opps-wei",
                "As max (manager): approvals, conflicts, funnel, report time-in-stage, forecast.",
                "",
                "Or talk to the protocol directly (JSON form):",
                "  curl -s -X POST http://\(host):\(bound)/v1/handshake -H 'Content-Type: application/json' \\",
                "       -H 'Authorization: Bearer \(issued.first { $0.0 == "max" }!.2)' \\",
                "       -d '{\"minVersion\":1,\"maxVersion\":1,\"replica\":\"AAAAAAAAAAAAAAAAAAAAAQ==\"}'",
                "  curl -s http://\(host):\(bound)/metrics | grep opps_",
                "",
                "Press Ctrl-C to stop; the data stays in \(data).",
            ]
            FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        }
        do { try await app.runService() } catch {
            if let why = HubServer.startFailure(error, host: host, port: port) { throw CommandFailure(why) }
            throw error
        }
    }
}
