import Foundation
import OppsCore
import OppsHub
import OppsStore
import Testing

@testable import OppsCommands
@testable import OppsWeb

/// A success manager's `opps today` (and the web's Today): the won deals no one has taken on
/// yet (DOMAIN.md: "success accepts the hand-off" — the onboarding owner), and the renewals of
/// their own coming up. Their day had nothing on it: they own no deal and see only won ones.
@Suite struct SuccessTodayTests {
    @Test func wonDealsToTakeOnAndRenewalsComingUpAreASuccessManagersDay() async throws {
        let f = try CommandFixture(extra: [HubUser(name: "sue", role: "success"), HubUser(name: "ada", role: "success")])
        try await f.serving { url in
            for u in ["sam", "max", "sue", "ada"] { #expect(await f.initReplica(u, url).code == 0) }
            let sam = f.home("sam"), sue = f.home("sue"), ada = f.home("ada"), max = f.home("max")
            // Before any deal is won her laptop is empty, and says which deals she sees (she makes none).
            #expect(
                await opps("today", "--home", sue, "--locale", "zh-CN").stdout.hasSuffix("本机还没有商机：你能看到「赢单」阶段的商机，opps sync 会取回\n"))
            #expect(await opps("board", "--home", ada, "--locale", "en").stdout.hasSuffix("no deals yet: you see those at won (opps sync brings them)\n"))
            let today = localToday()
            func day(_ offset: Int32) -> CivilDate { CivilDate(daysSinceEpoch: today.daysSinceEpoch + offset) }
            func short(_ d: CivilDate) -> String { d.components.year == today.components.year ? String(d.description.dropFirst(5)) : d.description }
            // sam wins three deals, closing on three days; a fourth stays open.
            var won = [String]()
            for (name, closed) in [("Alpha rollout", day(-20)), ("Beta rollout", day(-10)), ("Gamma rollout", day(-5))] {
                let id = try #require(
                    await opps("new", name, "--account", name, "--amount", "1000.00", "--currency", "CNY", "--close", closed.description, "--home", sam, "--json")
                        .json?["id"]?.string)
                #expect(
                    await opps("set", id, "needs=CRM", "decision_makers=CFO", "solution=Cloud", "tech_risk=low", "quote_terms=net 30", "--home", sam).code == 0)
                for stage in ["solution", "proposal", "negotiation", "won"] { #expect(await opps("stage", id, stage, "--home", sam).code == 0) }
                won.append(id)
            }
            #expect(await opps("new", "Delta rollout", "--account", "Delta", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", sam).code == 0)
            for home in [sue, ada, max] { #expect(await opps("sync", "--home", home).code == 0) }

            // Nothing taken on yet: every won deal waits (not the open one), the longest first, for
            // each success manager.
            let waiting = try #require(await opps("today", "--home", sue, "--json").json)
            #expect(waiting["hand_offs"]?.array?.compactMap { $0["deal"]?.string } == won, "\(waiting)")
            #expect(waiting["hand_offs"]?.array?.first?["date"]?.string == day(-20).description)
            #expect(waiting["hand_offs"]?.array?.first?["text"]?.string == "Alpha rollout")
            #expect(waiting["renewals"]?.array?.isEmpty == true)
            #expect(await opps("today", "--home", ada, "--json").json?["hand_offs"]?.array?.count == 3)
            // Her page of a won deal opens on what she works it by, the post-sale fields, empty as
            // they are (an empty group is folded to one line on others' pages).
            let sueWeb = try WebApp(home: sue, clock: OppsHub.SystemClock(), transport: nil)
            let wonPage = try await sueWeb.dealHTML(try #require(RecordID(parsing: won[0])))
            #expect(wonPage.contains("<h2>Post-sale</h2><table") && wonPage.contains("name=\"field\" value=\"onboarding\""), "\(wonPage)")
            // Neither the rep nor the manager takes a deal on: theirs is not that day.
            for home in [sam, max] { #expect(await opps("today", "--home", home, "--json").json?["hand_offs"]?.array?.isEmpty == true) }

            // sue takes Alpha on with the line her day gives, and sets its renewal 12 days on; Beta's
            // is hers too, renewing beyond the window; ada takes Gamma on, renewing in 3 days.
            let zh = await opps("today", "--home", sue, "--locale", "zh-CN").stdout
            let lines = zh.split(separator: "\n").map(String.init)
            #expect(lines.contains("待接手的赢单（实施负责人未填）："), "\(zh)")
            #expect(lines.contains { $0.hasSuffix("Alpha rollout：\(short(day(-20))) 赢单") }, "\(zh)")
            #expect(lines.last == "接手：  opps set 编号 实施负责人=sue", "\(zh)")
            #expect(!zh.contains("今天没有到期或逾期的事"), "a day with work on it")
            let alpha = String(try #require(lines.first { $0.contains("Alpha rollout") }).dropFirst(2).prefix(8))
            #expect(await opps("set", alpha, "实施负责人=sue", "续约日期=\(day(12))", "--home", sue, "--locale", "zh-CN").code == 0)
            #expect(await opps("set", won[1], "onboarding=sue", "renewal_date=\(day(45))", "--home", sue).code == 0)
            #expect(await opps("sync", "--home", sue).code == 0)
            #expect(await opps("sync", "--home", ada).code == 0)
            #expect(await opps("set", won[2], "onboarding=ada", "renewal_date=\(day(3))", "--home", ada).code == 0)
            #expect(await opps("sync", "--home", ada).code == 0)
            #expect(await opps("sync", "--home", sue).code == 0)

            // Each reads their own renewal in the window; nothing is left to take on.
            let sueDay = try #require(await opps("today", "--home", sue, "--json").json)
            #expect(sueDay["hand_offs"]?.array?.isEmpty == true, "\(sueDay)")
            #expect(sueDay["renewals"]?.array?.compactMap { $0["deal"]?.string } == [won[0]], "\(sueDay)")
            #expect(sueDay["renewals"]?.array?.first?["date"]?.string == day(12).description)
            #expect(await opps("today", "--home", ada, "--json").json?["renewals"]?.array?.compactMap { $0["deal"]?.string } == [won[2]])
            let en = await opps("today", "--home", sue, "--locale", "en").stdout
            #expect(en.contains("renewals in the next 30 days:\n") && en.contains("Alpha rollout: renews\u{00A0}\(short(day(12)))"), "\(en)")
            #expect(!en.contains("take one on:"), "no hand-off listed, no hint for one")
            #expect(en.hasSuffix("\nrenewed one:  opps set ID renewal_date=DATE\n"), "\(en)")
            #expect(!en.contains("Delta rollout"), "the open deal is not on it")
            // A renewal past its day and not renewed (no next date set) stays on her day, overdue,
            // where it dropped off as if done; setting the next date takes it off.
            let later = try #require(await opps("today", "--date", day(13).description, "--home", sue, "--json").json)
            #expect(later["renewals"]?.array?.compactMap { $0["deal"]?.string } == [won[0]], "\(later)")
            #expect(later["renewals"]?.array?.first?["date"]?.string == day(12).description && later["hand_offs"]?.array?.isEmpty == true)
            let overdueZh = await opps("today", "--date", day(13).description, "--home", sue, "--locale", "zh-CN").stdout
            #expect(overdueZh.contains("\n逾期及 30 天内的续约：\n") && overdueZh.contains("Alpha rollout：\(short(day(12))) 续约，已逾期\n"), "\(overdueZh)")
            #expect(overdueZh.hasSuffix("\n续约后：  opps set 编号 续约日期=日期\n"), "\(overdueZh)")
            let sueToday = try WebApp(home: sue, clock: OppsHub.SystemClock(), transport: nil)
            let overduePage = try await sueToday.todayPage(WebText(acceptLanguage: nil, override: "zh-CN"), message: nil, today: day(13))
            #expect(overduePage.contains("逾期及 30 天内的续约") && overduePage.contains("Alpha rollout</a> — 续约逾期："), "\(overduePage)")
            #expect(await opps("set", won[0], "renewal_date=\(day(377))", "--home", sue).code == 0)
            #expect(await opps("today", "--date", day(13).description, "--home", sue, "--json").json?["renewals"]?.array?.isEmpty == true)

            // The web's Today lists them as the command line does.
            let web = try WebApp(home: ada, clock: OppsHub.SystemClock(), transport: nil)
            let page = try await web.todayPage(WebText(acceptLanguage: nil, override: "en"), message: nil, today: today)
            #expect(page.contains("Renewals in the next 30 days") && page.contains("Gamma rollout</a> — renews "), "\(page)")
            #expect(!page.contains("Nothing due or overdue today"))

            // A customer of hers whose health turns red is on her day (not ada's), with the line
            // that logs a follow-up; back to green, it is off.
            #expect(await opps("set", won[1], "健康度=风险", "--home", sue, "--locale", "zh-CN").code == 0)
            let risky = try #require(await opps("today", "--home", sue, "--json").json)
            #expect(risky["at_risk"]?.array?.compactMap { $0["deal"]?.string } == [won[1]], "\(risky)")
            #expect(risky["at_risk"]?.array?.first?["date"]?.string == today.description, "\(risky)")
            #expect(await opps("sync", "--home", sue).code == 0)
            #expect(await opps("sync", "--home", ada).code == 0)
            #expect(await opps("today", "--home", ada, "--json").json?["at_risk"]?.array?.isEmpty == true, "Beta is sue's customer")
            let riskZh = await opps("today", "--home", sue, "--locale", "zh-CN").stdout
            #expect(riskZh.contains("\n需要关注的客户（健康度为「风险」）：\n") && riskZh.contains("Beta rollout：自 \(short(today)) 起\n"), "\(riskZh)")
            #expect(riskZh.contains("\n记录跟进："), "\(riskZh)")
            let riskPage = try await sueToday.todayPage(WebText(acceptLanguage: nil, override: "en"), message: nil, today: today)
            #expect(riskPage.contains("Customers at risk (health red)") && riskPage.contains("Beta rollout</a> — since "), "\(riskPage)")
            #expect(await opps("set", won[1], "health=green", "--home", sue).code == 0)
            #expect(await opps("today", "--home", sue, "--json").json?["at_risk"]?.array?.isEmpty == true)
        }
    }
}
