import Foundation
import OppsConsole
import OppsCore
import OppsStore
import Testing

/// The operator's commands against a running hub, observed through real replicas.
@Suite struct OperatorTests {
    /// A hub with the standard team and solo, a rep with no manager, holding `deals` (name,
    /// stage and owner rows) as an import made them (the hub their creator).
    func withSolo(deals: String) async throws -> (CommandFixture, String) {
        let f = try CommandFixture(extra: [HubUser(name: "solo", role: "sales")])
        let hub = f.root + "/hub"
        let file = f.root + "/deals.csv"
        try ("name,stage,owner\n" + deals).write(toFile: file, atomically: true, encoding: .utf8)
        #expect(await oppsHub("import", file, "--type", "opportunity", "--data", hub).code == 0)
        return (f, hub)
    }

    /// A departing rep disabled: the operator is told what becomes of their open deals — still in
    /// someone's sight (their manager's), or in no one's, and then how to bring them back.
    @Test func disablingARepSaysWhoStillSeesTheirDeals() async throws {
        let (_, hub) = try await withSolo(deals: "Solo deal,discovery,solo\nSolo won,won,solo\nSam deal,discovery,sam\n")
        #expect(
            await oppsHub("user", "disable", "sam", "--data", hub).stdout
                == "disabled sam\nsam owns 1 open deal; others still see them (a manager can give them new owners)\n")
        // solo has no manager: their open deal (the won one is closed) is now in no one's sight.
        #expect(
            await oppsHub("user", "disable", "solo", "--data", hub).stdout
                == "disabled solo\nsolo owns 1 open deal; 1 of them no one else sees now: give solo a manager (opps-hub user set solo --manager NAME), who will see them and can give them new owners\n"
        )
        #expect(await oppsHub("user", "set", "solo", "--manager", "max", "--data", hub).code == 0)
        let zh = await ProcessEnvironment.$pinned.withValue(["LANG": "zh_CN.UTF-8"]) { await oppsHub(["user", "disable", "solo", "--data", hub]) }
        #expect(zh.stdout.hasSuffix("\nsolo 负责的 1 个未结商机仍有其他人能看到（经理可以给它们换负责人）\n"), "\(zh.stdout)")
        // Nothing owned, nothing more said.
        #expect(await oppsHub("user", "disable", "mia", "--data", hub).stdout == "disabled mia\n")
    }

    @Test func aNewRoleThatLeavesTheUsersDealsToNoOneIsSaidWithTheFix() async throws {
        let (_, hub) = try await withSolo(deals: "Solo deal,discovery,solo\nSolo won,won,solo\n")
        // An expert sees only the deals they are on, and solo has no manager: the open deal is
        // now in no one's sight (the won one, closed, is not counted). The change stands.
        let made = await oppsHub("user", "set", "solo", "--role", "expert", "--data", hub)
        #expect(made.code == 0)
        #expect(
            made.stdout
                == "updated solo: expert, team -, territory -, manager -\nsolo owns 1 open deal; 1 of them no one else sees now: give solo a manager (opps-hub user set solo --manager NAME), who will see them and can give them new owners\n"
        )
        // With --json, stdout stays the user's one object and the warning goes to stderr.
        let json = await oppsHub("user", "set", "solo", "--role", "expert", "--json", "--data", hub)
        #expect(json.json?["role"]?.string == "expert")
        #expect(json.stderr.hasPrefix("solo owns 1 open deal; 1 of them no one else sees now"), "\(json.stderr)")
        // The fix: a manager sees what the people they manage own, whatever their role.
        #expect(await oppsHub("user", "set", "solo", "--manager", "max", "--data", hub).stdout == "updated solo: expert, team -, territory -, manager max\n")
        // A change that touches neither role nor manager says nothing more.
        #expect(await oppsHub("user", "set", "sam", "--territory", "south", "--data", hub).stdout == "updated sam: sales, team -, territory south, manager max\n")
    }

    /// I17 for the workspace: a version whose roles would see a deal no more, where someone
    /// sees it now, is refused (nothing applied), and goes in once the deal is seen otherwise.
    @Test func aWorkspaceThatWouldLeaveDealsToNoOneIsRefused() async throws {
        let (f, hub) = try await withSolo(deals: "Solo deal,discovery,solo\nSam deal,discovery,sam\n")
        let solos = try SQLiteHubStore(path: hub + "/hub.sqlite").openRecordColumns(owner: "solo", closedStages: []).map(\.id)
        // Reps see only the deals they are on: solo, with no manager, would lose sight of his
        // (sam's stays max's, through sam).
        let current = Workspace.default.version
        let teamOnly = Workspace.defaultDocument
            .replacingOccurrences(of: "\"version\": \(current),", with: "\"version\": \(current + 1),")
            .replacingOccurrences(of: #""sees": ["owner", "team"]"#, with: #""sees": ["team"]"#)
        #expect(teamOnly.contains(#""sees": ["team"]}"#))
        let file = f.root + "/team-only.json"
        try teamOnly.write(toFile: file, atomically: true, encoding: .utf8)
        let refused = await oppsHub("workspace", "apply", file, "--data", hub)
        #expect(refused.code == 1)
        #expect(
            refused.stderr
                == "opps-hub: version \(current + 1) would leave 1 deal that someone sees now seen by no one (\(ShortID.shown(solos[0]))): keep a role's sight of them, or first give them owners who keep seeing them\n"
        )
        #expect(await oppsHub("status", "--data", hub, "--json").json?["workspace_version"]?.int == Int(current))
        // Seen through a manager, the deal no longer depends on the role: the version goes in.
        #expect(await oppsHub("user", "set", "solo", "--manager", "max", "--data", hub).code == 0)
        let applied = await oppsHub("workspace", "apply", file, "--data", hub)
        #expect(applied.code == 0, "\(applied.stderr)")
        #expect(await oppsHub("status", "--data", hub, "--json").json?["workspace_version"]?.int == Int(current + 1))
    }

    /// I17 for a role change: a deal with no owner that its team alone sees (eve, an expert on
    /// it) is in no one's sight once eve is made customer success. The change stands; the deal is
    /// named with the command that undoes it, and that command, typed back, brings it back.
    @Test func aRoleChangeThatLeavesATeamsOwnerlessDealToNoOneNamesItWithTheUndo() async throws {
        let (f, hub) = try await withSolo(deals: "Imported deal,discovery,sam\n")
        let id = try #require(try SQLiteHubStore(path: hub + "/hub.sqlite").openRecordColumns(owner: "sam", closedStages: []).first?.id)
        try await f.serving { url in
            #expect(await opps("init", "--hub", url, "--token", f.tokens["max"]!, "--home", f.home("max")).code == 0)
            #expect(await opps("team", "add", ShortID.shown(id), "eve", "--role", "expert", "--home", f.home("max")).code == 0)
            #expect(await opps("set", ShortID.shown(id), "owner=", "--home", f.home("max")).code == 0)
            #expect(await opps("sync", "--home", f.home("max")).code == 0)
        }
        #expect(try SQLiteHubStore(path: hub + "/hub.sqlite").record(id, workspace: .default)?.owner == nil)
        let made = await oppsHub("user", "set", "eve", "--role", "success", "--data", hub)
        #expect(made.code == 0)
        let undo = "opps-hub user set eve --role expert"
        #expect(
            made.stdout
                == "updated eve: success, team -, territory -, manager max\nno one sees 1 other deal now (\(ShortID.shown(id))): only eve saw them, through their role or a team; undo: \(undo)\n"
        )
        // The undo, typed back as printed: eve sees the deal again, nothing more is said.
        let undone = await oppsHub(Array(undo.split(separator: " ").dropFirst().map(String.init)) + ["--data", hub])
        #expect(undone.stdout == "updated eve: expert, team -, territory -, manager max\n")
        let zh = await ProcessEnvironment.$pinned.withValue(["LANG": "zh_CN.UTF-8"]) {
            await oppsHub(["user", "disable", "eve", "--data", hub])
        }
        #expect(zh.stdout.hasSuffix("\n现在有 1 个其他商机没有人能看到（\(ShortID.shown(id))）：只有 eve 通过角色或团队能看到它们；撤销：opps-hub user enable eve\n"), "\(zh.stdout)")
    }

    /// A rep disabled with a request waiting (§7.1): no one may carry it out now, so the hub
    /// settles it at once — rejected with its note, the deal unlocked — and the operator is told;
    /// the manager's next sync says so, and nothing is left for him to decide.
    @Test func disablingARepSettlesTheRequestsTheyLeftWaiting() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            let deal = try await f.samsDiscountWaiting(on: "Leaving deal", initialising: url)
            let max = f.home("max")
            #expect(await opps("sync", "--home", max).code == 0)
            #expect(await opps("approvals", "--home", max, "--json").json?.array?.count == 1)
            let said = await oppsHub("user", "disable", "sam", "--data", f.root + "/hub").stdout
            #expect(
                said.hasSuffix("\n1 request waiting for a decision rejected: nothing is written in a disabled user's stead (whoever takes over asks again)\n"),
                "\(said)")
            // Disabled again: nothing left to settle, nothing more said.
            #expect(await oppsHub("user", "disable", "sam", "--data", f.root + "/hub").stdout.contains("rejected") == false)
            let told = await opps("sync", "--home", max, "--locale", "zh-CN").stdout
            #expect(unspaced(told).contains(unspaced("Leaving deal：服务器驳回了申请（折扣 → 15%）：未执行：sam 已无权修改该记录的「折扣」")), "\(told)")
            #expect(await opps("approvals", "--home", max, "--json").json?.array?.isEmpty == true)
            // The deal is unlocked: its new owner (max here) sets the discount himself.
            let shown = await opps("show", deal, "--home", max, "--json").json?["fields"]
            #expect(shown?["discount"] == .null && shown?["approval_state"]?.string != "pending", "\(String(describing: shown))")
            #expect(await opps("set", deal, "discount=12", "--home", max).code == 0)
        }
    }

    /// A rep made an expert may no longer ask for a discount: the request he left waiting is
    /// settled with the change; one that still passes its check (after a territory change) stays.
    @Test func aNewRoleSettlesTheRequestsNoOneCanCarryOutNow() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            let deal = try await f.samsDiscountWaiting(on: "Changing deal", initialising: url)
            let max = f.home("max")
            // A change that leaves him able to ask: the request waits on.
            #expect(!(await oppsHub("user", "set", "sam", "--territory", "south", "--data", f.root + "/hub").stdout.contains("rejected")))
            #expect(await opps("sync", "--home", max).code == 0)
            #expect(await opps("approvals", "--home", max, "--json").json?.array?.count == 1)
            let said = await oppsHub("user", "set", "sam", "--role", "expert", "--data", f.root + "/hub").stdout
            #expect(said.contains("\n1 request waiting for a decision rejected: after the change no one can carry it out (whoever takes over asks again)\n"), "\(said)")
            let told = await opps("sync", "--home", max, "--locale", "zh-CN").stdout
            #expect(unspaced(told).contains(unspaced("Changing deal：服务器驳回了申请（折扣 → 15%）：未执行：sam 已无权修改该记录的「折扣」")), "\(told)")
            #expect(await opps("approvals", "--home", max, "--json").json?.array?.isEmpty == true)
            #expect(await opps("show", deal, "--home", max, "--json").json?["fields"]?["approval_state"]?.string != "pending", "unlocked")
        }
    }

    @Test func rotatingATokenCutsOffTheOldOneAtOnce() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            #expect(await opps("init", "--hub", url, "--token", f.tokens["sam"]!, "--home", f.home("sam")).code == 0)
            let rotated = await oppsHub("token", "rotate", "sam", "--data", f.root + "/hub", "--json")
            #expect(rotated.code == 0)
            let newToken = try #require(rotated.json?["token"]?.string)
            #expect(newToken != f.tokens["sam"])
            // The replica still holds the old token: refused, exit 4.
            #expect(await opps("sync", "--home", f.home("sam")).code == 4)
            // A new replica with the new token works.
            #expect(await opps("init", "--hub", url, "--token", newToken, "--home", f.home("sam2")).code == 0)
            // Disabling refuses even the new token; enabling lets it back in.
            #expect(await oppsHub("user", "disable", "sam", "--data", f.root + "/hub").code == 0)
            #expect(await opps("sync", "--home", f.home("sam2")).code == 4)
            #expect(await oppsHub("user", "enable", "sam", "--data", f.root + "/hub").code == 0)
            #expect(await opps("sync", "--home", f.home("sam2")).code == 0)
            let store = try SQLiteHubStore(path: f.root + "/hub/hub.sqlite")
            #expect(try store.adminLog(subject: "sam").map(\.action) == ["user", "token", "user", "user"])  // added, rotated, disabled, enabled
        }
    }

    @Test func aRoleOrTeamChangeMovesRecordsWithoutLosingPendingWrites() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            for u in ["sam", "tom", "eve"] {
                #expect(await opps("init", "--hub", url, "--token", f.tokens[u]!, "--home", f.home(u)).code == 0)
            }
            let id = try #require(await opps("new", "ACME", "--account", "ACME", "--home", f.home("sam"), "--json").json?["id"]?.string)
            #expect(await opps("sync", "--home", f.home("sam")).code == 0)
            // tom sees nothing of sam's; eve (an expert) neither.
            #expect(await opps("show", id, "--home", f.home("tom")).code == 1)
            // tom becomes a manager over sam: the deal enters tom's replica at his next sync.
            #expect(await oppsHub("user", "set", "tom", "--role", "manager", "--data", f.root + "/hub").code == 0)
            #expect(await oppsHub("user", "set", "sam", "--manager", "tom", "--data", f.root + "/hub").code == 0)
            #expect(await opps("sync", "--home", f.home("tom")).code == 0)
            #expect(await opps("show", id, "--home", f.home("tom"), "--json").json?["fields"]?["name"]?.string == "ACME")
            // sam has a pending edit when he is moved out of sales: it is kept and decided at the hub.
            #expect(await opps("set", id, "next_step=call", "--home", f.home("sam")).code == 0)
            #expect(await oppsHub("user", "set", "sam", "--role", "expert", "--data", f.root + "/hub").code == 0)
            let s = await opps("sync", "--home", f.home("sam"), "--json")
            #expect(s.code == 0, "\(s.stdout) \(s.stderr)")
            #expect(s.json?["pushed"]?.int == 1)
            // As an expert with no team membership, sam no longer holds the deal.
            #expect(await opps("show", id, "--home", f.home("sam")).code == 1)
            let st = await opps("status", "--home", f.home("sam"), "--json").json
            #expect(st?["pending"]?.int == 0)
        }
    }
}

