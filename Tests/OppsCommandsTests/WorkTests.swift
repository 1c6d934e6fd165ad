import Foundation
import OppsCSV
import OppsCommands
import OppsConsole
import OppsCore
import OppsReplica
import Testing

/// Activities, tasks and the day's list (issue 5, items 4 and 5, without the check-in skew flag).
@Suite struct WorkTests {
    @Test func activitiesLoggedOfflineOnBothSidesMergeAsAUnion() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            for u in ["sam", "max"] { #expect(await opps("init", "--hub", url, "--token", f.tokens[u]!, "--home", f.home(u)).code == 0) }
            let deal = try #require(await opps("new", "ACME", "--account", "ACME", "--home", f.home("sam"), "--json").json?["id"]?.string)
            #expect(await opps("sync", "--home", f.home("sam")).code == 0)
            #expect(await opps("sync", "--home", f.home("max")).code == 0)
            // Both offline.
            let call = await opps("log", deal, "--kind", "call", "--note", "budget confirmed", "--home", f.home("sam"), "--json")
            #expect(call.code == 0, "\(call.stderr)")
            #expect(call.json?["fields"]?["kind"]?.string == "call")
            #expect(call.json?["fields"]?["at"]?.string != nil)
            #expect(await opps("log", deal, "--kind", "visit", "--place", "Shanghai office", "--at", "2026-11-20T09:30:00Z", "--home", f.home("max")).code == 0)
            #expect(await opps("log", deal, "--kind", "party", "--home", f.home("max")).code == 1)
            for u in ["sam", "max", "sam"] { #expect(await opps("sync", "--home", f.home(u)).code == 0) }
            for u in ["sam", "max"] {
                let replica = try OppsReplicaProbe(home: f.home(u))
                let kinds = try replica.activities(of: deal).sorted()
                #expect(kinds == ["call", "visit"], "\(u): \(kinds)")
            }
        }
    }

