import ArgumentParser
import Foundation
import Logging
import OppsConsole
import OppsCore
import OppsHub
import OppsPostgres
import OppsStore

/// Options every command that opens a hub takes: a data directory (SQLite), or a PostgreSQL
/// database that several hubs may share.
struct DataOption: ParsableArguments {
    @Option(name: .customLong("data"), help: "The hub's data directory (it holds hub.sqlite).")
    var directory: String?

    @Option(
        name: .customLong("store"),
        help: ArgumentHelp(
            "Instead of --data: the hub's PostgreSQL database, postgres://USER:PASSWORD@HOST:PORT/DB.",
            discussion: "Or set OPPS_HUB_STORE to it, which keeps the password out of the process list."))
    var store: String?

    init() {}

    init(directory: String?, store: String? = nil) {
        self.directory = directory
        self.store = store
    }

    func validate() throws {
        if directory != nil && store != nil { throw ValidationError(say("give --data DIR or --store URL, not both", "--data 目录 和 --store 地址 只能给一个")) }
        if let store, !PostgresLocation.isURL(store) {
            throw ValidationError(say("--store takes a postgres:// URL (a SQLite hub is --data DIR)", "--store 需要 postgres:// 地址（SQLite 上的服务器用 --data 目录）"))
        }
    }

    /// The PostgreSQL URL: --store, else OPPS_HUB_STORE when no --data was given.
    var storeURL: String? {
        if let store { return store }
        guard directory == nil, let env = ProcessEnvironment.current["OPPS_HUB_STORE"], !env.isEmpty else { return nil }
        return env
    }

    var configuration: HubConfiguration {
        var c = HubConfiguration(dataDirectory: directory ?? "")
        c.storeURL = storeURL
        return c
    }

    /// The data directory, or a failure naming both ways to say where the hub is.
    func requireDirectory() throws -> String {
        guard let directory else {
            throw CommandFailure(
                "give the hub's --data DIR (or --store postgres://… for a hub on PostgreSQL)", chinese: "请用 --data 目录 指明服务器（PostgreSQL 上的服务器用 --store postgres://…）")
        }
        return directory
    }

    /// How to name this hub in a command a message suggests.
    var flag: String { storeURL != nil ? "--store URL" : "--data \(directory ?? "DIR")" }

    func openEngine() throws -> HubEngine {
        let configuration = configuration
        if configuration.isPostgres {
            do {
                let store = try configuration.openStore()
                guard try store.hubID() != nil else {
                    throw CommandFailure(
                        "no hub in \(configuration.storePlace): run opps-hub init --store URL first",
                        chinese: "\(configuration.storePlace) 里没有服务器：先运行 opps-hub init --store 地址")
                }
                return try HubEngine(store: store, configuration: configuration)
            } catch let e as StoreError {
                throw CommandFailure(
                    "cannot open the hub database at \(configuration.storePlace)", chinese: "无法打开 \(configuration.storePlace) 的服务器数据库", because: e.databaseReason)
            }
        }
        let directory = try requireDirectory()
        let path = configuration.databasePath
        guard FileManager.default.fileExists(atPath: path) else {
            throw CommandFailure(
                "no hub in \(directory): run opps-hub init --data \(directory) first", chinese: "\(directory) 里没有服务器：先运行 opps-hub init --data \(directory)")
        }
        do {
            return try HubEngine(store: SQLiteHubStore(path: path), configuration: configuration)
        } catch let e as StoreError {
            throw CommandFailure("cannot open the hub database in \(directory)", chinese: "无法打开 \(directory) 里的服务器数据库", because: e.databaseReason)
        }
    }
}

