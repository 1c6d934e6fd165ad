import Foundation
import OppsCommands
import OppsCore
import Testing

/// `opps lead list`: a marketer's leads with what each still needs before its hand-off, and the
/// ones handed off — whose they are only to a reader who may see their owner.
@Suite struct LeadListTests {
    @Test func aMarketerSeesWhatEachLeadNeedsAndWhatWasHandedOff() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            for u in ["mia", "max"] { #expect(await f.initReplica(u, url).code == 0) }
            let mia = f.home("mia")
            // A marketer's first line after init points at leads, not at a rep's day and board.
            let started = await opps("init", "--hub", url, "--token", f.tokens["mia"]!, "--home", f.root + "/mia-2")
            #expect(
                unspaced(started.stdout).hasSuffix(
                    unspaced("next: opps lead list (your leads and what each needs before its hand-off), opps lead add NAME --company COMPANY, opps web\n")),
                "\(started.stdout)")
            #expect(await opps("lead", "list", "--home", mia).stdout == "no leads here: add one with opps lead add NAME --company COMPANY\n")
            let ready = try #require(
                await opps("lead", "add", "Beta pilot", "--company", "Beta", "--contact", "Li Wei", "--source", "event", "--home", mia, "--json").json?["id"]?.string)
            let fresh = try #require(await opps("lead", "add", "Gamma rollout", "--company", "Gamma", "--home", mia, "--json").json?["id"]?.string)
            // Without --json: the lead, the account and contact its names made, and what its hand-off needs, as the line to type.
            let other = f.root + "/mia-2"
            let first = await opps("lead", "add", "Delta pilot", "--company", "Delta", "--home", other, "--locale", "en").stdout
            #expect(first.contains("\n  new account: Delta (") && !first.contains("new contact"), "\(first)")
            let said = await opps("lead", "add", "Delta phase 2", "--company", "Delta", "--contact", "Wang Fang", "--home", other, "--locale", "en").stdout
            let saidLines = said.split(separator: "\n").map(String.init)
            #expect(saidLines.count >= 3 && saidLines[1].hasPrefix("  new contact: Wang Fang (") && !said.contains("new account"), "Delta was found: \(said)")
            // The same lead added again (a list imported twice): refused, naming the one to work on.
            let twice = await opps("lead", "add", "DELTA  Phase-2", "--company", "Delta", "--home", other, "--locale", "en")
            #expect(
                twice.code == 1 && twice.stderr.contains(" \(saidLines[0].prefix(8)) \"Delta phase 2\" (lead, Delta): to work on it, give \(saidLines[0].prefix(8))\n")
                    && twice.stderr.hasSuffix("\nor make a second one on purpose: opps lead add \"DELTA  Phase-2\" --company \"Delta\" --allow-duplicate\n"),
                "\(twice.stderr)")
            #expect(await opps("lead", "add", "DELTA  Phase-2", "--company", "Delta", "--allow-duplicate", "--home", other).code == 0)
            // The hand-off's checklist as the line to type (continued under its command at 80 columns).
            let gate = String(said[(said.range(of: "to move on to")?.lowerBound ?? said.endIndex)...]).replacing(/\n +/, with: " ")
            #expect(
                gate.hasSuffix(" lead_source=web qualification=… check_need=yes check_budget=yes check_timing=yes check_contact=yes\n")
                    && gate.hasPrefix("to move on to qualified, fill in: opps set \(saidLines[0].prefix(8)) "), "\(said)")
            let checked = await opps(
                "set", ready, "qualification=budget approved", "check_need=true", "check_budget=true", "check_timing=true", "check_contact=true", "--home", mia)
            #expect(checked.code == 0, "\(checked.stderr)")
            let short = { (id: String) in ShortID.shown(RecordID(parsing: id)!) }

            let list = await opps(["lead", "list", "--home", mia], environment: ["LANG": "C", "COLUMNS": "80"])
            let lines = list.stdout.split(separator: "\n").map(String.init)
            #expect(lines.count == 6, "\(list.stdout)")
            #expect(lines[0].hasPrefix("ID ") && lines[0].hasSuffix("SOURCE      HAND-OFF"), "\(lines[0])")
            #expect(lines[1].hasPrefix(short(ready)) && lines[1].contains("Beta pilot") && lines[1].contains("event") && lines[1].hasSuffix("  ready"), "\(lines[1])")
            #expect(lines[2].hasPrefix(short(fresh)) && lines[2].hasSuffix("  needs 7"), "\(lines[2])")
            // What they need, once, wrapped at the terminal's 80 columns; then the commands.
            #expect(
                Array(lines[3...])
                    == [
                        "a lead's hand-off needs contact, lead_source, qualification, check_need,", "check_budget, check_timing, check_contact",
                        "  opps set ID FIELD=VALUE, then opps stage ID qualified",
                    ], "\(lines)")
            #expect(lines.allSatisfy { $0.displayWidth <= 80 }, "\(lines)")
            let json = await opps("lead", "list", "--home", mia, "--json").json?.array ?? []
            #expect(json.map { $0["missing"]?.array?.count } == [0, 7], "\(json)")
            #expect(json.last?["missing"]?.array?.contains { $0.string == "contact" } == true)
            // Her day says how many of her leads wait, and where to see them.
            let day = await opps(["today", "--home", mia], environment: ["LANG": "C"]).stdout
            #expect(day.hasSuffix("\n2 of your leads wait for their hand-off: opps lead list\n"), "\(day)")
            #expect(await opps("today", "--home", mia, "--locale", "zh-CN").stdout.contains("你的线索：2 条等待交接（opps lead list）"))
            let zh = await opps("lead", "list", "--home", mia, "--locale", "zh-CN").stdout
            #expect(
                zh.contains("  还缺 7 项\n") && zh.contains("  可以交接\n") && zh.contains("\n  opps set ID 字段=值，再 opps stage ID 已验证\n")
                    && zh.contains("交接前要填：联系人、线索来源、资质说明、需求确认、预算确认、时间确认、联系人确认"), "\(zh)")

            // Handed off: the hub assigns a rep. The marketer may not see the owner past the
            // hand-off, so her list says only that it was handed off; the manager's names the rep.
            #expect(await opps("stage", ready, "qualified", "--home", mia).code == 0)
            #expect(await opps("sync", "--home", mia).code == 0)
            #expect(await opps("sync", "--home", f.home("max")).code == 0)
            let after = await opps(["lead", "list", "--home", mia], environment: ["LANG": "C", "COLUMNS": "80"]).stdout
            let handed = after.split(separator: "\n").first { $0.hasPrefix(short(ready)) }.map(String.init) ?? ""
            #expect(handed.contains("qualified") && handed.hasSuffix("  handed off"), "\(after)")
            #expect(await opps(["today", "--home", mia], environment: ["LANG": "C"]).stdout.contains("\n1 of your leads waits for its hand-off: opps lead list\n"))
            let owner = try #require(await opps("show", ready, "--home", f.home("max"), "--json").json?["fields"]?["owner"]?.string)
            let managers = await opps(["lead", "list", "--home", f.home("max")], environment: ["LANG": "C", "COLUMNS": "80"]).stdout
            #expect(managers.contains("  to \(owner)\n"), "\(managers)")
        }
    }
}
