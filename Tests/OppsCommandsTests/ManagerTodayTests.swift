import Foundation
import OppsCore
import Testing

@testable import OppsCommands

/// A manager's `opps today` (and the web app's Today): their team's deals whose next step is
/// overdue or that went stale, by owner, and how many requests wait for their decision. A rep's
/// day is their own.
@Suite struct ManagerTodayTests {
    @Test func aManagerSeesWhatSlippedInTheirTeamAndWhatWaitsForThem() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            #expect(await f.initReplica("sam", url).code == 0)
            #expect(await f.initReplica("max", url).code == 0)
            let sam = f.home("sam"), max = f.home("max")
            // Days counted from the day the test runs (a fixed date is passed by the calendar:
            // `today` must stay weeks after the deals are made, and their due dates before it).
            let now = Timestamp(milliseconds: Int64(Date().timeIntervalSince1970 * 1000)).date
            func day(_ offset: Int32) -> CivilDate { CivilDate(daysSinceEpoch: now.daysSinceEpoch + offset) }
            let dueLate = day(7), dueQuiet = day(25), today = day(30)
            /// How `opps today` writes a day: without its year in the year it reads.
            func short(_ d: CivilDate) -> String { d.components.year == today.components.year ? String(d.description.dropFirst(5)) : d.description }
            let late = try #require(
                await opps("new", "Late deal", "--account", "ACME", "--amount", "100.00", "--currency", "CNY", "--home", sam, "--json").json?["id"]?.string)
            let quiet = try #require(await opps("new", "Quiet deal", "--account", "ACME", "--home", sam, "--json").json?["id"]?.string)
            #expect(await opps("set", late, "next_step=送报价", "next_step_due=\(dueLate)", "--home", sam).code == 0)
            // A discount above the threshold: a request for the manager.
            #expect(await opps("set", late, "discount=15.00", "--home", sam).stdout.contains("requested approval"))
            #expect(await opps("sync", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)

            // Weeks later: one next step overdue, the other deal stale.
            let day = today.description
            let managed = try #require(await opps("today", "--date", day, "--home", max, "--json").json)
            let team = managed["team"]?.array ?? []
            #expect(team.count == 2, "\(managed)")
            let byDeal = Dictionary(uniqueKeysWithValues: team.compactMap { i in i["deal"]?.string.map { ($0, i) } })
            #expect(byDeal[late]?["kind"]?.string == "next_step" && byDeal[late]?["owner"]?.string == "sam" && byDeal[late]?["date"]?.string == dueLate.description)
            #expect(byDeal[quiet]?["kind"]?.string == "stale" && byDeal[quiet]?["owner"]?.string == "sam")
            #expect(managed["awaiting_decision"]?.int == 1)
            #expect(managed["overdue"]?.array?.isEmpty == true, "the manager owns none of them")
            // opps status says it too, to an approver only.
            #expect(await opps("status", "--home", max, "--json").json?["awaiting_decision"]?.int == 1)
            #expect(await opps("status", "--home", max, "--locale", "zh-CN").stdout.contains("\n待审批   1 项（opps approvals 查看）\n"))
            #expect(await opps("status", "--home", sam, "--json").json?["awaiting_decision"]?.int == 0)
            #expect(!(await opps("status", "--home", sam, "--locale", "zh-CN").stdout.contains("待审批")))

            // In Chinese, by owner, each deal by name.
            let zh = await opps("today", "--date", day, "--home", max, "--locale", "zh-CN").stdout
            let lines = zh.split(separator: "\n")
            #expect(lines.contains("待你审批：1 项（opps approvals）"), "\(zh)")
            #expect(lines.contains("你的团队：1 项下一步逾期，1 个商机久未跟进："), "\(zh)")
            #expect(lines.contains { $0.contains(" sam ") && $0.contains("已逾期") && $0.hasSuffix("Late deal：送报价（\(short(dueLate)) 到期）") }, "\(zh)")
            #expect(lines.contains { $0.contains(" sam ") && $0.contains("待跟进") && $0.contains("Quiet deal：自 ") }, "\(zh)")
            // Last, what to type: the manager reads a team's deal; a rep's own lines are not theirs.
            #expect(lines.last == "团队的商机：  opps show 编号" && !zh.contains("完成任务："), "\(zh)")

            // A next step with a date and no words: said so in the reader's words, empty in JSON.
            #expect(await opps("set", quiet, "next_step_due=\(dueQuiet)", "--home", sam).code == 0)
            let unwritten = await opps("today", "--date", day, "--home", sam, "--locale", "zh-CN").stdout
            #expect(unwritten.contains("Quiet deal：（下一步未写明）（\(short(dueQuiet)) 到期）"), "\(unwritten)")
            let overdue = await opps("today", "--date", day, "--home", sam, "--json").json?["overdue"]?.array ?? []
            #expect(overdue.first { $0["deal"]?.string == quiet }?["text"]?.string == "")
            // The rep's day is their own: the same deals as theirs, no team, nothing to decide.
            let rep = try #require(await opps("today", "--date", day, "--home", sam, "--json").json)
            #expect(rep["team"]?.array?.isEmpty == true && rep["awaiting_decision"]?.int == 0)
            #expect(rep["overdue"]?.array?.contains { $0["deal"]?.string == late } == true)
            #expect(rep["overdue"]?.array?.contains { $0["deal"]?.string == quiet } == true)
        }
    }

    /// A long day is shown as its first items and how many more, each list; `--all` lists every
    /// one, and `--json` always carries all (a laptop of 100,000 quiet deals printed 500,000 lines).
    @Test func aLongListStopsAndSaysHowManyMore() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            #expect(await f.initReplica("sam", url).code == 0)
            let sam = f.home("sam")
            let count = TodayCommand.shown + 2
            for n in 1...count {
                let made = await opps("new", "Deal \(n)", "--account", "ACME", "next_step=call", "next_step_due=2026-12-01", "--home", sam)
                #expect(made.code == 0, "\(made.stderr)")
            }
            // Six weeks on: every one overdue, and stale.
            let day = await opps(["today", "--date", "2027-01-15", "--home", sam], environment: ["LANG": "C", "COLUMNS": "200"])
            let lines = day.stdout.split(separator: "\n").map(String.init)
            #expect(lines.first == "today 2027-01-15: 0 due, \(count) overdue, \(count) stale", "\(day.stdout)")
            #expect(lines.filter { $0.contains("  next step  ") }.count == TodayCommand.shown, "\(day.stdout)")
            #expect(lines.filter { $0.contains("  stale  ") }.count == TodayCommand.shown, "\(day.stdout)")
            #expect(lines.filter { $0 == "  …and 2 more (opps today --all lists every one)" }.count == 2, "\(day.stdout)")
            let all = await opps(["today", "--date", "2027-01-15", "--all", "--home", sam], environment: ["LANG": "C", "COLUMNS": "200"])
            #expect(all.stdout.split(separator: "\n").filter { $0.contains("  next step  ") }.count == count && !all.stdout.contains("more (opps today"), "\(all.stdout)")
            let zh = await opps("today", "--date", "2027-01-15", "--home", sam, "--locale", "zh-CN")
            #expect(zh.stdout.contains("\n  …还有 2 项（opps today --all 列出全部）\n"), "\(zh.stdout)")
            let json = try #require(await opps("today", "--date", "2027-01-15", "--json", "--home", sam).json)
            #expect(json["overdue"]?.array?.count == count && json["stale"]?.array?.count == count)
        }
    }
}
