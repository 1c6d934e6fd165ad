import Foundation
import OppsCSV
import OppsCommands
import OppsCore
import OppsHub
import OppsReplica
import OppsStore
import OppsTestSupport
import Testing

/// Runs `opps` as `user` at device time `time` (the hub's clock is moved there too).
struct Script {
    let f: CommandFixture
    let clock: TestClock

    func run(_ user: String, _ time: String, _ args: String...) async -> Run {
        let ms = try! Timestamp(parsing: time).milliseconds
        clock.set(ms)
        return await DeviceClock.$fixed.withValue(ms) { await opps(args + ["--home", f.home(user)]) }
    }

    /// Every replica holds exactly what the hub says its user may see, field for field, and
    /// nothing waits to sync.
    func expectAgreement(_ users: [String]) throws {
        let engine = try HubEngine(store: try SQLiteHubStore(path: f.hub.configuration.databasePath), configuration: f.hub.configuration)
        for u in users {
            let replica = try Replica(home: f.home(u), clock: FixedClock(milliseconds: 0))
            #expect(try replica.store.outboxCount() == 0, "\(u) has unsynced writes")
            let user = try #require(try engine.store.user(named: u))
            func values(_ records: [Record]) -> [RecordID: [String: Value]] {
                Dictionary(uniqueKeysWithValues: records.map { r in (r.id, r.fields.mapValues(\.value).merging(["#entity": .text(r.entity)]) { a, _ in a }) })
            }
            let hub = values(try engine.visibleState(for: user))
            let held = values(try replica.store.allConfirmed(workspace: replica.workspace))
            #expect(Set(held.keys) == Set(hub.keys), "\(u): records differ")
            for (id, fields) in hub { #expect(held[id] == fields, "\(u): record \(id) differs") }
        }
    }
}

/// Issue 5, "Done when": marketing hands off three leads, two reps work offline, an expert adds
/// the solution, a manager approves a discount (a second manager's decision arrives later and is
/// refused) and overrides an amount; everyone syncs; every replica agrees with the hub, and the
/// board, funnel and reports show exactly the figures worked out by hand below.
@Suite struct ScriptedDayTests {
    @Test func aScriptedSalesDayEndsInAgreementWithExactReports() async throws {
        let clock = TestClock("2026-11-02T08:00:00Z")
        let f = try CommandFixture(clock: clock, extra: [HubUser(name: "ann", role: "manager")])
        // ann manages max, so she sees (and may decide) everything max does.
        _ = await oppsHub("user", "set", "max", "--manager", "ann", "--data", f.root + "/hub")
        let s = Script(f: f, clock: clock)
        let everyone = ["mia", "sam", "tom", "eve", "max", "ann"]
        try await f.serving { url in
            for u in everyone {
                let r = await s.run(u, "2026-11-02T08:00:00Z", "init", "--hub", url, "--token", f.tokens[u]!)
                #expect(r.code == 0, "\(u): \(r.stderr)")
            }
            // Marketing: three leads, the checklist, the hand-off (refused while incomplete).
            var leads = [String]()
            for (name, company) in [("Alpha deal", "Alpha"), ("Beta deal", "Beta"), ("Gamma deal", "Gamma")] {
                let r = await s.run(
                    "mia", "2026-11-02T09:00:00Z", "lead", "add", name, "--company", company, "--contact", "Buyer at \(company)", "--source", "web", "--json")
                leads.append(try #require(r.json?["id"]?.string, "\(r.stderr)"))
            }
            let (a, b, c) = (leads[0], leads[1], leads[2])
            #expect(
                await s.run(
                    "mia", "2026-11-02T09:00:00Z", "set", a, "qualification=needs a CRM", "territory=north",
                    "check_need=true", "check_budget=true", "check_timing=true"
                ).code == 0)
            let early = await s.run("mia", "2026-11-02T09:00:00Z", "stage", a, "qualified")
            #expect(early.code == 3)
            #expect(early.stderr.contains("check_contact"), "\(early.stderr)")
            #expect(await s.run("mia", "2026-11-02T09:30:00Z", "set", a, "check_contact=true").code == 0)
            for id in [b, c] {
                #expect(
                    await s.run(
                        "mia", "2026-11-02T09:30:00Z", "set", id, "qualification=interested", "territory=north", "check_need=true",
                        "check_budget=true", "check_timing=true", "check_contact=true"
                    ).code == 0)
            }
            for id in [a, b, c] { #expect(await s.run("mia", "2026-11-02T10:00:00Z", "stage", id, "qualified").code == 0) }
            #expect(await s.run("mia", "2026-11-02T10:05:00Z", "sync").code == 0)
            // The hub assigned them round-robin in the territory: a and c to sam, b to tom.
            #expect(await s.run("sam", "2026-11-02T10:30:00Z", "sync").code == 0)
            #expect(await s.run("tom", "2026-11-02T10:30:00Z", "sync").code == 0)
            #expect(Set(await s.run("sam", "2026-11-02T10:30:00Z", "list", "--mine", "--json").json?.array?.compactMap { $0["id"]?.string } ?? []) == [a, c])
            #expect(await s.run("tom", "2026-11-02T10:30:00Z", "list", "--mine", "--json").json?.array?.compactMap { $0["id"]?.string } == [b])

            // sam, offline: follows up a, accepts it, rejects c back to marketing, asks for eve.
            #expect(await s.run("sam", "2026-11-02T14:00:00Z", "log", a, "--kind", "call", "--note", "intro call").code == 0)
            #expect(await s.run("sam", "2026-11-03T09:00:00Z", "stage", a, "discovery").code == 0)
            #expect(await s.run("sam", "2026-11-03T12:00:00Z", "stage", c, "lead", "--reason", "no budget this year").code == 0)
            #expect(
                await s.run(
                    "sam", "2026-11-04T09:00:00Z", "set", a, "needs=CRM rollout", "decision_makers=CIO", "amount=50000.00",
                    "currency=CNY", "close_date=2026-12-15"
                ).code == 0)
            let teamAdd = await s.run("sam", "2026-11-04T09:00:00Z", "team", "add", a, "eve", "--role", "expert")
            #expect(teamAdd.code == 0)
            #expect(teamAdd.stdout.contains("requested"), "\(teamAdd.stdout)")
            #expect(await s.run("sam", "2026-11-04T09:05:00Z", "sync").code == 0)

            // tom, offline: visits b, accepts it, and asks for a discount above the threshold;
            // the deal's commercial fields lock on his laptop at once.
            #expect(await s.run("tom", "2026-11-04T10:00:00Z", "log", b, "--kind", "visit", "--place", "Beta HQ").code == 0)
            #expect(await s.run("tom", "2026-11-04T11:00:00Z", "stage", b, "discovery").code == 0)
            #expect(
                await s.run(
                    "tom", "2026-11-04T11:00:00Z", "set", b, "amount=200000.00", "currency=USD", "next_step=send quote",
                    "next_step_due=2026-11-10"
                ).code == 0)
            let discount = await s.run("tom", "2026-11-04T11:30:00Z", "set", b, "discount=15.00", "--json")
            #expect(discount.code == 0)
            let request = try #require(discount.json?["proposed"]?.array?.first?["request"]?.string, "\(discount.stdout)")
            #expect(await s.run("tom", "2026-11-04T11:30:00Z", "approvals", "--json").json?.array?.map { $0["state"]?.string } == ["requested"])
            let locked = await s.run("tom", "2026-11-04T11:31:00Z", "set", b, "amount=210000.00")
            #expect(locked.code == 3)
            #expect(locked.stderr.contains("approval-pending"), "\(locked.stderr)")
            // opps show says so beside each locked field (the amount), not beside the next step.
            let shown = await s.run("tom", "2026-11-04T11:31:00Z", "show", b)
            let shownRows = shown.stdout.split(separator: "\n")
            #expect(shownRows.contains { $0.contains("200,000.00") && $0.hasSuffix("(locked: approval pending)") }, "\(shown.stdout)")
            #expect(shownRows.contains { $0.contains("send quote") && !$0.contains("locked") }, "\(shown.stdout)")
            #expect(await s.run("tom", "2026-11-04T12:00:00Z", "sync").code == 0)

