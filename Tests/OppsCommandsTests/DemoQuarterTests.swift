import AsyncHTTPClient
import Foundation
import NIOCore
import OppsConsole
import OppsCore
import OppsHub
import OppsStore
import OppsTestSupport
import OppsWeb
import OppsWire
import Testing

@testable import OppsHubCommands

/// Issue 19: the demo holds a believable quarter, played through replicas and the hub's rules,
/// and every picture has something to say on first run — consistent with what was generated.
@Suite(.serialized) struct DemoQuarterTests {
    @Test func theSameSeedPlansTheSameQuarter() {
        var a = SplitMix(7), b = SplitMix(7), c = SplitMix(8)
        let quarter = DemoQuarter(seed: 7, deals: 120, now: 1_795_000_000_000)
        let (pa, pb, pc) = (quarter.plans(&a), quarter.plans(&b), quarter.plans(&c))
        #expect(pa.map(\.name) == pb.map(\.name) && pa.map { $0.actions.count } == pb.map { $0.actions.count })
        #expect(pa.map { $0.actions.count } != pc.map { $0.actions.count }, "another seed, another quarter")
        #expect(pa.count == 120)
        // Names: distinct customers per territory, English north and Chinese east.
        let accounts = DemoQuarter.accounts(300)
        let names = (0..<accounts).map { Names.account($0).full }
        #expect(Set(names).count == accounts)
        #expect(Set(names.map(Duplicates.key)).count == accounts, "no two demo customers look like duplicates")
        #expect(names[0].allSatisfy(\.isASCII) && names[1].hasSuffix("有限公司"))
    }

    /// A rerun of the demo prints the tokens it printed before, so the laptops made with them
    /// keep syncing; a token the operator rotated since is rotated again and printed anew.
    @Test func aRerunOfTheDemoKeepsItsTokens() throws {
        let f = try CommandFixture()
        let data = f.root + "/demo"
        let demo = try DemoHub(directory: data, users: false)
        var rng = SystemRandomNumberGenerator()
        let first = try Demo.issueTokens(store: demo.store, engine: demo.engine, data: data, rng: &rng)
        #expect(first.count == DemoQuarter.team.count)
        let attributes = try FileManager.default.attributesOfItem(atPath: data + "/demo-tokens")
        #expect((attributes[.posixPermissions] as? Int) == 0o600, "readable by its owner alone")
        let again = try Demo.issueTokens(store: demo.store, engine: demo.engine, data: data, rng: &rng)
        #expect(again.map(\.token) == first.map(\.token))
        for (name, _, token) in again { #expect(try demo.engine.authenticate(authorization: "Bearer " + token).name == name) }
        // The operator rotates sam's token: the kept one no longer works, and a new one is printed.
        let rotated = try demo.engine.rotateToken("sam", rng: &rng)
        let third = try Demo.issueTokens(store: demo.store, engine: demo.engine, data: data, rng: &rng)
        let sam = try #require(third.first { $0.name == "sam" }).token
        #expect(sam != rotated && sam != first.first { $0.name == "sam" }?.token)
        #expect(try demo.engine.authenticate(authorization: "Bearer " + sam).name == "sam")
        #expect(third.filter { $0.name != "sam" }.map(\.token) == first.filter { $0.name != "sam" }.map(\.token))
        #expect(
            Demo.guide(url: "http://x", data: data, fresh: false, issued: third, quarter: nil, workspaceVersion: 6, opps: "opps", chinese: false)
                .contains("Laptops made with these tokens before keep syncing (opps sync)."))
    }

