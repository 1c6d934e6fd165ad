import Foundation
import OppsConsole
import OppsCore
import Testing

@testable import OppsCommands

/// Issue 15, "readable output": names not UUIDs, headers, an empty list that says so, amounts
/// with thousands separators and the currency, a sync that counts records, 80 columns.
@Suite struct ReadableOutputTests {
    @Test func whatARepReadsIsNamesAndAmounts() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            #expect(await f.initReplica("sam", url).code == 0)
            let home = f.home("sam")
            let empty = await opps("list", "--home", home)
            #expect(empty.code == 0 && empty.stdout.contains("no deals yet: opps new NAME --account ACCOUNT makes one"), "\(empty.stdout)")
            let id = try #require(
                await opps(
                    "new", "华东 试点项目", "--account", "上海云帆", "--amount", "1480000.50", "--currency", "CNY",
                    "--close", "2027-03-31", "--home", home, "--json"
                ).json?["id"]?.string)
            #expect(await opps("new", "ACME rollout", "--account", "ACME", "--amount", "900.00", "--currency", "USD", "--home", home).code == 0)
            let list = await opps("list", "--home", home)
            let rows = list.stdout.split(separator: "\n").map(String.init)
            #expect(rows.first?.hasPrefix("ID") == true && rows.first?.contains("AMOUNT") == true, "a header: \(list.stdout)")
            #expect(rows.contains { $0.contains("1,480,000.50 CNY") }, "\(list.stdout)")
            #expect(rows.allSatisfy { $0.displayWidth <= 80 }, "fits 80 columns: \(list.stdout)")
            let show = await opps("show", id, "--home", home)
            #expect(show.stdout.contains("上海云帆 ("), "the account by name: \(show.stdout)")
            #expect(show.stdout.contains("1,480,000.50"))
            #expect(await opps("set", id, "next_step=演示", "next_step_due=2020-01-01", "--home", home).code == 0)
            let today = await opps("today", "--home", home)
            #expect(today.stdout.contains("华东 试点项目: 演示"), "the item names its deal: \(today.stdout)")
            let sync = await opps("sync", "--home", home)
            #expect(sync.stdout.contains("to 4 records"), "\(sync.stdout)")  // two deals, two accounts
        }
    }

    @Test func amountsGroupExactly() {
        #expect(groupedAmount("1480000.50") == "1,480,000.50")
        #expect(groupedAmount("-1000") == "-1,000")
        #expect(groupedAmount("999.99") == "999.99")
        #expect(groupedAmount("abc") == "abc")
    }
}

@Suite struct ForecastCommandTests {
    @Test func theForecastReadsPerMonthAndOwner() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            #expect(await f.initReplica("sam", url).code == 0)
            let home = f.home("sam")
            #expect(await opps("forecast", "--home", home).stdout.contains("no deals close"))
            #expect(await opps("new", "华东 试点", "--account", "上海云帆", "--amount", "1000000.00", "--currency", "CNY", "--close", "2026-12-31", "--home", home).code == 0)
            let text = await opps("forecast", "--home", home)
            #expect(text.stdout.contains("2026-12  sam  (1 deal)") && text.stdout.contains("300,000.00 CNY"), "discovery weighs 30 %: \(text.stdout)")
            let json = await opps("forecast", "--from", "2026-12-01", "--to", "2026-12-31", "--home", home, "--json").json?.array?.first
            #expect(json?["weighted"]?["CNY"]?.string == "300000.00")
            #expect(await opps("forecast", "--from", "2027-01-01", "--home", home, "--json").json?.array?.isEmpty == true)
            // Deals with no amount yet: counted at the end, month by month, owner by owner — not
            // headings with nothing under them before the figures.
            #expect(await opps("new", "华北 试点", "--account", "上海云帆", "--close", "2027-01-15", "--home", home).code == 0)
            #expect(await opps("new", "华南 试点", "--account", "上海云帆", "--home", home).code == 0)
            let counted = await opps("forecast", "--home", home).stdout
            #expect(counted.hasPrefix("2026-12  sam  (1 deal)\n"), "\(counted)")
            #expect(counted.hasSuffix("no amount yet, not counted above:\n  no close date  sam 1 deal\n  2027-01        sam 1 deal\n"), "\(counted)")
            // In CSV, a deal with no close date has an empty month (the table's "-" read `'-`).
            let csv = await opps("forecast", "--csv", "--home", home).stdout.split(separator: "\r\n").map(String.init)
            #expect(csv.first == "owner,month,deals,pipeline,weighted,best_case,commit,won" && csv.contains("sam,,1,,,,,"), "\(csv)")
            #expect(!csv.joined().contains("'"), "\(csv)")
        }
    }
}

