import Foundation
import OppsCore
import Testing

/// Issue 15: accounts and contacts as first-class commands, a deal's account shown by name.
@Suite struct DirectoryTests {
    @Test func accountsAndContactsAreListedShownAndMadeOffline() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            #expect(await f.initReplica("sam", url).code == 0)
            let home = f.home("sam")
            #expect(await opps("account", "--home", home).stdout.contains("no accounts on this laptop yet"))
            let made = await opps("account", "new", "上海云帆", "industry=物流", "territory=east", "--home", home)
            #expect(made.code == 0, "\(made.stderr)")
            #expect(await opps("account", "new", "上海云帆", "--home", home).stderr.contains("already here"))
            #expect(await opps("account", "new", "Bad", "colour=blue", "--home", home).stderr.contains("no field \"colour\""))
            let person = await opps("contact", "new", "李伟", "--account", "上海云帆", "title=CIO", "--home", home)
            #expect(person.code == 0 && !person.stdout.contains("new account"), "the account was found: \(person.stderr)\(person.stdout)")
            let elsewhere = await opps("contact", "new", "王芳", "--account", "杭州云帆", "--home", home, "--locale", "en")
            #expect(elsewhere.code == 0 && elsewhere.stdout.contains("\n  new account: 杭州云帆 ("), "an account the name made is said: \(elsewhere.stdout)")
            #expect(await opps("new", "华东 试点", "--account", "上海云帆", "--amount", "120000.00", "--currency", "CNY", "--home", home).code == 0)
            let list = await opps("account", "list", "--home", home)
            let row = try #require(list.stdout.split(separator: "\n").first { $0.contains("上海云帆") })
            #expect(row.hasSuffix("1"), "one deal: \(row)")
            #expect(await opps("account", "list", "--search", "云帆", "--home", home).stdout.contains("上海云帆"))
            #expect(await opps("account", "list", "--search", "nothing", "--home", home).stdout.contains("no account here matches"))
            // The text without --search, as a rep searches: the group's own list too; not both.
            let searched = await opps("account", "list", "--search", "云帆", "--home", home).stdout
            #expect(await opps("account", "list", "云帆", "--home", home).stdout == searched)
            #expect(await opps("account", "云帆", "--home", home).stdout == searched)
            #expect(await opps("account", "云帆", "--search", "x", "--home", home).code == 64)
            #expect(await opps("contact", "nobody-here", "--home", home).stdout.contains("no contact"), "a contact's list searches so too")
            let shown = await opps("account", "show", "上海云帆", "--home", home)
            #expect(shown.stdout.contains("华东 试点") && shown.stdout.contains("120,000.00 CNY") && shown.stdout.contains("李伟"), "\(shown.stdout)")
            let contacts = await opps("contact", "--home", home)
            #expect(contacts.stdout.contains("李伟") && contacts.stdout.contains("上海云帆"), "the account by name: \(contacts.stdout)")
            #expect(await opps("contact", "show", "李伟", "--home", home).stdout.contains("CIO"))
            #expect(await opps("account", "show", "李伟", "--home", home).stderr.contains("not an account"))
            // A name typed without quotes: its words are the name, up to the first FIELD=VALUE.
            let words = await opps("account", "new", "Acme", "Trading", "Co", "industry=retail", "--home", home, "--json")
            #expect(words.json?["fields"]?["name"]?.string == "Acme Trading Co" && words.json?["fields"]?["industry"]?.string == "retail", "\(words.stdout)")
            let deal = await opps("new", "Acme", "field", "pilot", "--account", "Acme Trading Co", "--home", home, "--json")
            #expect(deal.json?["fields"]?["name"]?.string == "Acme field pilot", "\(deal.stdout) \(deal.stderr)")
            let task = await opps("task", "add", "Acme field pilot", "send", "the", "quote", "--due", "2026-12-09", "--home", home, "--json")
            #expect(task.json?["fields"]?["text"]?.string == "send the quote", "\(task.stdout) \(task.stderr)")
            let who = await opps("contact", "new", "Li", "Na", "--account", "Acme Trading Co", "title=CFO", "--home", home, "--json")
            #expect(who.json?["fields"]?["name"]?.string == "Li Na" && who.json?["fields"]?["title"]?.string == "CFO", "\(who.stdout)")
            // Fields with no name before them: one line saying the name comes first, nothing made.
            let nameless = await opps("account", "new", "行业=零售", "--home", home, "--locale", "zh-CN")
            #expect(nameless.code == 64 && nameless.stderr == "opps: 先写客户名称：opps account new 名称 行业=…\n", "\(nameless.stderr)")
            #expect(await opps("account", "new", " ", "--home", home).code == 64, "a blank name is no name")
            #expect(await opps("sync", "--home", home).code == 0)
            #expect(await opps("account", "list", "--home", home, "--json").json?.array?.count == 3, "上海云帆, 杭州云帆, Acme Trading Co")
        }
    }

    /// A contact typed by a name this laptop does not hold: the refusal says how to make them at
    /// the deal's account, and that command, typed back, lets the same set through.
    @Test func aContactNotHereYetIsMadeAsTheRefusalSays() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            #expect(await f.initReplica("sam", url).code == 0)
            let sam = f.home("sam")
            let id = try #require(await opps("new", "Beta rollout", "--account", "Beta Corp", "--home", sam, "--json").json?["id"]?.string)
            let refused = await opps(["set", id, "contact=Li Wei", "--home", sam], environment: ["LANG": "C"])
            #expect(refused.code == 1)
            let lines = refused.stderr.split(separator: "\n").map(String.init)
            #expect(
                lines.count == 2 && lines[1] == "make the contact here first: opps contact new \"Li Wei\" --account \"Beta Corp\", then run opps set again",
                "\(refused.stderr)")
            #expect(await opps(["contact", "new", "Li Wei", "--account", "Beta Corp", "--home", sam]).code == 0)
            #expect(await opps(["set", id, "contact=Li Wei", "--home", sam]).code == 0)
            let account = await opps(["set", id, "account=Gamma", "--home", sam], environment: ["LANG": "C"])
            #expect(account.stderr.hasSuffix("make the account here first: opps account new Gamma, then run opps set again\n"), "\(account.stderr)")
        }
    }

    /// What a Chinese rep types for a deal: its name without the space a colleague put in it, or
    /// the account's name (`opps set 华为 金额=120万`, the account having no amount).
    @Test func aDealIsFoundAsAChineseRepNamesIt() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            #expect(await f.initReplica("sam", url).code == 0)
            let sam = f.home("sam")
            let made = await opps("new", "华为", "云迁移", "--account", "华为", "--home", sam).stdout
            let code = String(made.prefix(8))
            // Without its space: the same deal, for an edit too (not a guess: the whole name).
            #expect(await opps("set", "华为云迁移", "客户需求=上云", "--home", sam).code == 0)
            #expect(await opps("show", code, "--home", sam, "--json").json?["fields"]?["needs"]?.string == "上云")
            // Its page says first what the stage needs before the next, as the line that fills it
            // with what each field takes; the other empty fields after.
            let page = await opps("show", code, "--home", sam, "--locale", "zh-CN").stdout
            let lead = "  进入「方案」前先补上："
            let under = String(repeating: " ", count: lead.displayWidth)
            #expect(
                page.contains("\n\(lead)opps set \(code) 金额=120000.00 预计成交日期=YYYY-MM-DD\n\(under)决策人=…\n  其他未填，你可以填："), "\(page)")
            #expect(!page.contains("例如："), "\(page)")
            // A search the same way (any part of the name, its spaces or not).
            #expect(await opps("list", "--search", "为云迁", "--home", sam, "--json").json?.array?.count == 1)
            #expect(await opps("account", "list", "--search", "华 为", "--home", sam, "--json").json?.array?.count == 1)
            // Two names that differ only by spaces (one made on purpose: it would be refused as the
            // same deal; two laptops can still make them): neither is taken, both are named.
            #expect(await opps("new", "华为云", "迁移", "--account", "华为", "--home", sam).code == 1)
            #expect(await opps("new", "华为云", "迁移", "--account", "华为", "--allow-duplicate", "--home", sam).code == 0)
            let two = await opps(["set", "华为云迁移", "客户需求=x", "--home", sam], environment: ["LANG": "C"])
            #expect(two.code == 1 && two.stderr.contains("names 2 records"), "\(two.stderr)")
            // The account's name with a deal's field: the deal meant, as the line to type.
            let account = await opps("set", "华为", "金额=120万", "币种=人民币", "--home", sam, "--locale", "zh-CN")
            let lines = account.stderr.split(separator: "\n").map(String.init)
            #expect(account.code == 1 && lines.count == 2 && lines[0].hasPrefix("opps: 客户没有字段「金额」"), "\(account.stderr)")
            #expect(lines[1].hasPrefix("「华为」是客户；要改它的 2 个商机之一，请写商机的 id：") && lines[1].contains("\(code) 华为 云迁移"), "\(account.stderr)")
            let zte = String(await opps("new", "中兴", "试点", "--account", "中兴", "--home", sam).stdout.prefix(8))
            let one = await opps(["set", "中兴", "amount=1", "--home", sam], environment: ["LANG": "C"])
            #expect(one.stderr.hasSuffix("\n\"中兴\" is an account; for its deal \"中兴 试点\": opps set \(zte) amount=1\n"), "\(one.stderr)")
        }
    }
}