/// `opps-hub init`.
public struct Init: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Create a new hub in a data directory, with the default workspace or your own.",
        discussion: "Refuses to touch a directory that already holds a hub.\n\nExample: opps-hub init --data /srv/opps --locale zh-CN"
    )

    @OptionGroup var data: DataOption

    @Option(help: "A workspace file to start with (see 'opps-hub workspace show' for the default).")
    var workspace: String?

    @Option(help: "The language the default workspace reads in for users whose own it has no labels in: zh-CN or en.")
    var locale: String?

    @Flag(help: "Print the result as one JSON object.")
    var json = false

    public init() {}

    public func validate() throws {
        if let locale {
            guard Workspace.default.locales.contains(locale) else {
                throw ValidationError(
                    say("--locale is one of \(Workspace.default.locales.joined(separator: ", "))", "--locale 是以下之一：\(Workspace.default.locales.joined(separator: "、"))"))
            }
            if workspace != nil {
                throw ValidationError(
                    say("--locale is for the default workspace: set \"locale\" in your workspace file instead", "--locale 只用于默认工作区：请在你的工作区文件里设置 \"locale\""))
            }
        }
    }

    public func run() throws {
        let document: String
        if let workspace {
            guard let text = try? String(contentsOfFile: workspace, encoding: .utf8) else {
                throw CommandFailure("cannot read \(workspace)", chinese: "无法读取 \(workspace)")
            }
            let report = WorkspaceReport(text: text, file: workspace)
            guard report.issues.isEmpty else {
                throw CommandFailure(
                    "\(workspace) is not a valid workspace (\(counted(report.issues.count, "problem"))); run opps-hub workspace check \(workspace)",
                    chinese: "\(workspace) 不是有效的工作区（\(report.issues.count) 个问题）：运行 opps-hub workspace check \(workspace) 查看")
            }
            document = text
        } else {
            document = Workspace.defaultDocument(locale: locale)
        }
        var rng = SystemRandomNumberGenerator()
        let id: UUID128
        let place: String
        if data.configuration.isPostgres {
            let configuration = data.configuration
            place = configuration.storePlace
            do {
                let store = try configuration.openStore()
                guard try store.hubID() == nil else {
                    throw CommandFailure("\(place) already holds a hub; choose another database", chinese: "\(place) 里已经有服务器：请换一个数据库")
                }
                // One transaction: a failure leaves the database without a hub, ready for another try.
                id = try HubEngine.initialise(store: store, workspace: document, now: SystemClock().nowMilliseconds(), rng: &rng)
            } catch let e as StoreError {
                throw CommandFailure("could not create the hub in \(place)", chinese: "无法在 \(place) 中建立服务器", because: e.databaseReason)
            }
        } else {
            let directory = try data.requireDirectory()
            place = directory
            // An operator who set OPPS_HUB_STORE most likely meant PostgreSQL: --data wins, said now
            // (a SQLite hub made by mistake is found only when the second hub cannot share it).
            if let env = ProcessEnvironment.current["OPPS_HUB_STORE"], !env.isEmpty {
                Console.err(
                    say(
                        "note: OPPS_HUB_STORE is set, but --data makes a SQLite hub in \(directory); for PostgreSQL, give --store or leave out --data",
                        "注意：已设置 OPPS_HUB_STORE，但 --data 会在 \(directory) 建立 SQLite 服务器；要用 PostgreSQL，请用 --store 或去掉 --data"))
            }
            let fm = FileManager.default
            let path = data.configuration.databasePath
            if fm.fileExists(atPath: path) {
                throw CommandFailure("\(directory) already holds a hub; choose another directory", chinese: "\(directory) 里已经有服务器：请换一个目录")
            }
            do {
                try fm.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw CommandFailure("cannot create \(directory): check the path and permissions", chinese: "无法建立 \(directory)：请检查路径和权限")
            }
            do {
                let store = try SQLiteHubStore(path: path)
                id = try HubEngine.initialise(store: store, workspace: document, now: SystemClock().nowMilliseconds(), rng: &rng)
            } catch {
                // Nothing half-made is left behind.
                for suffix in ["", "-wal", "-shm"] { try? fm.removeItem(atPath: path + suffix) }
                throw CommandFailure("could not create the hub: \(error)", chinese: "无法建立服务器：\(error)")
            }
        }
        let ws = try Workspace.decode(document)
        if json {
            Console.out(try HubInitJSON(hub: id.description, data: place, workspace: ws.name, workspace_version: ws.version).jsonPretty())
        } else {
            Console.out(
                say(
                    "created hub \(id) in \(place) (workspace \"\(ws.name)\" version \(ws.version))",
                    "已在 \(place) 建立服务器 \(id)（工作区「\(ws.name)」第 \(ws.version) 版）"))
            let zh = Vocabulary(ws, locale: "zh-CN")
            Console.out(
                say(
                    "next: opps-hub user add NAME --role ROLE \(data.flag)",
                    "接下来：opps-hub user add 用户名 --role 角色 \(data.flag.replacingOccurrences(of: "DIR", with: "目录"))（角色：\(ws.roles.map { zh.withName(zh.role($0.name), $0.name) }.joined(separator: "、"))）"
                ))
        }
    }
}