    @Test func everyPictureHasSomethingToSay() async throws {
        let f = try CommandFixture()
        let demo = try DemoHub(directory: f.root + "/demo")
        let (config, tokens) = (demo.config, demo.tokens)
        let lines = LineBox()
        let summary = try await DemoQuarter(seed: 11, deals: 90, now: demo.now).run(store: demo.store, configuration: config, tokens: tokens) { lines.add($0) }
        #expect(!lines.all.contains { $0.contains("could not") }, "the story never runs into a refusal: \(lines.all)")
        #expect(summary.deals == 90)
        for stage in Workspace.default.stages { #expect(summary.byStage[stage.name, default: 0] > 0, "a deal in \(stage.name): \(summary.byStage)") }
        #expect(summary.activities > 90 && summary.tasks > 0)
        #expect(summary.approvalsDecided == 1 && summary.approvalsPending == 1 && summary.teamRequests == 1, "\(summary)")
        #expect(summary.conflicts == 2, "a manager's override and the expert's concurrent edit")

        let hub = try Hub(configuration: config)
        let issued = tokens
        let version = try demo.store.workspaceVersion()
        try await f.serving(hub: hub) { url in
            for u in ["sam", "max", "lin", "wei", "eve", "sue"] {
                let made = await opps("init", "--hub", url, "--token", issued[u]!, "--home", f.root + "/r-" + u)
                #expect(made.code == 0, "\(made.stderr)")
            }
            func run(_ user: String, _ args: String...) async -> Run { await opps(args + ["--home", f.root + "/r-" + user]) }
            // What the demo prints, in each language: every command line runs as printed (the
            // browser's excepted), and its handshake is answered without the workspace.
            for chinese in [false, true] {
                let issued = DemoQuarter.team.map { ($0.name, $0.role, tokens[$0.name]!) }
                let guide = Demo.guide(
                    url: url, data: "demo", fresh: true, issued: issued, quarter: (summary, 1.0), workspaceVersion: version, opps: "opps", chinese: chinese)
                let commands = guide.filter { $0.hasPrefix("  opps ") && !$0.hasPrefix("  opps web") }
                #expect(commands.count == 8, "\(guide)")
                let prefix = f.root + (chinese ? "/zh-" : "/en-")
                // The Chinese guide is read in a Chinese terminal: sam, introduced "in English", reads English there too.
                let terminal = ["LANG": chinese ? "zh_CN.UTF-8" : "C.UTF-8"]
                for line in commands {
                    let words = line.dropFirst("  opps ".count).split(separator: " ").map { $0.replacingOccurrences(of: "./opps-", with: prefix) }
                    let ran = await opps(words, environment: terminal)
                    #expect(ran.code == 0, "\(line): \(ran.stderr)")
                    if chinese && words.first == "today" { #expect(ran.stdout.hasPrefix("今天"), "\(ran.stdout.prefix(200))") }
                }
                // sue, introduced by what her day holds, finds it there: won deals to take on.
                let sueDay = await opps(["today", "--home", prefix + "sue"], environment: terminal).stdout
                #expect(sueDay.contains(chinese ? "待接手的赢单（实施负责人未填）：" : "won deals no one has taken on (onboarding not set):"), "\(sueDay)")
                let english = chinese ? "sam" : "max", inChinese = chinese ? "lin" : "wei"
                #expect(await opps(["today", "--home", prefix + english], environment: terminal).stdout.hasPrefix("today "), "\(english), introduced in English")
                #expect(await opps(["today", "--home", prefix + inChinese], environment: terminal).stdout.hasPrefix("今天"), "\(inChinese), introduced in Chinese")
                #expect(guide.contains { $0.hasPrefix(chinese ? "这个季度：90 个商机（线索 " : "The quarter: 90 deals (lead ") }, "\(guide)")
                // The quarter's sentence: its counts grouped as every count printed, and within 80 columns.
                // (Chinese lines break between any characters, English ones at a space.)
                func said(_ lines: some Collection<String>, _ text: String) -> Bool {
                    chinese ? lines.joined().filter { $0 != " " }.contains(text.filter { $0 != " " }) : lines.joined(separator: " ").contains(text)
                }
                let quarter = guide.drop { !$0.hasPrefix(chinese ? "这个季度" : "The quarter") }.prefix { !$0.isEmpty }
                #expect(
                    summary.writes >= 1000 && said(quarter, grouped(summary.writes) + (chinese ? " 次写入" : " writes")), "\(quarter)")
                #expect(quarter.count > 1 && quarter.allSatisfy { $0.displayWidth <= 80 }, "\(quarter)")
                // Every token starts in the same terminal column, whatever the role's label.
                let userLines = guide.filter { line in issued.contains { line.hasPrefix("  \($0.0) ") } }
                let tokenColumns = Set(userLines.compactMap { line in line.range(of: " opps_").map { String(line[..<$0.upperBound]).displayWidth } })
                #expect(userLines.count == issued.count && tokenColumns.count == 1, "\(userLines)")
                let body = try #require(guide.first { $0.hasPrefix("       -d '") }?.dropFirst("       -d '".count).dropLast())
                let manager = chinese ? "lin" : "max"
                #expect(guide.contains("       -H 'Authorization: Bearer \(tokens[manager]!)' \\"))
                let http = HTTPClient(eventLoopGroupProvider: .singleton)
                var request = HTTPClientRequest(url: url + "/v1/handshake")
                request.method = .POST
                request.headers.add(name: "Content-Type", value: "application/json")
                request.headers.add(name: "Authorization", value: "Bearer " + tokens[manager]!)
                request.body = .bytes(ByteBuffer(string: String(body)))
                let response = try await http.execute(request, timeout: .seconds(30))
                let answer = try JSON.parse(String(buffer: try await response.body.collect(upTo: 1 << 20)))
                try await http.shutdown()
                #expect(response.status.code == 200 && answer["version"]?.int == Int(ProtocolVersion.current) && answer["user"]?.string == manager, "\(answer)")
                #expect(answer["workspace"] == nil, "the workspace the example names is the hub's: none is sent")
            }
            let board = await run("sam", "board", "--json")
            let cards = board.json?["stages"]?.array?.compactMap { $0["deals"]?.int }.reduce(0, +) ?? 0
            #expect(cards > 5, "sam's board: \(board.stdout.prefix(300))")
            // The funnel's closed deals are the quarter's: each manager sees their territory's.
            var won = 0, lost = 0
            for m in ["max", "lin"] {
                let funnel = await run(m, "funnel", "--json").json
                won += funnel?["won"]?.int ?? 0
                lost += funnel?["lost"]?.int ?? 0
            }
            #expect(won == summary.byStage["won"] && lost == summary.byStage["lost"], "\(won) won, \(lost) lost; generated \(summary.byStage)")
            let stays = await run("max", "report", "time-in-stage", "--json").json?.array?.compactMap { $0["stays"]?.int }.reduce(0, +) ?? 0
            #expect(stays > 20)
            let follow = await run("max", "report", "follow-up", "--json").json?.array ?? []
            #expect(!follow.isEmpty)
            let today = await run("sam", "today", "--json").json
            #expect((today?["due"]?.array?.count ?? 0) + (today?["overdue"]?.array?.count ?? 0) > 0, "sam has something due")
            #expect(await run("lin", "approvals", "--json").json?.array?.isEmpty == false, "the discount waiting for lin")
            #expect(await run("max", "approvals", "--json").json?.array?.isEmpty == false, "the team request waiting for max")
            // The date eve gave the task the rep gave her: the rep made it, and the rep's stood.
            // Hers, and the deal's rep's, who arbitrates what happens on his deal.
            let eves = await run("eve", "conflicts", "--json").json?.array ?? []
            #expect(eves.count == 1 && eves.first?["field"]?.string == "due" && eves.first?["winner_author"]?.string == "", "\(eves)")
            let sams = await run("sam", "conflicts", "--json").json?.array ?? []
            #expect(sams.count == 1 && sams.first?["field"]?.string == "due" && sams.first?["author"]?.string == "eve", "\(sams)")
            // The manager's override of his rep's amount (the rep's conflict), and eve's, on his reps' deals.
            let managers = await run("max", "conflicts", "--json").json?.array ?? []
            #expect(managers.compactMap { $0["field"]?.string }.sorted() == ["amount", "due"], "\(managers)")
            // sue, customer success, sees won deals only: each command she tries first says
            // where her work is. The board of open stages says how to see her won ones.
            let sueBoard = await run("sue", "board", "--locale", "zh-CN")
            #expect(
                sueBoard.stdout.hasSuffix("这里没有进行中的商机；已结束的 \(summary.byStage["won"] ?? 0) 个（赢单 \(summary.byStage["won"] ?? 0)）：opps board --closed\n"),
                "\(sueBoard.stdout)")
            #expect(await run("sue", "board", "--closed").stdout.contains("WON ("))
            // Her board in the browser shows the closed stages, and says why.
            let web = try WebApp(home: f.root + "/r-sue", clock: SystemClock(), transport: nil)
            let page = try await web.boardHTML()
            #expect(
                page.contains("No open deals here: these are the closed ones.") && page.contains("data-stage=\"won\"")
                    && !page.contains("data-stage=\"discovery\"") && !page.contains(">null<"), "\(page.prefix(600))")
            #expect(
                !(try await WebApp(home: f.root + "/r-sam", clock: SystemClock(), transport: nil).boardHTML().contains("No open deals here")),
                "a rep's board is open deals")
            // Her list has no owner column (she sees no owner, as a rep's own list is all theirs); the id she reads is one show takes.
            let list = await run("sue", "list")
            let header = list.stdout.split(separator: "\n").first.map(String.init) ?? ""
            #expect(header.hasPrefix("ID") && !header.contains("OWNER") && header.contains("AMOUNT"), "\(list.stdout.prefix(300))")
            #expect(await run("max", "list").stdout.split(separator: "\n").first?.contains("OWNER") == true, "a manager's list, of several owners, names them")
            let deal = String(list.stdout.split(separator: "\n")[1].prefix(8))
            // Her rules open at won, where she sees fields; at discovery, where she sees none, the table says where she does.
            #expect(await run("sue", "rules", "--locale", "zh-CN").stdout.hasPrefix("客户成功经理在「赢单」阶段"))
            // She sees no owners: the follow-up report is its total, not a row of "-" above it.
            let sueFollow = await run("sue", "report", "follow-up", "--locale", "en").stdout.split(separator: "\n")
            #expect(sueFollow.count == 2 && sueFollow[1].hasPrefix("all "), "\(sueFollow)")
            #expect(
                await run("sue", "rules", "--stage", "discovery", "--locale", "en").stdout.hasSuffix(
                    "customer success sees no opportunity field at this stage; it does at won: opps rules --stage won\n"))
            // The deal names the empty fields she may fill, and the command she types fills one.
            let shown = await run("sue", "show", deal, "--locale", "zh-CN").stdout
            #expect(shown.contains("未填，你可以填：") && shown.contains("健康度") && shown.contains("例如：opps set \(deal) "), "\(shown)")
            #expect(await run("sue", "set", deal, "健康度=良好").code == 0)
            let after = await run("sue", "show", deal, "--locale", "zh-CN").stdout
            let toFill = after.split(separator: "\n").first { $0.contains("未填") }.map(String.init) ?? ""
            #expect(after.contains("良好") && !toFill.contains("健康度"), "\(after)")
            // After won the next step is hers: one she sets on the rep's deal is on her day.
            #expect(await run("sue", "set", deal, "下一步=开通培训", "下一步截止=2026-12-02").code == 0)
            let day = await run("sue", "today", "--date", "2026-12-02", "--locale", "zh-CN").stdout
            #expect(day.hasPrefix("今天 2026-12-02：1 项今日到期") && day.contains("\(deal)  下一步     ") && day.contains("：开通培训"), "\(day)")
            // Not the manager's, once he holds it too: his access to it is a plain write.
            #expect(await run("sue", "sync").code == 0)
            var holders = 0
            for m in ["max", "lin"] {
                #expect(await run(m, "sync").code == 0)
                guard await run(m, "show", deal, "--json").json?["fields"]?["next_step"]?.string == "开通培训" else { continue }
                holders += 1
                #expect(!(await run(m, "today", "--date", "2026-12-02").stdout.contains("开通培训")), "\(m)")
            }
            #expect(holders == 1, "the deal's manager holds it, with its next step")
            // Each deal is named for its customer: the customer's short name, then the product.
            for m in ["max", "lin"] {
                let names = Dictionary(
                    uniqueKeysWithValues: (await run(m, "account", "list", "--json").json?.array ?? []).compactMap { a in
                        a["id"]?.string.flatMap { id in a["fields"]?["name"]?.string.map { (id, $0) } }
                    })
                let deals = await run(m, "list", "--json").json?.array ?? []
                #expect(deals.count > 20)
                for d in deals {
                    let name = d["fields"]?["name"]?.string ?? "", account = d["fields"]?["account"]?.string.flatMap { names[$0] } ?? "?"
                    let customer = String(name.split(separator: " ").first ?? "")
                    #expect(account.contains(customer), "\(name) for \(account)")
                }
            }
            let chinese = await run("wei", "board", "--locale", "zh-CN")
            #expect(chinese.stdout.contains("需求挖掘") && chinese.stdout.contains("物流"), "east reads in Chinese: \(chinese.stdout.prefix(200))")
        }
    }
}

