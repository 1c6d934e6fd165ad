import ArgumentParser
import Foundation
import Logging
import OppsConsole
import OppsCore
import OppsHub
import OppsStore
import OppsWire

/// `opps-hub demo`: a working hub with a demo team and pipeline, in one command.
public struct Demo: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Start a demo hub holding a sales team's last quarter, served until interrupted.",
        discussion: """
            The first time, creates the hub in --data (default ./opps-demo) and plays a quarter of two \
            territories through it — north in English, east in Chinese: 11 users, --deals opportunities \
            across every stage with their activities, tasks, approvals and two conflicts, all made by \
            replicas through the hub's rules in device time (the same seed makes the same quarter). \
            Later runs reuse the hub and print the same tokens (kept in DATA/demo-tokens, readable by you \
            alone), so the laptops made from them keep syncing. Prints each user's token and what to try \
            next. Deletes nothing.

            Example: opps-hub demo --data /tmp/opps-demo --port 8080 --deals 300
            """
    )

    @Option(help: "The demo hub's data directory.")
    var data = "opps-demo"

    @Option(help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "The port to listen on; 0 picks a free port.")
    var port = 8080

    @Option(help: "Opportunities in the quarter (a new hub only): 300 by default; 100000 to feel the speed.")
    var deals = 300

    @Option(help: "The seed the quarter is generated from (a new hub only).")
    var seed: UInt64 = 2026

    @Option(help: "The language the workspace reads in for users without their own (a new hub only): zh-CN or en.")
    var locale: String?

    public init() {}

    public func validate() throws {
        // In the language --locale names, when it names one (as the demo's failures are).
        let chinese = locale.map { Self.readsChinese(locale: $0) } ?? ChineseHubHelp.readerIsChinese
        guard (1...2_000_000).contains(deals) else { throw ValidationError(chinese ? "--deals 是 1 … 2000000" : "--deals is 1 … 2000000") }
        if let locale, !Workspace.default.locales.contains(locale) {
            throw ValidationError(
                say("--locale is one of \(Workspace.default.locales.joined(separator: ", "))", "--locale 是以下之一：\(Workspace.default.locales.joined(separator: "、"))"))
        }
    }

    static var team: [HubUser] { DemoQuarter.team }

    /// The demo speaks the language `--locale` names, when it names one: its failures too, not
    /// only `LANG`'s (a demo started with --locale zh-CN in an English terminal explains itself
    /// in Chinese, and so says why it stopped).
    public func run() async throws {
        do {
            try await play()
        } catch let failure as CommandFailure where locale != nil {
            let said = Self.readsChinese(locale: locale) ? failure.chinese ?? failure.message : failure.message
            throw CommandFailure(said, chinese: said)
        }
    }

    func play() async throws {
        let configuration = HubConfiguration(dataDirectory: data, host: host, port: port)
        let fm = FileManager.default
        var rng = SystemRandomNumberGenerator()
        let fresh = !fm.fileExists(atPath: configuration.databasePath)
        var tokens = [(String, String, String)]()
        var seeded: (DemoQuarter.Summary, Double)?
        var version: UInt64 = 0
        do {
            try fm.createDirectory(atPath: data, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let store = try SQLiteHubStore(path: configuration.databasePath)
            if fresh {
                _ = try HubEngine.initialise(store: store, workspace: Workspace.defaultDocument(locale: locale), now: SystemClock().nowMilliseconds(), rng: &rng)
            }
            let engine = try HubEngine(store: store, configuration: configuration)
            tokens = try Self.issueTokens(store: store, engine: engine, data: data, rng: &rng)
            if fresh {
                let started = Date()
                Console.err(
                    Self.readsChinese(locale: locale)
                        ? "正在让一个季度的 \(grouped(deals)) 个商机经过服务器（种子 \(seed)）…" : "playing a quarter of \(grouped(deals)) deals through the hub (seed \(seed))…")
                var quarter = DemoQuarter(seed: seed, deals: deals, now: SystemClock().nowMilliseconds())
                quarter.chinese = Self.readsChinese(locale: locale)
                let summary = try await quarter.run(
                    store: store, configuration: configuration,
                    tokens: Dictionary(uniqueKeysWithValues: tokens.map { ($0.0, $0.2) })
                ) { Console.err($0) }
                seeded = (summary, Date().timeIntervalSince(started))
            }
            version = try store.workspaceVersion()
        } catch let e as StoreError {
            throw CommandFailure("cannot use \(data)", chinese: "无法使用 \(data)", because: e.databaseReason)
        }
        let lock = try adminCall { try HubLock(directory: self.data) }
        defer { withExtendedLifetime(lock) {} }
        let hub = try Hub(configuration: configuration)
        // The demo's terminal is read by a person trying the product: warnings and errors only,
        // not a line for the server's start and each request in the middle of what it says.
        var logger = Logger(label: "opps-hub")
        logger.logLevel = .warning
        let server = HubServer(hub: hub, logger: logger)
        let host = self.host
        let data = self.data
        let issued = tokens
        let quarter = seeded
        // The `opps` built next to this `opps-hub`, so the printed commands run as they are.
        let sibling = URL(fileURLWithPath: CommandLine.arguments.first ?? "opps-hub").deletingLastPathComponent().appendingPathComponent("opps").path
        let oppsCommand = FileManager.default.isExecutableFile(atPath: sibling) ? sibling : "opps"
        let chinese = Self.readsChinese(locale: locale)
        let workspaceVersion = version
        let app = try server.application(host: host, port: port) { bound in
            let lines = Self.guide(
                url: "http://\(host):\(bound)", data: data, fresh: fresh, issued: issued, quarter: quarter, workspaceVersion: workspaceVersion,
                opps: oppsCommand, chinese: chinese)
            FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        }
        do { try await app.runService() } catch {
            if let why = HubServer.startFailure(error, host: host, port: port) {
                throw CommandFailure(why, chinese: HubServer.startFailure(error, host: host, port: port, chinese: true))
            }
            throw error
        }
    }

    /// Each demo user's token: a new user's own, else the one this demo printed before.
    ///
    /// The hub keeps only hashes of tokens. So that a rerun of the demo does not lock every
    /// laptop out, the demo keeps the tokens it printed in a file of its data directory,
    /// readable by its owner alone, and prints them again while they still work; a token that
    /// stopped working (rotated by the operator) is rotated and printed anew.
    static func issueTokens(
        store: some HubStorage, engine: HubEngine, data: String, rng: inout some RandomNumberGenerator
    ) throws -> [(name: String, role: String, token: String)] {
        let kept = keptTokens(in: data)
        var tokens: [(name: String, role: String, token: String)] = []
        for user in team {
            if try store.user(named: user.name) == nil {
                tokens.append((user.name, user.role, try engine.addUser(user, rng: &rng)))
            } else if let token = kept[user.name], try store.user(tokenHash: Token.hash(token))?.name == user.name {
                tokens.append((user.name, user.role, token))
            } else {
                tokens.append((user.name, user.role, try engine.rotateToken(user.name, rng: &rng)))
            }
        }
        try keep(tokens: tokens.map { ($0.name, $0.token) }, in: data)
        return tokens
    }

    /// The file of a demo's data directory that keeps the tokens it printed ("NAME TOKEN" lines).
    static func tokenFile(_ data: String) -> String { data + "/demo-tokens" }

    static func keptTokens(in data: String) -> [String: String] {
        guard let text = try? String(contentsOfFile: tokenFile(data), encoding: .utf8) else { return [:] }
        var out: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ")
            if words.count == 2 { out[String(words[0])] = String(words[1]) }
        }
        return out
    }

    /// Writes the file whole (a temporary file renamed over it), mode 0600.
    static func keep(tokens: [(String, String)], in data: String) throws {
        let path = tokenFile(data), temporary = path + ".new"
        let text = tokens.map { "\($0.0) \($0.1)\n" }.joined()
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw CommandFailure("cannot write \(temporary)", chinese: "无法写入 \(temporary)")
        }
        guard rename(temporary, path) == 0 else {
            throw CommandFailure("cannot write \(path): \(String(cString: strerror(errno)))", chinese: "无法写入 \(path)：\(String(cString: strerror(errno)))")
        }
    }

    /// Whether the demo's own sentences are for a Chinese reader: --locale zh-CN, else LC_ALL,
    /// LC_MESSAGES or LANG.
    static func readsChinese(locale: String?) -> Bool {
        let tag = locale ?? LocaleTag.fromEnvironment(ProcessEnvironment.current)
        return tag.map { LocaleTag.language($0) == "zh" } ?? false
    }

    /// What the demo prints once it listens at `url`: each user's token, what the quarter
    /// holds, and the commands to type next, each a whole line that runs as printed (a test
    /// runs them). A Chinese reader starts as wei, in the east territory, in Chinese; others as
    /// sam, in English.
    static func guide(
        url: String, data: String, fresh: Bool, issued: [(String, String, String)], quarter: (DemoQuarter.Summary, Double)?,
        workspaceVersion: UInt64, opps: String, chinese: Bool
    ) -> [String] {
        func token(_ user: String) -> String { issued.first { $0.0 == user }?.2 ?? "opps_…" }
        // The language each user is introduced in is named on their init line when the reader's
        // own would not give it: a Chinese demo's workspace and terminal are Chinese, and its
        // "sam, in English" read Chinese without --locale en.
        func start(_ user: String, locale: String?) -> [String] {
            ["  \(opps) init --hub \(url) --token \(token(user)) --home ./opps-\(user)" + (locale.map { " --locale \($0)" } ?? "")]
        }
        var lines = [
            "listening on \(url)",
            "",
            chinese
                ? "OppSync 演示服务器（\(fresh ? "新建" : "沿用已有的")，数据在 \(data)）。用户和他们的令牌："
                : "OppSync demo hub (\(fresh ? "new" : "reused"), data in \(data)). Users and their tokens:",
        ]
        // Names and roles padded in terminal columns (a Chinese label is two a character), to the
        // widest of each, so every token starts in the same column.
        let shown = issued.map { (name, role, token) in
            (name, chinese ? Workspace.default.role(role)?.labels["zh-CN"] ?? role : role, token)
        }
        let names = shown.map(\.0.displayWidth).max() ?? 0, roles = shown.map(\.1.displayWidth).max() ?? 0
        for (name, role, token) in shown {
            lines.append("  \(name.padding(names)) \(role.padding(roles)) \(token)")
        }
        if !fresh {
            lines.append(chinese ? "之前用这些令牌建好的副本照常同步（opps sync）。" : "Laptops made with these tokens before keep syncing (opps sync).")
        }
        if let (summary, seconds) = quarter {
            let stages = Workspace.default.stages.map { stage in
                "\(chinese ? stage.labels["zh-CN"] ?? stage.name : stage.name) \(grouped(summary.byStage[stage.name] ?? 0))"
            }
            let took = String(format: "%.1f", seconds)
            let (deals, accounts, contacts) = (grouped(summary.deals), grouped(summary.accounts), grouped(summary.contacts))
            let (activities, tasks, writes) = (grouped(summary.activities), grouped(summary.tasks), grouped(summary.writes))
            // Counts grouped as every count the tools print; the sentence wrapped to the terminal.
            lines.append("")
            lines +=
                (chinese
                ? "这个季度：\(deals) 个商机（\(stages.joined(separator: "，"))），\(accounts) 个客户，\(contacts) 个联系人，"
                    + "\(activities) 条跟进记录，\(tasks) 个任务，\(writes) 次写入；用时 \(took) 秒。"
                : "The quarter: \(deals) deals (\(stages.joined(separator: ", "))), \(accounts) accounts, \(contacts) contacts, "
                    + "\(activities) activities, \(tasks) tasks, \(writes) writes; seeded in \(took) s.").wrapped(width: Console.width)
        }
        let (rep, other, manager) = chinese ? ("wei", "sam", "lin") : ("sam", "wei", "max")
        if chinese {
            lines += ["", "接下来，以 wei（华东区的销售顾问）的身份，在另一个终端里："]
            lines += start(rep, locale: "zh-CN")
            lines += ["  \(opps) today --home ./opps-wei", "  \(opps) board --home ./opps-wei", "  \(opps) web --open --home ./opps-wei"]
            lines += ["以 lin（华东区的销售经理）的身份：审批、冲突、漏斗、报表、预测"]
            lines += start(manager, locale: "zh-CN") + ["  \(opps) approvals --home ./opps-lin"]
            lines += ["以 sue（客户成功经理）的身份：待接手的赢单、30 天内的续约"]
            lines += start("sue", locale: "zh-CN") + ["  \(opps) today --home ./opps-sue"]
            lines += ["以 sam（北区的销售顾问，英文）的身份："] + start(other, locale: "en")
        } else {
            lines += ["", "Try next, as sam (a rep in the north territory), in another terminal:"]
            lines += start(rep, locale: nil)
            lines += ["  \(opps) today --home ./opps-sam", "  \(opps) board --home ./opps-sam", "  \(opps) web --open --home ./opps-sam"]
            lines += ["As max (his manager): approvals, conflicts, funnel, report time-in-stage, forecast"]
            lines += start(manager, locale: nil) + ["  \(opps) approvals --home ./opps-max"]
            lines += ["As sue (customer success): won deals to take on, renewals in the next 30 days"]
            lines += start("sue", locale: nil) + ["  \(opps) today --home ./opps-sue"]
            lines += ["As wei (a rep in the east territory, in Chinese):"] + start(other, locale: "zh-CN")
        }
        // The example's replica id is the user's own ("curl " and the name, 16 bytes): a hub
        // binds a replica id to the first user who shows it, so one id for every reader of the
        // demo would be refused to the second (replica-not-yours).
        let replica = Data((Array("curl \(manager)".utf8).prefix(16) + Array(repeating: 0, count: 16)).prefix(16)).base64EncodedString()
        let handshake =
            #"{"minVersion":\#(ProtocolVersion.current),"maxVersion":\#(ProtocolVersion.current),"replica":"\#(replica)","workspaceVersion":"\#(workspaceVersion)"}"#
        lines += [
            "",
            chinese ? "或者直接调用协议（JSON 形式）：" : "Or talk to the protocol directly (JSON form):",
            "  curl -s -X POST \(url)/v1/handshake -H 'Content-Type: application/json' \\",
            "       -H 'Authorization: Bearer \(token(manager))' \\",
            "       -d '\(handshake)'",
            "  curl -s \(url)/metrics | grep opps_",
            "",
            chinese ? "按 Ctrl-C 停止；数据保留在 \(data)。" : "Press Ctrl-C to stop; the data stays in \(data).",
        ]
        return lines
    }
}
