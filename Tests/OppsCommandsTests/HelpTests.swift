import ArgumentParser
import Foundation
import Testing

@testable import OppsCommands

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
}