@Suite struct WorkspaceApplyTests {
    @Test func aCustomFieldReachesReplicasWithoutLosingUnsyncedWork() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            let hub = f.root + "/hub"
            #expect(await opps("init", "--hub", url, "--token", f.tokens["sam"]!, "--home", f.home("sam")).code == 0)
            let id = try #require(await opps("new", "ACME", "--account", "ACME", "--home", f.home("sam"), "--json").json?["id"]?.string)
            // Unsynced work made under version 2.
            #expect(await opps("set", id, "next_step=send quote", "--home", f.home("sam")).code == 0)
            #expect(await opps("set", id, "competitor=Globex", "--home", f.home("sam")).code == 1)  // no such field yet
            let shown = await oppsHub("workspace", "show", "--data", hub)
            #expect(shown.code == 0)
            let current = Workspace.default.version, next = current + 1
            let v2 = shown.stdout
                .replacingOccurrences(of: "\"version\": \(current),", with: "\"version\": \(next),")
                .replacingOccurrences(
                    of: #"{"name": "territory", "number": 34, "labels": {"zh-CN": "区域"}, "type": "text", "group": "lead", "max_length": 100}"#,
                    with:
                        #"{"name": "territory", "number": 34, "labels": {"zh-CN": "区域"}, "type": "text", "group": "lead", "max_length": 100}, {"name": "competitor", "number": 36, "type": "text", "group": "commercials"}"#
                )
            let file = f.root + "/v2.json"
            try v2.write(toFile: file, atomically: true, encoding: .utf8)
            let applied = await oppsHub("workspace", "apply", file, "--data", hub)
            #expect(applied.code == 0, "\(applied.stderr)")
            // An incompatible version is refused and changes nothing.
            let broken = v2.replacingOccurrences(of: "\"version\": \(next),", with: "\"version\": \(next + 1),")
                .replacingOccurrences(of: #"{"name": "amount", "number": 4,"#, with: #"{"name": "amount", "number": 40,"#)
            try broken.write(toFile: file, atomically: true, encoding: .utf8)
            let refused = await oppsHub("workspace", "apply", file, "--data", hub)
            #expect(refused.code == 1)
            #expect(refused.stderr.contains("changed its number"))
            // The replica syncs: its pending write lands, and it learns the new field.
            let s = await opps("sync", "--home", f.home("sam"), "--json")
            #expect(s.json?["applied"]?.int ?? 0 >= 1, "\(s.stdout)")
            #expect(await opps("status", "--home", f.home("sam"), "--json").json?["workspace_version"]?.int == Int(next))
            #expect(await opps("set", id, "competitor=Globex", "--home", f.home("sam")).code == 0)
            #expect(await opps("sync", "--home", f.home("sam")).code == 0)
            let fields = await opps("show", id, "--home", f.home("sam"), "--json").json?["fields"]
            #expect(fields?["competitor"]?.string == "Globex")
            #expect(fields?["next_step"]?.string == "send quote")
        }
    }
}

