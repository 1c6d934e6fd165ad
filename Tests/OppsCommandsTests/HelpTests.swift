import ArgumentParser
import Foundation
import OppsConsole
import Testing

@testable import OppsCommands
@testable import OppsHubCommands

/// Issue 15: every command's --help says what it does in one line, with an example — and the
/// example only uses options that command has.
@Suite struct HelpTests {
    static func commands(_ type: any ParsableCommand.Type, path: [String] = []) -> [(path: [String], type: any ParsableCommand.Type)] {
        var out = [(path, type)]
        for sub in type.configuration.subcommands { out += commands(sub, path: path + [sub._commandName]) }
        return out
    }

    @Test func everyCommandHasAnExampleThatUsesItsOwnOptions() {
        let all = Self.commands(Opps.self)
        #expect(all.count >= 35)
        for (path, type) in all {
            let help = Opps.helpMessage(for: type, columns: 200)
            let name = (["opps"] + path).joined(separator: " ")
            #expect(!type.configuration.abstract.isEmpty, "\(name) has no one-line summary")
            guard let line = help.split(separator: "\n").first(where: { $0.hasPrefix("Example: ") }) else {
                Issue.record("\(name) --help has no example")
                continue
            }
            #expect(line.contains("opps"), "\(name): \(line)")
            // Options of a leaf command's example are its own (a group's example shows a subcommand).
            guard type.configuration.subcommands.isEmpty, path.count >= 1 else { continue }
            for option in line.split(separator: " ").filter({ $0.hasPrefix("--") }) {
                let flag = option.split(separator: "=").first.map(String.init) ?? String(option)
                #expect(
                    help.contains(flag + " ") || help.contains(flag + "\n") || help.contains(flag + "]") || help.contains(flag + ","),
                    "\(name): the example's \(flag) is not an option of it")
            }
        }
    }

    /// A group's --help lists every command in it, in English as in Chinese: `opps team --help`
    /// printed `team list`'s page (the group's default), which does not say `team add` exists.
    @Test func aGroupsHelpListsItsCommands() async {
        let groups = Self.commands(Opps.self).filter { !$0.path.isEmpty && !$0.type.configuration.subcommands.isEmpty }
        #expect(groups.contains { $0.path == ["team"] && $0.type.configuration.defaultSubcommand != nil })
        for (path, type) in groups {
            for asked in [path + ["--help"], path + ["-h"], ["help"] + path] {
                let run = await opps(asked + ["--locale", "en"], environment: ["LANG": "C"])
                #expect(run.code == 0, "\(asked)")
                for sub in type.configuration.subcommands {
                    #expect(run.stdout.contains("\n  \(sub._commandName) "), "opps \(asked.joined(separator: " ")) does not list \(sub._commandName): \(run.stdout)")
                }
            }
        }
        let hubGroups = Self.commands(OppsHub.self).filter { !$0.path.isEmpty && !$0.type.configuration.subcommands.isEmpty }
        #expect(hubGroups.contains { $0.path == ["conflicts"] && $0.type.configuration.defaultSubcommand != nil })
        for (path, type) in hubGroups {
            let run = await ProcessEnvironment.$pinned.withValue(["LANG": "C"]) { await oppsHub(path + ["--help"]) }
            #expect(run.code == 0, "\(path)")
            for sub in type.configuration.subcommands {
                #expect(
                    run.stdout.contains("\n  \(sub._commandName) "), "opps-hub \(path.joined(separator: " ")) --help does not list \(sub._commandName): \(run.stdout)")
            }
        }
    }
}
