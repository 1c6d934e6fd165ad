import Foundation
import OppsCore
import OppsReplica
import OppsStore
import Testing

/// `opps undo` takes back the last edit made on this laptop while none of it has been sent
/// (sync-protocol.md §5.3): whole, one edit at a time, leaving no trace here and nothing at the hub.
@Suite struct UndoTests {
    @Test func aRepTakesBackHisEditsOneAtATimeAndTheHubNeverSeesThem() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            let id = try await f.samsDeal("Undo rollout", initialising: url)
            let sam = f.home("sam"), max = f.home("max")
            #expect(await opps("set", id, "amount=40000", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", sam).code == 0)
            func en(_ args: String...) async -> Run { await opps(args + ["--home", sam], environment: ["LANG": "C", "COLUMNS": "200"]) }

            // Three edits: two fields in one command, an activity, a new deal on a new account.
            #expect(await opps("set", id, "next_step=call Li", "amount=52000", "--home", sam).code == 0)
            #expect(await opps("log", id, "call", "talked budget", "--home", sam).code == 0)
            let mistake = try #require(await opps("new", "Mistake", "--account", "Wrong Co", "--home", sam, "--json").json?["id"]?.string)
            #expect(await opps("show", mistake, "--home", sam).code == 0)

            // The last first: the new deal and its new account go, nothing else.
            let first = await en("undo")
            #expect(first.code == 0, "\(first.stderr)")
            #expect(first.stdout.hasPrefix("Took back your last edit (it was not synced):\n"), "\(first.stdout)")
            #expect(first.stdout.contains("the new account Wrong Co is gone") && first.stdout.contains("the new opportunity Mistake is gone"), "\(first.stdout)")
            #expect(first.stdout.hasSuffix("2 more edits wait to be sent; opps undo again takes back the one before.\n"), "\(first.stdout)")
            #expect(await opps("show", mistake, "--home", sam).code != 0)
            #expect(!(await opps("account", "list", "--home", sam).stdout.contains("Wrong Co")))

            // The activity, then both fields of the one set.
            let second = await en("undo")
            #expect(second.stdout.contains("Undo rollout · activity"), "\(second.stdout)")
            #expect(!(await opps("show", id, "--home", sam).stdout.contains("talked budget")))
            let third = await en("undo", "--json")
            let undone = try #require(third.json?["undone"]?.array)
            #expect(undone.count == 1 && third.json?["waiting"]?.int == 0, "\(third.stdout)")
            let fields = Set((undone.first?["fields"]?.array ?? []).compactMap { $0["field"]?.string })
            #expect(fields == ["next_step", "amount"], "\(third.stdout)")
            let deal = await opps("show", id, "--home", sam, "--json").json?["fields"]
            #expect(deal?["amount"]?.string == "40000.00" && deal?["next_step"] == .null, "\(String(describing: deal))")
            // No trail of them here, nothing pending, nothing more to take back (not a failure).
            #expect(!(await opps("history", id, "--home", sam).stdout.contains("52,000")))
            #expect(await opps("status", "--home", sam, "--json").json?["pending"]?.int == 0)
            let none = await en("undo")
            #expect(none.code == 0 && none.stdout.hasPrefix("Nothing to take back: every edit made here has reached the hub."), "\(none.stdout)")

