import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsHub
import OppsStore
import OppsTestSupport
import Testing

@testable import OppsCommands

/// Every command line the help pages give as an example, in English and in Chinese, runs as
/// printed on a laptop that holds what it names, and succeeds. A rep copies these first: one
/// that names a stage label the workspace does not have (`--stage 需求调研`) fails on the
/// first try.
@Suite struct HelpExampleTests {
    /// A command an example gives: the help page it is on, and its words after `opps`.
    struct Example: CustomStringConvertible {
        var page: String
        var words: [String]
        var description: String { "\(page): opps \(words.joined(separator: " "))" }
    }

    /// The discussions the reader sees: each command's English and Chinese page, and both
    /// overviews.
    static func discussions() -> [(page: String, text: String)] {
        var out: [(String, String)] = []
        for (path, type) in HelpTests.commands(Opps.self) {
            let name = path.isEmpty ? "opps" : "opps " + path.joined(separator: " ")
            if let text = type.configuration.discussion as String?, !text.isEmpty { out.append((name, text)) }
            if let text = ChineseCommandHelp.pages[path.joined(separator: " ")]?.discussion { out.append((name + "（中文）", text)) }
        }
        // The Chinese overview wraps its sentences by hand: a line break inside one is no space.
        let paragraphs = ChineseHelp.text.components(separatedBy: "\n\n").map { $0.replacingOccurrences(of: "\n", with: "") }
        out.append(("opps（中文）", paragraphs.joined(separator: "\n\n")))
        return out
    }

    /// Where a discussion gives commands to type rather than mention them.
    static let markers = ["Example: ", "例子：", "第一次使用：", "标签输入：", "or a label: "]

    /// The commands `text` gives after one of `markers`, to the end of that paragraph: each
    /// `opps WORD …` whose word is a command, up to the punctuation that ends it in prose (`；`,
    /// `，`, `（`, `, `, `. `, ` then `, ` or `, `>`).
    static func examples(in text: String, page: String, commands: Set<String>) -> [Example] {
        text.components(separatedBy: "\n\n").flatMap { paragraph -> [Example] in
            guard let marker = markers.compactMap({ paragraph.range(of: $0) }).min(by: { $0.lowerBound < $1.lowerBound }) else { return [] }
            return commandsIn(String(paragraph[marker.upperBound...]), page: page, commands: commands)
        }
    }

    static func commandsIn(_ text: String, page: String, commands: Set<String>) -> [Example] {
        var out: [Example] = []
        var rest = Substring(text)
        while let start = rest.range(of: "opps ") {
            let before = rest[..<start.lowerBound].last
            rest = rest[start.upperBound...]
            // `$OPPS_HOME`, `~/.opps`, `opps_…` tokens are not commands.
            if let before, before.isLetter || before == "_" || before == "/" || before == "$" || before == "." { continue }
            var line = ""
            var quoted = false
            var index = rest.startIndex
            scan: while index < rest.endIndex {
                let c = rest[index]
                if c == "\"" { quoted.toggle() }
                if !quoted {
                    let tail = rest[index...]
                    for end in ["；", "，", "。", "（", "）", "(", ")", ", ", ". ", ";", " then ", " or ", " 或 ", ">", "\n"] where tail.hasPrefix(end) { break scan }
                    if c == "." && rest.index(after: index) == rest.endIndex { break scan }
                }
                line.append(c)
                index = rest.index(after: index)
            }
            let words = Self.words(line)
            guard let first = words.first, commands.contains(first) else {
                if let first = words.first, first.allSatisfy({ $0.isASCII && $0.isLowercase }),
                    CommandSuggestion.closest(to: first, among: Array(commands)) != nil
                {
                    Issue.record("\(page): \"opps \(line)\" names no command" as Comment)
                }
                continue
            }
            out.append(Example(page: page, words: words))
        }
        return out
    }

    /// Shell words: spaces split, double quotes group.
    static func words(_ line: String) -> [String] {
        var out: [String] = []
        var word: String?
        var quoted = false
        for c in line {
            if c == "\"" {
                quoted.toggle()
                word = word ?? ""
            } else if c == " " && !quoted {
                if let w = word { out.append(w) }
                word = nil
            } else {
                word = (word ?? "") + String(c)
            }
        }
        if let w = word { out.append(w) }
        return out
    }

