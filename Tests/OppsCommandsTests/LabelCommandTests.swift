import Foundation
import OppsConsole
import OppsCore
import OppsTestSupport
import Testing

@testable import OppsCommands

/// Issue 15: the workspace's labels in the reader's language, and labels as input.
@Suite struct LabelCommandTests {
    @Test func aChineseReaderSeesAndTypesLabelsWhileTheWireKeepsNames() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            #expect(await f.initReplica("sam", url).code == 0)
            let home = f.home("sam")
            let made = await opps("new", "华为云 试点", "--account", "华为", "--amount", "120000.00", "--currency", "人民币", "--home", home)
            #expect(made.code == 0, "a currency by its label: \(made.stderr)")
            let id = String(made.stdout.prefix(ShortID.length))
            // Field and member labels as input, in one edit.
            let set = await opps("set", id, "技术风险=低", "客户需求=预算审批", "decision_makers=王总", "close_date=2027-03-31", "--home", home, "--locale", "zh-CN")
            #expect(set.code == 0, "\(set.stderr)")
            #expect(set.stdout.contains("技术风险") && set.stdout.contains("客户需求"), "what changed, in the reader's words: \(set.stdout)")
            // A stage by its label.
            let moved = await opps("stage", id, "方案", "--home", home)
            #expect(moved.code == 0, "\(moved.stderr)")
            // --json and the wire keep names.
            let json = await opps("show", id, "--json", "--home", home, "--locale", "zh-CN")
            let fields = json.json?["fields"]
            #expect(fields?["tech_risk"]?.string == "low")
            #expect(fields?["stage"]?.string == "solution")
            #expect(fields?["currency"]?.string == "CNY")
            // show in Chinese: field labels and member labels.
            let shown = await opps("show", id, "--home", home, "--locale", "zh-CN")
            #expect(shown.stdout.contains("技术风险") && shown.stdout.contains("低") && shown.stdout.contains("方案") && shown.stdout.contains("人民币"), "\(shown.stdout)")
            #expect(!shown.stdout.contains("tech_risk"))
            // The same in names without a language.
            let plain = await opps("show", id, "--home", home)
            #expect(plain.stdout.contains("tech_risk") && plain.stdout.contains("low"), "\(plain.stdout)")
            // History speaks the reader's language too.
            let history = await opps("history", id, "--home", home, "--locale", "zh-CN")
            #expect(history.stdout.contains("技术风险") && history.stdout.contains("→ 低"), "\(history.stdout)")
            // Unknown labels: one clear line listing what is possible.
            let bad = await opps("stage", id, "成交", "--home", home, "--locale", "zh-CN")
            #expect(bad.code == 1 && bad.stderr.contains("赢单"), "\(bad.stderr)")
            #expect(await opps("set", id, "技术风险=很低", "--home", home).code == 1)
            #expect(await opps("sync", "--home", home).code == 0)
            // The setting: it sticks, --locale wins over it, --clear forgets it.
            #expect(await opps("locale", "fr", "--home", home).stderr.contains("no labels in fr"))
            #expect(await opps("locale", "zh_CN", "--home", home).code != 0)
            #expect(await opps("locale", "zh-CN", "--home", home).stdout.contains("显示语言：zh-CN"))
            #expect(await opps("list", "--home", home).stdout.contains("方案"))
            #expect(await opps("list", "--home", home, "--stage", "方案").stdout.contains("华为云 试点"))
            #expect(await opps("list", "--home", home, "--locale", "en").stdout.contains("solution"))
            #expect(await opps("locale", "--clear", "--home", home).stdout.contains("showing: names"))
            #expect(await opps("list", "--home", home).stdout.contains("solution"))
        }
    }

    @Test func initKeepsTheLanguageGiven() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            let made = await opps("init", "--hub", url, "--token", f.tokens["sam"]!, "--home", f.home("sam"), "--locale", "zh-CN")
            #expect(made.code == 0, "\(made.stderr)")
            // A new rep's empty laptop: init ends with how to make the first deal, and so does the board.
            #expect(made.stdout.hasSuffix("接下来：opps new 名称 --account 客户 新建第一个商机；opps help 列出全部命令\n"), "\(made.stdout)")
            #expect(await opps("board", "--home", f.home("sam")).stdout.hasSuffix("本机还没有商机：opps new 名称 --account 客户 新建一个，opps sync 取回你的商机\n"))
            #expect(await opps("locale", "--home", f.home("sam")).stdout.contains("显示语言：zh-CN"))
            #expect(await opps("new", "试点", "--account", "上海云帆", "--home", f.home("sam")).code == 0)
            #expect(await opps("list", "--home", f.home("sam")).stdout.contains("需求挖掘"))
            // With a deal, the board is the deal; a filter that leaves none says so.
            #expect(!(await opps("board", "--home", f.home("sam")).stdout.contains("本机还没有商机")))
            #expect(await opps("board", "--owner", "max", "--home", f.home("sam")).stdout.hasSuffix("本机没有符合条件的商机\n"))
            // A laptop that pulled deals: init says what to look at first.
            #expect(await opps("sync", "--home", f.home("sam")).code == 0)
            let again = await opps("init", "--hub", url, "--token", f.tokens["sam"]!, "--home", f.root + "/sam-en", "--locale", "en")
            #expect(
                unspaced(again.stdout).hasSuffix(unspaced("next: opps today (what is due), opps board (your pipeline), opps web (the same in a browser)\n")),
                "\(again.stdout)")
            #expect(
                again.stdout.split(separator: "\n").dropFirst().allSatisfy { (line: Substring) in line.count <= 80 },
                "what to type next reads at 80 columns: \(again.stdout)")
        }
    }

    /// Chinese labels are two columns wide each: every row of `list` keeps its columns aligned.
    @Test func chineseLabelsKeepTheColumnsAligned() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            #expect(await f.initReplica("sam", url).code == 0)
            let home = f.home("sam")
            #expect(await opps("new", "Short", "--account", "A", "--home", home).code == 0)
            #expect(await opps("new", "华东区 物流 平台 二期", "--account", "上海云帆", "--amount", "5.00", "--home", home).code == 0)
            let out = await opps("list", "--home", home, "--locale", "zh-CN").stdout
            let lines = out.split(separator: "\n").map(String.init)
            #expect(lines.count == 3)
            // The amount column starts at the same display column under its header, after a
            // Chinese name (sam's own list has no owner column: every deal is sam's).
            #expect(!lines[0].contains("负责人"), "\(out)")
            let starts = lines.compactMap { line -> Int? in
                guard let r = line.range(of: "金额") ?? line.range(of: "5.00") else { return nil }
                return String(line[..<r.lowerBound]).displayWidth
            }
            #expect(starts.count == 2 && Set(starts).count == 1, "\(out)")
        }
    }

    @Test func aHubStartsInChinese() async throws {
        let dir = Scratch.directory("opps-locale")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(await oppsHub("init", "--data", dir, "--locale", "fr").code != 0)
        #expect(!FileManager.default.fileExists(atPath: dir + "/hub.sqlite"), "nothing made on a refusal")
        let made = await oppsHub("init", "--data", dir, "--locale", "zh-CN")
        #expect(made.code == 0, "\(made.stderr)")
        let shown = await oppsHub("workspace", "show", "--data", dir)
        let ws = try Workspace.decode(shown.stdout)
        #expect(ws.locale == "zh-CN")
        // A reader with no language of their own (LANG=C) reads it in Chinese; names still work.
        #expect(Vocabulary(ws, locale: ws.displayLocale(preferring: [nil])).stage("won") == "赢单")
        #expect(ws.entity("opportunity")?.field(input: "tech_risk")?.name == "tech_risk")
    }

    /// An operator who set OPPS_HUB_STORE and typed --data makes a SQLite hub (the flag wins, as
    /// docs/operator.md says): told at once, in their language, not when a second hub cannot
    /// share it. Without OPPS_HUB_STORE, nothing is said.
    @Test func aHubMadeWithDataWhileOPPSHUBSTOREIsSetSaysItIsOnSQLite() async throws {
        let dir = Scratch.directory("opps-store-env")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let environment = ["OPPS_HUB_STORE": "postgres://opps:x@127.0.0.1:1/opps", "LANG": "zh_CN.UTF-8"]
        let made = await ProcessEnvironment.$pinned.withValue(environment) { await oppsHub("init", "--data", dir) }
        #expect(made.code == 0 && FileManager.default.fileExists(atPath: dir + "/hub.sqlite"), "\(made.stderr)")
        #expect(made.stderr == "注意：已设置 OPPS_HUB_STORE，但 --data 会在 \(dir) 建立 SQLite 服务器；要用 PostgreSQL，请用 --store 或去掉 --data\n", "\(made.stderr)")
        let other = dir + "/plain"
        let plain = await ProcessEnvironment.$pinned.withValue(["LANG": "C"]) { await oppsHub("init", "--data", other) }
        #expect(plain.code == 0 && plain.stderr.isEmpty, "\(plain.stderr)")
    }

    /// `opps team add` takes the role by label, and without one the role the user has on other
    /// deals' teams here; with neither it says what to type.
    @Test func aTeamRoleIsTypedByLabelOrKnownFromOtherTeams() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            #expect(await f.initReplica("sam", url).code == 0)
            let sam = f.home("sam")
            let first = try #require(await opps("new", "Alpha", "--account", "ACME", "--home", sam, "--json").json?["id"]?.string)
            let second = try #require(await opps("new", "Beta", "--account", "ACME", "--home", sam, "--json").json?["id"]?.string)
            let unknown = await opps(["team", "add", first, "eve", "--home", sam], environment: ["LANG": "C"])
            #expect(
                unknown.code != 0 && unknown.stderr == "opps: say eve's role on this deal: --role expert (product expert) or --role success (customer success)\n",
                "\(unknown.stderr)")
            #expect(await opps("team", "add", first, "eve", "--role", "manager", "--home", sam).code != 0)
            #expect(await opps("team", "add", first, "eve", "--role", "产品专家", "--home", sam).code == 0)
            // eve is an expert on Alpha's team: Beta's takes her as one without being told.
            #expect(await opps("team", "add", second, "eve", "--home", sam).code == 0)
            let team = await opps("team", "list", second, "--home", sam, "--json").json?.array ?? []
            #expect(team.count == 1 && team.first?["role"]?.string == "expert", "\(team)")
        }
    }
}
