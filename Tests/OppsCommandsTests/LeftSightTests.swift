import Foundation
import OppsConsole
import OppsCore
import OppsHub
import OppsWeb
import Testing

/// A deal given to someone else leaves its old owner's laptop at the next sync (visibility.md):
/// the rep is told which, by name — its id names nothing there any more — not left to find it
/// missing from the board. A request of theirs on it can no longer be carried out: the hub
/// settles it with the handover, so it locks nothing for the new owner and waits for no one.
@Suite struct LeftSightTests {
    @Test func aDealGivenToAnotherRepIsSaidByNameWhenItLeavesTheLaptop() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            let given = try await f.samsDeal("Given away", initialising: url)
            #expect(await f.initReplica("tom", url).code == 0)
            let sam = f.home("sam"), tom = f.home("tom"), max = f.home("max")
            var others = [String]()
            for name in ["云帆 扩容", "Third deal"] {
                others.append(try #require(await opps("new", name, "--account", "ACME", "--home", sam, "--json").json?["id"]?.string))
            }
            // sam asks for a discount above his threshold on the first: the deal is locked.
            let asked = await opps("set", given, "discount=18", "--home", sam)
            #expect(asked.code == 0)
            let requestCode = String(asked.stdout.dropFirst("requested approval ".count).prefix(8))
            #expect(await opps("sync", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            func giveToTom(_ ids: [String]) async {
                for id in ids { #expect(await opps("set", id, "owner=tom", "--home", max).code == 0) }
                #expect(await opps("sync", "--home", max).code == 0)
            }

            await giveToTom([given])
            let told = await opps(["sync", "--home", sam], environment: ["LANG": "C"])
            // Its request there could no longer be carried out: settled by the hub (§7.1), one
            // of sam's writes that did not hold.
            #expect(
                told.stdout == "nothing to push; 1 update from others\n  Given away: taken off this laptop, no longer yours to see (its owner or team\n  changed)\n"
                    + "1 write of yours did not hold: see opps conflicts (what holds now, and why)\n",
                "\(told.stdout)")
            let samsConflicts = await opps(["conflicts", "--home", sam], environment: ["LANG": "C"])
            #expect(samsConflicts.stdout.contains("sam's \"18%\" rejected (the request can no longer be carried out as asked"), "\(samsConflicts.stdout)")
            #expect(samsConflicts.stdout.contains("held: (not shown to you)"), "the deal's discount now is not sam's to see: \(samsConflicts.stdout)")
            #expect(samsConflicts.stdout.hasPrefix("#1 ") && samsConflicts.stdout.contains(" (no longer on this laptop) - discount\n"), "\(samsConflicts.stdout)")
            #expect(await opps("show", given, "--home", sam).code == 1, "the deal is no longer here")
            // Its id typed back says why, not "no record here has the id": by the full id, by the
            // short one (in Chinese), and for an edit; an id that never named anything here is
            // still unknown. Nothing of the deal is kept but its id.
            let code = ShortID.shown(try #require(RecordID(parsing: given)))
            let byID = await opps(["show", given, "--home", sam], environment: ["LANG": "C"])
            let why = "that deal is no longer yours to see (its owner or team changed)"
            #expect(byID.code == 1 && byID.stderr.contains("\(code) was taken off this laptop by the sync of "), "\(byID.stderr)")
            #expect(byID.stderr.split(separator: "\n").last.map(String.init) == why, "\(byID.stderr)")
            #expect(!byID.stderr.contains("Given away"))
            let byCode = await opps("show", code.uppercased(), "--home", sam, "--locale", "zh-CN")
            #expect(byCode.code == 1 && byCode.stderr.contains("\(code) 已在 ") && byCode.stderr.hasSuffix("的同步中从本机移除：\n你不再能看到这个商机（负责人或团队有变化）\n"), "\(byCode.stderr)")
            #expect((byID.stderr + byCode.stderr).split(separator: "\n").allSatisfy { String($0).displayWidth <= 80 }, "\(byID.stderr)\(byCode.stderr)")
            let edit = await opps(["set", code, "amount=5", "--home", sam], environment: ["LANG": "C"])
            #expect(edit.code == 1 && edit.stderr.contains("was taken off this laptop"), "\(edit.stderr)")
            #expect(try await opps("sync", "--home", sam, "--json").json?["pushed"]?.int == 0, "a refused edit queued nothing")
            let never = await opps(["show", "zzzz9999", "--home", sam], environment: ["LANG": "C"])
            #expect(never.code == 1 && never.stderr.contains("no record here has the id or name"), "\(never.stderr)")
            // The request, by the id sam's edit printed, as its approver reads it: settled by the hub.
            let request = await opps("show", requestCode, "--home", max, "--json").json?["fields"]
            #expect(request?["state"]?.string == "rejected" && request?["decided_by"] == .null, "\(String(describing: request))")
            #expect(request?["note"]?.string == "not applied: sam may no longer change discount of that record")

            // In Chinese, at 80 columns, two at once.
            await giveToTom([others[0]])
            let zh = await opps("sync", "--home", sam, "--locale", "zh-CN")
            #expect(zh.stdout == "没有待推送的修改；收到别人的 1 项修改\n  云帆 扩容：已从本机移除，你不再能看到它（负责人或团队有变化）\n", "\(zh.stdout)")
            await giveToTom([others[1]])
            let json = try #require(await opps("sync", "--home", sam, "--json").json)
            #expect(json["removed"]?.int == 1 && json["removed_deals"]?.array?.compactMap(\.string) == ["Third deal"], "\(json)")
            // Nothing said again, and nothing said of a deal that stays.
            let quiet = await opps(["sync", "--home", sam], environment: ["LANG": "C"])
            #expect(quiet.stdout == "nothing to push; nothing new from others\n", "\(quiet.stdout)")

            // tom, the new owner: sam's request could no longer be carried out (sam may not change
            // that deal's discount now), so the hub settled it with the handover (§7.1). It came
            // settled: not news for tom, and nothing of it locks the deal for him or waits for max.
            let handed = await opps("sync", "--home", tom, "--locale", "zh-CN")
            #expect(handed.stdout.contains(" 新商机「Given away」（sam，负责人是你）\n") && !handed.stdout.contains("审批"), "\(handed.stdout)")
            #expect(await opps("approvals", "--home", max, "--json").json?.array?.isEmpty == true)
            #expect(await opps("set", given, "discount=5", "--home", tom).code == 0)
        }
    }

    /// A task a rep adds, offline, to a deal that meanwhile went to someone else: the hub
    /// refuses it (the deal is no longer the rep's to see), and the laptop does not keep it as a
    /// task of its own on a deal it no longer holds (the "phantom task"): it goes with the deal at
    /// that sync, and the refusal is the rep's conflict (sync-protocol.md §6.3).
    @Test func aTaskAddedToADealThatMeanwhileLeftDoesNotStayBehind() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            let deal = try await f.samsDeal("Leaving", initialising: url)
            let sam = f.home("sam"), max = f.home("max")
            #expect(await opps("sync", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            #expect(await opps("set", deal, "owner=max", "--home", max).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            let added = await opps("task", "add", deal, "Call back", "--due", "2026-12-20", "--home", sam, "--json")
            let task = try #require(added.json?["id"]?.string, "\(added.stdout)\(added.stderr)")
            let before = await opps("task", "list", "--home", sam, "--json").json?.array ?? []
            #expect(before.contains { $0["id"]?.string == task }, "\(before)")
            let synced = await opps("sync", "--home", sam, "--json")
            #expect(synced.code == 0 && synced.json?["removed"]?.int == 1, "\(synced.stdout)")
            let tasks = await opps("task", "list", "--home", sam, "--json").json?.array ?? []
            #expect(tasks.isEmpty, "a task on a deal sam no longer holds: \(tasks)")
            #expect(await opps("show", task, "--home", sam).code == 1)
            let conflicts = await opps("conflicts", "--home", sam, "--json").json?.array ?? []
            #expect(conflicts.contains { $0["record"]?.string == task }, "the refused task is sam's conflict: \(conflicts)")
            // Nothing is left to send or to show after another sync.
            let again = await opps("sync", "--home", sam, "--json")
            #expect(again.json?["pushed"]?.int == 0 && again.json?["removed"]?.int == 0, "\(again.stdout)")
        }
    }

    /// The same when the deal changes hands by a request: sam asks for a discount and for the
    /// deal to go to tom; max approves the transfer, and the discount sam can no longer ask for
    /// is settled with it (§7.1) — max is not left deciding it, tom not locked by it.
    @Test func anApprovedTransferSettlesWhatItsFormerOwnerStillAsked() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            let deal = try await f.samsDeal("Handed over", initialising: url)
            #expect(await f.initReplica("tom", url).code == 0)
            let sam = f.home("sam"), tom = f.home("tom"), max = f.home("max")
            #expect(await opps("set", deal, "discount=18", "--home", sam).code == 0)
            #expect(await opps("set", deal, "owner=tom", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            let waiting = try #require(await opps("approvals", "--home", max, "--json").json?.array)
            #expect(waiting.count == 2, "\(waiting)")
            let transfer = try #require(waiting.first { $0["field"]?.string == "owner" }?["id"]?.string)
            #expect(await opps("approve", transfer, "--home", max).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            #expect(await opps("approvals", "--home", max, "--json").json?.array?.isEmpty == true)
            #expect(await opps("sync", "--home", tom).code == 0)
            let set = await opps("set", deal, "discount=5", "--home", tom)
            #expect(set.code == 0, "\(set.stderr)")
        }
    }

    /// An expert taken off a deal's team with her proposal pending: the manager's sync says the
    /// hub rejected it and why (`服务器驳回了申请`, no space after 服务器); hers says the deal left
    /// and that a write of hers did not hold; her empty laptop then says where an expert's deals
    /// come from, not how to make one (she may not).
    @Test func anExpertTakenOffTheTeamHasHerProposalSettledAndIsToldWhereDealsComeFrom() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            let deal = try await f.samsDeal("Team deal", initialising: url)
            #expect(await f.initReplica("eve", url).code == 0)
            let max = f.home("max"), eve = f.home("eve")
            // Before she is on any team, her laptop says where her deals come from.
            for (command, locale, line) in [
                ("today", "zh-CN", "本机还没有商机：你能看到你所在团队的商机；经理把你加入团队后，opps sync 会取回"),
                ("list", "en", "no deals yet: you see those whose team you are on (opps sync brings them)"),
            ] {
                let said = await opps(command, "--home", eve, "--locale", locale).stdout
                #expect(said.split(separator: "\n").last.map(String.init) == line, "\(said)")
            }
            // Her board in the browser says it too, and offers no new deal.
            let board = try await WebApp(home: eve, clock: OppsHub.SystemClock(), transport: nil).boardHTML()
            #expect(board.contains("No deals here yet: you see those whose team you are on; once a manager adds you, Sync brings them."), "\(board)")
            #expect(!board.contains("action=\"/new\""))
            #expect(await opps("sync", "--home", f.home("sam")).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            #expect(await opps("team", "add", deal, "eve", "--role", "expert", "--home", max).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            #expect(await opps("sync", "--home", eve).code == 0)
            let asked = await opps("stage", deal, "solution", "--home", eve)
            #expect(asked.code == 0, "\(asked.stderr)")
            #expect(await opps("sync", "--home", eve).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            #expect(await opps("approvals", "--home", max, "--json").json?.array?.count == 1)
            #expect(await opps("team", "remove", deal, "eve", "--home", max).code == 0)
            let told = await opps("sync", "--home", max, "--locale", "zh-CN").stdout
            // (Read as a rep reads it, the lines it wraps into joined.)
            #expect(unspaced(told).contains(unspaced("Team deal：服务器驳回了申请（阶段 → 方案）：未执行：eve 已无权修改该记录的「阶段」")), "\(told)")
            #expect(told.contains("：服务器驳回了申请（"), "no space after 服务器: \(told)")
            #expect(await opps("approvals", "--home", max, "--json").json?.array?.isEmpty == true, "nothing left for max to decide")
            let hers = await opps("sync", "--home", eve).stdout
            #expect(hers.contains("Team deal") && hers.contains("1 write of yours did not hold"), "\(hers)")
            let lost = await opps("conflicts", "--home", eve, "--json").json?.array ?? []
            #expect(lost.contains { $0["field"]?.string == "stage" && $0["mine"]?.string == "solution" && $0["rule"]?.string == "request-invalid" }, "\(lost)")
        }
    }
}
