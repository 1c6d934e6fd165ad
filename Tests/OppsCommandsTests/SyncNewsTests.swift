import Foundation
import OppsCore
import Testing

/// After a sync, what others changed on the deals here: a line a deal, the fields' new values as
/// they read and who changed them — not only "3 changes from others".
@Suite struct SyncNewsTests {
    @Test func aSyncSaysWhatOthersChangedOnTheDeals() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            for u in ["sam", "max"] { #expect(await f.initReplica(u, url).code == 0) }
            let sam = f.home("sam"), max = f.home("max")
            var ids: [String] = []
            for n in 1...7 {
                ids.append(try #require(await opps("new", "Deal \(n)", "--account", "ACME", "--home", sam, "--json").json?["id"]?.string))
            }
            #expect(await opps("sync", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            let code = ShortID.shown(try #require(RecordID(parsing: ids[0])))
            // max changes one deal twice (the line says where it ended) and sam changes one himself.
            #expect(await opps("set", ids[0], "next_step=call the CFO", "probability=40", "--home", max).code == 0)
            #expect(await opps("set", ids[0], "probability=45", "--home", max).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            let said = await opps(["sync", "--home", sam], environment: ["LANG": "C", "COLUMNS": "80"])
            let lines = said.stdout.split(separator: "\n").map(String.init)
            #expect(lines.count == 2 && lines[1] == "  \(code) Deal 1: next_step → call the CFO; probability → 45% (max)", "\(said.stdout)")
            // The code it prints is one opps takes.
            #expect(await opps("history", code, "--home", sam).stdout.contains("from the hub"))
            // Nothing new: nothing listed. More than five deals: five, then how many more.
            #expect(await opps(["sync", "--home", sam], environment: ["LANG": "C"]).stdout == "nothing to push; nothing new from others\n")
            // A rep's own stage move comes back with the hub's line in the stage log: not news.
            #expect(await opps("set", ids[4], "needs=ERP", "decision_makers=CFO", "amount=1000", "close_date=2027-03-01", "--home", sam).code == 0)
            #expect(await opps("stage", ids[4], "solution", "--home", sam).code == 0)
            let moved = await opps(["sync", "--home", sam], environment: ["LANG": "C"]).stdout
            #expect(moved.hasSuffix("; nothing new from others\n"), "\(moved)")
            #expect(await opps(["sync", "--home", sam], environment: ["LANG": "C"]).stdout == "nothing to push; nothing new from others\n")
            // Sam's own write from his second laptop is not another's: only max's deal is listed,
            // though sam's came first.
            let sam2 = f.home("sam-desk")
            #expect(await opps("init", "--hub", url, "--token", f.tokens["sam"]!, "--home", sam2).code == 0)
            #expect(await opps("set", ids[2], "next_step=from my desk", "--home", sam2).code == 0)
            #expect(await opps("sync", "--home", sam2).code == 0)
            #expect(await opps("set", ids[3], "next_step=from max", "--home", max).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            let own = await opps(["sync", "--home", sam], environment: ["LANG": "C", "COLUMNS": "80"]).stdout.split(separator: "\n").map(String.init)
            let code3 = ShortID.shown(try #require(RecordID(parsing: ids[3])))
            #expect(own.count == 2 && own[1] == "  \(code3) Deal 4: next_step → from max (max)", "\(own)")
            for id in ids { #expect(await opps("set", id, "next_step=review", "--home", max).code == 0) }
            #expect(await opps("sync", "--home", max).code == 0)
            let many = await opps(["sync", "--home", sam], environment: ["LANG": "zh_CN.UTF-8"]).stdout.split(separator: "\n").map(String.init)
            #expect(many.count == 7 && many[1].hasSuffix("：下一步 → review（max）"), "\(many)")
            #expect(many[6] == "  …还有 2 项（opps history 编号 可看每个）", "\(many)")
            // A deal another made comes whole, with no trail: said as new, with who made it.
            #expect(await opps("sync", "--home", max).code == 0)
            #expect(await opps("new", "Sam's new one", "--account", "ACME", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", sam).code == 0)
            let news = await opps(["sync", "--home", max], environment: ["LANG": "C", "COLUMNS": "80"]).stdout.split(separator: "\n").map(String.init)
            #expect(news.count == 2 && news[1].hasSuffix(" new opportunity: Sam's new one (sam)"), "\(news)")
            let newCode = String(news.last?.dropFirst(2).prefix(8) ?? "")
            #expect(await opps("show", newCode, "--home", max).stdout.contains("Sam's new one"), "the code it prints is one opps takes")
            // An activity logged on a deal: said on its deal's line, with what was logged.
            #expect(await opps("log", ids[0], "visit", "met the CFO", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", sam).code == 0)
            let logged = await opps(["sync", "--home", max], environment: ["LANG": "C", "COLUMNS": "80"]).stdout.split(separator: "\n").map(String.init)
            #expect(logged.count == 2 && logged[1] == "  \(code) Deal 1: new activity \"met the CFO\" (sam)", "\(logged)")
            // A deal an import made (no --as) is the hub's, in the reader's words.
            let csv = f.root + "/imported.csv"
            try "name,account,stage,owner\nImported pilot,ACME,discovery,sam\n".write(toFile: csv, atomically: true, encoding: .utf8)
            #expect(await oppsHub("import", csv, "--type", "opportunity", "--data", f.root + "/hub").code == 0)
            let imported = await opps(["sync", "--home", sam], environment: ["LANG": "zh_CN.UTF-8"]).stdout.split(separator: "\n").map(String.init)
            #expect(imported.count == 2 && imported[1].hasSuffix(" 新商机「Imported pilot」（服务器，负责人是你）"), "\(imported)")
            // --json keeps to its one object.
            #expect(await opps("set", ids[1], "next_step=again", "--home", max).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            #expect(await opps("sync", "--home", sam, "--json").stdout.split(separator: "\n").count == 1)
        }
    }

    /// A write of another's that reached the hub first and lost to this rep's (made at the same
    /// time, with less say) is not news of a change: the deal reads as she wrote it. She is told
    /// whose write did not hold, whichever reached the hub first.
    @Test func aWriteThatLostToMineIsNotSaidAsAChange() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            let id = try await f.samsDeal("Deal", initialising: url)
            let sam = f.home("sam"), max = f.home("max")
            #expect(await opps("sync", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            // max's reaches the hub first, then sam's, the owner's, wins.
            #expect(await opps("set", id, "next_step=max's plan", "--home", max).code == 0)
            #expect(await opps("set", id, "next_step=sam's plan", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            let first = await opps(["sync", "--home", sam], environment: ["LANG": "C", "COLUMNS": "200"]).stdout
            #expect(
                first == "pushed changes to 1 record, all applied; nothing new from others\n"
                    + "1 write max made at the same time as yours did not hold, yours stands: see opps conflicts\n", "\(first)")
            #expect(await opps("show", id, "--home", sam).stdout.contains("sam's plan"))
            let told = await opps(["sync", "--home", max], environment: ["LANG": "C"]).stdout
            #expect(told.contains("1 write of yours did not hold"), "\(told)")
            // sam's reaches it first: max's is refused at once, and sam hears of it on her next sync.
            #expect(await opps("set", id, "next_step=sam again", "--home", sam).code == 0)
            #expect(await opps("set", id, "next_step=max again", "--home", max).code == 0)
            #expect(await opps("sync", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            let second = await opps(["sync", "--home", sam], environment: ["LANG": "zh_CN.UTF-8"]).stdout
            #expect(second == "没有待推送的修改；别人没有新的修改\nmax 同时修改的 1 项未被采用，你的值保留：查看 opps conflicts\n", "\(second)")
            #expect(await opps("sync", "--home", sam, "--json").json?["held_over"]?.int == 0)
        }
    }

    /// A lead handed off comes to the rep it is assigned to whole: her sync says it is hers, the
    /// deal before the company and the contact made with it.
    @Test func aLeadHandedOffIsSaidAsHers() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            for u in ["mia", "sam", "tom", "max"] { #expect(await f.initReplica(u, url).code == 0) }
            let mia = f.home("mia")
            let lead = try #require(
                await opps("lead", "add", "Beta pilot", "--company", "Beta", "--contact", "Li Wei", "--source", "event", "--home", mia, "--json").json?["id"]?
                    .string)
            let checked = await opps(
                "set", lead, "qualification=budget approved", "check_need=true", "check_budget=true", "check_timing=true", "check_contact=true", "--home", mia)
            #expect(checked.code == 0, "\(checked.stderr)")
            #expect(await opps("stage", lead, "qualified", "--home", mia).code == 0)
            #expect(await opps("sync", "--home", mia).code == 0)
            #expect(await opps("sync", "--home", f.home("max")).code == 0)
            let owner = try #require(await opps("show", lead, "--home", f.home("max"), "--json").json?["fields"]?["owner"]?.string)
            #expect(["sam", "tom"].contains(owner))
            let code = ShortID.shown(try #require(RecordID(parsing: lead)))
            let said = await opps(["sync", "--home", f.home(owner)], environment: ["LANG": "C", "COLUMNS": "80"]).stdout.split(separator: "\n").map(String.init)
            #expect(said.count == 4 && said[1] == "  \(code) new opportunity: Beta pilot (mia; yours)", "\(said)")
            #expect(said[2...].allSatisfy { $0.hasSuffix(" (mia)") } && said.contains { $0.hasSuffix(" new account: Beta (mia)") }, "\(said)")
            let other = owner == "sam" ? "tom" : "sam"
            let othersSync = await opps(["sync", "--home", f.home(other), "--locale", "zh-CN"], environment: ["LANG": "zh_CN.UTF-8"])
            let zh = othersSync.stdout
            #expect(othersSync.code == 0 && zh.hasPrefix("没有待推送的修改；") && !zh.contains("Beta pilot"), "not \(other)'s to see: \(zh)")
        }
    }

    /// What the hub writes because of one's own write — a request made pending, an approval's
    /// values, who decided — follows that write: not news from others to the one who wrote it,
    /// and said as such in the record's trail. To everyone else it is news as before.
    @Test func whatTheHubWritesAfterMyWriteIsNotOthersNews() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            for u in ["sam", "max"] { #expect(await f.initReplica(u, url).code == 0) }
            let sam = f.home("sam"), max = f.home("max")
            let id = try #require(await opps("new", "Doomed", "--account", "ACME", "--home", sam, "--json").json?["id"]?.string)
            #expect(await opps("sync", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            #expect(await opps("stage", id, "lost", "--reason", "price", "--home", sam).code == 0)
            // The requester: the hub marks the request pending (and the deal) right after it.
            let asked = await opps("sync", "--home", sam, "--json")
            #expect(asked.code == 0 && asked.json?["pushed"]?.int ?? 0 > 0, "\(asked.stdout)")
            #expect(asked.json?["from_others"]?.int == 0, "\(asked.stdout)")
            let request = try #require(await opps("approvals", "--home", sam, "--json").json?.array?.first?["id"]?.string)
            // One's own requests do not say who asked.
            let ownList = await opps(["approvals", "--home", sam], environment: ["LANG": "C"]).stdout
            #expect(ownList.contains("stage → lost, loss_reason → price") && !ownList.contains("by sam"), "\(ownList)")
            let code = ShortID.shown(try #require(RecordID(parsing: id)))
            #expect(await opps("sync", "--home", max).code == 0)
            // The approver: the hub writes the approved values as hers, and who decided.
            #expect(await opps("approve", request, "--home", max).code == 0)
            let approved = await opps(["sync", "--home", max], environment: ["LANG": "C", "COLUMNS": "80"])
            #expect(approved.code == 0 && approved.stdout.hasSuffix("; nothing new from others\n"), "\(approved.stdout)")
            #expect(await opps("show", id, "--home", max, "--json").json?["fields"]?["stage"]?.string == "lost")
            let trail = await opps(["history", id, "--home", max], environment: ["LANG": "C"]).stdout
            #expect(unspaced(trail).contains(unspaced("max stage: discovery → lost [from the hub, after your change]")), "\(trail)")
            let zh = await opps("history", id, "--home", max, "--locale", "zh-CN").stdout
            #expect(unspaced(zh).contains(unspaced("max 阶段：需求挖掘 → 输单【来自服务器，随你的修改】")), "\(zh)")
            // The requester reads it as the approver's doing.
            let told = await opps(["sync", "--home", sam], environment: ["LANG": "C", "COLUMNS": "80"])
            #expect(told.code == 0 && told.stdout.contains("\n  \(code) Doomed: ") && told.stdout.contains("stage → lost"), "\(told.stdout)")
            #expect(!told.stdout.contains("nothing new from others"), "\(told.stdout)")
            // A request that locks its deal: the approver reads the request and the deal's
            // approval state it set as one line, in both languages.
            let other = try #require(await opps("new", "Locked", "--account", "ACME", "--home", sam, "--json").json?["id"]?.string)
            #expect(await opps("sync", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            let requested = await opps(["set", other, "discount=20", "--home", sam], environment: ["LANG": "C"])
            #expect(requested.code == 0 && requested.stdout.contains(": discount above 10% needs approval — see: opps approvals"), "\(requested.stdout)")
            // The request's fields are opps's to write when it asks: `opps show` offers none to fill
            // (it offered `with`, which this request leaves empty).
            let requestCode = String(requested.stdout.dropFirst("requested approval ".count).prefix(ShortID.length))
            let shownRequest = await opps(["show", requestCode, "--home", sam], environment: ["LANG": "C"])
            #expect(shownRequest.code == 0 && shownRequest.stdout.contains("discount → 20%") && !shownRequest.stdout.contains("to fill"), "\(shownRequest.stdout)")
            // Who asked, and when (a request has no timeline of its own to say it).
            #expect(shownRequest.stdout.contains("\n  asked by         sam, 20"), "\(shownRequest.stdout)")
            #expect(await opps("sync", "--home", sam, "--json").json?["from_others"]?.int == 0)
            // The field is locked while the request waits: the refusal says which request.
            let locked = await opps(["set", other, "discount=15", "--home", sam], environment: ["LANG": "C"])
            #expect(
                locked.code == 3 && locked.stderr.contains("\nit waits for your request \(requestCode) (discount → 20%): ")
                    && locked.stderr.hasSuffix("change it once that is decided, or take the request back: opps withdraw \(requestCode)\n"), "\(locked.stderr)")
            let otherCode = ShortID.shown(try #require(RecordID(parsing: other)))
            let news = await opps(["sync", "--home", max], environment: ["LANG": "C", "COLUMNS": "100"])
            let lines = news.stdout.split(separator: "\n").map(String.init)
            // One line (wrapped), the request by what it asks.
            #expect(news.code == 0 && lines.filter { !$0.hasPrefix(" ") }.count == 1 && lines.filter { $0.hasPrefix("  \(otherCode) ") }.count == 1, "\(news.stdout)")
            #expect(
                unspaced(lines.dropFirst().joined()) == unspaced("\(otherCode) Locked: approval_state → pending; new approval \"discount → 20%\" (sam, the hub)"),
                "\(news.stdout)")
            // What it asks for reads as the field shows its value, in English too.
            let waiting = await opps(["approvals", "--home", max], environment: ["LANG": "C"]).stdout
            #expect(waiting.contains(" discount → 20%  by sam"), "\(waiting)")
            // Decided while the requester wrote on the same deal offline: what the hub wrote for
            // the decision came before the requester's write, and is news to him.
            let second = try #require(await opps("approvals", "--home", max, "--json").json?.array?.first?["id"]?.string)
            #expect(await opps("approve", second, "--home", max).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            #expect(await opps("set", other, "next_step=send the contract", "--home", sam).code == 0)
            let decided = await opps(["sync", "--home", sam], environment: ["LANG": "C", "COLUMNS": "100"]).stdout
            #expect(unspaced(decided).contains(unspaced("Locked: discount → 20%; approval_state → approved (max, the hub)")), "\(decided)")
        }
    }
}
