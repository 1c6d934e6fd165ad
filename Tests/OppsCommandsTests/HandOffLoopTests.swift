import Foundation
import OppsCore
import OppsHub
import OppsReplica
import OppsStore
import OppsTestSupport
import Testing

@testable import OppsCommands
@testable import OppsWeb

/// The hand-off's two ends (DOMAIN.md qualified: "the rep accepts (moves on) or rejects with a
/// reason"). A rep's day listed nothing of a lead handed to them, so it sat at qualified unseen;
/// a marketer's list called a lead the rep had just sent back "ready", its reason unread.
@Suite struct HandOffLoopTests {
    @Test func aRepIsToldOfLeadsHandedToThemAndTheMarketerOfOnesSentBack() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            for u in ["mia", "max", "sam", "tom"] { #expect(await f.initReplica(u, url).code == 0) }
            let mia = f.home("mia"), max = f.home("max")
            let today = localToday()
            let shortToday = String(today.description.dropFirst(5))
            // mia hands two leads off; the hub gives each a rep.
            var leads = [String]()
            for name in ["Beta pilot", "Gamma rollout"] {
                let id = try #require(
                    await opps("lead", "add", name, "--company", name, "--contact", "Li Wei", "--source", "event", "--home", mia, "--json").json?["id"]?.string)
                #expect(
                    await opps(
                        "set", id, "qualification=budget approved", "check_need=true", "check_budget=true", "check_timing=true", "check_contact=true", "--home", mia
                    ).code == 0)
                #expect(await opps("stage", id, "qualified", "--home", mia).code == 0)
                leads.append(id)
            }
            #expect(await opps("sync", "--home", mia).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            var owners = [String]()
            for id in leads { owners.append(try #require(await opps("show", id, "--home", max, "--json").json?["fields"]?["owner"]?.string)) }
            for rep in ["sam", "tom"] { #expect(await opps("sync", "--home", f.home(rep)).code == 0) }

            // Each rep's day lists the leads handed to them, dated the day of the hand-off; no one
            // else's day does (the marketer's, the manager's, the other rep's).
            for rep in ["sam", "tom"] {
                let day = try #require(await opps("today", "--home", f.home(rep), "--json").json)
                let mine = zip(leads, owners).filter { $0.1 == rep }.map(\.0)
                #expect(day["handed_to_you"]?.array?.compactMap { $0["deal"]?.string } == mine, "\(rep): \(day)")
                #expect(day["handed_to_you"]?.array?.allSatisfy { $0["date"]?.string == today.description && $0["kind"]?.string == "handed_to_you" } == true)
            }
            for home in [mia, max] { #expect(await opps("today", "--home", home, "--json").json?["handed_to_you"]?.array?.isEmpty == true) }
            // One rep takes both (the other's are given to them by the manager), to read both ends at once.
            let rep = owners[0]
            if owners[1] != rep {
                #expect(await opps("set", leads[1], "owner=\(rep)", "--home", max).code == 0)
                #expect(await opps("sync", "--home", max).code == 0)
            }
            let home = f.home(rep)
            #expect(await opps("sync", "--home", home).code == 0)

            // Left unaccepted for two days, both are on the manager's day, by rep, dated the day
            // they were handed off; not before (today, or the next day).
            let later = CivilDate(daysSinceEpoch: today.daysSinceEpoch + Int32(Agenda.unacceptedDays))
            #expect(await opps("sync", "--home", max).code == 0)
            for day in [today, CivilDate(daysSinceEpoch: today.daysSinceEpoch + 1)] {
                let team = await opps("today", "--date", day.description, "--home", max, "--json").json?["team"]?.array ?? []
                #expect(!team.contains { $0["kind"]?.string == "unaccepted" }, "\(day): \(team)")
            }
            let team = await opps("today", "--date", later.description, "--home", max, "--json").json?["team"]?.array ?? []
            let waiting = team.filter { $0["kind"]?.string == "unaccepted" }
            #expect(Set(waiting.compactMap { $0["deal"]?.string }) == Set(leads), "\(team)")
            #expect(waiting.allSatisfy { $0["owner"]?.string == rep && $0["date"]?.string == today.description }, "\(waiting)")
            let managersDay = await opps(["today", "--date", later.description, "--home", max, "--locale", "zh-CN"], environment: ["COLUMNS": "80"]).stdout
            let managersLines = managersDay.split(separator: "\n").map(String.init)
            #expect(managersLines.contains { $0.hasPrefix("你的团队：") && $0.hasSuffix("，2 条线索交接后未接受：") }, "\(managersDay)")
            #expect(managersLines.contains { $0.contains("  \(rep)  未接受") && $0.hasSuffix("Beta pilot：\(shortToday) 交接") }, "\(managersDay)")
            #expect(managersLines.allSatisfy { $0.displayWidth <= 80 }, "\(managersDay)")
            let managersWeb = try WebApp(home: max, clock: OppsHub.SystemClock(), transport: nil)
            let managersPage = try await managersWeb.todayPage(WebText(acceptLanguage: nil, override: "en"), message: nil, today: later)
            #expect(managersPage.contains("Beta pilot</a> — handed off, not yet accepted"), "\(managersPage)")
            let zh = await opps("today", "--home", home, "--locale", "zh-CN").stdout
            let lines = zh.split(separator: "\n").map(String.init)
            #expect(lines.contains("交接给你的线索（接受或退回）："), "\(zh)")
            #expect(lines.contains { $0.hasSuffix("Beta pilot：\(shortToday) 交接") } && lines.contains { $0.hasSuffix("Gamma rollout：\(shortToday) 交接") }, "\(zh)")
            #expect(Array(lines.suffix(2)) == ["接受：  opps stage 编号 下一阶段", "退回：  opps stage 编号 线索 --reason \"原因\""], "\(zh)")
            #expect(!zh.contains("今天没有到期或逾期的事"), "a day with work on it")
            // The web's Today lists them too, and a handed-off deal's page says its reason box
            // also sends a lead back.
            let web = try WebApp(home: home, clock: OppsHub.SystemClock(), transport: nil)
            let page = try await web.todayPage(WebText(acceptLanguage: nil, override: "en"), message: nil, today: today)
            #expect(page.contains("Leads handed to you (accept or send back)") && page.contains("Beta pilot</a> — handed off "), "\(page)")
            let dealPage = try await web.dealHTML(try #require(RecordID(parsing: leads[0])))
            #expect(dealPage.contains("Reason (when lost or sent back)"), "\(dealPage)")
            #expect(dealPage.contains("This lead was handed to you: accept it (move it to discovery), or send it back (choose lead and write the reason)."))

            // The rep accepts Beta with the line the day gives, and sends Gamma back with a reason.
            #expect(await opps("stage", leads[0], "下一阶段", "--home", home, "--locale", "zh-CN").code == 0)
            let noReason = await opps("stage", leads[1], "lead", "--home", home)
            #expect(noReason.code == 3, "sent back without a reason: \(noReason.stderr)")
            #expect(await opps("stage", leads[1], "lead", "--reason", "no budget this year", "--home", home).code == 0)
            #expect(await opps("today", "--home", home, "--json").json?["handed_to_you"]?.array?.isEmpty == true)
            #expect(!(try await web.dealHTML(try #require(RecordID(parsing: leads[0])))).contains("This lead was handed to you"), "accepted")
            // The rep's own lead list says he sent it back, without the marketer's line to hand it off again.
            let repsList = await opps(["lead", "list", "--home", home], environment: ["LANG": "C", "COLUMNS": "80"]).stdout
            #expect(repsList.contains("\nsent back:\n") && !repsList.contains("hand one off again"), "\(repsList)")
            #expect(!(await opps("today", "--home", home, "--locale", "en").stdout.contains("accept one:")), "nothing listed, no hint")
            #expect(await opps("sync", "--home", home).code == 0)

            // mia's list says Gamma came back, from whom, when and why; her day counts it.
            #expect(await opps("sync", "--home", mia).code == 0)
            let list = await opps(["lead", "list", "--home", mia], environment: ["LANG": "C", "COLUMNS": "80"]).stdout
            let listed = list.split(separator: "\n").map(String.init)
            let gamma = ShortID.shown(try #require(RecordID(parsing: leads[1])))
            #expect(listed.contains { $0.hasPrefix(gamma) && $0.hasSuffix("  sent back") }, "\(list)")
            #expect(
                listed.contains("sent back:") && listed.contains("  \(gamma)  Gamma rollout: \(shortToday): no budget this year")
                    && listed.contains("  hand one off again: opps stage ID qualified"), "\(list)")
            #expect(listed.allSatisfy { $0.displayWidth <= 80 }, "\(list)")
            let json = await opps("lead", "list", "--home", mia, "--json").json?.array ?? []
            let back = try #require(json.first { $0["id"]?.string == leads[1] }?["sent_back"])
            // Who sent it back is the lead's owner, whom she may not see past the hand-off: not said
            // to her (the manager, who sees owners, reads it).
            #expect(back["by"] == .null && back["reason"]?.string == "no budget this year" && back["date"]?.string == today.description, "\(back)")
            #expect(!list.mentions(rep), "\(list)")
            #expect(await opps("sync", "--home", max).code == 0)
            let managers = await opps("lead", "list", "--home", max, "--json").json?.array ?? []
            #expect(managers.first { $0["id"]?.string == leads[1] }?["sent_back"]?["by"]?.string == rep, "\(managers)")
            #expect(json.filter { $0["id"]?.string != leads[1] }.allSatisfy { $0["sent_back"] == .null }, "\(json)")
            #expect(json.contains { $0["id"]?.string == leads[0] } == false, "accepted: past the lead stages")
            #expect(
                await opps(["today", "--home", mia], environment: ["LANG": "C"]).stdout.contains(
                    "\n1 of your leads waits for its hand-off (1 sent back): opps lead list\n"))
            #expect(await opps("today", "--home", mia, "--locale", "zh-CN").stdout.contains("你的线索：1 条等待交接，其中 1 条被退回（opps lead list）"))
            let miaWeb = try WebApp(home: mia, clock: OppsHub.SystemClock(), transport: nil)
            let miaPage = try await miaWeb.todayPage(WebText(acceptLanguage: nil, override: "en"), message: nil, today: today)
            #expect(miaPage.contains("Gamma rollout</a> — sent back "), "\(miaPage)")
            #expect(!miaPage.contains("sent back by"), "\(miaPage)")
            #expect(miaPage.contains(": no budget this year; ready to hand off"), "\(miaPage)")

            // Handed off again, it is no longer "sent back", and it is the rep's to accept again.
            #expect(await opps("stage", leads[1], "qualified", "--home", mia).code == 0)
            #expect(await opps("lead", "list", "--home", mia, "--json").json?.array?.first { $0["id"]?.string == leads[1] }?["sent_back"] == .null)
            #expect(await opps("sync", "--home", mia).code == 0)
            #expect(await opps("sync", "--home", home).code == 0)
            #expect(await opps("today", "--home", home, "--json").json?["handed_to_you"]?.array?.compactMap { $0["deal"]?.string } == [leads[1]])
        }
    }
}
