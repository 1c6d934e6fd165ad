import Foundation
import OppsCore
import OppsHub
import Testing

@testable import OppsCommands
@testable import OppsWeb

/// An expert's day (DOMAIN.md: "the technical solution, from the solution stage on, when a rep
/// brings them in"): the deals she is on that wait on fields she owns to leave their stage. Her
/// day said "nothing due" while a deal at solution could not move on without her solution.
@Suite struct ExpertTodayTests {
    @Test func anExpertSeesTheDealsWaitingOnHerSolution() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            for u in ["sam", "max", "eve"] { #expect(await f.initReplica(u, url).code == 0) }
            let (sam, max, eve) = (f.home("sam"), f.home("max"), f.home("eve"))
            let deal = try #require(
                await opps("new", "Beta rollout", "--account", "Beta", "--amount", "1000.00", "--currency", "CNY", "--close", "2027-03-31", "--home", sam, "--json")
                    .json?["id"]?.string)
            #expect(await opps("set", deal, "needs=CRM", "decision_makers=CFO", "--home", sam).code == 0)
            #expect(await opps("stage", deal, "solution", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            #expect(await opps("team", "add", deal, "eve", "--role", "expert", "--home", max).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            #expect(await opps("sync", "--home", eve).code == 0)

            // Her day lists the deal and the fields it waits on; the line to type.
            let day = try #require(await opps("today", "--home", eve, "--json").json)
            let item = try #require(day["to_fill"]?.array?.first, "\(day)")
            // Whose it is she may not read (DOMAIN.md: owner — to an expert): not said.
            #expect(item["deal"]?.string == deal && item["owner"] == .null, "\(item)")
            #expect(item["fields"]?.array?.compactMap(\.string) == ["solution", "tech_risk"], "\(item)")
            let zh = await opps("today", "--home", eve, "--locale", "zh-CN").stdout
            let lines = zh.split(separator: "\n").map(String.init)
            #expect(lines.contains("等你填写的商机（进入下一阶段前要填、归你负责）："), "\(zh)")
            #expect(lines.contains { $0.hasSuffix("Beta rollout：解决方案、技术风险") }, "\(zh)")
            #expect(lines.last == "填写：  opps set 编号 解决方案=… 技术风险=…", "\(zh)")
            #expect(!zh.contains("今天没有到期或逾期的事"), "a day with work on it")
            let web = try WebApp(home: eve, clock: OppsHub.SystemClock(), transport: nil)
            let page = try await web.todayPage(WebText(acceptLanguage: nil, override: "en"), message: nil, today: localToday())
            #expect(
                page.contains("Deals waiting on fields you own") && page.contains("<li><a href=") && page.contains("Beta rollout</a> — to fill: solution, "), "\(page)")
            // Neither the rep (who owns the deal) nor the manager is told to fill them.
            for home in [sam, max] { #expect(await opps("today", "--home", home, "--json").json?["to_fill"]?.array?.isEmpty == true) }

            // Written, the deal no longer waits on her.
            #expect(await opps("set", deal, "solution=Cloud CRM", "tech_risk=low", "--home", eve).code == 0)
            #expect(await opps("today", "--home", eve, "--json").json?["to_fill"]?.array?.isEmpty == true)
        }
    }
}
