import OppsCore
import Testing

@testable import OppsCommands

/// A deal's amount typed with its currency (`35万元`, `5万美元`, `5,000 USD`) sets the currency in
/// the same edit; an amount left without one is said, with the line that sets it, since every
/// total (board, funnel, forecast) lists it apart as "(no currency)".
@Suite struct AmountCurrencyTests {
    @Test func anAmountTypedWithItsCurrencySetsItAndOneWithoutIsSaid() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            #expect(await f.initReplica("sam", url).code == 0)
            let home = f.home("sam")
            func fields(_ code: String) async -> JSON? { await opps("show", code, "--json", "--home", home).json?["fields"] }
            func deals() async -> Int { await opps("list", "--json", "--home", home).json?.array?.count ?? -1 }

            // The currency named by the amount: no line about it.
            let yuan = await opps("new", "北辰", "一期", "--account", "北辰", "--amount", "35万元", "--home", home, "--locale", "zh-CN")
            #expect(yuan.code == 0 && !yuan.stdout.contains("币种"), "\(yuan.stdout)")
            let first = String(yuan.stdout.prefix(8))
            let held1 = await fields(first)
            #expect(held1?["amount"]?.string == "350000.00" && held1?["currency"]?.string == "CNY", "\(String(describing: held1))")

            // None named: the deal is made, and the next line says how to give it one, at 80 columns.
            let bare = await opps("new", "北辰", "二期", "--account", "北辰", "--amount", "80万", "--home", home, "--locale", "zh-CN")
            let code = String(bare.stdout.prefix(8))
            #expect(bare.code == 0 && bare.stdout.split(separator: "\n").contains("金额还没有币种，合计时会单列：opps set \(code) 币种=人民币"), "\(bare.stdout)")
            #expect(await fields(code)?["currency"]?.isNull ?? true)
            let english = await opps("set", code, "amount=90k", "--home", home, "--locale", "en")
            #expect(
                english.stdout.split(separator: "\n").last == "an amount without a currency is totalled apart: opps set \(code) currency=CNY",
                "opps set says it too: \(english.stdout)")
            // The line typed back, as printed, gives the deal its currency; another field's edit says nothing of it.
            #expect(await opps("set", code, "币种=人民币", "--home", home, "--locale", "zh-CN").code == 0)
            #expect(await fields(code)?["currency"]?.string == "CNY")

            // An amount in another currency sets both, said back as both.
            let dollars = await opps("set", code, "金额=5万美元", "--home", home, "--locale", "zh-CN")
            #expect(dollars.code == 0 && dollars.stdout == "已修改 金额：50,000.00、币种：美元（待同步）\n", "\(dollars.stdout)")
            let coded = await opps("set", code, "amount=EUR 1.2M", "--home", home, "--json")
            #expect(coded.code == 0, "\(coded.stderr)")
            let held2 = await fields(code)
            #expect(held2?["amount"]?.string == "1200000.00" && held2?["currency"]?.string == "EUR", "\(String(describing: held2))")

            // A currency given beside it: the same one is set once, another is refused and nothing changes.
            #expect(await opps("set", code, "金额=3万港币", "币种=港币", "--home", home).code == 0)
            #expect(await fields(code)?["currency"]?.string == "HKD")
            let clash = await opps("set", code, "金额=5万美元", "币种=人民币", "--home", home, "--locale", "zh-CN")
            #expect(clash.code == 1 && clash.stderr == "opps: 金额「5万美元」是美元，币种却写的是人民币：请只写一个\n", "\(clash.stderr)")
            let held3 = await fields(code)
            #expect(held3?["amount"]?.string == "30000.00" && held3?["currency"]?.string == "HKD", "\(String(describing: held3))")
            // A code the workspace does not have is refused as the currency field refuses it.
            let unknown = await opps("set", code, "金额=5000 AUD", "--home", home, "--locale", "zh-CN")
            #expect(unknown.code == 1 && unknown.stderr.hasPrefix("opps: 币种：「AUD」不是可选值之一："), "\(unknown.stderr)")

            // opps new: an amount's currency against a pair's is refused, and nothing is made.
            let before = await deals()
            let made = await opps("new", "北辰", "三期", "币种=港币", "--account", "北辰", "--amount", "US$5k", "--home", home, "--locale", "en")
            #expect(made.code == 1 && made.stderr == "opps: the amount US$5k is in USD, but the currency is given as HKD: give one of them\n", "\(made.stderr)")
            #expect(await deals() == before)
            let same = await opps("new", "北辰", "三期", "currency=USD", "--account", "北辰", "--amount", "US$5k", "--home", home, "--json")
            #expect(same.code == 0 && same.json?["fields"]?["currency"]?.string == "USD" && same.json?["fields"]?["amount"]?.string == "5000.00", "\(same.stderr)")
        }
    }
}
