import Foundation
import OppsCore
import OppsReplica
import Testing

/// Issue 15, "conflicts from the laptop": a rep restores their value where the rules allow, or
/// dismisses the conflict, from `opps` (before, only the hub operator could restore).
@Suite struct ConflictActionTests {
    @Test func aRepRestoresOrDismissesTheirLostValues() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            for u in ["sam", "max"] { #expect(await f.initReplica(u, url).code == 0) }
            let sam = f.home("sam"), max = f.home("max")
            // The manager overrides the amount and the next step offline while sam changes both:
            // sam's amount lost to the override; max's next step lost to sam, the owner, who is told.
            let (id, amount, step) = try await f.conflictsOnADeal()
            #expect(await opps("conflicts", "restore", String(step), "--home", sam).stderr.contains("max's value"))
            let listed = await opps("conflicts", "--home", sam)
            #expect(listed.stdout.contains("#\(amount) "), "the number to type back: \(listed.stdout)")
            // The list ends with what to do, naming one of sam's own values (the one he may write again).
            #expect(
                listed.stdout.hasSuffix("\n\nrestore yours: opps conflicts restore \(amount); put aside: opps conflicts dismiss \(amount)\n"),
                "\(listed.stdout)")

            // Restore: written again on top of what holds now; it lands at the next sync.
            let restored = await opps("conflicts", "restore", String(amount), "--home", sam)
            #expect(restored.code == 0, "\(restored.stderr)")
            #expect(restored.stdout.contains("changed amount"), "\(restored.stdout)")
            // Dismiss: gone from the list, the value that holds stays.
            // Left: max's next step, lost to sam's; only putting it aside is his to do.
            #expect(await opps("conflicts", "--home", sam).stdout.hasSuffix("\n\nput aside: opps conflicts dismiss \(step)\n"))
            #expect(await opps("conflicts", "dismiss", String(step), "--home", sam).code == 0)
            #expect(await opps("conflicts", "--home", sam, "--json").json?.array?.isEmpty == true)
            #expect(await opps("conflicts", "restore", String(step), "--home", sam).code == 1)  // no longer open
            #expect(await opps("sync", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            let fields = await opps("show", id, "--home", max, "--json").json?["fields"]
            #expect(fields?["amount"]?.string == "200.00")
            #expect(fields?["next_step"]?.string == "send the quote")
            #expect(await opps("conflicts", "restore", "999", "--home", sam).stderr.contains("no open conflict #999"))
        }
    }

    /// A value sam may no longer write is not offered to restore: once max hands the deal to
    /// tom, sam's lost amount can only be put aside, and restoring it says why.
    @Test func aValueTheRulesNoLongerAllowIsOnlyPutAside() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            for u in ["sam", "max"] { #expect(await f.initReplica(u, url).code == 0) }
            let sam = f.home("sam"), max = f.home("max")
            let (id, amount, _) = try await f.conflictsOnADeal()
            #expect(await opps("conflicts", "--home", sam).stdout.contains("opps conflicts restore \(amount)"))
            #expect(await opps("set", id, "owner=tom", "--home", max).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            #expect(await opps("sync", "--home", sam).code == 0)
            let listed = await opps("conflicts", "--home", sam)
            #expect(!listed.stdout.contains("restore"), "\(listed.stdout)")
            #expect(listed.stdout.hasSuffix("\n\nput aside: opps conflicts dismiss \(amount)\n"), "\(listed.stdout)")
            let restored = await opps("conflicts", "restore", String(amount), "--home", sam)
            #expect(restored.code == 1, "\(restored.stdout)")
            #expect(restored.stderr.contains("no longer on this laptop"), "\(restored.stderr)")
        }
    }
    /// A value the hub refused for what it is (a task given to a user the hub does not know) is
    /// not offered to restore: writing it again was refused again, conflict after conflict.
    @Test func aValueRefusedForWhatItIsIsOnlyPutAside() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            #expect(await f.initReplica("sam", url).code == 0)
            let sam = f.home("sam")
            let deal = try #require(await opps("new", "Typo deal", "--account", "ACME", "--home", sam, "--json").json?["id"]?.string)
            // The laptop knows the hub's users' names from its last sync (protocol 6): a name
            // nobody has is refused at once, in one line, with the names it could mean.
            let pending = try #require(await opps("status", "--home", sam, "--json").json?["pending"]?.int)
            let typo = await opps("task", "add", deal, "send the quote", "--due", "2026-12-09", "--assignee", "tmo", "--home", sam)
            #expect(typo.code == 1 && typo.stdout.isEmpty, "\(typo.stdout)")
            #expect(
                typo.stderr == "opps: assignee: tmo is not a user of the hub (did you mean tom?); a user added since your last sync is known after opps sync\n",
                "\(typo.stderr)")
            let nobody = await opps("task", "add", deal, "发报价", "--due", "2026-12-09", "--assignee", "nobdy", "--home", sam, "--locale", "zh-CN")
            #expect(nobody.code == 1)
            #expect(nobody.stderr == "opps: 执行人：「nobdy」不是服务器上的用户（用户有：eve、max、mia、sam、tom）；刚加的用户要先运行 opps sync 才能用\n", "\(nobody.stderr)")
            #expect(await opps("status", "--home", sam, "--json").json?["pending"]?.int == pending, "nothing was written")
            // A laptop whose hub sent no names (a hub of an older protocol) takes the name, and the
            // hub refuses it at sync.
            try Replica(home: sam, clock: FixedClock(milliseconds: 0)).store.setMeta("directory", "")
            let made = await opps("task", "add", deal, "send the quote", "--due", "2026-12-09", "--assignee", "nobdy", "--home", sam)
            #expect(made.code == 0 && made.stdout.hasSuffix("  task \"send the quote\", due 2026-12-09 (Wed), for nobdy (pending sync)\n"), "\(made.stdout)")
            #expect(await opps("sync", "--home", sam).code == 0)
            let conflicts = await opps("conflicts", "--home", sam, "--json").json?.array ?? []
            let number = try #require(conflicts.first { $0["field"]?.string == "assignee" }?["id"]?.int)
            let listed = await opps("conflicts", "--home", sam)
            // Named by its deal and what it is, not the task's bare id.
            #expect(listed.stdout.contains(" Typo deal · task \"send the quote\" - assignee\n"), "\(listed.stdout)")
            #expect(!listed.stdout.contains("restore"), "\(listed.stdout)")
            #expect(listed.stdout.hasSuffix("\n\nput aside: opps conflicts dismiss \(number)\n"), "\(listed.stdout)")
            let restored = await opps("conflicts", "restore", String(number), "--home", sam)
            #expect(restored.code == 1, "\(restored.stdout)")
            #expect(restored.stderr.contains("the hub has no user named nobdy"), "\(restored.stderr)")
            // Nothing was written again: the next sync has nothing to push.
            #expect(await opps("status", "--home", sam, "--json").json?["pending"]?.int == 0)
        }
    }
}
