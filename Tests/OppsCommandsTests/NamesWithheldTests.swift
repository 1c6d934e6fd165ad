import Foundation
import OppsCore
import OppsHub
import OppsReplica
import OppsStore
import OppsTestSupport
import Testing

@testable import OppsCommands
@testable import OppsWeb

/// A name says who owns or works a deal; a reader who may not read its owner (DOMAIN.md: owner
/// and team membership are `—` to marketing, experts and success) does not get the names in its
/// trail either (visibility.md §6). Before, mia's `opps show` of a lead she handed off named the
/// rep who accepted it on every line of its timeline, and eve's named the deal's rep on each field.
@Suite struct NamesWithheldTests {
    /// Every name a replica holds: creations', fields', the stage log's users, and the values of
    /// user fields (a task's assignee, a membership's member, a request's approver) but those the
    /// replica's own user wrote (a task she gave someone reads as she wrote it).
    static func names(in home: String) throws -> Set<String> {
        let store = try ReplicaStore(path: Replica.databasePath(home: home))
        let me = try store.meta("user")
        var out = Set<String>()
        for r in try store.allConfirmed(workspace: .default) {
            out.insert(r.created.author)
            for s in r.fields.values { out.insert(s.author) }
            for step in StageLog.steps(r["stage_log"]) { out.insert(step.by) }
            for f in Workspace.default.entity(r.entity)?.fields ?? [] where f.type == .user {
                if let s = r.fields[f.name], s.author != me, case let .text(name) = s.value { out.insert(name) }
            }
        }
        return out
    }