/// Issue 15, "find things": list with search and filters, and sorting.
@Suite struct ListFilterTests {
    @Test func searchFiltersAndSortsCombine() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            #expect(await f.initReplica("sam", url).code == 0)
            let home = f.home("sam")
            for (name, account, amount, close) in [
                ("华东 试点", "上海云帆物流", "500.00", "2026-12-20"), ("ACME rollout", "ACME", "900.00", "2026-12-01"),
                ("ACME phase 2", "ACME", "100.00", "2027-02-01"),
            ] {
                #expect(await opps("new", name, "--account", account, "--amount", amount, "--currency", "CNY", "--close", close, "--home", home).code == 0)
            }
            func names(_ args: String...) async -> [String] {
                (await opps(["list", "--home", home, "--json"] + args).json?.array ?? []).compactMap { $0["fields"]?["name"]?.string }
            }
            #expect(await names("--search", "物流") == ["华东 试点"], "by the account's name")
            // The text without --search, as a rep types it; not both.
            #expect(await names("物流") == ["华东 试点"])
            #expect(await names("华东", "试点") == ["华东 试点"])
            #expect(await opps("list", "物流", "--search", "acme", "--home", home).code == 64)
            #expect(await names("--search", "华东　试点") == ["华东 试点"], "a full-width space is a space")
            #expect(Set(await names("--account", "ACME")) == ["ACME rollout", "ACME phase 2"])
            #expect(await names("--closing-to", "2026-12-31", "--sort", "close") == ["ACME rollout", "华东 试点"])
            // Sorted or filtered by the close date, the table shows it; otherwise it does not.
            let byClose = await opps(["list", "--sort", "close", "--home", home], environment: ["LANG": "C", "COLUMNS": "80"]).stdout
            let closeLines = byClose.split(separator: "\n").map(String.init)
            #expect(closeLines.count == 4 && closeLines[0].contains("  CLOSE       AMOUNT"), "\(byClose)")
            #expect(closeLines[1].hasSuffix("ACME rollout                2026-12-01  900.00 CNY"), "\(byClose)")
            #expect(closeLines[3].hasSuffix("ACME phase 2                2027-02-01  100.00 CNY"), "\(byClose)")
            #expect(!(await opps(["list", "--home", home], environment: ["LANG": "C"]).stdout.contains("CLOSE")))
            let zhClose = await opps(["list", "--closing-to", "2026-12-31", "--home", home], environment: ["LANG": "zh_CN.UTF-8"]).stdout
            #expect(zhClose.hasPrefix("ID") && zhClose.split(separator: "\n")[0].contains("  成交日期    金额"), "\(zhClose)")
            #expect(await names("--sort", "amount") == ["ACME rollout", "华东 试点", "ACME phase 2"])
            #expect(await names("--search", "acme", "--closing-from", "2027-01-01") == ["ACME phase 2"])
            #expect(await opps("list", "--search", "nothing", "--home", home).stdout.contains("no opportunities here match"))
            #expect(await opps("list", "--sort", "colour", "--home", home).code == 64)
            #expect(await opps("list", "--closing-to", "31/12/2026", "--home", home).code == 64)
            // Amount range (inclusive) and stale deals.
            #expect(await names("--amount-min", "500.00", "--sort", "amount") == ["ACME rollout", "华东 试点"])
            #expect(await names("--amount-min", "100", "--amount-max", "500").sorted() == ["ACME phase 2", "华东 试点"].sorted())
            #expect(await opps("list", "--amount-max", "lots", "--home", home).code == 64)
            #expect(await names("--stale").isEmpty, "made today: followed up")
            let later = Int64(Date().timeIntervalSince1970 * 1000) + 20 * 86_400_000
            let rollout = try #require(await opps("list", "--home", home, "--json", "--search", "ACME rollout").json?.array?.first?["id"]?.string)
            let call = await DeviceClock.$fixed.withValue(later - 86_400_000) {
                await opps("log", rollout, "--kind", "call", "--home", home)
            }
            #expect(call.code == 0, "\(call.stderr)")
            let stale = await DeviceClock.$fixed.withValue(later) { await names("--stale") }
            #expect(stale.sorted() == ["ACME phase 2", "华东 试点"].sorted(), "20 days on, the deal called yesterday is not stale: \(stale)")
            // Amounts in another currency are not compared with these: after them (fewer deals are
            // in it), largest first among themselves.
            for (name, amount) in [("Tokyo pilot", "5000000"), ("Osaka pilot", "9000000")] {
                #expect(await opps("new", name, "--account", "ACME", "--amount", amount, "--currency", "JPY", "--home", home).code == 0)
            }
            #expect(await names("--sort", "amount") == ["ACME rollout", "华东 试点", "ACME phase 2", "Osaka pilot", "Tokyo pilot"])
        }
    }
}
