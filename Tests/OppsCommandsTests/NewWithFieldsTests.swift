import OppsCore
import Testing

@testable import OppsCommands

/// `opps new NAME FIELD=VALUE… --account A`: the other fields a rep knows when making a deal, in
/// the one edit that makes it — as `opps set` takes them, `＝` of a full-width input method too;
/// a refusal of any of them makes nothing, not the deal, not its new account.
@Suite struct NewWithFieldsTests {
    @Test func aNewDealTakesItsFieldsInTheEditThatMakesIt() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            #expect(await f.initReplica("sam", url).code == 0)
            let home = f.home("sam")
            func deals() async -> Int { await opps("list", "--json", "--home", home).json?.array?.count ?? -1 }
            func accounts() async -> [String] {
                (await opps("account", "list", "--json", "--home", home).json?.array ?? []).compactMap { $0["fields"]?["name"]?.string }
            }
            let before = await deals(), accountsBefore = await accounts()
            #expect(before >= 0 && !accountsBefore.contains("北辰"))

            // `--amount -5` is an amount (the bound refuses it), not an option `-5`.
            let negative = await opps("new", "北辰", "试点", "--account", "北辰", "--amount", "-5", "--home", home, "--locale", "zh-CN")
            #expect(negative.code == 1 && negative.stderr == "opps: 金额：低于下限 0\n", "\(negative.stderr)")
            // An option after --amount is not its value: --amount is the one said to lack one.
            let missing = await opps("new", "北辰", "试点", "--amount", "--account", "北辰", "--home", home)
            #expect(missing.code == 64 && missing.stderr.contains("--amount") && !missing.stderr.contains("--account"), "\(missing.stderr)")
            let filtered = await opps("list", "--amount-min", "-1", "--json", "--home", home)
            #expect(filtered.code == 0 && filtered.json?.array != nil, "a negative bound of a filter is a value too: \(filtered.stderr)")
            // A stage the gate refuses: nothing of the edit is kept.
            let gated = await opps("new", "北辰", "试点", "stage=proposal", "--account", "北辰", "--home", home)
            #expect(gated.code == 3 && gated.stderr.contains("stage-gate"), "\(gated.stderr)")
            // The name and the account are given once, each in its own way; a field once.
            let named = await opps("new", "name=北辰", "--account", "北辰", "--home", home, "--locale", "zh-CN")
            #expect(named.code == 1 && named.stderr == "opps: 先写商机名称，再写 字段=值\n", "\(named.stderr)")
            let account = await opps("new", "北辰", "试点", "account=北辰", "--account", "北辰", "--home", home)
            #expect(account.code == 1 && account.stderr.contains("the account is given with --account"), "\(account.stderr)")
            let twice = await opps("new", "北辰", "试点", "--amount", "5", "金额=6", "--account", "北辰", "--home", home, "--locale", "zh-CN")
            #expect(twice.code == 1 && twice.stderr == "opps: 金额给了两次\n", "\(twice.stderr)")
            let (dealsAfterRefusals, accountsAfterRefusals) = (await deals(), await accounts())
            #expect(dealsAfterRefusals == before && accountsAfterRefusals == accountsBefore, "a refused new deal made nothing, nor its account")

