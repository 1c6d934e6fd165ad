import Foundation
import OppsCore
import OppsStore
import Testing

/// Issue 15, "duplicates made offline": two reps each make Omega offline; the laptop warns before
/// making a likely duplicate, the manager sees the pair after sync and merges them, and nothing —
/// no deal, contact or trail — is lost, including what only the hub could see.
@Suite struct MergeTests {
    /// Part of an account's name ("云帆" for 苏州云帆物流有限公司) is not a new account: none is
    /// guessed, none is made, the candidates are named; the full name, an id or `account new`
    /// still work.
    @Test func partOfAnAccountsNameIsNotANewAccount() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            #expect(await f.initReplica("sam", url).code == 0)
            let sam = f.home("sam")
            #expect(await opps("new", "云帆 试点", "--account", "苏州云帆物流有限公司", "--home", sam).code == 0)
            let account = String(await opps("account", "list", "--home", sam).stdout.split(separator: "\n").dropFirst().first?.prefix(ShortID.length) ?? "")
            let before = await opps("account", "list", "--home", sam, "--json").json?.array?.count
            let part = await opps("new", "云帆 二期", "--account", "云帆", "--home", sam, "--locale", "zh-CN")
            #expect(part.code == 1, "\(part.stderr)")
            #expect(
                part.stderr == "opps: 没有名为「云帆」的记录；有 1 个名称包含它（\(account) 客户「苏州云帆物流有限公司」）：请用 id\n"
                    + "或者确实要新建客户：opps account new \"云帆\"\n", "\(part.stderr)")
            let en = await opps("new", "云帆 二期", "--account", "云帆", "--home", sam, "--locale", "en")
            #expect(en.stderr.hasSuffix("or make a new account on purpose: opps account new \"云帆\"\n") && en.stderr.contains("\(account) account"), "\(en.stderr)")
            // The same for a contact's account.
            let contact = await opps("contact", "new", "李伟", "--account", "云帆", "--home", sam, "--locale", "en")
            #expect(contact.code == 1 && contact.stderr.contains("no record is named \"云帆\""), "\(contact.stderr)")
            #expect(await opps("account", "list", "--home", sam, "--json").json?.array?.count == before, "no account made")
            // A command that takes an account looks among accounts (not the deal 云帆 试点), one that
            // takes a deal among deals.
            // To read it, the one account whose name holds the words (the deal 云帆 试点 is not
            // looked at).
            let shown = await opps("account", "show", "云帆", "--home", sam, "--locale", "zh-CN")
            #expect(shown.code == 0 && shown.stdout.hasPrefix("客户 \(account)"), "\(shown.stdout) \(shown.stderr)")
            let logged = await opps("log", "云帆", "call", "--home", sam, "--locale", "zh-CN")
            #expect(logged.code == 1 && logged.stderr.contains("商机「云帆 试点」") && !logged.stderr.contains("客户「"), "\(logged.stderr)")
            // The id it names, or a new account made on purpose.
            #expect(await opps("new", "云帆 二期", "--account", account, "--home", sam).code == 0)
            #expect(await opps("account", "new", "云帆", "--home", sam).code == 0)
            #expect(await opps("new", "云帆 三期", "--account", "云帆", "--home", sam).code == 0)
        }
    }

    @Test func twoOmegasMadeOfflineBecomeOne() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            for u in ["sam", "tom", "max"] { #expect(await f.initReplica(u, url).code == 0) }
            let sam = f.home("sam"), tom = f.home("tom"), max = f.home("max")
            func id(_ run: Run) -> String { String(run.stdout.prefix(ShortID.length)) }
            // Offline, each on their own laptop.
            let samsDeal = id(await opps("new", "Omega pilot", "--account", "Omega", "--home", sam))
            #expect(await opps("contact", "new", "Li Wei", "--account", "Omega", "phone=13800001111", "--home", sam).code == 0)
            let tomsDeal = id(await opps("new", "Omega rollout", "--account", "OMEGA Ltd.", "--home", tom))
            // Tom's contact at his Omega, on no deal: only Tom (and the hub) hold it.
            #expect(await opps("contact", "new", "Zhang San", "--account", "OMEGA Ltd.", "--home", tom).code == 0)
            // On one laptop, a likely duplicate is refused with the one already there.
            let again = await opps("new", "Omega phase 2", "--account", "Omega Inc", "--home", sam)
            #expect(again.code == 1 && again.stderr.contains("looks like the account \"Omega\""), "\(again.stderr)")
            #expect(await opps("account", "new", "omega, ltd", "--home", sam).code == 1)
            let sameMan = await opps("contact", "new", "LI WEI", "--account", "Omega", "--home", sam)
            #expect(sameMan.code == 1 && sameMan.stderr.contains("looks like the contact"), "\(sameMan.stderr)")
            #expect(await opps("contact", "new", "Li Wei", "--account", "Omega", "--allow-duplicate", "--home", sam, "--json").code == 0)
            #expect(await opps("account", "duplicates", "--home", sam).stdout.contains("no likely duplicate accounts"))

            for h in [sam, tom] { #expect(await opps("sync", "--home", h).code == 0) }
            let synced = await opps("sync", "--home", max)
            #expect(synced.stdout.contains("1 likely duplicate account here: opps account duplicates"), "\(synced.stdout)")
            // The operator sees them across the hub too.
            let hubWide = await oppsHub("duplicates", "--data", f.root + "/hub", "--json")
            #expect(hubWide.json?.array?.first?.array?.count == 2, "\(hubWide.stdout) \(hubWide.stderr)")
            #expect(await oppsHub("duplicates", "--type", "contact", "--data", f.root + "/hub").stdout.contains("Li Wei"), "the same Li Wei twice at Omega")
            let listed = await opps("account", "duplicates", "--home", max)
            #expect(listed.stdout.contains("2 accounts look like one") && listed.stdout.contains("OMEGA Ltd."), "\(listed.stdout)")
            let groups = try #require(await opps("account", "duplicates", "--home", max, "--json").json?.array)
            let pair = try #require(groups.first?.array?.compactMap { $0["id"]?.string })
            #expect(pair.count == 2)
            let keep = pair[0], dup = pair[1]

            // A rep may not merge (it deletes a record); the manager may.
            let second = id(await opps("account", "new", "Omega Group", "--allow-duplicate", "--home", tom))
            let refused = await opps("account", "merge", "OMEGA Ltd.", second, "--home", tom)
            #expect(refused.code == 3 && refused.stderr.contains("may not delete"), "\(refused.stderr)")
            #expect(await opps("account", "merge", keep, second, "--home", tom).stderr.contains("not on this laptop"))
            let merged = await opps("account", "merge", keep, dup, "--home", max)
            #expect(merged.code == 0 && merged.stdout.contains("merged"), "\(merged.stderr)")
            #expect(await opps("account", "merge", keep, keep, "--home", max).code == 1)
            #expect(await opps("sync", "--home", max).code == 0)
            for h in [sam, tom] { #expect(await opps("sync", "--home", h).code == 0) }

            // Every deal names the account kept, on every laptop that holds it.
            for (h, deal) in [(sam, samsDeal), (tom, tomsDeal), (max, samsDeal), (max, tomsDeal)] {
                let account = await opps("show", deal, "--home", h, "--json").json?["fields"]?["account"]?.string
                #expect(account == keep, "\(h) \(deal)")
            }
            // Tom's contact, which the manager's laptop never held, was re-pointed by the hub.
            let contacts = await opps("contact", "list", "--home", tom, "--json").json?.array ?? []
            let zhang = try #require(contacts.first { $0["fields"]?["name"]?.string == "Zhang San" })
            #expect(zhang["fields"]?["account"]?.string == keep)
            // The trail says who re-pointed what; the duplicate is gone everywhere.
            let trail = await opps("history", tomsDeal, "--home", tom).stdout
            #expect(trail.contains("account:") && trail.contains("max"), "\(trail)")
            #expect(await opps("account", "duplicates", "--home", max).stdout.contains("no likely duplicate"))
            #expect(await oppsHub("duplicates", "--data", f.root + "/hub").stdout.contains("no likely duplicate accounts on this hub"))
            let accounts = await opps("account", "list", "--home", tom, "--json").json?.array?.compactMap { $0["id"]?.string } ?? []
            #expect(!accounts.contains(dup), "\(accounts)")
        }
    }
}
