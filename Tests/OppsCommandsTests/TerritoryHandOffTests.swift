import Foundation
import OppsConsole
import OppsCore
import OppsHub
import OppsStore
import Testing

@testable import OppsCommands
@testable import OppsWeb

/// The hub gives a handed-off lead to the reps of its territory in turn, and to every rep in turn
/// when it has none (workspace-format.md, `assignment`). A marketer who never filled the
/// territory in handed a Chinese company's lead to a rep of the English north: nothing said that
/// the territory decides, nor how to give one.
@Suite struct TerritoryHandOffTests {
    static let wei = HubUser(name: "wei", role: "sales", territory: "华东", manager: "max")

    func qualify(_ id: String, _ home: String) async -> Bool {
        await opps(
            "set", id, "qualification=budget approved", "check_need=true", "check_budget=true", "check_timing=true", "check_contact=true", "--home", home
        ).code == 0
    }

    @Test func aLeadGivenATerritoryGoesToItsRepsAndOneWithoutSaysSo() async throws {
        let f = try CommandFixture(extra: [Self.wei])
        try await f.serving { url in
            for u in ["mia", "max"] { #expect(await f.initReplica(u, url).code == 0) }
            let mia = f.home("mia"), max = f.home("max")
            // Given with the lead, the territory is the lead's and its new account's.
            let first = await opps("lead", "add", "经销商门户", "--company", "美的集团", "--contact", "张敏", "--source", "event", "--territory", "华东", "--home", mia, "--json")
            let lead = try #require(first.json?["id"]?.string, "\(first.stderr)")
            #expect(first.json?["fields"]?["territory"]?.string == "华东")
            #expect(await qualify(lead, mia))
            let moved = await opps("stage", lead, "qualified", "--home", mia)
            #expect(moved.code == 0 && !moved.stdout.contains("territory"), "\(moved.stdout)\(moved.stderr)")
            // A second lead of the same company takes the account's territory.
            let second = try #require(await opps("lead", "add", "门店巡检", "--company", "美的集团", "--contact", "张敏", "--source", "event", "--home", mia, "--json").json)
            #expect(second["fields"]?["territory"]?.string == "华东", "\(second)")
            #expect(await opps("sync", "--home", mia).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            #expect(await opps("show", lead, "--home", max, "--json").json?["fields"]?["owner"]?.string == "wei", "the only rep of 华东")

            // A lead of a company with no territory, moved on: the move says what the hub will do
            // and the line that keeps it in one territory, with those this laptop has seen.
            let bare = String(
                await opps("lead", "add", "Beta pilot", "--company", "Beta", "--contact", "Li Wei", "--source", "web", "--home", mia).stdout.prefix(ShortID.length))
            #expect(await qualify(bare, mia))
            let said = await opps("stage", bare, "qualified", "--home", mia)
            #expect(said.code == 0)
            let lines = said.stdout.split(separator: "\n").map(String.init)
            #expect(
                lines.joined(separator: " ").contains(
                    "no territory: the hub gives it to the next rep in turn, whatever their territory (territories here: 华东); to give it one, before you sync:"
                ), "\(said.stdout)")
            #expect(lines.suffix(2) == ["  opps undo", "  opps set \(bare) territory=华东 stage=qualified"], "\(said.stdout)")
            #expect(lines.allSatisfy { $0.displayWidth <= 80 }, "\(said.stdout)")
            // Taken back and moved again in Chinese: the same, in Chinese.
            #expect(await opps("undo", "--home", mia).code == 0)
            let zh = await opps("stage", bare, "已验证", "--home", mia, "--locale", "zh-CN")
            #expect(unspaced(zh.stdout).contains(unspaced("没有填区域：服务器会在所有区域的销售顾问中轮流分配（本机见过的区域：华东）；要交给某一区域，请在同步前：")), "\(zh.stdout)")
            #expect(zh.stdout.hasSuffix("\n  opps undo\n  opps set \(bare) 区域=华东 阶段=已验证\n"), "\(zh.stdout)")
            // The lines typed back as printed: it goes to that territory's rep, and nothing more is said.
            #expect(await opps("undo", "--home", mia).code == 0)
            let given = await opps("set", bare, "区域=华东", "阶段=已验证", "--home", mia, "--locale", "zh-CN")
            #expect(given.code == 0 && !given.stdout.contains("没有填区域"), "\(given.stdout)\(given.stderr)")
            #expect(await opps("sync", "--home", mia).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            #expect(await opps("show", bare, "--home", max, "--json").json?["fields"]?["owner"]?.string == "wei")

            // The web's move says the same, in the reader's words.
            let web = try WebApp(home: mia, clock: OppsHub.SystemClock(), transport: nil)
            let other = String(
                await opps("lead", "add", "Epsilon", "--company", "Epsilon", "--contact", "Bo Li", "--source", "web", "--home", mia).stdout.prefix(ShortID.length))
            #expect(await qualify(other, mia))
            let otherID = try #require(await opps("show", other, "--home", mia, "--json").json?["id"]?.string.flatMap(RecordID.init(parsing:)))
            let onWeb = await web.moveStage(otherID, to: "qualified", reason: nil, t: WebText(acceptLanguage: "zh-CN", override: nil))
            #expect(onWeb.ok && onWeb.text.contains("没有填区域：服务器会在所有区域的销售顾问中轮流分配（本机见过的：华东）"), "\(onWeb.text)")
            #expect(onWeb.text.hasSuffix("请在同步前：撤销，填上区域，再移动一次"), "\(onWeb.text)")
            #expect(await opps("undo", "--home", mia).code == 0)

            // Handed off without one, it goes to a rep in turn; sent back and moved on again, it
            // goes back to that rep (the hub keeps its owner): nothing more is said.
            let lone = try #require(
                await opps("lead", "add", "Delta", "--company", "Delta", "--contact", "Ann Lee", "--source", "web", "--home", mia, "--json").json?["id"]?.string)
            #expect(await qualify(lone, mia))
            #expect(await opps("stage", lone, "qualified", "--home", mia).stdout.contains("no territory"))
            #expect(await opps("sync", "--home", mia).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            let rep = try #require(await opps("show", lone, "--home", max, "--json").json?["fields"]?["owner"]?.string)
            #expect(await f.initReplica(rep, url).code == 0)
            #expect(await opps("stage", lone, "lead", "--reason", "no budget this year", "--home", f.home(rep)).code == 0)
            #expect(await opps("sync", "--home", f.home(rep)).code == 0)
            #expect(await opps("sync", "--home", mia).code == 0)
            let again = await opps("stage", lone, "qualified", "--home", mia)
            #expect(again.code == 0 && !again.stdout.contains("territory"), "\(again.stdout)")
        }
    }

    /// When every rep the lead may go to is at capacity the hub leaves it with no owner, at the
    /// hand-off stage (workspace-format.md, `assignment`): no one works it, and no one was told.
    /// The marketer's manager sees it, and now their day lists it first, with the line to give it a rep.
    @Test func aLeadNoRepCouldTakeIsOnTheManagersDay() async throws {
        let full = HubUser(name: "wei", role: "sales", territory: "华东", manager: "max", capacity: 0)
        let f = try CommandFixture(extra: [full])
        try await f.serving { url in
            for u in ["mia", "max"] { #expect(await f.initReplica(u, url).code == 0) }
            let mia = f.home("mia"), max = f.home("max")
            let lead = String(
                await opps("lead", "add", "经销商门户", "--company", "美的集团", "--contact", "张敏", "--source", "event", "--territory", "华东", "--home", mia)
                    .stdout.prefix(ShortID.length))
            #expect(await qualify(lead, mia))
            #expect(await opps("stage", lead, "qualified", "--home", mia).code == 0)
            #expect(await opps("sync", "--home", mia).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            #expect(await opps("show", lead, "--home", max, "--json").json?["fields"]?["owner"]?.string == nil, "wei is at capacity: no one takes it")
            let day = try #require(await opps("today", "--home", max, "--json").json)
            let team = day["team"]?.array ?? []
            #expect(team.count == 1 && team.first?["kind"]?.string == "unassigned" && team.first?["owner"]?.string == nil, "\(day)")
            let en = await opps("today", "--home", max)
            #expect(en.stdout.contains("1 lead no rep took"), "\(en.stdout)")
            #expect(en.stdout.contains("  \(lead)    no rep     经销商门户: handed\u{00A0}off\u{00A0}"), "\(en.stdout)")
            #expect(en.stdout.hasSuffix("give a lead a rep:  opps set ID owner=NAME\n"), "\(en.stdout)")
            let zh = await opps("today", "--home", max, "--locale", "zh-CN")
            #expect(zh.stdout.contains("1 条线索没有分到销售顾问") && zh.stdout.contains("无人接手"), "\(zh.stdout)")
            #expect(zh.stdout.hasSuffix("指派销售顾问：  opps set 编号 负责人=用户名\n"), "\(zh.stdout)")
            let both: String = en.stdout + zh.stdout
            #expect(both.split(separator: "\n").allSatisfy { String($0).displayWidth <= 80 })
            let page = try await WebApp(home: max, clock: OppsHub.SystemClock(), transport: nil)
                .todayPage(WebText(acceptLanguage: "zh-CN", override: nil), message: nil, today: localToday())
            #expect(page.contains("经销商门户</a> — 已交接，没有销售顾问能接手：请指派一位"), "\(page)")
            // Given a rep as the line says, it is theirs and leaves the list.
            #expect(await opps("set", lead, "负责人=sam", "--home", max, "--locale", "zh-CN").code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            #expect((await opps("today", "--home", max, "--json").json?["team"]?.array ?? []).isEmpty)
        }
    }
}