/// `--deals N` beyond the story: the rest pushed in bulk through the engine, rules applied.
@Suite struct DemoBulkTests {
    @Test func aBigQuarterIsPushedThroughTheRulesWithoutARefusal() async throws {
        let dir = Scratch.directory("opps-bulk")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let demo = try DemoHub(directory: dir)
        let (store, engine) = (demo.store, demo.engine)
        var quarter = DemoQuarter(seed: 5, deals: 430, now: demo.now)
        quarter.story = 30
        let lines = LineBox()
        let summary = try await quarter.run(store: store, configuration: demo.config, tokens: demo.tokens) { lines.add($0) }
        #expect(!lines.all.contains { $0.contains("refused") || $0.contains("could not") }, "\(lines.all)")
        #expect(summary.deals == 430)
        #expect(summary.byStage.values.reduce(0, +) == 430, "\(summary.byStage)")
        for stage in ["discovery", "solution", "proposal", "negotiation", "won", "lost"] {
            #expect(summary.byStage[stage, default: 0] > 5, "\(stage): \(summary.byStage)")
        }
        // What the summary counts is what the hub holds.
        var held = [String: Int]()
        for id in try store.liveRecords(entity: "opportunity") {
            if let r = try store.record(id, workspace: engine.workspace), case let .member(s) = r["stage"] { held[s, default: 0] += 1 }
        }
        #expect(held == summary.byStage, "\(held) vs \(summary.byStage)")
        // Nobody is left a conflict by the bulk: a rep moving their own deal on makes none (each
        // stage change is made on top of the creation's stage, as `opps` makes it). The story's
        // two conflicts are all there are.
        let open = try store.openConflicts(user: nil)
        #expect(open.count == summary.conflicts, "\(open.count) open conflicts: \(open.prefix(3).map { "\($0.conflict.field) \($0.conflict.rule)" })")
    }
}

/// A new hub with the demo's team, its tokens, and now (the quarter ends the day before).
struct DemoHub {
    let config: HubConfiguration
    let store: SQLiteHubStore
    let engine: HubEngine
    let tokens: [String: String]
    let now = Int64(Date().timeIntervalSince1970 * 1000)

    init(directory: String, users: Bool = true) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        config = HubConfiguration(dataDirectory: directory, port: 0)
        var rng = SystemRandomNumberGenerator()
        store = try SQLiteHubStore(path: config.databasePath)
        _ = try HubEngine.initialise(store: store, workspace: Workspace.defaultDocument, now: now - 100 * 86_400_000, rng: &rng)
        engine = try HubEngine(store: store, configuration: config)
        var tokens = [String: String]()
        if users { for u in DemoQuarter.team { tokens[u.name] = try engine.addUser(u, rng: &rng) } }
        self.tokens = tokens
    }
}

final class LineBox: @unchecked Sendable {
    private let lock = NSLock()
    private var lines = [String]()
    func add(_ line: String) { lock.lock(); lines.append(line); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return lines }
}