            // The hub never saw them: max holds the deal as sam synced it.
            #expect(await opps("sync", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            let maxs = await opps("show", id, "--home", max, "--json").json?["fields"]
            #expect(maxs?["amount"]?.string == "40000.00" && maxs?["next_step"] == .null, "\(String(describing: maxs))")
            #expect(!(await opps("list", "--home", max).stdout.contains("Mistake")))
        }
    }

    /// A request made by an edit goes with it (the deal unlocks); a deal made here and edited
    /// after shows again as made; a Chinese reader reads it all in Chinese.
    @Test func aRequestGoesWithItsEditAndADealMadeHereKeepsWhatItWasMadeWith() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            let id = try await f.samsDeal("撤销 试点", initialising: url)
            let sam = f.home("sam"), max = f.home("max")
            // Not synced: the deal is still this laptop's alone, made with its amount.
            #expect(await opps("set", id, "amount=30000", "--home", sam).code == 0)
            #expect(await opps("set", id, "折扣=18", "下一步=发报价", "--home", sam, "--locale", "zh-CN").code == 0)
            #expect(await opps("approvals", "--home", sam, "--json").json?.array?.count == 1)
            let zh = await opps("undo", "--home", sam, "--locale", "zh-CN")
            #expect(zh.code == 0, "\(zh.stderr)")
            #expect(zh.stdout.hasPrefix("已撤销你的上一项修改（它还没有同步）：\n"), "\(zh.stdout)")
            #expect(unspaced(zh.stdout).contains("撤销试点：下一步恢复为（空）（撤销前：「发报价」）"), "\(zh.stdout)")
            #expect(zh.stdout.contains("去掉了申请（折扣 → 18%）"), "\(zh.stdout)")
            #expect(zh.stdout.hasSuffix("还有 2 项修改等待同步；再运行 opps undo 撤销再前一项。\n"), "\(zh.stdout)")
            #expect(await opps("approvals", "--home", sam, "--json").json?.array?.isEmpty == true)
            // Unlocked: a discount within sam's own limit is his to set.
            #expect(await opps("set", id, "discount=8", "--home", sam).code == 0)
            #expect(await opps("undo", "--home", sam).code == 0)
            // The amount set after the deal was made: taken back, the deal stays as made.
            #expect(await opps("undo", "--home", sam).code == 0)
            let deal = await opps("show", id, "--home", sam, "--json").json?["fields"]
            #expect(deal?["amount"] == .null && deal?["name"]?.string == "撤销 试点" && deal?["owner"]?.string == "sam", "\(String(describing: deal))")
            #expect(await opps("sync", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            let maxs = await opps("show", id, "--home", max, "--json").json?["fields"]
            #expect(maxs?["name"]?.string == "撤销 试点" && maxs?["amount"] == .null && maxs?["discount"] == .null, "\(String(describing: maxs))")
        }
    }

    /// A conflict closed by writing its value again opens again when that edit is taken back:
    /// the value it holds is not lost.
    @Test func takingBackARestoreOpensItsConflictAgain() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            for user in ["sam", "max"] { #expect(await f.initReplica(user, url).code == 0) }
            let (id, amount, _) = try await f.conflictsOnADeal()
            let sam = f.home("sam")
            #expect(await opps("conflicts", "restore", String(amount), "--home", sam).code == 0)
            #expect(!(await opps("conflicts", "--home", sam, "--json").json?.array ?? []).contains { $0["id"]?.int == amount })
            let undone = await opps(["undo", "--home", sam], environment: ["LANG": "C", "COLUMNS": "200"])
            #expect(
                unspaced(undone.stdout).contains(unspaced("ACME rollout: amount back to \"300.00\" (was \"200.00\"); conflict #\(amount) open again")), "\(undone.stdout)"
            )
            #expect((await opps("conflicts", "--home", sam, "--json").json?.array ?? []).contains { $0["id"]?.int == amount })
            #expect(await opps("show", id, "--home", sam, "--json").json?["fields"]?["amount"]?.string == "300.00")
        }
    }

    /// A manager takes back a decision and a delete made offline: the request waits for him again,
    /// the deal is back, each said by what it is.
    @Test func aManagerTakesBackADecisionAndADelete() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            let (deal, request) = try await f.aLossWaitingForMax(initialising: url)
            let max = f.home("max")
            func en(_ args: String...) async -> Run { await opps(args + ["--home", max], environment: ["LANG": "C"]) }
            #expect(await opps("approve", request, "--home", max, "--note", "fine").code == 0)
            let decision = await en("undo")
            #expect(
                unspaced(decision.stdout).contains(unspaced("Doomed · request (stage → lost, loss_reason → price): state back to \"pending\" (was \"approved\")")),
                "\(decision.stdout)")
            #expect(await opps("approvals", "--home", max, "--json").json?.array?.first?["state"]?.string == "pending")
            #expect(await opps("delete", deal, "--home", max).code == 0)
            func listed() async -> Bool { (await opps("list", "--home", max, "--json").json?.array ?? []).contains { $0["id"]?.string == deal } }
            #expect(!(await listed()))
            let deleted = await en("undo")
            #expect(deleted.stdout.contains(": not deleted\n"), "\(deleted.stdout)")
            #expect(!deleted.stdout.contains("(empty)"), "a deletion's own trail line is not a field: \(deleted.stdout)")
            #expect(await listed())
        }
    }

    /// An edit a sync has sent and the hub has not answered stays: it is the hub's to decide.
    @Test func anEditBeingSentIsNotTakenBack() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            _ = try await f.samsDeal("In flight", initialising: url)
            #expect(await opps("sync", "--home", f.home("sam")).code == 0)
        }
        // The hub is gone: the sync sends the batch and hears nothing back.
        let sam = f.home("sam")
        let id = try #require(await opps("list", "In flight", "--home", sam, "--json").json?.array?.first?["id"]?.string)
        #expect(await opps("set", id, "next_step=demo", "--home", sam).code == 0)
        #expect(await opps("sync", "--home", sam).code == 2)
        // An edit made after it is still this laptop's alone: taken back, and the one before is
        // said to be on its way.
        #expect(await opps("set", id, "amount=999", "--home", sam).code == 0)
        let later = await opps(["undo", "--home", sam], environment: ["LANG": "C"])
        #expect(
            unspaced(later.stdout).hasSuffix(unspaced("1 more edit waits to be sent, already being sent (it cannot be taken back): opps sync sends it.")),
            "\(later.stdout)")
        let refused = await opps(["undo", "--home", sam], environment: ["LANG": "C", "COLUMNS": "200"])
        #expect(refused.code == 1, "\(refused.stdout)")
        #expect(
            refused.stderr == "opps: your last edit is being sent to the hub: it cannot be taken back now; after opps sync, change it back with a new edit\n",
            "\(refused.stderr)")
        #expect(await opps("show", id, "--home", sam, "--json").json?["fields"]?["next_step"]?.string == "demo")
        #expect(await opps("status", "--home", sam, "--json").json?["pending"]?.int == 1)
    }
}