            // Two managers decide offline; max's decision reaches the hub first and stands.
            #expect(await s.run("max", "2026-11-04T13:00:00Z", "sync").code == 0)
            #expect(await s.run("ann", "2026-11-04T13:00:00Z", "sync").code == 0)
            let waiting = await s.run("max", "2026-11-04T13:00:00Z", "approvals", "--json").json?.array ?? []
            #expect(Set(waiting.compactMap { $0["kind"]?.string }) == ["discount", "team"])
            #expect(waiting.allSatisfy { $0["state"]?.string == "pending" })
            let teamRequest = try #require(waiting.first { $0["kind"]?.string == "team" }?["id"]?.string)
            // A team change says whose membership it asks for, in both languages.
            #expect(await s.run("max", "2026-11-04T13:00:00Z", "approvals").stdout.contains("eve joins the team (expert)"))
            #expect(await s.run("max", "2026-11-04T13:00:00Z", "approvals", "--locale", "zh-CN").stdout.contains("eve 加入团队（产品专家）"))
            #expect(waiting.contains { $0["id"]?.string == request })
            #expect(await s.run("ann", "2026-11-04T13:00:00Z", "approvals", "--json").json?.array?.count == 2)
            #expect(await s.run("sam", "2026-11-04T13:00:00Z", "approve", teamRequest).code == 3)  // a rep does not decide
            #expect(await s.run("max", "2026-11-04T14:00:00Z", "approve", teamRequest).code == 0)
            #expect(await s.run("max", "2026-11-04T14:00:00Z", "approve", request, "--note", "ok for Q4").code == 0)
            #expect(await s.run("ann", "2026-11-04T14:10:00Z", "reject", request, "--note", "too generous").code == 0)
            #expect(await s.run("max", "2026-11-04T15:00:00Z", "sync").code == 0)
            #expect(await s.run("ann", "2026-11-04T15:10:00Z", "sync").code == 0)
            let told = await s.run("ann", "2026-11-04T15:10:00Z", "conflicts", "--json").json?.array ?? []
            #expect(told.contains { $0["rule"]?.string == "already-decided" && $0["field"]?.string == "state" }, "\(told)")
            #expect(await s.run("tom", "2026-11-04T16:00:00Z", "sync").code == 0)
            let bNow = await s.run("tom", "2026-11-04T16:00:00Z", "show", b, "--json").json?["fields"]
            #expect(bNow?["discount"]?.string == "15.00")
            #expect(bNow?["approval_state"]?.string == "approved")
            let decided = await s.run("tom", "2026-11-04T16:00:00Z", "approvals", "--all", "--json").json?.array?.first
            #expect(decided?["state"]?.string == "approved")
            #expect(decided?["decided_by"]?.string == "max")