/// `opps-hub user …`.
public struct UserCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Manage the hub's users.",
        discussion: "Example: opps-hub user add fang --role sales --territory east --manager lin --data /srv/opps",
        subcommands: [Add.self, Import.self, List.self, Disable.self, Enable.self, Set.self]
    )

    public init() {}

    /// `opps-hub user add`.
    public struct Add: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Add a user and print their token (shown once; the hub stores only its hash).",
            discussion: """
                Give the token to the user: they run 'opps init --hub URL --token TOKEN' on their laptop.

                Example: opps-hub user add fang --role sales --territory east --manager lin --data /srv/opps
                """
        )

        @Argument(help: "The user name (unique, no spaces).")
        var name: String

        @Option(help: "The role: one of the workspace's roles, by name or label (default workspace: marketing, sales, expert, success, manager).")
        var role: String

        @Option(help: "The user's team.")
        var team: String?

        @Option(help: "The user's territory (leads of a territory go to its reps).")
        var territory: String?

        @Option(help: "The user's manager (an existing user name).")
        var manager: String?

        @Option(help: "How many open deals the assignment rule may give this rep.")
        var capacity: Int?

        @OptionGroup var data: DataOption

        @Flag(help: "Print one JSON object with name, role and token.")
        var json = false

        public init() {}

        public func run() throws {
            let engine = try data.openEngine()
            var rng = SystemRandomNumberGenerator()
            let user = HubUser(name: name, role: role, team: team, territory: territory, manager: manager, capacity: capacity)
            let token: String
            do {
                token = try engine.addUser(user, rng: &rng)
            } catch let e as HubError {
                throw CommandFailure(e)
            }
            // The role as stored (`--role 销售顾问` is sales), in JSON and in English alike.
            let stored = (try? engine.store.user(named: name))??.role ?? role
            if json {
                Console.out(
                    try UserAddedJSON(name: name, role: stored, token: token, team: team, territory: territory, manager: manager, capacity: capacity)
                        .jsonPretty())
            } else {
                Console.out(
                    say(
                        "added \(name) (\(stored)); token (shown once): \(token)\non \(name)'s laptop: opps init --hub <the hub's address> --token \(token)",
                        "已添加 \(name)（\(roleWords(engine.workspace, stored))）；令牌（只显示这一次）：\(token)\n在 \(name) 的电脑上运行：opps init --hub 服务器地址 --token \(token)"
                    ))
            }
        }
    }

    /// `opps-hub user list`.
    public struct List: ParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "List the hub's users.", discussion: "Example: opps-hub user list --data /srv/opps")

        @OptionGroup var data: DataOption

        @Flag(help: "Print a JSON array.")
        var json = false

        public init() {}

        public func run() throws {
            let engine = try data.openEngine()
            let users = try engine.store.users()
            if json {
                Console.out(JSON.array(users.map(userJSON)).prettyText)
            } else {
                // A table under a header: name, role, team, territory, manager, capacity, whether disabled.
                let rows =
                    [
                        ChineseHubHelp.readerIsChinese
                            ? ["用户名", "角色", "团队", "区域", "经理", "容量", ""] : ["NAME", "ROLE", "TEAM", "TERRITORY", "MANAGER", "CAPACITY", ""]
                    ]
                    + users.map { u in
                        [
                            u.name, roleWords(engine.workspace, u.role), u.team ?? "-", u.territory ?? "-", u.manager ?? "-", u.capacity.map(String.init) ?? "-",
                            u.disabled ? say("disabled", "已停用") : "",
                        ]
                    }
                for line in table(rows) { Console.out(line) }
            }
        }
    }
}