@Suite struct OperatorReportTests {
    /// The database's free pages (compaction, an upgrade that copied a table) are said by
    /// `status` once they are a tenth of the file and a MiB or more, so an operator knows why
    /// the file did not shrink; `--json` always has them.
    @Test func statusSaysWhatOfTheDatabaseIsFree() async throws {
        let f = try CommandFixture()
        let hub = f.root + "/hub"
        let quiet = await oppsHub("status", "--data", hub)
        #expect(quiet.code == 0 && !quiet.stdout.contains("KiB free"), "\(quiet.stdout)")
        #expect(await oppsHub("status", "--data", hub, "--json").json?["database_free_bytes"]?.int == 0)
        // 4 MiB written and dropped: its pages stay in the file, free.
        let db = try Database(path: hub + "/hub.sqlite")
        try db.execute("CREATE TABLE scratch AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1024) SELECT randomblob(4096) AS b FROM n")
        try db.execute("DROP TABLE scratch")
        let free = try #require(await oppsHub("status", "--data", hub, "--json").json?["database_free_bytes"]?.int)
        #expect(free >= 4 << 20, "\(free)")
        let text = await oppsHub("status", "--data", hub).stdout.split(separator: "\n").map(String.init)
        #expect(text.contains("of which \(grouped(free / 1024)) KiB free (pages used again as the hub grows)"), "\(text)")
        #expect(text.allSatisfy { $0.count <= 80 }, "\(text)")
    }