            // The expert joins a's team and writes the solution once a is in solution.
            #expect(await s.run("eve", "2026-11-05T08:00:00Z", "sync").code == 0)
            #expect(await s.run("eve", "2026-11-05T08:00:00Z", "list", "--json").json?.array?.compactMap { $0["id"]?.string } == [a])
            #expect(await s.run("sam", "2026-11-05T09:00:00Z", "stage", a, "solution").code == 0)
            #expect(await s.run("sam", "2026-11-05T09:05:00Z", "sync").code == 0)
            #expect(await s.run("sam", "2026-11-05T10:00:00Z", "log", a, "--kind", "meeting").code == 0)
            #expect(await s.run("eve", "2026-11-05T10:30:00Z", "sync").code == 0)
            #expect(await s.run("eve", "2026-11-06T15:00:00Z", "set", a, "solution=Cloud CRM", "tech_risk=low").code == 0)
            #expect(await s.run("eve", "2026-11-06T15:05:00Z", "sync").code == 0)

            // The manager overrides a's amount while sam changes it offline: sam is told.
            #expect(await s.run("sam", "2026-11-07T08:00:00Z", "set", a, "amount=55000.00").code == 0)
            #expect(await s.run("max", "2026-11-07T09:00:00Z", "sync").code == 0)
            #expect(await s.run("max", "2026-11-07T09:00:00Z", "set", a, "amount=60000.00").code == 0)
            #expect(await s.run("max", "2026-11-07T09:10:00Z", "sync").code == 0)
            #expect(await s.run("sam", "2026-11-07T10:00:00Z", "sync").code == 0)
            let lost = await s.run("sam", "2026-11-07T10:00:00Z", "conflicts", "--json").json?.array ?? []
            #expect(lost.contains { $0["field"]?.string == "amount" && $0["mine"]?.string == "55000.00" && $0["winner"]?.string == "60000.00" }, "\(lost)")

