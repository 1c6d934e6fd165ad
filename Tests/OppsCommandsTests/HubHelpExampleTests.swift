import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsStore
import Testing

@testable import OppsHubCommands

/// Every `opps-hub` command's help has an example, and every example runs as printed on a
/// hub holding what it names (the data directory and files it names put in scratch places):
/// the operator's first minutes, as `HelpExampleTests` holds the rep's.
@Suite struct HubHelpExampleTests {
    /// The `opps-hub …` command after "Example: " in a discussion: to the end of its line, its
    /// trailing parenthesis and any redirection dropped.
    static func example(in discussion: String) -> [String]? {
        guard let start = discussion.range(of: "Example: ") else { return nil }
        var line = String(discussion[start.upperBound...].prefix { $0 != "\n" })
        guard let program = line.range(of: "opps-hub ") else { return nil }
        line = String(line[program.upperBound...])
        if let open = line.range(of: " (") { line = String(line[..<open.lowerBound]) }
        if let redirect = line.range(of: " > ") { line = String(line[..<redirect.lowerBound]) }
        return line.split(separator: " ").map(String.init)
    }

    @Test func everyOperatorCommandHasAnExampleThatRunsAsPrinted() async throws {
        let all = HelpTests.commands(OppsHub.self).filter { !$0.path.isEmpty }
        var examples: [(name: String, words: [String])] = []
        for (path, type) in all {
            let name = "opps-hub " + path.joined(separator: " ")
            guard let words = Self.example(in: type.configuration.discussion) else {
                Issue.record("\(name) --help has no example")
                continue
            }
            #expect(
                Array(words.prefix(path.count)) == path || type.configuration.subcommands.contains { $0._commandName == words.dropFirst(path.count - 1).first },
                "\(name): \(words)")
            examples.append((name, words))
        }
        #expect(examples.count >= 25)

        // A hub with a north team (max, sam) and an east one (lin, wei), a deal with two conflicts.
        let f = try CommandFixture(extra: [HubUser(name: "lin", role: "manager"), HubUser(name: "wei", role: "sales", territory: "east", manager: "lin")])
        let made = SendableBox<(deal: String, amount: Int, step: Int)>()
        try await f.serving { url in
            #expect(await f.initReplica("sam", url).code == 0)
            #expect(await f.initReplica("max", url).code == 0)
            made.value = try await f.conflictsOnADeal()
        }
        let (deal, conflict) = try #require(made.value.map { ($0.deal, $0.amount) })
        let base = f.root + "/hub"
        let short = String(ShortID.code(try #require(RecordID(parsing: deal))).prefix(ShortID.length))
        let backup = f.root + "/prepared.sqlite"
        #expect(await oppsHub("backup", "--to", backup, "--data", base).code == 0)
        let shown = await oppsHub("workspace", "show", "--data", base)
        let match = try #require(shown.stdout.firstMatch(of: /"version": (\d+),/))
        let version = try #require(Int(match.1))
        let raised = shown.stdout.replacingOccurrences(of: "\"version\": \(version),", with: "\"version\": \(version + 1),")
        #expect(raised != shown.stdout)
        try raised.write(toFile: f.root + "/workspace.json", atomically: true, encoding: .utf8)
        try "name,industry\nBeta Logistics,物流\n".write(toFile: f.root + "/accounts.csv", atomically: true, encoding: .utf8)
        try "name,role,manager\nzhou,sales,max\n".write(toFile: f.root + "/team.csv", atomically: true, encoding: .utf8)

        var failures: [String] = []
        for (n, example) in examples.enumerated() {
            let command = example.words.first ?? ""
            // Not run: these serve until interrupted, or need PostgreSQL.
            if ["serve", "demo", "migrate"].contains(command) { continue }
            let data = f.root + "/example-\(n)"
            if command != "init" { try FileManager.default.copyItem(atPath: base, toPath: data) }
            let words = example.words.map { word -> String in
                switch word {
                case "/srv/opps": data
                case "/backups/opps-2026-12-03.sqlite": command == "backup" ? f.root + "/backup-\(n).sqlite" : backup
                case "workspace.json": f.root + "/workspace.json"
                case "accounts.csv": f.root + "/accounts.csv"
                case "team.csv": f.root + "/team.csv"
                case "7dka36sd": short
                case "12": String(conflict)
                default: word
                }
            }
            let run = await oppsHub(words)
            if run.code != 0 { failures.append("\(example.name): opps-hub \(example.words.joined(separator: " ")) → exit \(run.code): \(run.stderr)") }
        }
        #expect(failures.isEmpty, "\(failures.count) of \(examples.count):\n\(failures.joined(separator: "\n"))")
    }
}

/// One value a `@Sendable` closure hands back.
final class SendableBox<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T?
    var value: T? {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }
}
