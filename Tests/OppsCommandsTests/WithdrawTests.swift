import Foundation
import OppsCore
import OppsReplica
import OppsStore
import Testing

/// A rep takes back his own request before it is decided (merge-semantics §7.1 "Withdrawal"):
/// the locked field's refusal says how, `opps withdraw` takes the id as printed, the deal is
/// unlocked at the hub, an approver who decided offline meanwhile is told, and nothing else
/// may withdraw it.
@Suite struct WithdrawTests {
    @Test func aRepWithdrawsHisDiscountRequestAndTheApproverWhoDecidedLateIsTold() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            let id = try await f.samsDeal("Withdrawn discount", initialising: url)
            let sam = f.home("sam"), max = f.home("max")
            #expect(await opps("set", id, "discount=18", "--home", sam).code == 0)
            // The deal, its account and the request: three records (the request alone is seven
            // writes, which "pushed 9 changes" made sound like nine things done).
            let asked = await opps(["sync", "--home", sam], environment: ["LANG": "C"])
            #expect(asked.stdout.hasPrefix("pushed changes to 3 records, all applied; "), "\(asked.stdout)")
            #expect(await opps("sync", "--home", max).code == 0)
            // max approves offline: he has not heard yet.
            let request = try #require(await opps("approvals", "--home", max, "--json").json?.array?.first?["id"]?.string)
            #expect(await opps("approve", request, "--home", max).code == 0)

            // sam wants 12 % instead: the lock says which request waits, and how to take it back.
            let locked = await opps("set", id, "折扣=12", "--home", sam, "--locale", "zh-CN")
            #expect(locked.code != 0, "\(locked.stdout)")
            let hint = try #require(locked.stderr.split(separator: "\n").last.map(String.init))
            #expect(hint.contains("它在等你的审批") && hint.contains("折扣 → 18%") && hint.contains("或撤回申请：opps withdraw "), "\(locked.stderr)")
            let typed = String(try #require(hint.components(separatedBy: "opps withdraw ").last))
            #expect(typed.count == ShortID.length, "\(hint)")
            #expect(
                await opps(["approvals", "--home", sam], environment: ["LANG": "C"]).stdout.hasSuffix(
                    "To take a request back before it is decided: opps withdraw \(typed)\n"))
            // Only who asked may withdraw it.
            let notHis = await opps("withdraw", request, "--home", max, "--locale", "zh-CN")
            #expect(notHis.code != 0 && notHis.stderr.contains("只有申请人才能撤回申请：这个申请是 sam 的"), "\(notHis.stderr)")

            let withdrawn = await opps("withdraw", typed, "--home", sam, "--locale", "zh-CN")
            #expect(withdrawn.code == 0 && withdrawn.stdout == "已撤回 \(typed)：折扣 → 18%（同步后在服务器生效）\n", "\(withdrawn.stdout)\(withdrawn.stderr)")
            #expect(await opps("approvals", "--home", sam, "--locale", "zh-CN").stdout.contains("撤回中"))
            let again = await opps("withdraw", typed, "--home", sam, "--locale", "zh-CN")
            #expect(again.code != 0 && again.stderr.contains("这个申请已经撤回了"), "\(again.stderr)")
            // Still locked here until the hub hears: the refusal says so, not to withdraw again.
            let beforeSync = await opps("set", id, "折扣=8", "--home", sam, "--locale", "zh-CN")
            #expect(beforeSync.code != 0 && beforeSync.stderr.hasSuffix("你已撤回审批 \(typed)（折扣 → 18%）：服务器收到后即解锁 —— 先 opps sync，再修改\n"), "\(beforeSync.stderr)")
            let sent = await opps("sync", "--home", sam, "--locale", "zh-CN")
            #expect(sent.code == 0 && sent.stdout.hasPrefix("已推送 1 条记录的修改，全部生效；"), "\(sent.stdout)")
            // Unlocked: 12 % is sam's to set (within his threshold), and it holds.
            #expect(await opps("set", id, "折扣=8", "--home", sam, "--locale", "zh-CN").code == 0)
            #expect(await opps("sync", "--home", sam).code == 0)