    @Test func everyExampleInTheHelpRunsAsPrinted() async throws {
        let commands = Set(Opps.configuration.subcommands.map { $0._commandName } + ["help"])
        let all = Self.discussions().flatMap { Self.examples(in: $0.text, page: $0.page, commands: commands) }
        #expect(all.count >= 80, "\(all.count) examples")

        let fixture = try CommandFixture(extra: [HubUser(name: "wei", role: "sales", territory: "east", manager: "max")])
        try await fixture.serving { url in
            // Laptops that hold nothing yet: where the examples that make a record make it.
            let empty = { (user: String) in fixture.root + "/empty-" + user }
            for user in ["sam", "max", "mia"] {
                #expect(await opps("init", "--hub", url, "--token", fixture.tokens[user]!, "--home", empty(user)).code == 0)
            }
            #expect(await fixture.initReplica("sam", url).code == 0)
            #expect(await fixture.initReplica("max", url).code == 0)

            // What the examples name: deals "华东 试点" (ready to leave discovery) and "ACME
            // rollout", the account 上海云帆 and a second one, the contacts 李伟 and "Li Wei", a
            // task, a request waiting for max, conflicts on sam's laptop, and eve on the team of
            // a deal on max's.
            let sam = fixture.home("sam"), max = fixture.home("max")
            func id(_ args: String...) async throws -> String {
                let run = await opps(args + ["--json"])
                return try #require(run.json?["id"]?.string, "\(args): \(run.stdout)\(run.stderr)")
            }
            let deal = try await id("new", "华东 试点", "--account", "上海云帆", "--amount", "120000.00", "--currency", "CNY", "--close", "2027-03-31", "--home", sam)
            #expect(await opps("set", deal, "needs=统一视图", "decision_makers=CIO", "--home", sam).code == 0)
            let account = try await id("account", "show", "上海云帆", "--home", sam)
            let otherAccount = try await id("account", "new", "上海云帆物流", "--allow-duplicate", "--home", sam)
            let contact = try await id("contact", "new", "李伟", "--account", "上海云帆", "--home", sam)
            let otherContact = try await id("contact", "new", "Li Wei", "--account", "上海云帆物流", "--home", sam)
            let other = try await id("new", "云帆物流 扩容", "--account", otherAccount, "--home", sam)
            #expect(await opps("set", deal, "contact=\(contact)", "--home", sam).code == 0)
            #expect(await opps("set", other, "contact=\(otherContact)", "--home", sam).code == 0)
            let task = try await id("task", "add", deal, "回访", "--due", "2026-12-04", "--home", sam)
            // The tasks `opps task done` names by their text.
            for text in ["send the quote", "给张总发报价"] { _ = try await id("task", "add", deal, text, "--due", "2026-12-04", "--home", sam) }
            let conflicts = try await fixture.conflictsOnADeal()
            let (_, request) = try await fixture.aLossWaitingForMax()
            #expect(await opps("sync", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            // A team eve is on, for `team remove` (a manager's change applies at once).
            let withEve = fixture.root + "/max-with-eve"
            try FileManager.default.copyItem(atPath: max, toPath: withEve)
            #expect(await opps("team", "add", deal, "eve", "--role", "expert", "--home", withEve).code == 0)

            var failures: [String] = []
            for (n, example) in all.enumerated() {
                var words = example.words
                let command = words.first ?? ""
                let sub = words.count > 1 ? words[1] : ""
                // Not run: these leave the laptop (a new replica, a new token, a browser).
                if ["init", "connect", "web"].contains(command) { continue }
                let makes = (command == "new" || sub == "new" || (command == "lead" && sub == "add"))
                let user = command == "lead" ? "mia" : ["approve", "reject", "approvals", "delete", "merge"].contains(command) || sub == "merge" ? "max" : "sam"
                // mia's only laptop is the empty one (`lead list` runs there too).
                let base = makes || user == "mia" ? empty(user) : command == "team" && sub == "remove" ? withEve : fixture.home(user)
                words = words.map { word in
                    switch word {
                    case "7dka36sd": command == "account" ? account : command == "contact" ? contact : deal
                    case "3tqq0nqd": command == "account" ? otherAccount : command == "merge" ? other : otherContact
                    case "kx3m0q2a": request
                    case "k3m9x2qa": task
                    case "12": String(conflicts.amount)
                    default: word
                    }
                }
                // Each example on its own copy of the laptop, so none depends on another's effect.
                let home = fixture.root + "/example-\(n)"
                try FileManager.default.copyItem(atPath: base, toPath: home)
                let run = await opps(words + ["--home", home])
                if run.code != 0 { failures.append("\(example) → exit \(run.code): \(run.stderr)\(run.stdout.prefix(300))") }
            }
            #expect(failures.isEmpty, "\(failures.count) of \(all.count):\n\(failures.joined(separator: "\n"))")
        }
    }
}