    @Test func todayListsDueOverdueAndStaleWork() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            // The work happens on a laptop 20 days ago (device time); "today" is asked for now.
            // The meeting is logged on day 15, when it happened: an activity dated after the
            // moment it is logged is refused (future-time).
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            let base = now - 20 * 86_400_000
            let today = Timestamp(milliseconds: base).date
            func day(_ offset: Int32) -> String { CivilDate(daysSinceEpoch: today.daysSinceEpoch + offset).description }
            func at(_ ms: Int64, _ args: String...) async -> Run { await DeviceClock.$fixed.withValue(ms) { await opps(args) } }
            #expect(await at(base, "init", "--hub", url, "--token", f.tokens["sam"]!, "--home", f.home("sam")).code == 0)
            let a = try #require(await at(base, "new", "Active deal", "--account", "A Co", "--home", f.home("sam"), "--json").json?["id"]?.string)
            let b = try #require(await at(base, "new", "Quiet deal", "--account", "B Co", "--home", f.home("sam"), "--json").json?["id"]?.string)
            // As of day 20: a task due then, one overdue, a next step due then, and an activity
            // 5 days before on deal a only.
            #expect(await at(base, "task", "add", a, "send quote", "--due", day(20), "--home", f.home("sam")).code == 0)
            let late = try #require(await at(base, "task", "add", b, "call back", "--due", day(18), "--home", f.home("sam"), "--json").json?["id"]?.string)
            let doneTask = try #require(await at(base, "task", "add", b, "already done", "--due", day(10), "--home", f.home("sam"), "--json").json?["id"]?.string)
            #expect(await at(base, "task", "done", doneTask, "--home", f.home("sam")).code == 0)
            #expect(await at(base, "set", a, "next_step=demo", "next_step_due=\(day(20))", "--home", f.home("sam")).code == 0)
            let dayStart = Int64(today.daysSinceEpoch) * 86_400_000
            #expect(
                await at(dayStart + 15 * 86_400_000 + 12 * 3_600_000, "log", a, "--kind", "meeting", "--at", day(15) + "T10:00:00Z", "--home", f.home("sam")).code == 0)
            #expect(await opps("sync", "--home", f.home("sam")).code == 0)
            let r = await opps("today", "--date", day(20), "--home", f.home("sam"), "--json")
            #expect(r.code == 0, "\(r.stderr)")
            let due = r.json?["due"]?.array ?? [], overdue = r.json?["overdue"]?.array ?? [], stale = r.json?["stale"]?.array ?? []
            #expect(Set(due.compactMap { $0["kind"]?.string }) == ["task", "next_step"])
            #expect(overdue.map { $0["id"]?.string } == [late])
            #expect(stale.map { $0["id"]?.string } == [b])  // a had a meeting 5 days before; b nothing for 20 days
            #expect(await opps("today", "--date", "someday", "--home", f.home("sam")).code == 64)
            #expect(await opps("task", "done", a, "--home", f.home("sam")).code == 1)  // a deal, not a task
        }
    }

    /// `opps task list`: a rep's open tasks by due date, marked late or today, with the deal
    /// each is on and whose it is; a deal's tasks, done ones last; the ids typed back.
    @Test func taskListShowsOpenTasksByDueDate() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            let today = LocalTime.date(now)
            func day(_ offset: Int32) -> CivilDate { CivilDate(daysSinceEpoch: today.daysSinceEpoch + offset) }
            func sam(_ args: [String]) async -> Run { await DeviceClock.$fixed.withValue(now) { await opps(args + ["--home", f.home("sam")]) } }
            func sam(_ args: String...) async -> Run { await sam(args) }
            #expect(await sam("init", "--hub", url, "--token", f.tokens["sam"]!).code == 0)
            #expect(await sam("task", "list").stdout == "you have no open tasks; add one: opps task add DEAL \"what to do\" --due DATE\n")
            // A day with nothing on it says so, and where the work is: on a first day with no deal,
            // how to make one; then the board.
            #expect(
                await sam("today").stdout
                    == "today \(today): 0 due, 0 overdue, 0 stale\nno deals yet: opps new NAME --account ACCOUNT makes one, opps sync brings yours\n"
            )
            let a = try #require(await sam("new", "Active deal", "--account", "A Co", "--json").json?["id"]?.string)
            #expect(await sam("today").stdout == "today \(today): 0 due, 0 overdue, 0 stale\nnothing due or overdue today; your deals: opps board\n")
            let b = try #require(await sam("new", "Quiet deal", "--account", "B Co", "--json").json?["id"]?.string)
            func task(_ deal: String, _ text: String, _ due: CivilDate, _ extra: String...) async throws -> String {
                try #require(await sam(["task", "add", deal, text, "--due", due.description, "--json"] + extra).json?["id"]?.string)
            }
            let quote = try await task(a, "send quote", day(0))
            let late = try await task(b, "call back", day(-2))
            let old = try await task(b, "already done", day(-5))
            let demo = try await task(a, "book the demo", day(3), "--assignee", "max")
            #expect(await sam("task", "done", old).code == 0)
            let code = { (id: String) in String(ShortID.code(RecordID(parsing: id)!).prefix(ShortID.length)) }
            func shown(_ d: CivilDate) -> String {
                let weekday = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][Int(d.weekday) - 1]
                return (d.components.year == today.components.year ? String(d.description.dropFirst(5)) : d.description) + " " + weekday
            }
            let list = await sam("task", "list")
            #expect(list.code == 0, "\(list.stderr)")
            #expect(
                list.stdout.split(separator: "\n").map(String.init) == [
                    "your open tasks (3):",
                    "  \(code(late))  \(shown(day(-2)))  overdue  Quiet deal: call back",
                    "  \(code(quote))  \(shown(day(0)))  today    Active deal: send quote",
                    "  \(code(demo))  \(shown(day(3)))           Active deal: book the demo (for max)",
                    "mark one done: opps task done ID",
                    "add one: opps task add DEAL \"what to do\" --due DATE",
                ], "\(list.stdout)")
            // A deal's, by the short id the list printed: done ones too, last.
            let ofB = await sam("task", "list", code(b))
            #expect(ofB.stdout.hasPrefix("tasks of Quiet deal (2, 1 done):\n  \(code(late))  "), "\(ofB.stdout)")
            #expect(ofB.stdout.contains("  \(code(old))  \(shown(day(-5)))  done     already done\n"), "\(ofB.stdout)")
            #expect(ofB.stdout.hasSuffix("add one: opps task add \(code(b)) \"what to do\" --due DATE\n"), "\(ofB.stdout)")
            #expect(await sam("task", "list", "--json").json?.array?.compactMap { $0["id"]?.string } == [late, quote, demo])
            #expect(await sam("task", "list", code(b), "--json").json?.array?.compactMap { $0["done"]?.bool } == [false, true])
            // Typed back: a listed id is done, and leaves the list.
            #expect(await sam("task", "done", code(late)).code == 0)
            #expect(await sam("task", "list", "--json").json?.array?.compactMap { $0["id"]?.string } == [quote, demo])
            // In Chinese, and for a deal with none; a task's id is no deal.
            let zh = await ProcessEnvironment.$pinned.withValue(["LANG": "zh_CN.UTF-8"]) { await sam("task", "list", "--locale", "zh-CN") }
            #expect(zh.stdout.hasPrefix("你的未完成任务（2 项）：\n  \(code(quote))  "), "\(zh.stdout)")
            #expect(zh.stdout.contains("今天  Active deal：send quote\n") && zh.stdout.contains("Active deal：book the demo（由 max 执行）\n"), "\(zh.stdout)")
            let c = try #require(await sam("new", "Third deal", "--account", "C Co", "--json").json?["id"]?.string)
            #expect(await sam("task", "list", c).stdout == "Third deal has no tasks; add one: opps task add \(code(c)) \"what to do\" --due DATE\n")
            #expect(await sam("task", "list", code(quote)).code == 1)
        }
    }
}

