import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsHub
import OppsPostgres
import OppsStore

/// `opps-hub migrate`: a hub's SQLite file into PostgreSQL, where several hubs can serve it.
public struct MigrateCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Move a hub from its data directory (SQLite) to PostgreSQL, where several hubs can serve it.",
        discussion: """
            Stop the hub first: migrate holds its data directory's lock while it copies. Every row moves \
            with its numbers as they were (sequences, conflict ids, page tokens, batch records), in one \
            transaction, so replicas notice nothing: their cursors, tokens and unsynced work stay valid. \
            The target database must hold no hub. The SQLite file is left as it was.

            Example: OPPS_HUB_STORE=postgres://opps:PASSWORD@db.internal:5432/opps opps-hub migrate --from /srv/opps
            then: opps-hub serve (on each machine, with OPPS_HUB_STORE set)
            """)

    @Option(help: "The hub's data directory (it holds hub.sqlite).")
    var from: String

    @Option(help: "The PostgreSQL database, postgres://USER:PASSWORD@HOST:PORT/DB (default: OPPS_HUB_STORE).")
    var to: String?

    @Flag(help: "Print the rows moved per table as one JSON object.")
    var json = false

    public init() {}

    public func validate() throws {
        if let to, !PostgresLocation.isURL(to) { throw ValidationError(say("--to takes a postgres:// URL", "--to 需要 postgres:// 地址")) }
    }

    public func run() throws {
        guard let url = to ?? ProcessEnvironment.current["OPPS_HUB_STORE"].flatMap({ $0.isEmpty ? nil : $0 }) else {
            throw CommandFailure("give --to postgres://… (or set OPPS_HUB_STORE)", chinese: "请用 --to postgres://… 指明目标（或设置 OPPS_HUB_STORE）")
        }
        guard PostgresLocation.isURL(url) else { throw CommandFailure("OPPS_HUB_STORE must be a postgres:// URL", chinese: "OPPS_HUB_STORE 必须是 postgres:// 地址") }
        let path = HubConfiguration(dataDirectory: from).databasePath
        guard FileManager.default.fileExists(atPath: path) else { throw CommandFailure("no hub in \(from)", chinese: "\(from) 里没有服务器") }
        // A hub still serving the file would go on acknowledging writes the copy lacks.
        let lock = try adminCall { try HubLock(directory: from) }
        defer { withExtendedLifetime(lock) {} }
        let place = (try? PostgresLocation(url: url))?.description ?? "the PostgreSQL database"
        let source: SQLiteHubStore
        let target: PostgresHubStore
        do {
            source = try SQLiteHubStore(path: path)
            guard try source.hubID() != nil, source.database.isIntact() else {
                throw CommandFailure("\(from) does not hold an intact hub", chinese: "\(from) 里不是完整的服务器")
            }
        } catch let e as StoreError {
            throw CommandFailure("cannot open the hub in \(from)", chinese: "无法打开 \(from) 里的服务器", because: e.databaseReason)
        }
        do { target = try PostgresHubStore(url: url) } catch let e as StoreError {
            throw CommandFailure("cannot open \(place)", chinese: "无法打开 \(place)", because: e.reason)
        }
        let copied: [String: Int]
        do {
            var last = ""
            copied = try target.importHub(from: source) { table, done, total in
                if Console.isTerminal {
                    Console.progress(
                        "\r\u{1B}[2K" + say("\(table): \(done.formatted) of \(total.formatted) rows", "\(table)：\(done.formatted) / \(total.formatted) 行"))
                } else if table != last {
                    Console.err(say("copying \(table) (\(total.formatted) rows)", "正在复制 \(table)（\(total.formatted) 行）"))
                }
                last = table
            }
            if Console.isTerminal { Console.progress("\r\u{1B}[2K") }
        } catch let e as StoreError {
            throw CommandFailure("nothing was moved (\(place) is as it was)", chinese: "什么都没有迁移（\(place) 保持原样）", because: e.reason)
        }
        // The copy answers as the original does.
        let same =
            try target.hubID() == source.hubID() && target.head() == source.head() && target.conflictHead() == source.conflictHead()
            && target.recordCount() == source.recordCount() && target.replicas() == source.replicas()
        guard same else {
            throw CommandFailure(
                "the copy in \(place) does not match \(from): drop that database and run migrate again",
                chinese: "\(place) 里的副本与 \(from) 不一致：删掉那个数据库，再运行一次 migrate")
        }
        if json {
            Console.out(
                try MigrateJSON(
                    hub: try source.hubID()?.description ?? "", to: place,
                    tables: PostgresHubStore.migratedTables.map { MigrateJSON.Table(table: $0, rows: copied[$0] ?? 0) }
                ).jsonPretty())
        } else {
            let hub = try source.hubID()?.description ?? ""
            let (records, log, replicas, users) = (
                (copied["records"] ?? 0).formatted, (copied["log"] ?? 0).formatted, (copied["replicas"] ?? 0).formatted, (copied["users"] ?? 0).formatted
            )
            Console.out(
                say(
                    "moved hub \(hub) from \(from) to \(place): \(records) records, \(log) log entries, \(replicas) replicas, \(users) users",
                    "已把服务器 \(hub) 从 \(from) 迁到 \(place)：记录 \(records) 条，日志 \(log) 条，副本 \(replicas) 个，用户 \(users) 个"))
            Console.out(
                say(
                    "next: opps-hub serve --store URL (or with OPPS_HUB_STORE set) on each hub machine; \(from) is left as it was",
                    "接下来：在每台服务器机器上运行 opps-hub serve --store 地址（或设置 OPPS_HUB_STORE）；\(from) 保持原样"))
        }
    }
}

extension Int {
    /// 12,345 (grouped for reading).
    fileprivate var formatted: String { grouped(self) }
}