extension UserCommand {
    /// `opps-hub user disable`.
    public struct Disable: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Disable a user: their token is refused (403) from the next request on.",
            discussion: """
                It says what becomes of the open deals the user owns: still seen by others (a manager \
                can give them new owners), or, for a user with no manager, seen by no one until one is \
                set (opps-hub user set wei --manager lin). Deals only this user saw through their role \
                or a team (a deal with no owner that its team alone sees) are named too: no one sees \
                them until the user is enabled again. Their approval requests still waiting are rejected at \
                once (nothing is written in a disabled user's stead), and the deals they locked unlocked.

                Example: opps-hub user disable wei --data /srv/opps
                """)

        @Argument(help: "The user name.") var name: String
        @OptionGroup var data: DataOption

        public init() {}

        public func run() throws {
            let engine = try adminCall { try data.openEngine() }
            let (_, leftUnseen) = try adminCall { try engine.updateUserSayingUnseen(name) { $0.disabled = true } }
            // The user is disabled whatever follows: a failure to count their deals only leaves
            // the count unsaid.
            let (open, unseen) = (try? engine.ownedOpenDeals(name)) ?? (0, 0)
            Console.out(say("disabled \(name)", "已停用 \(name)：他的令牌从下一个请求起被拒绝"))
            // What becomes of their deals: still in someone's sight, or in no one's.
            if unseen > 0 {
                Console.out(unseenDeals(of: name, open: open, unseen: unseen))
            } else if open > 0 {
                Console.out(
                    say(
                        "\(name) owns \(counted(open, "open deal")); others still see them (a manager can give them new owners)",
                        "\(name) 负责的 \(open) 个未结商机仍有其他人能看到（经理可以给它们换负责人）"))
            }
            let others = leftUnseen.filter { $0.owner != name }
            if !others.isEmpty { Console.out(othersUnseen(others, seenBy: name, undo: "opps-hub user enable \(name)")) }
            // Their requests still waiting: no one may carry them out now; settled at once, so no
            // deal stays locked by them and no approver is left deciding them.
            // An error here is said (the user stays disabled; an approval of such a request is
            // refused anyway, I13): never swallowed as "nothing to settle".
            let settled = try engine.settlePendingRequests(of: name)
            if settled > 0 {
                Console.out(
                    say(
                        "\(counted(settled, "request")) waiting for a decision rejected: nothing is written in a disabled user's stead "
                            + "(whoever takes over asks again)",
                        "\(settled) 个待审批的申请已驳回：不会以已停用用户的名义写入（接手的人需要重新申请）"))
            }
        }
    }

    /// `opps-hub user enable`.
    public struct Enable: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Enable a disabled user again (their token works again).", discussion: "Example: opps-hub user enable wei --data /srv/opps")

        @Argument(help: "The user name.") var name: String
        @OptionGroup var data: DataOption

        public init() {}

        public func run() throws {
            _ = try adminCall { try data.openEngine().updateUser(name) { $0.disabled = false } }
            Console.out(say("enabled \(name)", "已启用 \(name)：他的令牌又能用了"))
        }
    }

    /// `opps-hub user set`.
    public struct Set: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Change a user's role, team, territory, manager or capacity.",
            discussion:
                "The change is audited. Replicas receive the records entering and leaving the user's visibility at their next sync, keeping their pending writes. An empty value clears team, territory, manager or capacity. A new role or a cleared manager that leaves the user's open deals in no one's sight is said, with how many and the fix (a manager); deals only this user saw through their role or a team (no owner, or another's) are named, with the command that undoes the change. Approval requests of the user's that no one can carry out after the change (a rep made an expert may no longer ask for a discount) are rejected at once. The change stands.\n\nExample: opps-hub user set wei --territory north --capacity 40 --data /srv/opps"
        )

        @Argument(help: "The user name.") var name: String
        @Option(help: "The new role.") var role: String?
        @Option(help: "The new team (empty to clear).") var team: String?
        @Option(help: "The new territory (empty to clear).") var territory: String?
        @Option(help: "The new manager (empty to clear).") var manager: String?
        @Option(help: "The new capacity (empty to clear).") var capacity: String?
        @OptionGroup var data: DataOption
        @Flag(help: "Print the user as JSON.") var json = false

        public init() {}

        public func validate() throws {
            guard role != nil || team != nil || territory != nil || manager != nil || capacity != nil else {
                throw ValidationError(
                    say("give at least one of --role, --team, --territory, --manager, --capacity", "至少给出 --role、--team、--territory、--manager、--capacity 中的一个"))
            }
            if let capacity, !capacity.isEmpty, Int(capacity) == nil { throw ValidationError(say("--capacity must be a whole number", "--capacity 必须是整数")) }
        }

        public func run() throws {
            let engine = try data.openEngine()
            let before = try? engine.store.user(named: name)
            let (user, leftUnseen) = try adminCall {
                try engine.updateUserSayingUnseen(name) { u in
                    if let role { u.role = role }
                    if let team { u.team = team.isEmpty ? nil : team }
                    if let territory { u.territory = territory.isEmpty ? nil : territory }
                    if let manager { u.manager = manager.isEmpty ? nil : manager }
                    if let capacity { u.capacity = capacity.isEmpty ? nil : Int(capacity) }
                }
            }
            if json {
                Console.out(userJSON(user).compactText)
            } else {
                Console.out(
                    say(
                        "updated \(name): \(user.role), team \(user.team ?? "-"), territory \(user.territory ?? "-"), manager \(user.manager ?? "-")",
                        "已修改 \(name)：角色 \(roleWords(engine.workspace, user.role))，团队 \(user.team ?? "-")，区域 \(user.territory ?? "-")，经理 \(user.manager ?? "-")"))
            }
            // A new role or no manager can leave the user's deals in no one's sight (a rep made
            // an expert sees only the deals they are on): said, as `user disable` says it, with
            // the fix. The change stands (on stderr with --json, so stdout stays one object).
            var lines = [String]()
            if role != nil || manager != nil, let (open, unseen) = try? engine.ownedOpenDeals(name), unseen > 0 {
                lines.append(unseenDeals(of: name, open: open, unseen: unseen))
            }
            // Deals only this user saw, through their role or their place on a team (an ownerless
            // deal its team alone sees): no manager brings them back; undoing the change does.
            let others = leftUnseen.filter { $0.owner != name }
            if !others.isEmpty, let before {
                var undo = "opps-hub user set \(name)"
                if before.role != user.role { undo += " --role \(before.role)" }
                if before.manager != user.manager { undo += " --manager \(before.manager ?? "\"\"")" }
                if before.territory != user.territory { undo += " --territory \(before.territory ?? "\"\"")" }
                if before.team != user.team { undo += " --team \(before.team ?? "\"\"")" }
                lines.append(othersUnseen(others, seenBy: name, undo: undo))
            }
            // Requests of theirs that the change leaves no one able to carry out (a rep made an
            // expert may no longer ask for a discount): settled at once, as `user disable` does.
            if role != nil || manager != nil || team != nil || territory != nil, case let settled = try engine.settlePendingRequests(of: name), settled > 0 {
                lines.append(
                    say(
                        "\(counted(settled, "request")) waiting for a decision rejected: after the change no one can carry \(settled == 1 ? "it" : "them") out "
                            + "(whoever takes over asks again)",
                        "\(settled) 个待审批的申请已驳回：改动之后已无法执行（接手的人需要重新申请）"))
            }
            for line in lines { if json { Console.err(line) } else { Console.out(line) } }
        }
    }
}

