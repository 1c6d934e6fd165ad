import Foundation
import OppsCore
import OppsTestSupport
import Testing

/// Issue 15, done when: a new user follows the README's quick start and sales day exactly as
/// written, typing back only the ids the commands printed. The commands are read from README.md
/// itself, so the README cannot drift from what works.
@Suite struct ReadmeTests {
    /// The `opps` command lines of the README's code blocks, in order (comments dropped, `;` split).
    static func readmeCommands() throws -> [String] {
        let readme = try RepositoryFiles.text("README.md")
        var out = [String]()
        var inBlock = false
        for raw in readme.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(raw)
            if line.hasPrefix("```") { inBlock.toggle(); continue }
            guard inBlock else { continue }
            var command = line.replacingOccurrences(of: ".build/debug/", with: "")
            if let hash = command.range(of: "  #") ?? command.range(of: " # ") { command = String(command[..<hash.lowerBound]) }
            for part in command.split(separator: ";") {
                let c = part.trimmingCharacters(in: .whitespaces)
                if c.hasPrefix("opps ") { out.append(c) }
            }
        }
        return out
    }

    /// Shell words: spaces split, double quotes group and are removed.
    static func words(_ line: String) -> [String] {
        var out = [String](), current = "", quoted = false, any = false
        for c in line {
            if c == "\"" { quoted.toggle(); any = true; continue }
            if c == " ", !quoted { if any || !current.isEmpty { out.append(current) }; current = ""; any = false; continue }
            current.append(c)
        }
        if any || !current.isEmpty { out.append(current) }
        return out
    }

    @Test func theQuickStartAndTheSalesDayWorkAsWritten() async throws {
        let lines = try Self.readmeCommands()
        #expect(lines.count >= 16, "\(lines)")
        let f = try CommandFixture()
        try await f.serving { url in
            var ids = [String: String]()  // README placeholder → what the CLI printed
            var lineNumber = 0
            /// Runs README line `i` as `user`, with placeholders replaced by printed ids.
            func run(_ i: Int, as user: String, expect code: Int32 = 0) async -> Run {
                var args = Array(Self.words(lines[i]).dropFirst())
                args = args.map { word in
                    var w = word
                    for (placeholder, id) in ids { w = w.replacingOccurrences(of: placeholder, with: id) }
                    if w.hasPrefix("http://127.0.0.1:8080") { w = url }
                    if w == "opps_…" { w = f.tokens[user]! }
                    return w
                }
                if let h = args.firstIndex(of: "--home") { args.removeSubrange(h...(h + 1)) }
                let r = await opps(args + ["--home", f.home(user)])
                #expect(r.code == code, "README line \(i + 1) (\(lines[i])) as \(user): \(r.stdout) \(r.stderr)")
                lineNumber = i
                return r
            }
            func sync(_ user: String) async { #expect(await opps("sync", "--home", f.home(user)).code == 0, "sync \(user) after line \(lineNumber + 1)") }
            func first(_ r: Run) -> String { String(r.stdout.split(separator: " ").first ?? "") }

            // Quick start, as sam.
            #expect(lines[0].hasPrefix("opps init"))
            _ = await run(0, as: "sam")
            let made = await run(1, as: "sam")
            ids["7dka36sd"] = first(made)
            #expect(first(made).count == ShortID.length, "new prints the id first: \(made.stdout)")
            _ = await run(2, as: "sam")
            let gated = await run(3, as: "sam", expect: 3)  // "gates … are checked offline"
            #expect(gated.stderr.contains("needs") && gated.stderr.contains("decision_makers"), "\(gated.stderr)")
            _ = await run(4, as: "sam")

            // The sales day. Marketing adds a lead and hands it off.
            for u in ["mia", "max", "tom", "eve"] { #expect(await f.initReplica(u, url).code == 0) }
            let lead = await run(5, as: "mia")
            ids["c79pjnhf"] = first(lead)
            let refused = await run(6, as: "mia", expect: 3)
            #expect(refused.stderr.contains("check_need") && refused.stderr.contains("qualification"), "\(refused.stderr)")
            _ = await run(7, as: "mia")
            _ = await run(8, as: "mia")
            await sync("mia")
            await sync("max")
            let owner = try #require(await opps("show", ids["c79pjnhf"]!, "--home", f.home("max"), "--json").json?["fields"]?["owner"]?.string)
            #expect(["sam", "tom"].contains(owner), "the hub assigned a rep: \(owner)")
            await sync(owner)
            _ = await run(9, as: owner)  // the rep rejects …
            await sync(owner)
            await sync("mia")
            _ = await run(8, as: "mia")  // … marketing hands it off again (line 4) …
            await sync("mia")
            await sync(owner)
            _ = await run(10, as: owner)  // … and the rep accepts
            let asked = await run(11, as: owner)
            #expect(asked.stdout.hasPrefix("requested approval"), "\(asked.stdout)")
            let team = await run(12, as: owner)
            #expect(team.stdout.contains("eve") || team.stdout.contains("request"), "\(team.stdout)")
            let mine = await run(13, as: owner)
            #expect(mine.stdout.split(separator: "\n").count >= 2, "the rep's two requests: \(mine.stdout)")
            await sync(owner)
            await sync("max")
            let waiting = await run(13, as: "max")
            let discount = try #require(
                waiting.stdout.split(separator: "\n").first { $0.contains("discount") }.map { String($0.split(separator: " ")[0]) },
                "\(waiting.stdout)")
            ids["kx3m0q2a"] = discount
            _ = await run(14, as: "max")
            await sync("max")
            await sync(owner)
            #expect(await opps("show", ids["c79pjnhf"]!, "--home", f.home(owner), "--json").json?["fields"]?["discount"]?.string == "15.00")
            // The rep takes back the request still waiting (the team change).
            let open = await opps("approvals", "--home", f.home(owner), "--json").json?.array ?? []
            ids["kx3m0q2a"] = try #require(open.first { $0["state"]?.string == "pending" }?["id"]?.string, "\(open)")
            let withdrew = await run(15, as: owner)
            #expect(withdrew.stdout.hasPrefix("withdrew "), "\(withdrew.stdout)")
            _ = await run(16, as: owner)
            for i in 17..<lines.count {
                let r = await run(i, as: owner)
                #expect(!r.stdout.isEmpty, "README line \(i + 1) printed nothing")
            }
        }
    }
}
