import Foundation
import OppsCore
import Testing

/// Issue 15: `opps show` has the deal's timeline under its fields — what a rep and a manager
/// both read as the deal's trail.
@Suite struct TimelineCommandTests {
    @Test func showTellsTheDealsStory() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            #expect(await f.initReplica("sam", url).code == 0)
            #expect(await f.initReplica("max", url).code == 0)
            let sam = f.home("sam"), max = f.home("max")
            let made = await opps("new", "Omega pilot", "--account", "Omega", "--amount", "5000.00", "--currency", "CNY", "--close", "2027-01-31", "--home", sam)
            let id = String(made.stdout.prefix(ShortID.length))
            #expect(await opps("set", id, "needs=CRM", "decision_makers=CFO", "--home", sam).code == 0)
            #expect(await opps("stage", id, "solution", "--home", sam).code == 0)
            // What was logged is said back with where, as the timeline will say it.
            let logged = await opps("log", id, "--kind", "visit", "--place", "Omega HQ", "--note", "met the CFO", "--home", sam)
            #expect(logged.code == 0 && logged.stdout.hasSuffix("  logged visit at Omega HQ: met the CFO (Omega pilot) (pending sync)\n"), "\(logged.stdout)")
            let other = try #require(await opps("new", "Omega phase 2", "--account", "Omega", "--home", sam, "--json").json?["id"]?.string)
            let zh = await opps("log", other, "签到", "--place", "欧米茄总部", "--home", sam, "--locale", "zh-CN").stdout
            #expect(zh.hasSuffix("  已记录签到（欧米茄总部）（Omega phase 2）（待同步）\n"), "\(zh)")
            #expect(await opps("task", "add", id, "send the quote", "--due", "2026-12-04", "--home", sam).code == 0)
            #expect(await opps("set", id, "discount=15.00", "--home", sam).code == 0)
            let before = await opps("show", id, "--home", sam)
            #expect(before.stdout.contains("timeline (device time)"), "\(before.stdout)")
            let lines = before.unwrapped.split(separator: "\n").map(String.init)
            let start = try #require(lines.firstIndex { $0.contains("timeline") })
            let story = lines[(start + 1)...].map { $0 }
            #expect(story.count == 5, "\(story)")
            #expect(story[0].hasSuffix("created in discovery"))
            #expect(story[1].hasSuffix("stage discovery → solution"))
            #expect(story[2].contains("visit at Omega HQ: met the CFO"))
            #expect(story[3].contains("\"send the quote\" due 2026-12-04") && story[3].hasSuffix("open"))
            #expect(story[4].contains("for discount → 15%: pending"))
            #expect(!before.stdout.contains("stage_log"), "the stage log reads as the timeline")
            // The manager decides; after both sync, the rep's timeline says so.
            #expect(await opps("sync", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            let request = try #require(await opps("approvals", "--home", max, "--json").json?.array?.first?["id"]?.string)
            #expect(await opps("approve", request, "--note", "ok for Q4", "--home", max).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            #expect(await opps("sync", "--home", sam).code == 0)
            let after = await opps("show", id, "--home", sam).unwrapped
            #expect(after.contains("approved by max — ok for Q4"), "\(after)")
            let managers = await opps("show", id, "--home", max).unwrapped
            #expect(managers.contains("stage discovery → solution") && managers.contains("visit at Omega HQ"), "the same trail on the manager's laptop: \(managers)")
        }
    }

    /// Two stage moves made offline are two moves on the trail, before the sync as after it:
    /// the deal's stage field holds only the last, the outbox holds both (the hub logs both).
    @Test func twoMovesMadeOfflineAreTwoLinesOfTheTimeline() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            #expect(await f.initReplica("sam", url).code == 0)
            let sam = f.home("sam")
            let made = await opps("new", "Omega pilot", "--account", "Omega", "--amount", "5000.00", "--currency", "CNY", "--close", "2027-01-31", "--home", sam)
            let id = String(made.stdout.prefix(ShortID.length))
            #expect(await opps("set", id, "needs=CRM", "decision_makers=CFO", "--home", sam).code == 0)
            #expect(await opps("stage", id, "solution", "--home", sam).code == 0)
            #expect(await opps("set", id, "solution=pilot", "tech_risk=low", "--home", sam).code == 0)
            #expect(await opps("stage", id, "proposal", "--home", sam).code == 0)
            func moves(_ home: String, locale: String = "en") async -> [String] {
                await opps("show", id, "--home", home, "--locale", locale).unwrapped.split(separator: "\n").map(String.init)
                    .filter { $0.hasPrefix("    ") && ($0.contains(locale == "en" ? "stage " : "阶段 ") || $0.contains(locale == "en" ? "created in" : "创建于")) }
            }
            let offline = await moves(sam)
            #expect(offline.count == 3, "\(offline)")
            #expect(
                offline.last?.hasSuffix("stage solution → proposal") == true && offline.dropLast().last?.hasSuffix("stage discovery → solution") == true, "\(offline)")
            // The reports read the same steps: a stay in solution, before the sync too.
            let stays = await opps("report", "time-in-stage", "--home", sam, "--json").json?.array ?? []
            #expect(stays.first { $0["stage"]?.string == "solution" }?["stays"]?.int == 1, "\(stays)")
            #expect(stays.first { $0["stage"]?.string == "discovery" }?["stays"]?.int == 1, "\(stays)")
            let zh = await moves(sam, locale: "zh-CN")
            #expect(zh.count == 3 && zh[1].hasSuffix("阶段 需求挖掘 → 方案") && zh[2].hasSuffix("阶段 方案 → 报价"), "\(zh)")
            // Taking the last move back leaves the first.
            #expect(await opps("undo", "--home", sam).code == 0)
            let undone = await moves(sam)
            #expect(undone.count == 2 && undone[1].hasSuffix("stage discovery → solution"), "\(undone)")
            #expect(await opps("stage", id, "proposal", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", sam).code == 0)
            let synced = await moves(sam)
            #expect(synced.count == 3 && synced[1].hasSuffix("stage discovery → solution") && synced[2].hasSuffix("stage solution → proposal"), "\(synced)")
        }
    }
}