    /// A replica not seen within the retention window (a replaced laptop's, kept for ever) is
    /// counted in one line, not listed, unless --all; --json has every one.
    @Test func statusCountsTheReplicasPastTheWindowInOneLine() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            for u in ["sam", "max"] { #expect(await opps("init", "--hub", url, "--token", f.tokens[u]!, "--home", f.home(u)).code == 0) }
        }
        let hub = f.root + "/hub"
        let db = try Database(path: hub + "/hub.sqlite")
        let longAgo = Int64(Date().timeIntervalSince1970 * 1000) - 40 * 86_400_000
        try db.execute("UPDATE replicas SET last_seen_ms = ? WHERE user = 'max'", [.integer(longAgo)])
        let text = await oppsHub("status", "--data", hub).stdout.split(separator: "\n").map(String.init)
        #expect(text.filter { $0.hasPrefix("  sam ") }.count == 1 && !text.contains { $0.hasPrefix("  max ") }, "\(text)")
        #expect(text.last == "1 more replica(s) unseen for over 30 days: compaction does not wait (--all)", "\(text)")
        #expect(text.allSatisfy { $0.count <= 80 }, "\(text)")
        let every = await oppsHub("status", "--all", "--data", hub).stdout
        #expect(every.contains("\n  max ") && every.contains("\n  sam ") && !every.contains("more replica"), "\(every)")
        let zh = await ProcessEnvironment.$pinned.withValue(["LANG": "zh_CN.UTF-8"]) { await oppsHub(["status", "--data", hub, "--retention-days", "50"]) }
        #expect(!zh.stdout.contains("另有") && zh.stdout.contains("\n  max "), "within a longer window it is listed: \(zh.stdout)")
        let replicas = await oppsHub("status", "--data", hub, "--json").json?["replicas"]?.array ?? []
        #expect(replicas.count == 2)
        #expect(replicas.map { "\($0["user"]?.string ?? "") \($0["within_retention"]?.bool ?? true)" }.sorted() == ["max false", "sam true"], "\(replicas)")
    }

    @Test func statusAuditConflictsAndCompactReportWhatHappened() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            let hub = f.root + "/hub"
            for u in ["sam", "max"] { #expect(await opps("init", "--hub", url, "--token", f.tokens[u]!, "--home", f.home(u)).code == 0) }
            let id = try #require(await opps("new", "ACME", "--account", "ACME", "--amount", "10.00", "--home", f.home("sam"), "--json").json?["id"]?.string)
            let account = try #require(await opps("show", id, "--home", f.home("sam"), "--json").json?["fields"]?["account"]?.string)
            _ = await opps("sync", "--home", f.home("sam"))
            _ = await opps("sync", "--home", f.home("max"))
            _ = await opps("set", id, "amount=20.00", "--home", f.home("sam"))
            _ = await opps("set", id, "amount=30000.00", "--home", f.home("max"))
            _ = await opps("sync", "--home", f.home("max"))
            _ = await opps("sync", "--home", f.home("sam"))
            let status = await oppsHub("status", "--data", hub, "--json")
            #expect(status.code == 0)
            #expect(status.json?["replicas"]?.array?.count == 2)
            #expect(status.json?["open_conflicts"]?.int == 1)
            #expect((status.json?["database_bytes"]?.int ?? 0) > 0)
            // As text: a replica a line, under a header, at 80 columns.
            let text = await oppsHub("status", "--data", hub).stdout.split(separator: "\n").map(String.init)
            #expect(text.contains("  USER  REPLICA   LAST SEEN (UTC)   TO RECEIVE  CONFLICTS"), "\(text)")
            #expect(text.filter { $0.hasPrefix("  sam ") || $0.hasPrefix("  max ") }.count == 2, "\(text)")
            #expect(text.allSatisfy { $0.count <= 80 }, "\(text)")
            let audit = await oppsHub("audit", id, "--data", hub, "--json")
            let events = audit.json?.array ?? []
            #expect(events.contains { $0["kind"]?.string == "conflict" && $0["rule"]?.string == "authority" })
            #expect(events.filter { $0["kind"]?.string == "write" && $0["field"]?.string == "amount" }.count == 2)
            #expect(events.allSatisfy { $0["device_time"]?.string != nil && $0["hub_time"]?.string != nil })
            // As text, by the short id a rep quotes: an event a line at 80 columns, values quoted.
            let code = String(ShortID.code(try #require(RecordID(parsing: id))).prefix(ShortID.length))
            let trail = await oppsHub("audit", code, "--data", hub).stdout.split(separator: "\n").map(String.init)
            // The conflict's time is the hub's, now: its year is this one (a year written here broke on New Year's Day).
            var utc = Calendar(identifier: .gregorian)
            utc.timeZone = TimeZone(identifier: "UTC")!
            let utcYear = utc.component(.year, from: Date())
            // The record as the reps name it, then its full id.
            #expect(trail.prefix(2) == ["\(code) ACME", "id \(id); times are the hub's, UTC"], "\(trail)")
            #expect(trail.contains { $0.hasPrefix("#") && $0.contains("  sam  created in discovery (own)") }, "\(trail)")
            #expect(trail.contains { $0.hasPrefix("#") && $0.contains("  max  amount = \"30,000.00\" (override)") }, "\(trail)")
            #expect(
                unspaced(trail.joined()).contains(unspaced("conflict 1") + String(utcYear))
                    && unspaced(trail.joined()).contains(
                        unspaced("sam amount = \"20.00\": lost (changed at the same time: whoever has more say over amount won); held \"30,000.00\"")),
                "\(trail)")
            #expect(trail.allSatisfy { $0.displayWidth <= 80 }, "\(trail)")
            // A reference by the record's name and short id, as opps prints it.
            let accountCode = String(ShortID.code(try #require(RecordID(parsing: account))).prefix(ShortID.length))
            #expect(trail.contains { $0.hasSuffix("  sam  account = ACME (\(accountCode)) (own)") }, "\(trail)")
            let conflicts = await oppsHub("conflicts", "--user", "sam", "--data", hub, "--json")
            let c = try #require(conflicts.json?.array?.first)
            #expect(c["value"]?.string == "20.00")
            #expect(c["winner"]?.string == "30000.00")
            // As text, the record by the short id sam quotes from opps and its name, the values
            // quoted, amounts grouped, the rule's sentence a rep reads.
            let listed = await oppsHub("conflicts", "--user", "sam", "--data", hub).stdout
            #expect(listed.hasPrefix("#\(c["id"]?.int ?? 0)  \(code) ACME · amount "), "\(listed)")
            #expect(
                listed.contains("    sam wrote \"20.00\": lost (changed at the same time: whoever has more say over\n    amount won)\n    held: \"30,000.00\" (max)\n"),
                "\(listed)")
            #expect(listed.split(separator: "\n").allSatisfy { $0.count <= 80 }, "\(listed)")
            // A Chinese operator reads the labels, the authority in words and the rules' sentences
            // a rep reads in opps.
            func chinese(_ args: String...) async -> String {
                await ProcessEnvironment.$pinned.withValue(["LANG": "zh_CN.UTF-8"]) { await oppsHub(args) }.stdout
            }
            let trailZh = await chinese("audit", code, "--data", hub).split(separator: "\n").map(String.init)
            #expect(trailZh.prefix(2) == ["\(code) 商机「ACME」", "id \(id)；时间为服务器时间（UTC）"], "\(trailZh)")
            #expect(trailZh.contains { $0.hasPrefix("#") && $0.contains("  sam  新建，阶段「需求挖掘」（主导）") }, "\(trailZh)")
            #expect(trailZh.contains { $0.hasPrefix("#") && $0.contains("  max  金额 = 「30,000.00」（可覆盖）") }, "\(trailZh)")
            #expect(unspaced(trailZh.joined()).contains(unspaced("sam 金额 = 「20.00」：未被采用（同时修改：对此字段权限更高的一方胜出）；当时的值 「30,000.00」")), "\(trailZh)")
            #expect(trailZh.allSatisfy { $0.displayWidth <= 80 }, "\(trailZh)")
            let listedZh = await chinese("conflicts", "--user", "sam", "--data", hub)
            #expect(listedZh.hasPrefix("#\(c["id"]?.int ?? 0)  \(code) 商机「ACME」 · 金额 "), "\(listedZh)")
            #expect(listedZh.contains("    sam 写的「20.00」：未被采用（同时修改：对此字段权限更高的一方胜出）\n    当时的值：「30,000.00」（max）\n"), "\(listedZh)")
            // Written since: what held when the hub decided, and what holds now.
            _ = await opps("set", id, "amount=35.00", "--home", f.home("max"))
            _ = await opps("sync", "--home", f.home("max"))
            let since = await oppsHub("conflicts", "--user", "sam", "--data", hub).stdout
            #expect(since.contains("    held: \"30,000.00\" (max); now: \"35.00\"\n"), "\(since)")
            #expect(await chinese("conflicts", "--user", "sam", "--data", hub).contains("    当时的值：「30,000.00」（max）；现在：「35.00」\n"))
            let users = await oppsHub("user", "list", "--data", hub).stdout.split(separator: "\n")
            #expect(users.first == "NAME  ROLE       TEAM  TERRITORY  MANAGER  CAPACITY" && users.contains { $0.hasPrefix("sam   sales") }, "\(users)")
            let restore = await oppsHub("conflicts", "restore", String(c["id"]?.int ?? 0), "--as", "max", "--data", hub)
            #expect(restore.code == 0, "\(restore.stderr)")
            _ = await opps("sync", "--home", f.home("sam"))
            #expect(await opps("show", id, "--home", f.home("sam"), "--json").json?["fields"]?["amount"]?.string == "20.00")
            let compact = await oppsHub("compact", "--data", hub, "--json")
            #expect(compact.code == 0)
            #expect(await oppsHub("audit", "not-an-id", "--data", hub).code == 1)
            #expect(await oppsHub("conflicts", "restore", "9999", "--as", "max", "--data", hub).code == 1)
            #expect(await oppsHub("backup", "--to", f.root + "/b1.sqlite", "--data", hub).code == 0)
            #expect(await oppsHub("backup", "--to", f.root + "/b1.sqlite", "--data", hub).code == 1)  // never overwrites
            #expect(await oppsHub("restore", "--from", f.root + "/nothing.sqlite", "--data", hub).code == 1)
        }
    }
}