            // max's late approval reaches the hub after the withdrawal: refused, kept as his
            // conflict, nothing written on the deal.
            // Its sync says the request was withdrawn (which unlocked the deal: the hub's write
            // came before max's refused one, so it is news, said by the withdrawal's line, not
            // again on the deal's), and sam's new discount.
            let late = await opps(["sync", "--home", max], environment: ["LANG": "C", "COLUMNS": "200"])
            #expect(late.code == 0 && late.stdout.contains("Withdrawn discount: sam withdrew the request (discount → 18%)"), "\(late.stdout)")
            #expect(late.stdout.contains("Withdrawn discount: discount → 8% (sam)") && !late.stdout.contains("→ none"), "\(late.stdout)")
            let told = await opps("conflicts", "--home", max, "--json").json?.array ?? []
            #expect(told.contains { $0["rule"]?.string == "already-decided" && $0["field"]?.string == "state" }, "\(told)")
            let zh = await opps("conflicts", "--home", max, "--locale", "zh-CN").stdout
            #expect(unspaced(zh).contains(unspaced("max 的「已批准」被拒绝（sam 已撤回这个申请）")), "\(zh)")
            #expect(await opps(["conflicts", "--home", max], environment: ["LANG": "C"]).stdout.contains("(sam already withdrew this request)"))
            // Writing it again would be refused again: not offered.
            #expect(!zh.contains("opps conflicts restore"), "\(zh)")
            for home in [sam, max] {
                #expect(await opps("sync", "--home", home).code == 0)
                let deal = await opps("show", id, "--home", home, "--json").json?["fields"]
                #expect(deal?["discount"]?.string == "8.00", "\(String(describing: deal))")
                #expect(deal?["approval_state"]?.string == "none")
            }
            // The request says withdrawn, in sam's words and max's; nothing waits for max.
            let all = await opps("approvals", "--all", "--home", sam, "--json").json?.array ?? []
            #expect(all.first?["state"]?.string == "withdrawn", "\(all)")
            #expect(await opps("approvals", "--all", "--home", sam, "--locale", "zh-CN").stdout.contains("已撤回"))
            #expect(await opps(["approvals", "--home", max], environment: ["LANG": "C"]).stdout.hasPrefix("nothing waits for your decision"))
            // A withdrawn request is not withdrawn again, nor is a decided one.
            let decided = await opps("withdraw", typed, "--home", sam)
            #expect(decided.code != 0 && decided.stderr.contains("withdrawn already"), "\(decided.stderr)")
        }
    }

    /// A second request on a locked deal (a client of its own making; opps refuses to ask while
    /// one waits): withdrawing the first leaves the deal locked at the hub — its store finds
    /// the deal's other requests — until the second is decided.
    @Test func aDealWithAnotherRequestWaitingStaysLocked() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            let id = try await f.samsDeal("Two requests", initialising: url)
            let sam = f.home("sam"), max = f.home("max")
            #expect(await opps("set", id, "discount=18", "--home", sam).code == 0)
            let first = try #require(await opps("approvals", "--home", sam, "--json").json?.array?.first?["id"]?.string)
            try f.askDirectly("sam", deal: id, kind: "discount", field: "discount", value: "25.00")
            #expect(await opps("sync", "--home", sam).code == 0)
            #expect(await opps("withdraw", first, "--home", sam).code == 0)
            #expect(await opps("sync", "--home", sam).code == 0)
            #expect(await opps("show", id, "--home", sam, "--json").json?["fields"]?["approval_state"]?.string == "pending")
            let locked = await opps("set", id, "amount=1000", "--home", sam)
            #expect(locked.code == 3 && locked.stderr.contains("approval-pending"), "\(locked.stderr)")
            #expect(await opps("sync", "--home", max).code == 0)
            let waiting = await opps("approvals", "--home", max, "--json").json?.array ?? []
            #expect(waiting.count == 1 && waiting.first?["value"]?.string == "25.00", "\(waiting)")
            let second = try #require(waiting.first?["id"]?.string)
            #expect(await opps("reject", second, "--note", "no", "--home", max).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            // sam withdraws it before he has heard: the hub says who decided it first.
            #expect(await opps("withdraw", second, "--home", sam).code == 0)
            #expect(await opps("sync", "--home", sam).code == 0)
            let told = await opps("conflicts", "--home", sam, "--locale", "zh-CN").stdout
            #expect(unspaced(told).contains(unspaced("sam 的「是」被拒绝（max 已驳回这个申请）")), "\(told)")
            #expect(await opps("show", id, "--home", sam, "--json").json?["fields"]?["approval_state"]?.string == "rejected")
            #expect(await opps("set", id, "amount=1000", "--home", sam).code == 0)
        }
    }

    /// A request that leaves an approver's queue without their decision is said at their sync,
    /// a line of its own (a loss request changes nothing on the deal to say it by: the sync
    /// counted its news and listed none); the asker's own sync does not say his own withdrawal.
    @Test func anApproverIsToldOfARequestWithdrawnFromTheirQueue() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            let (_, request) = try await f.aLossWaitingForMax(initialising: url)
            let sam = f.home("sam"), max = f.home("max")
            #expect(await opps("withdraw", request, "--home", sam).code == 0)
            let own = await opps(["sync", "--home", sam], environment: ["LANG": "C", "COLUMNS": "200"])
            #expect(own.code == 0 && !own.stdout.contains("withdrew"), "\(own.stdout)")
            let short = ShortID.shown(try #require(RecordID(parsing: request)))
            let told = await opps(["sync", "--home", max], environment: ["LANG": "C", "COLUMNS": "200"])
            #expect(told.code == 0 && told.stdout.contains("\n  \(short) Doomed: sam withdrew the request (stage → lost, loss_reason → price)\n"), "\(told.stdout)")
            #expect(await opps("approvals", "--home", max, "--json").json?.array?.isEmpty == true)
            // Said once: the next sync brings nothing.
            #expect(!(await opps(["sync", "--home", max], environment: ["LANG": "C"]).stdout.contains("withdrew")))
        }
    }

    /// A threshold request withdrawn: the hub puts the deal's approval state back, because of the
    /// withdrawal its approver is told of on a line of its own; the deal's line does not say it
    /// again (it was two lines for one act), and a change of another's on the deal still is.
    @Test func aWithdrawalIsOneLineForTheApproverNotTwo() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            let id = try await f.samsDeal("Threshold", initialising: url)
            let sam = f.home("sam"), max = f.home("max")
            #expect(await opps("set", id, "discount=18", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            let request = try #require(await opps("approvals", "--home", max, "--json").json?.array?.first?["id"]?.string)
            #expect(await opps("withdraw", request, "--home", sam).code == 0)
            #expect(await opps("sync", "--home", sam).code == 0)
            let told = await opps(["sync", "--home", max], environment: ["LANG": "C", "COLUMNS": "200"])
            let lines = told.stdout.split(separator: "\n").filter { $0.contains("Threshold") }
            #expect(lines.count == 1 && lines[0].hasSuffix("Threshold: sam withdrew the request (discount → 18%)"), "\(told.stdout)")
            // Withdrawn again after another change of sam's: the deal's line says that change only.
            #expect(await opps("set", id, "discount=19", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            let again = try #require(await opps("approvals", "--home", max, "--json").json?.array?.first?["id"]?.string)
            #expect(await opps("withdraw", again, "--home", sam).code == 0)
            #expect(await opps("set", id, "next_step=call Li", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", sam).code == 0)
            let both = await opps(["sync", "--home", max], environment: ["LANG": "C", "COLUMNS": "200"])
            let said = both.stdout.split(separator: "\n").filter { $0.contains("Threshold") }
            #expect(said.count == 2 && said.contains { $0.contains("next_step → call Li") && !$0.contains("approval") }, "\(both.stdout)")
        }
    }

    /// A request another approver decided first leaves the queue too: said to the one who had
    /// it waiting (ann, a manager who made the deal for sam, sees it as its creator; max as
    /// sam's manager).
    @Test func anApproverIsToldOfARequestAnotherApproverDecided() async throws {
        let f = try CommandFixture(extra: [HubUser(name: "ann", role: "manager")])
        try await f.serving { url in
            for u in ["ann", "sam", "max"] { #expect(await f.initReplica(u, url).code == 0) }
            let ann = f.home("ann"), sam = f.home("sam"), max = f.home("max")
            let id = try #require(await opps("new", "Doomed", "--account", "ACME", "--home", ann, "--json").json?["id"]?.string)
            #expect(await opps("set", id, "owner=sam", "--home", ann).code == 0)
            #expect(await opps("sync", "--home", ann).code == 0)
            #expect(await opps("sync", "--home", sam).code == 0)
            #expect(await opps("stage", id, "lost", "--reason", "price", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", sam).code == 0)
            for u in [ann, max] { #expect(await opps("sync", "--home", u).code == 0) }
            let request = try #require(await opps("approvals", "--home", ann, "--json").json?.array?.first?["id"]?.string)
            #expect(await opps("approvals", "--home", max, "--json").json?.array?.count == 1)
            #expect(await opps("reject", request, "--note", "keep trying", "--home", ann).code == 0)
            #expect(await opps("sync", "--home", ann).code == 0)
            let short = ShortID.shown(try #require(RecordID(parsing: request)))
            let told = await opps(["sync", "--home", max], environment: ["LANG": "C", "COLUMNS": "200"])
            #expect(
                told.code == 0 && unspaced(told.stdout).contains(unspaced("\(short) Doomed: ann rejected the request (stage → lost, loss_reason → price): keep trying")),
                "\(told.stdout)")
            #expect(await opps("approvals", "--home", max, "--json").json?.array?.isEmpty == true)
        }
    }
}
