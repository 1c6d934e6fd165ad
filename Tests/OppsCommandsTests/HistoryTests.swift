import Foundation
import OppsCommands
import OppsCore
import Testing

/// Issue 15 item 5: the history is the audit trail (留痕) — every change, by whom, when, old →
/// new, on every laptop that may see it; a laptop's own lines say what the hub decided.
@Suite struct HistoryTests {
    static func lines(_ user: String, _ id: String, _ f: CommandFixture) async -> [JSON] {
        await opps("history", id, "--home", f.home(user), "--json").json?.array ?? []
    }

    @Test func everyChangeIsOnEveryLaptopThatSeesIt() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            for u in ["sam", "max"] { #expect(await f.initReplica(u, url).code == 0) }
            let id = try #require(await opps("new", "ACME rollout", "--account", "ACME", "--home", f.home("sam"), "--json").json?["id"]?.string)
            // Creation: old is what the field held before (nothing), not the new value again.
            let made = await Self.lines("sam", id, f)
            let name = try #require(made.first { $0["field"]?.string == "name" })
            #expect(name["old"] == .null && name["new"]?.string == "ACME rollout", "\(made)")
            #expect(name["rule"]?.string == "pending")
            #expect(await opps("sync", "--home", f.home("sam")).code == 0)
            #expect(await opps("sync", "--home", f.home("max")).code == 0)
            // max's laptop got the deal whole: no trail here yet, and a line that says so (not nothing).
            #expect(await Self.lines("max", id, f).isEmpty)
            let none = await opps("history", id, "--home", f.home("max"))
            #expect(none.code == 0 && none.stdout.hasPrefix("No change to this record on this laptop since it arrived; its timeline: opps show "), "\(none.stdout)")
            // A full id of nothing here is said so, not read as a record without changes.
            let nothing = await opps("history", "01a24a52-d71a-7c09-b573-181828e510bd", "--home", f.home("max"))
            #expect(nothing.code == 1 && nothing.stderr.contains("no record here has the id or name"), "\(nothing.stdout)\(nothing.stderr)")
            let typed = String(none.stdout.split(separator: " ").last ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(await opps("show", typed, "--home", f.home("max"), "--json").json?["id"]?.string == id, "\(typed)")

            // Sam changes three fields at once and syncs: his own lines are settled, not doubled.
            #expect(await opps("set", id, "amount=48000.00", "currency=CNY", "next_step=demo Friday", "--home", f.home("sam")).code == 0)
            #expect(await opps("sync", "--home", f.home("sam")).code == 0)
            let own = await Self.lines("sam", id, f)
            #expect(own.allSatisfy { $0["rule"]?.string != "pending" }, "\(own)")
            #expect(own.filter { $0["field"]?.string == "amount" }.count == 1, "one line per change: \(own)")
            #expect(own.first { $0["field"]?.string == "amount" }?["rule"]?.string == "synced")

            // The manager's laptop gets the trail of all three, by sam, old → new.
            #expect(await opps("sync", "--home", f.home("max")).code == 0)
            let theirs = await Self.lines("max", id, f)
            for field in ["amount", "currency", "next_step"] {
                let line = theirs.first { $0["field"]?.string == field && $0["author"]?.string == "sam" }
                #expect(line != nil, "max lacks \(field): \(theirs)")
            }
            #expect(theirs.first { $0["field"]?.string == "amount" }?["new"]?.string == "48000.00")

            // The manager's own override, once synced, is settled on his trail.
            #expect(await opps("set", id, "amount=50000.00", "--home", f.home("max")).code == 0)  // manager override
            #expect(await opps("sync", "--home", f.home("max")).code == 0)
            #expect(await Self.lines("max", id, f).contains { $0["field"]?.string == "amount" && $0["new"]?.string == "50000.00" && $0["rule"]?.string == "synced" })
        }
    }

    /// A conflict's line holds the value that did not hold and the one that did: said as such,
    /// not as a change from one to the other.
    @Test func aConflictsLineSaysWhatDidNotHold() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            for u in ["sam", "max"] { #expect(await f.initReplica(u, url).code == 0) }
            let (id, _, _) = try await f.conflictsOnADeal()
            // (Read with the lines a long change continues on joined again.)
            let en = await opps(["history", id, "--home", f.home("sam")], environment: ["LANG": "C"]).stdout.replacing(/\n +/, with: " ")
            #expect(en.contains("  max    next_step: \"call the CFO\" did not hold, \"send the quote\" did [conflict: "), "\(en)")
            let zh = await opps(["history", id, "--home", f.home("sam"), "--locale", "zh-CN"], environment: ["LANG": "zh_CN.UTF-8"]).stdout
            #expect(unspaced(zh).contains(unspaced("max 下一步：「call the CFO」未被采用，保留「send the quote」【冲突：")), "\(zh)")
        }
    }

    /// A rep's day says how many of her writes did not hold, until she puts them aside.
    @Test func todaySaysWritesOfYoursThatDidNotHold() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            for u in ["sam", "max"] { #expect(await f.initReplica(u, url).code == 0) }
            let (_, amount, _) = try await f.conflictsOnADeal()
            let sam = f.home("sam")
            let day = await opps(["today", "--home", sam], environment: ["LANG": "C"]).stdout
            #expect(day.contains("\n1 write of yours did not hold (opps conflicts)\n"), "\(day)")
            let zh = await opps(["today", "--home", sam, "--locale", "zh-CN"], environment: ["LANG": "zh_CN.UTF-8"]).stdout
            #expect(zh.contains("\n你有 1 项修改未被采用（opps conflicts）\n"), "\(zh)")
            #expect(await opps("conflicts", "dismiss", String(amount), "--home", sam).code == 0)
            let after = await opps(["today", "--home", sam], environment: ["LANG": "C"])
            #expect(after.code == 0 && after.stdout.hasPrefix("today ") && !after.stdout.contains("did not hold"), "\(after.stdout)")
        }
    }
}