/// What `user disable` and `user set` say of deals the user did not own that no one sees after
/// the change (only they saw them, through their role or a team): which ones, and the undo.
func othersUnseen(_ deals: [UnseenDeal], seenBy name: UserName, undo: String) -> String {
    let ids = deals.prefix(5).map { ShortID.shown($0.id) }
    let more = deals.count > 5 ? ", …" : ""
    return say(
        "no one sees \(counted(deals.count, "other deal")) now (\(ids.joined(separator: ", "))\(more)): only \(name) saw them, through their role or a team; undo: \(undo)",
        "现在有 \(deals.count) 个其他商机没有人能看到（\(ids.joined(separator: "、"))\(more.isEmpty ? "" : "、…")）：只有 \(name) 通过角色或团队能看到它们；撤销：\(undo)")
}

/// What `user disable` and `user set` say when a user's open deals are left in no one else's
/// sight, with the fix: a manager, who then sees them and can give them new owners.
func unseenDeals(of name: UserName, open: Int, unseen: Int) -> String {
    say(
        "\(name) owns \(counted(open, "open deal")); \(unseen) of them no one else sees now: give \(name) a manager (opps-hub user set \(name) --manager NAME), who will see them and can give them new owners",
        "\(name) 负责的 \(open) 个未结商机中，有 \(unseen) 个现在没有其他人能看到：请给 \(name) 指定经理（opps-hub user set \(name) --manager 用户名），经理就能看到它们并给它们换负责人")
}

func userJSON(_ u: HubUser) -> JSON {
    (try? JSONValueEncoder.encode(UserJSON(u))) ?? .null
}

/// A role as the operator reads it: its Chinese label for a Chinese reader, else its name.
func roleWords(_ workspace: Workspace, _ role: String) -> String {
    ChineseHubHelp.readerIsChinese ? Vocabulary(workspace, locale: "zh-CN").role(role) : role
}

/// Maps engine errors to one-line command failures.
func adminCall<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let e as HubError {
        throw CommandFailure(e)
    } catch let e as StoreError {
        throw CommandFailure("hub database", chinese: "服务器数据库", because: e.databaseReason)
    }
}