    @Test func aMarketerAndAnExpertReadWhatHappenedNotWhoDidIt() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            for u in ["mia", "max", "sam", "tom", "eve"] { #expect(await f.initReplica(u, url).code == 0) }
            let (mia, max, eve) = (f.home("mia"), f.home("max"), f.home("eve"))
            let lead = try #require(
                await opps("lead", "add", "Beta pilot", "--company", "Beta", "--contact", "Li Wei", "--source", "event", "--home", mia, "--json").json?["id"]?
                    .string)
            #expect(
                await opps("set", lead, "qualification=budget approved", "check_need=true", "check_budget=true", "check_timing=true", "check_contact=true", "--home", mia)
                    .code == 0)
            #expect(await opps("stage", lead, "qualified", "--home", mia).code == 0)
            #expect(await opps("sync", "--home", mia).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            let rep = try #require(await opps("show", lead, "--home", max, "--json").json?["fields"]?["owner"]?.string)
            let home = f.home(rep)
            // The rep accepts it, names it his way and brings the expert in (through the manager).
            #expect(await opps("sync", "--home", home).code == 0)
            #expect(await opps("stage", lead, "discovery", "--home", home).code == 0)
            #expect(await opps("set", lead, "needs=CRM for 40 reps", "decision_makers=CFO", "amount=1000.00", "close_date=2027-03-31", "--home", home).code == 0)
            #expect(await opps("sync", "--home", home).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            #expect(await opps("team", "add", lead, "eve", "--role", "expert", "--home", max).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            let toSolution = await opps("stage", lead, "solution", "--home", home)
            #expect(toSolution.code == 0, "\(toSolution.stderr)")
            #expect(await opps("sync", "--home", home).code == 0)
            #expect(await opps("sync", "--home", mia).code == 0)
            #expect(await opps("sync", "--home", eve).code == 0)

            // mia reads that it moved on, and when; not who moved it: her whole replica names no
            // one but her and the hub.
            let miaShow = await opps("show", lead, "--home", mia, "--locale", "zh-CN").stdout
            #expect(miaShow.contains("需求挖掘") && miaShow.contains("有人"), "\(miaShow)")
            #expect(!miaShow.mentions(rep) && !miaShow.mentions("max"), "\(miaShow)")
            let miaEnglish = await opps(["show", lead, "--home", mia], environment: ["LANG": "C"]).stdout
            #expect(miaEnglish.contains("someone") && !miaEnglish.mentions(rep), "\(miaEnglish)")
            let miaHistory = await opps(["history", lead, "--home", mia], environment: ["LANG": "C"]).stdout
            #expect(!miaHistory.mentions(rep) && miaHistory.contains("someone"), "\(miaHistory)")
            let miaNames = try Self.names(in: mia)
            #expect(miaNames.isSubset(of: ["mia", "hub", ""]), "\(miaNames)")
            let log = try #require(await opps("show", lead, "--home", mia, "--json").json?["fields"]?["stage_log"]?.string)
            #expect(StageLog.steps(.text(log)).map(\.to) == ["qualified", "discovery", "solution"], "\(log)")
            #expect(StageLog.steps(.text(log)).map(\.by) == ["mia", "", ""], "\(log)")
            let web = try WebApp(home: mia, clock: OppsHub.SystemClock(), transport: nil)
            let page = try await web.dealHTML(try #require(RecordID(parsing: lead)))
            // (The page's list of users' names, for a user field, is every name: visibility.md §5.)
            let timeline = try #require(page.range(of: "<ol class=\"timeline\">").map { page[$0.lowerBound...] }?.components(separatedBy: "</ol>").first)
            #expect(timeline.contains("<b>someone</b>") && !timeline.mentions(rep), "\(timeline)")
            // Nor is she offered a team she may read nothing of, or a request she may not make.
            #expect(!page.contains("<h2>Team</h2>") && !page.contains("Request a team member"), "\(page)")
            // Nor a stage she may no longer move: she reads it.
            #expect(!page.contains("/stage\" class=\"stage\""), "\(page)")
            #expect(page.contains("<p class=\"stage\">stage <b>solution</b></p>"), "\(page)")
            // Her board's card of it can be neither dragged nor moved by a form.
            let board = try await web.boardHTML()
            #expect(board.contains("<a class=\"name\" href=\"/deal/") && board.contains("Beta pilot"), "\(board)")
            #expect(!board.contains("class=\"move\"") && !board.contains("draggable=\"true\""), "\(board)")
            let repsWeb = try WebApp(home: home, clock: OppsHub.SystemClock(), transport: nil)
            let repsPage = try await repsWeb.dealHTML(try #require(RecordID(parsing: lead)))
            let repsBoard = try await repsWeb.boardHTML()
            #expect(repsPage.contains("<button>Move</button></form>") && repsBoard.contains("<button>Move</button></form>"))
            #expect(repsPage.contains("<h2>Team</h2>") && repsPage.contains("<li>eve · expert · active</li>") && repsPage.contains("Request a team member"))
            // Her funnel still counts the lead at each stage it reached, up to solution.
            let funnel = try #require(await opps("funnel", "--home", mia, "--json").json?["stages"]?.array)
            let reached = Dictionary(uniqueKeysWithValues: funnel.compactMap { s in s["stage"]?.string.map { ($0, s["reached"]?.int ?? -1) } })
            #expect(["qualified", "discovery", "solution"].allSatisfy { reached[$0] == 1 } && reached["proposal"] == 0, "\(funnel)")

            // The rep asks for a discount over the threshold: a request eve may read nothing of
            // (DOMAIN.md: approvals are — to an expert), so her sync tells her nothing of it.
            let asked = await opps("set", lead, "discount=25", "--home", home)
            #expect(asked.code == 0 && asked.stdout.contains("approval"), "\(asked.stdout) \(asked.stderr)")
            #expect(await opps("sync", "--home", home).code == 0)
            let eveSync = await opps(["sync", "--home", eve], environment: ["LANG": "C"]).stdout
            #expect(!eveSync.contains("approval") && !eveSync.contains("request"), "\(eveSync)")

            // Tasks on the deal: the rep's own, and one the manager gives eve. She reads what each
            // asks, and whose only when it is hers.
            #expect(await opps("task", "add", lead, "send", "the", "quote", "--due", "2027-01-04", "--home", home).code == 0)
            #expect(await opps("sync", "--home", home).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            #expect(await opps("task", "add", lead, "draft", "the", "architecture", "--due", "2027-01-05", "--assignee", "eve", "--home", max).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            #expect(await opps("sync", "--home", eve).code == 0)
            let eveTasks = await opps(["task", "list", lead, "--home", eve], environment: ["LANG": "C"]).stdout
            #expect(
                eveTasks.contains("send the quote (someone else's)") && eveTasks.contains("draft the architecture") && !eveTasks.mentions(rep),
                "\(eveTasks)")
            let eveTasksZh = await opps("task", "list", lead, "--home", eve, "--locale", "zh-CN").stdout
            #expect(eveTasksZh.contains("send the quote（他人的任务）"), "\(eveTasksZh)")
            let mine = await opps(["task", "list", "--home", eve], environment: ["LANG": "C"]).stdout
            #expect(mine.contains("draft the architecture") && !mine.contains("send the quote"), "\(mine)")
            let repsTasks = await opps(["task", "list", lead, "--home", max], environment: ["LANG": "C"]).stdout
            #expect(repsTasks.contains("send the quote (for \(rep))"), "the manager reads whose: \(repsTasks)")

            // Hers to close, not the rep's (DOMAIN.md's next-step row: "W on tasks assigned to
            // them"): refused on her laptop in one line, in her language; the browser offers Done
            // on hers alone.
            let tasks = try #require(await opps("task", "list", lead, "--home", eve, "--json").json?.array)
            let repsTask = try #require(tasks.first { $0["text"]?.string == "send the quote" }?["id"]?.string)
            let hers = try #require(tasks.first { $0["text"]?.string == "draft the architecture" }?["id"]?.string)
            let refused = await opps(["task", "done", repsTask, "--home", eve], environment: ["LANG": "C"])
            #expect(
                refused.code == 3 && refused.stderr == "opps: refused: done: this task is not assigned to you, so you may read it but not change it (rule read-only)\n",
                "\(refused.stderr)")
            let refusedZh = await opps("task", "done", repsTask, "--home", eve, "--locale", "zh-CN")
            #expect(refusedZh.code == 3 && refusedZh.stderr == "opps: 被拒绝：已完成 — 这个任务没有指派给你，你只能查看，不能修改（规则 read-only）\n", "\(refusedZh.stderr)")
            #expect(await opps("set", repsTask, "due=2027-02-01", "--home", eve).code == 3)
            #expect(await opps("status", "--home", eve, "--json").json?["pending"]?.int == 0, "nothing half-written")
            try await WebTests.serving(f, user: "eve") { web in
                let page = try await web.send("/deal/\(lead)").body
                #expect(page.contains("send the quote") && page.components(separatedBy: "/task-done\"").count == 2, "Done on hers only: \(page)")
                // The stage she may only propose a move of: the button says so, on the deal
                // page and on the board's card (the rep's says Move).
                let stageForm = try #require(page.range(of: "/stage\" class=\"stage\"").map { page[$0.lowerBound...] }?.components(separatedBy: "</form>").first)
                #expect(stageForm.contains("<button>Propose</button>") && !stageForm.contains("Move"), "\(stageForm)")
                let board = try await web.send("/").body
                #expect(board.contains("draggable=\"true\"") && board.contains("<button>Propose</button></form>") && !board.contains("<button>Move</button>"), "\(board)")
            }
            #expect(await opps("task", "done", hers, "--home", eve).code == 0)
            // What is left open is the rep's: the list no longer offers to mark one done.
            let left = await opps(["task", "list", lead, "--home", eve], environment: ["LANG": "C"]).stdout
            #expect(left.contains("send the quote (someone else's)") && !left.contains("mark one done") && left.contains("add one: opps task add"), "\(left)")
            #expect(await opps(["task", "list", lead, "--home", home], environment: ["LANG": "C"]).stdout.contains("mark one done"), "the rep's own")
            #expect(await opps("sync", "--home", eve).code == 0)

            // eve, on the team, reads the rep's fields and the moves, and no one's name but hers.
            let eveShow = await opps(["show", lead, "--home", eve], environment: ["LANG": "C"]).stdout
            #expect(eveShow.contains("CRM for 40 reps") && !eveShow.mentions(rep) && !eveShow.mentions("mia"), "\(eveShow)")
            #expect(await opps("set", lead, "solution=Cloud CRM", "--home", eve).code == 0)
            #expect(await opps("sync", "--home", eve).code == 0)
            let eveNames = try Self.names(in: eve)
            #expect(eveNames.isSubset(of: ["eve", "hub", ""]) && eveNames.contains("eve"), "\(eveNames): only hers")

            // One she gives the rep herself reads as she wrote it.
            #expect(await opps("task", "add", lead, "review", "the", "architecture", "--due", "2027-01-06", "--assignee", rep, "--home", eve).code == 0)
            #expect(await opps("sync", "--home", eve).code == 0)
            #expect(await opps("sync", "--home", eve).code == 0)
            let given = await opps(["task", "list", lead, "--home", eve], environment: ["LANG": "C"]).stdout
            #expect(given.contains("review the architecture (for \(rep))"), "\(given)")
            // The manager, who reads owners, reads every name; so does the rep.
            #expect(await opps("sync", "--home", max).code == 0)
            #expect(await opps("sync", "--home", home).code == 0)
            for who in [max, home] {
                let names = try Self.names(in: who)
                #expect(names.isSuperset(of: ["mia", rep, "eve"]) && !names.contains(""), "\(names)")
                let shown = await opps(["show", lead, "--home", who], environment: ["LANG": "C"]).stdout
                #expect(shown.contains(rep) && !shown.contains("someone"), "\(shown)")
            }
        }
    }

    /// DOMAIN.md: team membership is `—` to experts. An expert holds her own place on a deal's
    /// team (her laptop checks her writes by it) and nothing of who else is on it: before the
    /// default workspace's version 11, eve's replica held each colleague's membership, by name.
    @Test func anExpertHoldsHerOwnPlaceOnTheTeamNotHerColleagues() async throws {
        let f = try CommandFixture(extra: [HubUser(name: "ivy", role: "expert", manager: "max")])
        try await f.serving { url in
            for u in ["max", "sam", "eve", "ivy"] { #expect(await f.initReplica(u, url).code == 0) }
            let (max, sam, eve, ivy) = (f.home("max"), f.home("sam"), f.home("eve"), f.home("ivy"))
            let deal = try #require(
                await opps("new", "Gamma rollout", "--account", "Gamma", "--home", sam, "--json").json?["id"]?.string)
            #expect(await opps("set", deal, "needs=CRM for 40 reps", "decision_makers=CFO", "amount=1000.00", "close_date=2027-03-31", "--home", sam).code == 0)
            #expect(await opps("stage", deal, "discovery", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            for expert in ["eve", "ivy"] { #expect(await opps("team", "add", deal, expert, "--role", "expert", "--home", max).code == 0) }
            #expect(await opps("sync", "--home", max).code == 0)
            #expect(await opps("sync", "--home", sam).code == 0)
            #expect(await opps("stage", deal, "solution", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", sam).code == 0)
            let eveSync = await opps(["sync", "--home", eve], environment: ["LANG": "C"])
            #expect(eveSync.code == 0 && !eveSync.stdout.contains("ivy"), "\(eveSync.stdout)")

            // Her team list: herself, and no one else by name.
            let team = await opps(["team", "list", deal, "--home", eve], environment: ["LANG": "C"]).stdout
            #expect(team.contains("eve") && !team.mentions("ivy"), "\(team)")
            let json = try #require(await opps("team", "list", deal, "--home", eve, "--json").json?.array)
            #expect(json.compactMap { $0["user"]?.string } == ["eve"], "\(json)")
            // What her replica holds of the team: her membership whole, ivy's not at all.
            let store = try ReplicaStore(path: Replica.databasePath(home: eve))
            let memberships = try store.allConfirmed(workspace: .default).filter { $0.entity == "membership" }
            #expect(memberships.filter { !$0.fields.isEmpty }.map { $0["user"] } == [.text("eve")], "\(memberships)")
            #expect(!memberships.contains { $0["user"] == .text("ivy") })
            // Her place on the team is enough to write the solution offline, checked on her laptop.
            let wrote = await opps("set", deal, "solution=Cloud CRM", "--home", eve)
            #expect(wrote.code == 0, "\(wrote.stderr)")
            let synced = await opps("sync", "--home", eve)
            #expect(synced.code == 0 && !synced.stdout.contains("conflict"), "\(synced.stdout)")
            #expect(await opps("sync", "--home", sam).code == 0)
            #expect(await opps("show", deal, "--home", sam, "--json").json?["fields"]?["solution"]?.string == "Cloud CRM")
            // ivy likewise holds hers, not eve's; the rep and the manager read the whole team.
            #expect(await opps("sync", "--home", ivy).code == 0)
            let ivysTeam = try #require(await opps("team", "list", deal, "--home", ivy, "--json").json?.array)
            #expect(ivysTeam.compactMap { $0["user"]?.string } == ["ivy"], "\(ivysTeam)")
            for who in [sam, max] {
                let whole = try #require(await opps("team", "list", deal, "--home", who, "--json").json?.array)
                #expect(Set(whole.compactMap { $0["user"]?.string }) == ["eve", "ivy"], "\(whole)")
            }
            // When she leaves the team, the deal and her membership leave her laptop together.
            #expect(await opps("team", "remove", deal, "eve", "--home", max).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            #expect(await opps("sync", "--home", eve).code == 0)
            #expect(
                try ReplicaStore(path: Replica.databasePath(home: eve)).allConfirmed(workspace: .default).filter {
                    $0.entity == "membership" || $0.entity == "opportunity"
                }.isEmpty)
        }
    }

    /// A hub that takes version 11 over a workspace that let experts read every membership: what
    /// an expert's laptop already holds of a colleague's membership leaves it at her next sync,
    /// without a repair (a workspace that hides a field changes what a page says the replica
    /// holds of every record it hides it on).
    @Test func aWorkspaceThatHidesAColleaguesMembershipTakesItOffHerLaptop() async throws {
        let f = try CommandFixture(extra: [HubUser(name: "ivy", role: "expert", manager: "max")])
        // The operator's `opps-hub workspace apply`: another engine on the hub's database.
        let configuration = f.hub.configuration
        @Sendable func apply(_ document: String) throws {
            _ = try HubEngine(store: try SQLiteHubStore(path: configuration.databasePath), configuration: configuration).apply(workspace: document)
        }
        let current = Workspace.defaultDocument
        let version = Workspace.default.version
        func numbered(_ text: String, _ v: UInt64) -> String { text.replacingOccurrences(of: "\"version\": \(version),", with: "\"version\": \(v),") }
        let open = current.replacingOccurrences(of: #""expert": "read if member", "success": "read if member""#, with: #""expert": "read", "success": "read""#)
        #expect(open != current)
        let restored = numbered(current, version + 2)
        try apply(numbered(open, version + 1))
        try await f.serving { url in
            for u in ["max", "sam", "eve"] { #expect(await f.initReplica(u, url).code == 0) }
            let (max, sam, eve) = (f.home("max"), f.home("sam"), f.home("eve"))
            let deal = try #require(await opps("new", "Delta rollout", "--account", "Delta", "--home", sam, "--json").json?["id"]?.string)
            #expect(await opps("sync", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            for expert in ["eve", "ivy"] { #expect(await opps("team", "add", deal, expert, "--role", "expert", "--home", max).code == 0) }
            #expect(await opps("sync", "--home", max).code == 0)
            #expect(await opps("sync", "--home", eve).code == 0)
            let before = try #require(await opps("team", "list", deal, "--home", eve, "--json").json?.array)
            // Under the open workspace she reads both memberships (ivy's by no name: visibility.md §6).
            #expect(before.compactMap { $0["user"]?.string }.sorted() == ["", "eve"], "\(before)")
            let listed = await opps(["team", "list", deal, "--home", eve], environment: ["LANG": "C"]).stdout
            #expect(listed.contains("someone") && !listed.contains("ivy"), "a withheld member reads as someone, not a blank: \(listed)")

            try apply(restored)
            let synced = await opps("sync", "--home", eve, "--json")
            #expect(synced.code == 0 && synced.json?["repaired"] == .bool(false), "\(synced.stdout) \(synced.stderr)")
            let after = try #require(await opps("team", "list", deal, "--home", eve, "--json").json?.array)
            #expect(after.compactMap { $0["user"]?.string } == ["eve"], "\(after)")
            let held = try ReplicaStore(path: Replica.databasePath(home: eve)).allConfirmed(workspace: .default).filter { $0.entity == "membership" }
            #expect(held.count == 2 && held.filter { !$0.fields.isEmpty }.map { $0["user"] } == [.text("eve")], "\(held)")
        }
    }
}