            // Full-width `＝` and digits, and a value typed without quotes, as `opps set` takes them.
            let made = await opps("new", "北辰", "试点", "赢率＝４０", "下一步=约", "王总", "--account", "北辰", "--currency", "CNY", "--home", home, "--json")
            #expect(made.code == 0, "\(made.stderr)")
            let fields = made.json?["fields"]
            #expect(fields?["name"]?.string == "北辰 试点" && fields?["probability"]?.int == 40, "\(String(describing: fields))")
            #expect(fields?["next_step"]?.string == "约 王总" && fields?["currency"]?.string == "CNY", "\(String(describing: fields))")
            let (dealsAfter, accountsAfter) = (await deals(), await accounts())
            #expect(dealsAfter == before + 1 && accountsAfter.contains("北辰"))
            // Said back with the values the pairs were read as (the amount grouped, the day's weekday).
            let said = await opps("new", "北辰", "三期", "金额=30万", "预计成交日期=2027-01-31", "--account", "北辰", "--home", home, "--locale", "zh-CN")
            let lines = said.stdout.split(separator: "\n").map(String.init)
            // Then the amount's missing currency (AmountCurrencyTests), and what the stage asks before
            // the next, as the lines to type: the fields given are not in it.
            #expect(
                lines.count == 4 && lines[0].hasSuffix("  商机「北辰 三期」（待同步）") && lines[1] == "  已填 金额：300,000.00、预计成交日期：2027-01-31（周日）"
                    && lines[2] == "金额还没有币种，合计时会单列：opps set \(lines[0].prefix(8)) 币种=人民币"
                    && lines[3] == "进入「方案」前先补上：opps set \(lines[0].prefix(8)) 客户需求=… 决策人=…", "\(said.stdout)")
            let plain = await opps("new", "北辰", "四期", "--account", "北辰", "--home", home, "--locale", "en").stdout.split(separator: "\n").map(String.init)
            // At 80 columns the line continues under its command, broken between its pairs.
            let under = String(repeating: " ", count: "to move on to solution, fill in: ".count)
            #expect(
                plain.count == 3 && plain[1] == "to move on to solution, fill in: opps set \(plain[0].prefix(8)) needs=… decision_makers=…"
                    && plain[2] == under + "amount=120000.00 close_date=YYYY-MM-DD",
                "no pairs, no account made: the deal and its gate: \(plain)")
            // An account the name made is said, with the short id it goes by.
            let globex = await opps("new", "Globex", "pilot", "--account", "Globex Intl", "--home", home, "--locale", "en").stdout.split(separator: "\n").map(String.init)
            #expect(globex.count == 4 && globex[1].hasPrefix("  new account: Globex Intl (") && globex[1].hasSuffix(")"), "\(globex)")
            let code = String(globex[1].dropFirst("  new account: Globex Intl (".count).dropLast())
            #expect(await opps("account", "show", code, "--home", home, "--locale", "en").stdout.contains("Globex Intl"), "the id it says is one opps takes")
            #expect(await opps("new", "Globex", "phase 2", "--account", "Globex Intl", "--home", home).stdout.contains("new account") == false, "found, not made")

            // A name may hold a sign; a mistyped field is refused by name, not made part of the name.
            let signed = await opps("new", "1+1=3 试点", "--account", "北辰", "--home", home, "--json")
            #expect(signed.code == 0 && signed.json?["fields"]?["name"]?.string == "1+1=3 试点", "\(signed.stderr)")
            let typo = await opps("new", "北辰", "二期", "赢律=40", "--account", "北辰", "--home", home, "--locale", "zh-CN")
            #expect(typo.code == 1 && typo.stderr.hasPrefix("opps: 商机没有字段「赢律」（字段：名称、"), "\(typo.stderr)")

            // A field sam may only propose goes to an approver, and opps new says so, as opps set does.
            let transfer = await opps("new", "北辰", "五期", "owner=max", "--account", "北辰", "--home", home)
            #expect(transfer.code == 0 && transfer.stdout.contains("requested approval ") && transfer.stdout.contains(" for owner: "), "\(transfer.stdout)")
            let requested = await opps("approvals", "--home", home, "--json").json?.array ?? []
            #expect(
                requested.contains {
                    $0["deal"]?.string == "北辰 五期" && $0["field"]?.string == "owner" && $0["value"]?.string == "max" && $0["state"]?.string == "requested"
                },
                "\(requested)")

            let id = try #require(made.json?["id"]?.string)
            #expect(await opps("set", id, "赢率＝６０", "--home", home).code == 0)
            #expect(await opps("show", id, "--json", "--home", home).json?["fields"]?["probability"]?.int == 60)
            #expect(await opps("sync", "--home", home).code == 0)
            #expect(await opps("conflicts", "--home", home, "--json").json?.array?.isEmpty == true, "the hub applied every field")
        }
    }

    /// The same deal typed twice, or one a colleague made already, is not made again: a rep may
    /// not delete a deal once synced, and two of one name at one customer split its activities and
    /// its forecast. The refusal names the open one to work on, and the line that makes a second on
    /// purpose; another account, a closed deal, or `--allow-duplicate` make it.
    @Test func aDealItsAccountHasOpenAlreadyIsNotMadeTwice() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            for u in ["sam", "max"] { #expect(await f.initReplica(u, url).code == 0) }
            let sam = f.home("sam"), max = f.home("max")
            func deals(_ home: String) async -> [String] {
                (await opps("list", "--json", "--home", home).json?.array ?? []).compactMap { $0["fields"]?["name"]?.string }.sorted()
            }
            let made = await opps("new", "云帆", "CRM 上线", "--account", "苏州云帆", "--home", sam, "--json")
            let id = try #require(made.json?["id"]?.string, "\(made.stderr)")
            let code = try #require(await opps("list", "--home", sam).stdout.split(separator: "\n").first { $0.contains("云帆 CRM 上线") }.map { String($0.prefix(8)) })
            let before = await deals(sam)

            // Typed again, in another case, width and spacing: refused, naming the open one.
            let again = await opps("new", "云帆ＣＲＭ上线!", "--account", "苏州云帆", "--home", sam, "--locale", "zh-CN")
            #expect(
                again.code == 1
                    && again.stderr == "opps: 「云帆ＣＲＭ上线!」看起来就是本机已有的进行中商机 \(code)「云帆 CRM 上线」（需求挖掘，苏州云帆）：要继续它，请用 \(code)\n"
                        + "或者确实要再建一个：opps new \"云帆ＣＲＭ上线!\" --account \"苏州云帆\" --allow-duplicate\n",
                "\(again.stderr)")
            let english = await opps("new", "yunfan crm", "--account", "苏州云帆", "--home", sam, "--locale", "en")
            #expect(english.code == 0, "another name is another deal: \(english.stderr)")
            let account = try #require(made.json?["fields"]?["account"]?.string)
            let byID = await opps("new", "云帆 crm 上线", "--account", account, "--home", sam, "--locale", "en")
            #expect(
                byID.code == 1
                    && byID.stderr.hasPrefix(
                        "opps: \"云帆 crm 上线\" looks like an open opportunity already here, \(code) \"云帆 CRM 上线\" (discovery, 苏州云帆): to work on it, give \(code)\n"),
                "the account given by its id: \(byID.stderr)")
            #expect(await deals(sam) == (before + ["yunfan crm"]).sorted(), "nothing made by the refusals")
            // The id it names is one opps takes.
            #expect(await opps("show", code, "--home", sam, "--json").json?["id"]?.string == id)

            // A name holding the word "opportunity" reads whole in the refusal.
            let big = String(try #require(await opps("new", "A big opportunity here", "--account", "苏州云帆", "--home", sam).stdout.prefix(8)))
            let bigAgain = await opps("new", "a big opportunity here", "--account", "苏州云帆", "--home", sam, "--locale", "en")
            #expect(
                bigAgain.stderr.hasPrefix(
                    "opps: \"a big opportunity here\" looks like an open opportunity already here, \(big) \"A big opportunity here\" (discovery, 苏州云帆): "),
                "\(bigAgain.stderr)")
            // Another account's deal of that name is another deal.
            #expect(await opps("new", "云帆 CRM 上线", "--account", "杭州云帆", "--home", sam).code == 0)
            // The line it prints, typed back: a second one on purpose.
            let line = try #require(again.stderr.split(separator: "\n").last.map { String($0.drop { $0 != "\"" }) })
            #expect(line == "\"云帆ＣＲＭ上线!\" --account \"苏州云帆\" --allow-duplicate")
            let second = await opps("new", "云帆ＣＲＭ上线!", "--account", "苏州云帆", "--allow-duplicate", "--home", sam, "--json")
            #expect(second.code == 0, "\(second.stderr)")

            // A manager making the deal his rep made, once synced: refused on his laptop too.
            #expect(await opps("sync", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            let managers = await opps("new", "云帆 CRM上线", "--account", "苏州云帆", "--home", max)
            #expect(managers.code == 1 && managers.stderr.contains("\"云帆 CRM 上线\" (discovery, 苏州云帆)"), "\(managers.stderr)")

            // Once lost (the manager closes both), a deal of that name at that customer may start again.
            for deal in [id, try #require(second.json?["id"]?.string)] {
                let lost = await opps("stage", deal, "lost", "--reason", "timing", "--home", max)
                #expect(lost.code == 0, "\(lost.stderr)")
            }
            #expect(await opps("sync", "--home", max).code == 0)
            #expect(await opps("sync", "--home", sam).code == 0)
            let renewed = await opps("new", "云帆 CRM 上线", "--account", "苏州云帆", "--home", sam)
            #expect(renewed.code == 0, "the closed ones do not count: \(renewed.stderr)")
        }
    }
}