/// `opps-hub token …`.
public struct TokenCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Manage users' tokens.", discussion: "Example: opps-hub token rotate wei --data /srv/opps", subcommands: [Rotate.self])

    public init() {}

    /// `opps-hub token rotate`.
    public struct Rotate: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Issue a user a new token; the old one stops working at once. The new token is printed once.",
            discussion: "The user runs 'opps connect --token NEW' on their laptop; nothing there is lost.\n\nExample: opps-hub token rotate wei --data /srv/opps")

        @Argument(help: "The user name.") var name: String
        @OptionGroup var data: DataOption
        @Flag(help: "Print {name, token} as JSON.") var json = false

        public init() {}

        public func run() throws {
            var rng = SystemRandomNumberGenerator()
            let token = try adminCall { try data.openEngine().rotateToken(name, rng: &rng) }
            if json {
                Console.out(try TokenJSON(name: name, token: token).jsonLine())
            } else {
                Console.out(
                    say(
                        "new token for \(name) (shown once): \(token)\nthe old one no longer works; on \(name)'s laptop (nothing on it is lost): opps connect --token \(token)",
                        "\(name) 的新令牌（只显示这一次）：\(token)\n旧令牌已失效；在 \(name) 的电脑上运行（本机的东西都不会丢）：opps connect --token \(token)"))
            }
        }
    }
}

/// Turns a TLS setup failure (unreadable or invalid PEM files) into one clear line.
func tlsSetup<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch { throw CommandFailure("cannot set up TLS: \(error)", chinese: "无法设置 TLS：\(error)") }
}