            // sam closes a.
            #expect(await s.run("sam", "2026-11-08T09:00:00Z", "set", a, "quote_terms=net 30").code == 0)
            #expect(await s.run("sam", "2026-11-08T09:00:00Z", "stage", a, "proposal").code == 0)
            #expect(await s.run("sam", "2026-11-10T09:00:00Z", "stage", a, "negotiation").code == 0)
            #expect(await s.run("sam", "2026-11-12T09:00:00Z", "stage", a, "won").code == 0)
            // A closed deal's stage is no longer the rep's: refused, then who moves it.
            let reopen = await s.run("sam", "2026-11-12T09:10:00Z", "stage", a, "lost", "--reason", "price")
            #expect(reopen.code == 3 && reopen.stderr.hasSuffix("\na deal in won is closed: only a manager moves it again (ask yours)\n"), "\(reopen.stderr)")
            #expect(await s.run("sam", "2026-11-12T09:30:00Z", "sync").code == 0)

            // Everyone syncs; then every replica agrees with the hub.
            for _ in 0..<2 { for u in everyone { #expect(await s.run(u, "2026-11-13T08:00:00Z", "sync").code == 0) } }
            try s.expectAgreement(everyone)
            // Marketing keeps read-only sight of what it handed off.
            #expect(await s.run("mia", "2026-11-13T08:00:00Z", "show", a, "--json").json?["fields"]?["stage"]?.string == "won")
            #expect(await s.run("mia", "2026-11-13T08:00:00Z", "set", a, "name=Alpha!").code == 3)

            // The board (max sees the whole team): c back in lead, b in discovery and overdue.
            let board = try #require(await s.run("max", "2026-11-13T08:00:00Z", "board", "--date", "2026-11-13", "--closed", "--json").json)
            let columns = Dictionary(uniqueKeysWithValues: (board["stages"]?.array ?? []).map { ($0["stage"]!.string!, $0) })
            #expect(columns["lead"]?["items"]?.array?.map { $0["id"]?.string } == [c])
            #expect(columns["qualified"]?["deals"]?.int == 0)
            #expect(columns["discovery"]?["items"]?.array?.map { $0["id"]?.string } == [b])
            #expect(columns["discovery"]?["items"]?.array?.first?["overdue"]?.bool == true)
            #expect(columns["discovery"]?["amounts"]?["USD"]?.string == "200000.00")
            #expect(columns["won"]?["items"]?.array?.map { $0["id"]?.string } == [a])
            #expect(columns["won"]?["amounts"]?["CNY"]?.string == "60000.00")
            let text = await s.run("max", "2026-11-13T08:00:00Z", "board", "--date", "2026-11-13")
            #expect(text.code == 0)
            #expect(text.stdout.split(separator: "\n").allSatisfy { $0.count <= 80 }, "\(text.stdout)")
            // Each card by the short id the other commands take: typed back, it is the deal. max's
            // board holds more than one owner's deals, so each shows its owner.
            let beta = try #require(text.stdout.split(separator: "\n").first { $0.hasPrefix("! ") && $0.contains(" Beta deal ") }, "\(text.stdout)")
            let betaID = String(beta.split(separator: " ")[1])
            #expect(beta.contains(" tom "), "\(beta)")
            #expect(await s.run("max", "2026-11-13T08:00:00Z", "show", betaID, "--json").json?["id"]?.string == b, "\(betaID)")
            // tom's own board is all his: no owner column.
            let toms = await s.run("tom", "2026-11-13T08:00:00Z", "board", "--date", "2026-11-13")
            #expect(toms.stdout.contains(" Beta deal ") && !toms.stdout.contains(" tom "), "\(toms.stdout)")
            #expect(!text.stdout.contains("Alpha deal"))  // closed stages only with --closed
            #expect(
                await s.run("max", "2026-11-13T08:00:00Z", "board", "--team", "eve", "--closed", "--json").json?["stages"]?.array?
                    .flatMap { $0["items"]?.array?.compactMap { $0["id"]?.string } ?? [] } == [a])
            let boardCSV = await s.run("max", "2026-11-13T08:00:00Z", "board", "--date", "2026-11-13", "--csv").stdout
            #expect(boardCSV.contains("discovery,\(b),Beta deal,tom,200000.00,USD,send quote,2026-11-10,yes"), "\(boardCSV)")
            #expect(await s.run("sam", "2026-11-13T08:00:00Z", "board", "--owner", "tom", "--json").json?["stages"]?.array?.allSatisfy { $0["deals"]?.int == 0 } == true)

            // The funnel: reached lead 3, qualified 3, discovery 2, solution..negotiation 1, won 1.
            let funnel = try #require(await s.run("max", "2026-11-13T08:00:00Z", "funnel", "--json").json)
            let rows = funnel["stages"]?.array ?? []
            #expect(rows.map { $0["reached"]?.int } == [3, 3, 2, 1, 1, 1, 1, 0])
            #expect(rows.map { $0["now"]?.int } == [1, 0, 1, 0, 0, 0, 1, 0])
            #expect(rows.map { $0["conversion_percent"]?.numberText } == [nil, "100.0", "66.7", "50.0", "100.0", "100.0", "100.0", nil])
            #expect(funnel["won"]?.int == 1 && funnel["lost"]?.int == 0)
            #expect(funnel["win_rate_percent"]?.numberText == "100.0")
            let period = try #require(await s.run("max", "2026-11-13T08:00:00Z", "funnel", "--from", "2026-11-03", "--json").json)
            #expect(period["stages"]?.array?.first?["reached"]?.int == 0)  // all three were created on 2 Nov

            // Time in stage, days: lead 1 h ×3; qualified 23 h, 49 h, 26 h; then a's 2, 3, 2, 2 days.
            let tis = await s.run("max", "2026-11-13T08:00:00Z", "report", "time-in-stage", "--json").json?.array ?? []
            let byStage = Dictionary(uniqueKeysWithValues: tis.map { ($0["stage"]!.string!, $0) })
            func figures(_ stage: String) -> [String?] {
                [byStage[stage]?["stays"]?.numberText, byStage[stage]?["average_days"]?.numberText, byStage[stage]?["median_days"]?.numberText]
            }
            #expect(figures("lead") == ["3", "0.04", "0.04"])
            #expect(figures("qualified") == ["3", "1.36", "1.08"])
            #expect(figures("discovery") == ["1", "2.00", "2.00"])
            #expect(figures("solution") == ["1", "3.00", "3.00"])
            #expect(figures("proposal") == ["1", "2.00", "2.00"])
            #expect(figures("negotiation") == ["1", "2.00", "2.00"])
            #expect(byStage["won"]?["stays"]?.int == 0)
            // The table reads the stays in days and hours; the figures above stay exact.
            let stays = await s.run("max", "2026-11-13T08:00:00Z", "report", "time-in-stage", "--locale", "en").stdout
            #expect(stays.split(separator: "\n").first { $0.hasPrefix("solution") }?.split(separator: " ").suffix(2) == ["3d", "3d"], "\(stays)")

            // Follow-up: a first followed up 4 h after the hand-off (2 activities), b 48 h (1), c never.
            let fu = await s.run("max", "2026-11-13T08:00:00Z", "report", "follow-up", "--json").json?.array ?? []
            func row(_ owner: String) -> [String?] {
                let r = fu.first { $0["owner"]?.string == owner }
                return ["handed_off", "followed_up", "first_activity_average_hours", "first_activity_median_hours", "follow_ups", "follow_ups_per_deal"]
                    .map { r?[$0]?.numberText }
            }
            #expect(row("sam") == ["2", "1", "4.00", "4.00", "2", "1.00"])
            #expect(row("tom") == ["1", "1", "48.00", "48.00", "1", "1.00"])
            #expect(row("all") == ["3", "2", "26.00", "26.00", "3", "1.00"])
            let csv = await s.run("max", "2026-11-13T08:00:00Z", "report", "follow-up", "--csv")
            #expect(csv.stdout.hasPrefix("owner,handed_off,followed_up,"))
            #expect(csv.stdout.contains("tom,1,1,48.00,48.00,1,1.00"))
            // The table a manager reads says how long it took, in days and hours; the figures above stay exact.
            let table = await s.run("max", "2026-11-13T08:00:00Z", "report", "follow-up", "--locale", "zh-CN").stdout
            #expect(table.contains("到首次跟进 平均 / 中位") && table.contains(" 4小时 / 4小时 ") && table.contains(" 2天 / 2天 ") && table.contains(" 1天2小时 / 1天2小时 "), "\(table)")
            let english = await s.run("max", "2026-11-13T08:00:00Z", "report", "follow-up", "--locale", "en").stdout
            #expect(english.contains(" 4h / 4h ") && english.contains(" 2d / 2d ") && english.contains(" 1d 2h / 1d 2h "), "\(english)")
            #expect(await s.run("max", "2026-11-13T08:00:00Z", "funnel", "--from", "2026-11-30", "--to", "2026-11-01").code == 64)
        }
    }
}

