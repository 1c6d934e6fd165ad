import Foundation
import OppsCore
import OppsReplica
import OppsStore
import Testing

/// Issue 15 item 4: `stage X lost --reason price` made two approval requests, and approving only
/// the stage closed the deal without its required loss reason. Now one act is one request
/// (DOMAIN.md: losing a deal is one request carrying its loss reason; approving it sets both), and
/// an approved stage move still passes the gates as the approver's own move would.
@Suite struct ApprovalGateTests {
    @Test func losingADealIsOneRequestAndApprovingItSetsBoth() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            let sam = f.home("sam"), max = f.home("max")
            let (id, _) = try await f.aLossWaitingForMax(initialising: url)
            // What the request asks for: in a Chinese reader's words (fields by label, values as
            // they read), the request's own text in English.
            let zh = await opps("approvals", "--home", max, "--locale", "zh-CN").stdout
            #expect(zh.contains("阶段 → 输单，输单原因 → 价格") && !zh.contains("loss_reason"), "\(zh)")
            #expect(await opps("approvals", "--home", max).stdout.contains("stage → lost, loss_reason → price"))
            // The deal's timeline says it alike.
            #expect(unspaced(await opps("show", id, "--home", max, "--locale", "zh-CN").stdout).contains(unspaced("（阶段 → 输单，输单原因 → 价格）：待审批")))
            #expect(await opps("show", id, "--home", max).unwrapped.contains("for stage → lost, loss_reason → price: pending"))
            // The request itself reads as a reader reads a record: its target by name, its field
            // by label, its values as the field shows them (not an id, names and canonical text).
            let request = try #require(await opps("approvals", "--home", max, "--json").json?.array?.first?["id"]?.string)
            let shownRequest = await opps("show", request, "--home", max, "--locale", "zh-CN").stdout
            for line in [
                "  申请内容         阶段 → 输单，输单原因 → 价格", "  字段             阶段", "  申请值           输单", "  一并申请         输单原因 → 价格",
                "  申请人           sam（",
            ] {
                #expect(shownRequest.contains(line), "\(line): \(shownRequest)")
            }
            // Its target is the deal the first line names: not said twice.
            #expect(shownRequest.contains("  商机             Doomed（") && !shownRequest.contains("  对象  "), "\(shownRequest)")
            // The approver's next step, with an id to type back as printed.
            let hint = try #require(zh.split(separator: "\n").last.map(String.init))
            #expect(hint.hasPrefix("批准：opps approve ") && hint.hasSuffix(" --note 原因"), "\(zh)")
            let typed = String(hint.dropFirst("批准：opps approve ".count).prefix { $0 != "；" })
            #expect(typed.count == ShortID.length, "the short id, as opps list prints ids: \(typed)")
            #expect(await opps("approvals", "--home", max).stdout.hasSuffix("approve: opps approve \(typed); reject: opps reject \(typed) --note WHY\n"))
            // Deciding says what was decided in the same words.
            let approved = await opps("approve", typed, "--home", max, "--locale", "zh-CN")
            #expect(approved.code == 0 && approved.stdout == "已批准 \(typed)：阶段 → 输单，输单原因 → 价格（同步后在服务器生效）\n", "\(approved.stdout)")
            // Nothing waits now: the list says where the decided one is.
            #expect(
                await opps(["approvals", "--home", max], environment: ["LANG": "C"]).stdout
                    == "nothing waits for your decision; 1 decided or withdrawn: opps approvals --all\n")
            #expect(await opps("sync", "--home", max).code == 0)
            #expect(await opps("sync", "--home", sam).code == 0)
            let deal = await opps("show", id, "--home", sam, "--json").json?["fields"]
            #expect(deal?["stage"]?.string == "lost")
            #expect(deal?["loss_reason"]?.string == "price")
        }
    }

    @Test func rejectingItReturnsBothValuesAndALossWithoutAReasonIsNeverApplied() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            let sam = f.home("sam"), max = f.home("max")
            #expect(await f.initReplica("sam", url).code == 0)
            #expect(await f.initReplica("max", url).code == 0)
            let a = try #require(await opps("new", "Rejected loss", "--account", "ACME", "--home", sam, "--json").json?["id"]?.string)
            let b = try #require(await opps("new", "No reason", "--account", "ACME", "--home", sam, "--json").json?["id"]?.string)
            #expect(await opps("stage", a, "lost", "--reason", "timing", "--home", sam).code == 0)
            // opps refuses to ask without the reason, and says how to ask; nothing is queued.
            let pending = await opps("status", "--home", sam, "--json").json?["pending"]?.int
            let unasked = await opps("stage", b, "lost", "--home", sam)
            #expect(unasked.code == 3 && unasked.stderr.contains("loss_reason"), "\(unasked.stderr)")
            // The line names the deal by its short id, as the user types it back.
            let bCode = String(ShortID.code(try #require(RecordID(parsing: b))).prefix(ShortID.length))
            #expect(unasked.stderr.hasSuffix("say why: opps stage \(bCode) lost --reason price\n"), "\(unasked.stderr)")
            let zh = await opps("stage", b, "输单", "--home", sam, "--locale", "zh-CN").stderr
            #expect(zh == "opps: 被拒绝：阶段 — 还缺少 输单原因（规则 stage-gate）\n写明原因：opps stage \(bCode) 输单 --reason 价格\n", "\(zh)")
            #expect(await opps("status", "--home", sam, "--json").json?["pending"]?.int == pending)
            // A client that asks anyway (an older opps, or one of its own making): the request as
            // opps made it before, with no reason carried.
            try f.askDirectly("sam", deal: b, kind: "loss", field: "stage", value: "lost")
            #expect(await opps("sync", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            let requests = await opps("approvals", "--home", max, "--json").json?.array ?? []
            #expect(requests.count == 2)
            let forA = try #require(requests.first { $0["requested"]?.string?.contains("timing") == true }?["id"]?.string)
            let forB = try #require(requests.first { $0["requested"]?.string == "stage → lost" }?["id"]?.string)
            #expect(await opps("reject", forA, "--note", "keep trying", "--home", max).code == 0)
            #expect(await opps("approve", forB, "--home", max).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            // The sync that brings the rejection back says who rejected it and why, once for
            // the request (its two fields are two conflicts).
            let told = await opps(["sync", "--home", sam], environment: ["LANG": "C"])
            #expect(told.code == 0 && told.stdout.components(separatedBy: "max rejected this request: keep trying").count == 2, "\(told.stdout)")
            // Rejected: the deal stays, and sam gets both values back as conflicts.
            #expect(await opps("show", a, "--home", sam, "--json").json?["fields"]?["stage"]?.string == "discovery")
            let mine = await opps("conflicts", "--home", sam, "--json").json?.array ?? []
            let back = mine.filter { $0["rule"]?.string == "approval-rejected" && $0["record"]?.string == a }.compactMap { $0["field"]?.string }
            #expect(Set(back) == ["stage", "loss_reason"], "\(mine)")
            // Each says who rejected it and why, as the approver wrote it (not only "rejected").
            let said = await opps(["conflicts", "--home", sam], environment: ["LANG": "C"]).stdout
            #expect(unspaced(said).contains(unspaced("rejected (max rejected this request: keep trying)")), "\(said)")
            let zhSaid = await opps("conflicts", "--home", sam, "--locale", "zh-CN").stdout
            #expect(unspaced(zhSaid).contains(unspaced("被拒绝（max 驳回了这个申请：keep trying）")), "\(zhSaid)")
            // Approved without a reason: not applied, the deal stays open, the note says why.
            #expect(await opps("show", b, "--home", max, "--json").json?["fields"]?["stage"]?.string == "discovery")
            let note = await opps("show", forB, "--home", max, "--json").json?["fields"]
            #expect(note?["state"]?.string == "rejected")
            #expect(note?["note"]?.string?.contains("loss_reason") == true)
            // The hub's note, in a Chinese reader's words where the deal's timeline shows it.
            let timeline = await opps("show", b, "--home", max, "--locale", "zh-CN").stdout
            #expect(unspaced(timeline).contains(unspaced("未执行：进入「输单」需要：「输单原因」")), "\(timeline)")
        }
    }
}