/// `opps-hub serve`.
public struct Serve: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Serve the hub over HTTP or HTTPS until interrupted (SIGINT/SIGTERM shut it down gracefully).",
        discussion: """
            The first line on stdout is 'listening on http(s)://HOST:PORT'. Logs go to stderr, one line per request \
            with its request id. Settings come from --config FILE (JSON: store (a postgres:// URL), host, port, log_level, tls {certificate, key}, \
            limits {max_body_bytes, max_decompressed_bytes, max_batch_writes, max_page_changes, max_connections, \
            idle_timeout_seconds, max_clock_ahead_minutes, cache_mib (per-user caches, default 256), store_answer_seconds (PostgreSQL: \
            how long to wait for the database to answer before the request fails with 503, default 30)}, metrics_token_file (then GET /metrics needs that bearer token), compression_level 1–9 for \
            responses, default 1, verify_snapshots (a diagnostic: each pull checks the hub's caches against the database, \
            a full build of the user's view each time)); flags override it.

            Example: opps-hub serve --data /srv/opps --host 0.0.0.0 --port 8443 --tls-cert hub.pem --tls-key hub.key
            """
    )

    @OptionGroup var data: DataOption

    @Option(help: "A JSON configuration file.")
    var config: String?

    @Option(help: "The address to listen on (default 127.0.0.1).")
    var host: String?

    @Option(help: "The port to listen on (default 8080); 0 picks a free port.")
    var port: Int?

    @Option(help: "trace, debug, info, notice, warning, error or critical (default info).")
    var logLevel: String?

    @Option(help: "TLS certificate chain (PEM); with --tls-key the hub serves HTTPS.")
    var tlsCert: String?

    @Option(help: "TLS private key (PEM).")
    var tlsKey: String?

    public init() {}

    public func validate() throws {
        if let port, !(0...65535).contains(port) { throw ValidationError(say("--port must be 0–65535", "--port 必须是 0–65535")) }
        if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError(say("give both --tls-cert and --tls-key", "--tls-cert 和 --tls-key 要一起给")) }
        if let logLevel, Logger.Level(rawValue: logLevel) == nil {
            throw ValidationError(say("unknown --log-level \(logLevel)", "没有这个 --log-level：\(logLevel)（trace、debug、info、notice、warning、error 或 critical）"))
        }
    }

    /// The effective settings: defaults, then the config file, then flags.
    func settings() throws -> (HubConfiguration, Logger.Level, (String, String)?) {
        var configuration = data.configuration
        var level = Logger.Level.info
        var tls: (String, String)?
        if let config {
            guard let text = try? String(contentsOfFile: config, encoding: .utf8) else { throw CommandFailure("cannot read \(config)", chinese: "无法读取 \(config)") }
            let json: JSON
            do { json = try JSON.parse(text) } catch { throw CommandFailure("\(config): \(error)", chinese: "\(config)：\(error)") }
            for m in json.members ?? []
            where !["host", "port", "log_level", "tls", "limits", "compression_level", "metrics_token_file", "store", "verify_snapshots"].contains(m.key) {
                throw CommandFailure("\(config): line \(m.position.line): unknown setting \"\(m.key)\"", chinese: "\(config) 第 \(m.position.line) 行：没有设置项「\(m.key)」")
            }
            if let h = json["host"]?.string { configuration.host = h }
            // The database several hubs share (a flag or OPPS_HUB_STORE wins over the file).
            if let node = json["store"], configuration.storeURL == nil, data.directory == nil {
                guard let url = node.string, PostgresLocation.isURL(url) else {
                    throw CommandFailure(
                        "\(config): line \(node.position.line): store must be a postgres:// URL", chinese: "\(config) 第 \(node.position.line) 行：store 必须是 postgres:// 地址")
                }
                configuration.storeURL = url
            }
            if let node = json["port"] {
                guard let p = node.int, (0...65535).contains(p) else {
                    throw CommandFailure("\(config): line \(node.position.line): port must be 0–65535", chinese: "\(config) 第 \(node.position.line) 行：port 必须是 0–65535")
                }
                configuration.port = p
            }
            if let node = json["verify_snapshots"] {
                guard let on = node.bool else {
                    throw CommandFailure(
                        "\(config): line \(node.position.line): verify_snapshots must be true or false",
                        chinese: "\(config) 第 \(node.position.line) 行：verify_snapshots 必须是 true 或 false")
                }
                configuration.verifySnapshots = on
            }
            if let node = json["compression_level"] {
                guard let v = node.int, (1...9).contains(v) else {
                    throw CommandFailure(
                        "\(config): line \(node.position.line): compression_level must be 1–9 (zlib; 1 is fastest)",
                        chinese: "\(config) 第 \(node.position.line) 行：compression_level 必须是 1–9（zlib；1 最快）")
                }
                configuration.compressionLevel = Int32(v)
            }
            if let l = json["log_level"]?.string {
                guard let parsed = Logger.Level(rawValue: l) else { throw CommandFailure("\(config): unknown log_level \(l)", chinese: "\(config)：没有这个 log_level：\(l)") }
                level = parsed
            }
            if let node = json["metrics_token_file"] {
                guard let path = node.string,
                    let token = try? String(contentsOfFile: path, encoding: .utf8)
                        .trimmingCharacters(in: .whitespacesAndNewlines), token.count >= 16
                else {
                    throw CommandFailure(
                        "\(config): line \(node.position.line): metrics_token_file must name a readable file holding a token of 16+ characters",
                        chinese: "\(config) 第 \(node.position.line) 行：metrics_token_file 必须是一个可读的文件，里面是至少 16 个字符的令牌")
                }
                configuration.metricsToken = token
            }
            if let t = json["tls"] {
                guard let c = t["certificate"]?.string, let k = t["key"]?.string else {
                    throw CommandFailure("\(config): tls needs certificate and key", chinese: "\(config)：tls 需要 certificate 和 key")
                }
                tls = (c, k)
            }
            if let limits = json["limits"] {
                for m in limits.members ?? [] {
                    guard let v = m.value.int, v > 0 else {
                        throw CommandFailure(
                            "\(config): line \(m.position.line): limits.\(m.key) must be a whole number above 0",
                            chinese: "\(config) 第 \(m.position.line) 行：limits.\(m.key) 必须是大于 0 的整数")
                    }
                    switch m.key {
                    case "max_body_bytes": configuration.maxBodyBytes = v
                    case "max_decompressed_bytes": configuration.maxDecompressedBytes = v
                    case "max_batch_writes": configuration.maxBatchWrites = v
                    case "max_page_changes": configuration.maxPageChanges = v
                    case "max_connections": configuration.maxConnections = v
                    case "idle_timeout_seconds": configuration.idleTimeoutSeconds = v
                    case "max_clock_ahead_minutes": configuration.maxClockAheadMilliseconds = Int64(v) * 60_000
                    case "store_answer_seconds":
                        guard v <= 3600 else {
                            throw CommandFailure(
                                "\(config): line \(m.position.line): limits.store_answer_seconds is at most 3600 (an hour)",
                                chinese: "\(config) 第 \(m.position.line) 行：limits.store_answer_seconds 最大是 3600（一小时）")
                        }
                        configuration.storeAnswerLimit = .seconds(v)
                    case "cache_mib":
                        guard v <= 1 << 20 else {
                            throw CommandFailure(
                                "\(config): line \(m.position.line): limits.cache_mib is at most 1048576 (1 TiB)",
                                chinese: "\(config) 第 \(m.position.line) 行：limits.cache_mib 最大是 1048576（1 TiB）")
                        }
                        configuration.cacheBytes = v << 20
                    default:
                        throw CommandFailure(
                            "\(config): line \(m.position.line): unknown limit \"\(m.key)\"", chinese: "\(config) 第 \(m.position.line) 行：没有限制项「\(m.key)」")
                    }
                }
            }
        }
        if let host { configuration.host = host }
        if let port { configuration.port = port }
        if let logLevel, let l = Logger.Level(rawValue: logLevel) { level = l }
        if let tlsCert, let tlsKey { tls = (tlsCert, tlsKey) }
        configuration.maxConnections = Self.connectionLimit(configuration.maxConnections)
        return (configuration, level, tls)
    }

    /// The configured connection limit, kept 64 below the process's open-file limit (the
    /// database, its WAL, logs and the listening socket need descriptors too).
    static func connectionLimit(_ configured: Int) -> Int {
        var limit = rlimit()
        #if os(Linux)
            let got = getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        #else
            let got = getrlimit(RLIMIT_NOFILE, &limit)
        #endif
        guard got == 0, limit.rlim_cur < rlim_t(Int32.max) else { return configured }
        return max(16, min(configured, Int(limit.rlim_cur) - 64))
    }

    public func run() async throws {
        let (configuration, level, tls) = try settings()
        // SQLite: one hub per data directory, held by a lock. PostgreSQL: any number of hubs on
        // one database (the store orders them), so no lock.
        var lock: HubLock?
        if !configuration.isPostgres {
            let directory = configuration.dataDirectory
            guard !directory.isEmpty else {
                throw CommandFailure(
                    "give the hub's --data DIR, or --store postgres://… (or \"store\" in --config)",
                    chinese: "请用 --data 目录 指明服务器，或 --store postgres://…（或在 --config 里写 \"store\"）")
            }
            guard FileManager.default.fileExists(atPath: configuration.databasePath) else {
                throw CommandFailure(
                    "no hub in \(directory): run opps-hub init --data \(directory) first", chinese: "\(directory) 里没有服务器：先运行 opps-hub init --data \(directory)")
            }
            guard FileManager.default.isReadableFile(atPath: configuration.databasePath) else {
                throw CommandFailure(
                    "cannot read \(configuration.databasePath): check its permissions", chinese: "无法读取 \(configuration.databasePath)：请检查它的权限")
            }
            lock = try adminCall { try HubLock(directory: directory) }
        }
        defer { withExtendedLifetime(lock) {} }
        let hub: Hub
        do {
            hub = try Hub(configuration: configuration)
        } catch let e as StoreError {
            throw CommandFailure(
                "cannot open the hub database in \(configuration.storePlace)", chinese: "无法打开 \(configuration.storePlace) 里的服务器数据库", because: e.databaseReason)
        } catch let e as HubError {
            guard configuration.isPostgres, e.code == .notInitialised else { throw CommandFailure(e) }
            throw CommandFailure(
                "no hub in \(configuration.storePlace): run opps-hub init --store URL first",
                chinese: "\(configuration.storePlace) 里没有服务器：先运行 opps-hub init --store 地址")
        }
        var logger = Logger(label: "opps-hub")
        logger.logLevel = level
        let server = HubServer(hub: hub, logger: logger)
        let host = configuration.host
        let scheme = tls == nil ? "http" : "https"
        // Under the address, what an operator does next: a new hub's first user, else how a rep
        // connects (the address they type, as this hub sees it: behind a proxy, the proxy's).
        let empty = (try? await hub.hasNoUsers()) ?? false
        let place = configuration.isPostgres ? "--store URL" : "--data \(configuration.dataDirectory)"
        let app = try tlsSetup {
            try server.application(host: host, port: configuration.port, tls: tls.map { (certificate: $0.0, key: $0.1) }) { bound in
                let url = "\(scheme)://\(host):\(bound)"
                // Served on every interface: the address reps type is this machine's own.
                let every = ["0.0.0.0", "::", "[::]"].contains(host)
                let theirs = every ? "\(scheme)://\(say("ADDRESS", "本机地址")):\(bound)" : url
                let next =
                    empty
                    ? say("no users yet: opps-hub user add NAME --role sales \(place) (it prints their token)", "还没有用户：opps-hub user add 用户名 --role 销售顾问 \(place)（会打印令牌）")
                    : say("reps connect with: opps init --hub \(theirs) --token TOKEN", "销售这样连接：opps init --hub \(theirs) --token 令牌")
                // Written straight to fd 1, so it is there at once even when stdout is a pipe.
                FileHandle.standardOutput.write(Data("listening on \(url)\n\(next)\n".utf8))
            }
        }
        do { try await app.runService() } catch {
            if let why = HubServer.startFailure(error, host: host, port: configuration.port) {
                throw CommandFailure(why, chinese: HubServer.startFailure(error, host: host, port: configuration.port, chinese: true))
            }
            throw error
        }
    }
}