/// Reads a replica directly, for assertions the command line does not print.
struct OppsReplicaProbe {
    let replica: Replica
    init(home: String) throws { replica = try Replica(home: home, clock: FixedClock(milliseconds: 0)) }

    func activities(of deal: String) throws -> [String] {
        let id = try #require(RecordID(parsing: deal))
        return try replica.store.list(entity: "activity", workspace: replica.workspace).filter { $0["opportunity"] == .reference(id) }.map { $0["kind"].canonicalText }
    }
}

@Suite struct CheckinSkewTests {
    @Test func checkinsAreFlaggedWhenTheDeviceClockDisagreesWithTheHub() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            let http = HTTPTransport(baseURL: url)
            // sam's laptop clock is an hour behind.
            let slow = try await Replica.create(
                home: f.home("sam"), hubURL: url, token: f.tokens["sam"]!, transport: http,
                clock: FixedClock(milliseconds: now - 3_600_000))
            var rng = SeededGenerator(seed: 5)
            let deal = try slow.create(entity: "opportunity", stage: "discovery", fields: [("name", .text("ACME"))], using: &rng).record
            let checkin = try slow.create(entity: "activity", stage: nil, fields: [("opportunity", .reference(deal)), ("kind", .member("checkin"))], using: &rng).record
            let call = try slow.create(entity: "activity", stage: nil, fields: [("opportunity", .reference(deal)), ("kind", .member("call"))], using: &rng).record
            let report = try await slow.sync(transport: http)
            #expect(report.flaggedCheckins == 1)
            #expect(abs(report.clockSkewMilliseconds - 3_600_000) < 60_000)
            guard case let .integer(skew)? = try slow.record(checkin)?["clock_skew_s"] else {
                Issue.record("the check-in carries no clock skew")
                return
            }
            #expect(abs(skew - 3600) < 60)
            #expect(try slow.record(call)?["clock_skew_s"] == .null)  // only check-ins are flagged
            // A laptop with a good clock flags nothing.
            let good = try await Replica.create(
                home: f.home("max"), hubURL: url, token: f.tokens["max"]!, transport: http,
                clock: FixedClock(milliseconds: now))
            _ = try await good.sync(transport: http)
            _ = try good.create(entity: "activity", stage: nil, fields: [("opportunity", .reference(deal)), ("kind", .member("checkin"))], using: &rng)
            #expect(try await good.sync(transport: http).flaggedCheckins == 0)
            await http.shutdown()
        }
    }
}