@Suite struct ApprovalFlowTests {
    /// Closing (leaving negotiation) with a final discount above the threshold: a request the manager rejects (the
    /// rep is told, the deal stays, the lock lifts), then asks again and it is approved (the hub
    /// moves the deal as the manager). A team member added by the manager, removed at the
    /// owner's request: the deal enters and leaves the expert's replica.
    @Test func rejectedThenApprovedStageMoveAndATeamMemberComingAndGoing() async throws {
        let clock = TestClock("2026-11-02T08:00:00Z")
        let f = try CommandFixture(clock: clock)
        let s = Script(f: f, clock: clock)
        try await f.serving { url in
            for u in ["sam", "max", "eve"] { #expect(await s.run(u, "2026-11-02T08:00:00Z", "init", "--hub", url, "--token", f.tokens[u]!).code == 0) }
            let d = try #require(
                await s.run(
                    "sam", "2026-11-02T09:00:00Z", "new", "Delta", "--account", "Delta", "--amount", "2000000.00",
                    "--currency", "CNY", "--close", "2026-12-31", "--json"
                ).json?["id"]?.string)
            #expect(
                await s.run(
                    "sam", "2026-11-02T09:00:00Z", "set", d, "needs=ERP", "decision_makers=CFO", "solution=On premise", "tech_risk=medium",
                    "quote_terms=net 60"
                ).code == 0)
            for stage in ["solution", "proposal", "negotiation"] { #expect(await s.run("sam", "2026-11-02T10:00:00Z", "stage", d, stage).code == 0) }
            // The manager grants a final discount above the threshold: closing now needs approval of the final terms.
            #expect(await s.run("sam", "2026-11-02T10:05:00Z", "sync").code == 0)
            #expect(await s.run("max", "2026-11-02T10:10:00Z", "sync").code == 0)
            #expect(await s.run("max", "2026-11-02T10:10:00Z", "set", d, "discount=15.00").code == 0)
            #expect(await s.run("max", "2026-11-02T10:15:00Z", "sync").code == 0)
            #expect(await s.run("sam", "2026-11-02T10:20:00Z", "sync").code == 0)
            let ask = await s.run("sam", "2026-11-02T11:00:00Z", "stage", d, "won")
            #expect(ask.code == 0)
            #expect(ask.stdout.contains("requested approval"), "\(ask.stdout)")
            #expect(await s.run("sam", "2026-11-02T11:00:00Z", "set", d, "amount=1900000.00").code == 3)  // locked while asked
            #expect(await s.run("sam", "2026-11-02T11:05:00Z", "sync").code == 0)
            #expect(await s.run("max", "2026-11-02T12:00:00Z", "sync").code == 0)
            let waiting = await s.run("max", "2026-11-02T12:00:00Z", "approvals", "--json").json?.array ?? []
            #expect(waiting.count == 1)
            #expect(waiting.first?["kind"]?.string == "discount")
            #expect(waiting.first?["value"]?.string == "won")
            let first = try #require(waiting.first?["id"]?.string)
            #expect(await s.run("max", "2026-11-02T12:00:00Z", "reject", first).code == 64)  // a reason is required
            #expect(await s.run("max", "2026-11-02T12:00:00Z", "reject", first, "--note", "revisit pricing").code == 0)
            #expect(await s.run("max", "2026-11-02T12:05:00Z", "sync").code == 0)
            #expect(await s.run("sam", "2026-11-02T13:00:00Z", "sync").code == 0)
            let after = await s.run("sam", "2026-11-02T13:00:00Z", "show", d, "--json").json?["fields"]
            #expect(after?["stage"]?.string == "negotiation")
            #expect(after?["approval_state"]?.string == "rejected")
            let told = await s.run("sam", "2026-11-02T13:00:00Z", "conflicts", "--json").json?.array ?? []
            #expect(told.contains { $0["rule"]?.string == "approval-rejected" && $0["field"]?.string == "stage" && $0["mine"]?.string == "won" }, "\(told)")
            let mine = await s.run("sam", "2026-11-02T13:00:00Z", "approvals", "--all", "--json").json?.array?.first
            #expect(mine?["state"]?.string == "rejected")
            #expect(mine?["note"]?.string == "revisit pricing")
            // The lock lifted: sam lowers the amount (still above the threshold) and asks again.
            #expect(await s.run("sam", "2026-11-02T13:00:00Z", "set", d, "amount=1800000.00").code == 0)
            #expect(await s.run("sam", "2026-11-02T13:00:00Z", "stage", d, "won").code == 0)
            #expect(await s.run("sam", "2026-11-02T13:05:00Z", "sync").code == 0)
            #expect(await s.run("max", "2026-11-02T14:00:00Z", "sync").code == 0)
            let second = try #require(await s.run("max", "2026-11-02T14:00:00Z", "approvals", "--json").json?.array?.first?["id"]?.string)
            #expect(second != first)
            #expect(await s.run("max", "2026-11-02T14:00:00Z", "approve", second).code == 0)
            #expect(await s.run("max", "2026-11-02T14:05:00Z", "sync").code == 0)
            #expect(await s.run("sam", "2026-11-02T15:00:00Z", "sync").code == 0)
            let moved = await s.run("sam", "2026-11-02T15:00:00Z", "show", d, "--json").json?["fields"]
            #expect(moved?["stage"]?.string == "won")
            #expect(moved?["amount"]?.string == "1800000.00")
            #expect(moved?["approval_state"]?.string == "approved")
            let log = moved?["stage_log"]?.string?.split(separator: "\n").map(String.init) ?? []
            let two = try Timestamp(parsing: "2026-11-02T14:00:00Z").milliseconds
            #expect(log.last == "\(two) won max", "\(log)")  // moved by max's decision, at its device time
            #expect(log.map { $0.split(separator: " ")[1] } == ["solution", "proposal", "negotiation", "won"])  // the creation holds discovery

            // The team: the manager adds eve at once; the owner's removal is a request.
            let add = await s.run("max", "2026-11-02T15:00:00Z", "team", "add", d, "eve", "--role", "expert")
            #expect(add.code == 0)
            #expect(add.stdout.contains("added eve"), "\(add.stdout)")
            #expect(await s.run("max", "2026-11-02T15:05:00Z", "sync").code == 0)
            #expect(await s.run("eve", "2026-11-02T15:10:00Z", "sync").code == 0)
            #expect(await s.run("eve", "2026-11-02T15:10:00Z", "list", "--json").json?.array?.count == 1)
            #expect(await s.run("sam", "2026-11-02T15:20:00Z", "sync").code == 0)
            #expect(await s.run("sam", "2026-11-02T15:20:00Z", "team", "add", d, "eve", "--role", "expert").code == 1)  // already on it
            let remove = await s.run("sam", "2026-11-02T15:20:00Z", "team", "remove", d, "eve")
            #expect(remove.code == 0)
            #expect(remove.stdout.contains("requested"), "\(remove.stdout)")
            #expect(await s.run("sam", "2026-11-02T15:25:00Z", "sync").code == 0)
            #expect(await s.run("max", "2026-11-02T16:00:00Z", "sync").code == 0)
            let removal = try #require(
                await s.run("max", "2026-11-02T16:00:00Z", "approvals", "--json").json?.array?.first { $0["kind"]?.string == "team" }?["id"]?.string)
            let listed = await s.run("max", "2026-11-02T16:00:00Z", "approvals").stdout
            #expect(unspaced(listed).contains("pendingteamDeltaeveleavestheteam"), "\(listed)")
            #expect(await s.run("max", "2026-11-02T16:00:00Z", "approve", removal).code == 0)
            #expect(await s.run("max", "2026-11-02T16:05:00Z", "sync").code == 0)
            #expect(await s.run("eve", "2026-11-02T16:10:00Z", "sync").code == 0)
            #expect(await s.run("eve", "2026-11-02T16:10:00Z", "list", "--json").json?.array?.count == 0)
            #expect(await s.run("sam", "2026-11-02T16:20:00Z", "sync").code == 0)
            #expect(await s.run("sam", "2026-11-02T16:20:00Z", "team", "list", d, "--json").json?.array?.first?["state"]?.string == "removed")
            // `opps team ID` lists it too (the rep's first try).
            #expect(await s.run("sam", "2026-11-02T16:20:00Z", "team", d, "--json").json?.array?.first?["state"]?.string == "removed")
            // As text: the deal by name, a member a line, then how to change it with the deal's id.
            let code = String(ShortID.code(try #require(RecordID(parsing: d))).prefix(ShortID.length))
            let team = await s.run("sam", "2026-11-02T16:20:00Z", "team", code).stdout.split(separator: "\n").map(String.init)
            #expect(team.count == 4 && team[0] == "team of Delta:" && team[1].hasSuffix("  eve  expert  removed"), "\(team)")
            #expect(team.suffix(2) == ["add: opps team add \(code) USER --role expert", "remove: opps team remove \(code) USER"], "\(team)")
            try s.expectAgreement(["sam", "max", "eve"])
            let other = try #require(await s.run("sam", "2026-11-02T16:20:00Z", "new", "Epsilon", "--account", "Delta", "--json").json?["id"]?.string)
            let otherCode = String(ShortID.code(try #require(RecordID(parsing: other))).prefix(ShortID.length))
            #expect(
                await s.run("sam", "2026-11-02T16:20:00Z", "team", otherCode).stdout
                    == "Epsilon has no team members\nadd one: opps team add \(otherCode) USER --role expert\n")
        }
    }
}