/// Issue 13 hole 2: a hub database written before values had ranges may hold a poisoned value;
/// every reader survives it (the operator's conflicts and audit, the rep's conflicts).
@Suite struct PoisonedValueTests {
    @Test func storedValuesOutOfRangeAreReadWithoutTrapping() async throws {
        let f = try CommandFixture()
        let store = try SQLiteHubStore(path: f.root + "/hub/hub.sqlite")
        let record = RecordID(high: 0x0190_0000_0000_7000, low: 0x8000_0000_0000_0001)
        let stamp = Stamp(hlc: HLC(rawValue: UInt64.max), replica: ReplicaID(UUID128(high: 1, low: 1)))
        for value in [
            Value.timestamp(Timestamp(milliseconds: 1 << 62)), .timestamp(Timestamp(milliseconds: Int64.min)),
            .date(CivilDate(daysSinceEpoch: Int32.min)), .decimal(ExactDecimal(units: Int64.min, scale: 18)),
        ] {
            let loser = FieldState(value: value, stamp: stamp, author: "sam", authority: .hidden)
            _ = try store.addConflict(
                ConflictRecord(
                    id: 0, record: record, entity: "activity", field: "at", outcome: .rejected, rule: .notVisible,
                    loser: loser, winner: loser), owner: "sam", hubMilliseconds: Int64.max)
        }
        let conflicts = await oppsHub("conflicts", "--data", f.root + "/hub")
        #expect(conflicts.code == 0, "\(conflicts.stderr)")
        #expect(await oppsHub("conflicts", "--data", f.root + "/hub", "--json").code == 0)
        #expect(await oppsHub("audit", record.description, "--data", f.root + "/hub").code == 0)
        try await f.serving { url in
            #expect(await opps("init", "--hub", url, "--token", f.tokens["sam"]!, "--home", f.home("sam")).code == 0)
            #expect(await opps("conflicts", "--home", f.home("sam")).code == 0)
            #expect(await opps("conflicts", "--home", f.home("sam"), "--json").code == 0)
        }
    }
}

extension CommandFixture {
    /// sam's deal `name` with his 15 % discount waiting for max's decision, synced to the hub.
    func samsDiscountWaiting(on name: String, initialising url: String) async throws -> String {
        let deal = try await samsDeal(name, initialising: url)
        #expect(await opps("set", deal, "discount=15", "--home", home("sam")).stdout.contains("requested approval"))
        #expect(await opps("sync", "--home", home("sam")).code == 0)
        return deal
    }
}