@Suite struct ExportTests {
    @Test func exportWritesEveryFieldAsCSVWithQuoting() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            #expect(await opps("init", "--hub", url, "--token", f.tokens["sam"]!, "--home", f.home("sam")).code == 0)
            let id = try #require(
                await opps("new", "Deal, \"big\"", "--account", "ACME", "--amount", "12000", "--currency", "CNY", "--home", f.home("sam"), "--json").json?["id"]?.string)
            let r = await opps("export", "--csv", "--home", f.home("sam"))
            #expect(r.code == 0)
            let rows = r.stdout.trimmingCharacters(in: .newlines).components(separatedBy: "\r\n")
            #expect(rows.count == 2)
            #expect(rows[0].hasPrefix("id,name,account,contact,amount,currency"))
            #expect(rows[1].hasPrefix(id + ",\"Deal, \"\"big\"\"\","))
            #expect(rows[1].contains(",12000.00,CNY,"))
            let accounts = await opps("export", "--csv", "--type", "account", "--home", f.home("sam"))
            #expect(accounts.stdout.contains("ACME"))
            // CSV is the only format: --csv may be left out; the type by its label too.
            #expect(await opps("export", "--home", f.home("sam")).stdout == r.stdout)
            #expect(await opps("export", "--type", "客户", "--home", f.home("sam")).stdout == accounts.stdout)
            #expect(await opps("export", "--csv", "--type", "widget", "--home", f.home("sam")).code == 1)
        }
    }

    /// `--sheet`: the same records for a person with a spreadsheet — headed by labels, references
    /// by name, choices as they read, numbers a spreadsheet sums, a byte-order mark so Excel reads
    /// Chinese — each row led by the short id opps takes back.
    @Test func aSheetIsForReadingInASpreadsheet() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            let sam = f.home("sam")
            #expect(await opps("init", "--hub", url, "--token", f.tokens["sam"]!, "--home", sam, "--locale", "zh-CN").code == 0)
            let id = try #require(
                await opps("new", "华信物流 续约", "--account", "华信物流", "--amount", "1200000", "--currency", "CNY", "--home", sam, "--json").json?["id"]?.string)
            #expect(await opps("set", id, "赢率=40", "下一步==先报价", "--home", sam).code == 0)
            let sheet = await opps("export", "商机", "--sheet", "--home", sam)
            #expect(sheet.code == 0, "\(sheet.stderr)")
            #expect(sheet.stdout.hasPrefix("\u{FEFF}"), "a byte-order mark first")
            let rows = try CSV.parse(sheet.stdout).map(\.fields)
            #expect(rows.count == 2, "\(rows)")
            let header = try #require(rows.first), row = try #require(rows.last)
            #expect(Array(header.prefix(5)) == ["编号", "名称", "客户", "联系人", "金额"], "\(header)")
            #expect(header.suffix(2) == ["创建时间", "创建人"], "\(header)")
            #expect(!header.contains { $0.hasPrefix("stage") || $0 == "阶段记录" || $0 == "id" }, "no storage columns: \(header)")
            func cell(_ label: String) -> String? { header.firstIndex(of: label).map { row[$0] } }
            #expect([cell("客户"), cell("金额"), cell("币种"), cell("赢率")] == ["华信物流", "1200000.00", "人民币", "40%"], "\(header) \(row)")
            #expect(cell("阶段") == "线索" || cell("阶段") == "需求挖掘", "a stage by its label: \(row)")
            // A text a spreadsheet would run as a formula is still guarded.
            #expect(sheet.stdout.contains(",'=先报价,") || sheet.stdout.contains(",\"'=先报价\","), "\(sheet.stdout)")
            // The id it leads with is one opps takes back.
            let code = row[0]
            let shown = await opps("show", code, "--home", sam, "--json")
            #expect(code.count == 8 && shown.json?["id"]?.string == id, "\(code)")
            // In English, the header in English; the lossless form is unchanged (no mark, ids).
            let english = await opps("export", "--sheet", "--home", sam, "--locale", "en").stdout
            #expect(english.hasPrefix("\u{FEFF}ID,Name,Account,Contact,Amount,"), "\(english.prefix(80))")
            #expect(await opps("export", "--home", sam).stdout.hasPrefix("id,name,account,"))
        }
    }
}
