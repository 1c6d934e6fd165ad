import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsHub
import OppsReplica
import OppsStore

let day: Int64 = 86_400_000

/// `opps-hub status`.
public struct StatusCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Replicas (user, last seen, changes still to send it, open conflicts), log length, database size, workspace version, and what compaction would free.",
        discussion: "Example: opps-hub status --data /srv/opps")

    @OptionGroup var data: DataOption
    @Option(help: ArgumentHelp("The compaction retention window in days (replicas seen within it are kept in sync incrementally).", valueName: "days"))
    var retentionDays: Int = 30
    @Flag(help: "List every replica, also those not seen within the retention window (else counted in one line).") var all = false
    @Option(
        help: ArgumentHelp(
            "Only this user's replicas, each however long ago it was seen (\"is sam's laptop syncing?\"); the rest of the report is the hub's.",
            valueName: "name"))
    var user: String?
    @Flag(help: "Print one JSON object.") var json = false

    public init() {}

    public func run() throws {
        let s = try adminCall { () throws -> HubEngine.Status in
            let engine = try data.openEngine()
            if let user, try engine.store.user(named: user) == nil {
                throw CommandFailure(
                    "no user is named \(user): opps-hub user list \(data.flag) shows them", chinese: "没有名为 \(user) 的用户：opps-hub user list \(data.flag) 列出所有用户")
            }
            return try engine.status(retention: Int64(retentionDays) * day, user: user)
        }
        func g(_ n: some BinaryInteger) -> String { grouped(Int(n)) }
        if json {
            Console.out(try StatusJSON(s).jsonLine())
            return
        }
        Console.out(
            say(
                // Counts grouped as every count opps prints is (16,002); the sequence numbers as they are.
                "head \(s.head), \(g(s.logEntries)) log entries, \(g(s.records)) records, workspace v\(s.workspaceVersion), database \(g(s.databaseBytes / 1024)) KiB",
                "序号到 \(s.head)，日志 \(g(s.logEntries)) 条，记录 \(g(s.records)) 条，工作区第 \(s.workspaceVersion) 版，数据库 \(g(s.databaseBytes / 1024)) KiB"))
        // Said when it is a tenth of the file or more (after a compaction, or an upgrade that
        // copied a table): why the file did not shrink, and that nothing needs doing.
        if s.freeBytes * 10 >= s.databaseBytes, s.freeBytes >= 1 << 20 {
            Console.out(
                say(
                    "of which \(g(s.freeBytes / 1024)) KiB free (pages used again as the hub grows)",
                    "其中 \(g(s.freeBytes / 1024)) KiB 空闲（服务器增长时会再用上）"))
        }
        Console.out(
            say(
                "open conflicts \(g(s.openConflicts)); compaction would free \(g(s.compactableEntries)) log entries (through \(s.compactionWatermark))",
                "未处理冲突 \(g(s.openConflicts)) 个；压缩可以释放 \(g(s.compactableEntries)) 条日志（到序号 \(s.compactionWatermark)）"))
        guard !s.replicas.isEmpty else {
            Console.out(user.map { say("\($0) has no replica that has synced yet", "\($0) 还没有副本同步过") } ?? say("no replica has synced yet", "还没有副本同步过"))
            return
        }
        // The replicas seen within the window; the others (a replaced laptop's, kept for ever)
        // counted in one line unless --all: a fleet's table is long enough. One user's, all.
        let listed = all || user != nil ? s.replicas : s.replicas.filter(\.withinRetention)
        let past = s.replicas.count - listed.count
        if !listed.isEmpty {
            // A table that reads at 80 columns: a replica a line, its last sync to the minute (UTC).
            Console.out("")
            let header =
                ChineseHubHelp.readerIsChinese
                ? ["用户", "副本", "最后在线（UTC）", "待接收", "冲突"] : ["USER", "REPLICA", "LAST SEEN (UTC)", "TO RECEIVE", "CONFLICTS"]
            // The counts right-aligned under their headings.
            let rows = [header] + listed.map { r in [r.user, String(r.id.description.prefix(8)), minuteText(r.lastSeen), String(r.lag), String(r.openConflicts)] }
            for line in table(rows, right: [3, 4]) { Console.out("  " + line) }
        }
        if past > 0 {
            Console.out("")
            Console.out(
                say(
                    "\(g(past)) more replica(s) unseen for over \(retentionDays) days: compaction does not wait (--all)",
                    "另有 \(g(past)) 个副本超过 \(retentionDays) 天未在线：压缩不等它们（--all 列出它们）"
                ).wrapped(width: 80).joined(separator: "\n"))
        }
    }
}

/// `opps-hub audit`.
public struct AuditCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Every accepted write and every conflict on a record: author, device time, hub time, rule.",
        discussion: "Example: opps-hub audit 7dka36sd --data /srv/opps (the short id a rep quotes from opps)")

    @Argument(help: "The record: its id (a UUID), or the short id opps prints (8 characters; a live record's).") var id: String
    @OptionGroup var data: DataOption
    @Flag(help: "Print a JSON array of events.") var json = false

    public init() {}

    public func run() throws {
        let engine = try adminCall { try data.openEngine() }
        let record: RecordID
        if let full = RecordID(parsing: id) {
            record = full
        } else {
            let found = try adminCall { try engine.records(withShortID: id) }
            guard let only = found.first else {
                throw CommandFailure(
                    "no live record has the short id \(id): give its id (a UUID, as opps show prints it), or at least 4 characters of its short id",
                    chinese: "没有短 id 为 \(id) 的记录：请给出它的 id（opps show 打印的 UUID），或短 id 的至少 4 个字符")
            }
            guard found.count == 1 else {
                throw CommandFailure(
                    "\(found.count) records have a short id beginning \(id): \(found.map(\.description).joined(separator: ", "))",
                    chinese: "有 \(found.count) 条记录的短 id 以 \(id) 开头：\(found.map(\.description).joined(separator: "、"))：请多给几个字符")
            }
            record = only
        }
        let (entries, conflicts) = try adminCall { try engine.audit(record: record) }
        if entries.isEmpty && conflicts.isEmpty {
            throw CommandFailure("nothing is recorded for \(id) (or it was compacted)", chinese: "\(id) 没有任何记录（或已被压缩）")
        }
        // A line an event at 80 columns: when the hub took it (to the minute, UTC), who, what; the
        // device's own time too when it differs (a write made offline), and the authority it had.
        let words = EventWords(engine)
        var events = [(Int64, JSON, String)]()
        for e in entries {
            let x = e.entry
            let what =
                switch x.kind {
                case .create:
                    say("created", "新建") + (x.value.isNull ? "" : say(" in \(x.value.canonicalText)", "，阶段「\(words.stage(x.value))」"))
                case .delete: say("deleted", "删除")
                default: "\(words.field(x.entity, x.field)) = \(words.value(x.entity, x.field, x.value))"
                }
            let device = x.stamp.hlc.milliseconds
            let offline = abs(device - e.hubMilliseconds) >= 60_000 ? say(", written \(minuteText(device)) on the device", "，设备上写于 \(minuteText(device))") : ""
            events.append(
                (
                    e.hubMilliseconds,
                    try JSONValueEncoder.encode(AuditWriteJSON(e)),
                    hanging(
                        "#\(x.sequence)  \(minuteText(e.hubMilliseconds))  \(x.author)  ",
                        say("\(what) (\(x.authority.name)\(offline))", "\(what)（\(words.access(x.authority))\(offline)）"))
                ))
        }
        for c in conflicts {
            let x = c.conflict
            let holds = x.winner.map { words.value(x.entity, x.field, $0.value) } ?? "-"
            events.append(
                (
                    c.hubMilliseconds,
                    try JSONValueEncoder.encode(AuditConflictJSON(c)),
                    hanging(
                        say("conflict", "冲突") + " \(x.id)  \(minuteText(c.hubMilliseconds))  \(x.loser.author)  ",
                        "\(words.field(x.entity, x.field)) = \(words.value(x.entity, x.field, x.loser.value))"
                            + say(": \(words.fate(x)); held \(holds)", "：\(words.fate(x))；当时的值 \(holds)"))
                ))
        }
        events.sort { $0.0 < $1.0 }
        if json { Console.out(JSON.array(events.map(\.1)).compactText); return }
        // The record as a rep names it, then its full id and whose clock the times are.
        let entity = entries.first?.entry.entity ?? conflicts.first?.conflict.entity ?? ""
        Console.out(hanging("", words.record(record, entity: entity)))
        Console.out(say("id \(record); times are the hub's, UTC", "id \(record)；时间为服务器时间（UTC）"))
        for e in events { Console.out(e.2) }
    }
}

/// `opps-hub conflicts`.
public struct ConflictsCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "conflicts", abstract: "Open conflict records (all, or a user's), and restoring a losing value.",
        discussion: "Example: opps-hub conflicts --user sam --data /srv/opps",
        subcommands: [List.self, Restore.self], defaultSubcommand: List.self)

    public init() {}

    public struct List: ParsableCommand {
        public static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List open conflicts.", discussion: "Example: opps-hub conflicts list --user sam --data /srv/opps")
        @Option(help: "Only conflicts of this user's writes or on records they own.") var user: String?
        @OptionGroup var data: DataOption
        @Flag(help: "Print a JSON array.") var json = false
        public init() {}

        public func run() throws {
            let engine = try adminCall { try data.openEngine() }
            let list = try adminCall { try engine.store.openConflicts(user: user) }
            if json {
                Console.out(try list.map(HubConflictJSON.init).jsonLine())
                return
            }
            if list.isEmpty { Console.out(say("no open conflicts", "没有未处理的冲突")); return }
            // One conflict a block, as opps conflicts shows a rep's: the record by the short id
            // reps quote, the losing value and who wrote it, what became of it, what held then and
            // what holds now.
            let words = EventWords(engine)
            for (i, c) in list.enumerated() {
                let x = c.conflict
                if i > 0 { Console.out("") }
                Console.out(
                    hanging(
                        "#\(x.id)  ",
                        "\(words.record(x.record, entity: x.entity)) · \(words.field(x.entity, x.field))  \(minuteText(c.hubMilliseconds)) UTC"))
                let lost = words.value(x.entity, x.field, x.loser.value)
                Console.out(
                    hanging(
                        "    ",
                        say("\(x.loser.author) wrote \(lost): \(words.fate(x))", "\(x.loser.author) 写的\(lost)：\(words.fate(x))")))
                // What held when the hub decided, and what the field holds now if written since
                // (as opps conflicts says it: a restore is decided on today's value).
                let current = try adminCall { try engine.store.record(x.record, workspace: engine.workspace) }.map { $0[x.field] }
                let now = x.winner.flatMap { w in current.flatMap { $0 == w.value ? nil : words.value(x.entity, x.field, $0) } }
                Console.out(
                    hanging(
                        "    ",
                        say("held: ", "当时的值：")
                            + (x.winner.map {
                                say("\(words.value(x.entity, x.field, $0.value)) (\($0.author))", "\(words.value(x.entity, x.field, $0.value))（\($0.author)）")
                            } ?? "-") + (now.map { say("; now: \($0)", "；现在：\($0)") } ?? "")))
            }
            Console.out("")
            Console.out(
                say(
                    "restore a losing value as a manager's decision:\n  opps-hub conflicts restore ID --as MANAGER",
                    "以经理的决定恢复落败的值：opps-hub conflicts restore 编号 --as 经理"))
        }
    }

    public struct Restore: ParsableCommand {
        public static let configuration = CommandConfiguration(
            commandName: "restore", abstract: "Re-apply a conflict's losing value as a manager's override (audited; the displaced value is kept as a conflict).",
            discussion: "Example: opps-hub conflicts restore 12 --as max --data /srv/opps")
        @Argument(help: "The conflict id.") var id: UInt64
        @Option(name: .customLong("as"), help: "The manager making the decision (a user with an override role).") var manager: String
        @OptionGroup var data: DataOption
        public init() {}

        public func run() throws {
            let (sequence, displaced) = try adminCall { try data.openEngine().restore(conflict: id, by: manager) }
            Console.out(
                say(
                    "restored conflict \(id) at sequence \(sequence)" + (displaced > 0 ? "; the displaced value is conflict \(displaced)" : ""),
                    "已恢复冲突 \(id)，序号 \(sequence)" + (displaced > 0 ? "；被替换的值保存为冲突 \(displaced)" : "")))
        }
    }
}

/// `opps-hub compact`.
public struct CompactCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "compact",
        abstract: "Prune log entries and tombstones every replica seen within the retention window has acknowledged.",
        discussion:
            "A replica not seen within the window gets a full re-sync at its next sync, keeping its pending local writes.\n\nExample: opps-hub compact --retention-days 30 --data /srv/opps"
    )
    @OptionGroup var data: DataOption
    @Option(help: ArgumentHelp("Retention window in days.", valueName: "days")) var retentionDays: Int = 30
    @Flag(help: "Print one JSON object.") var json = false
    public init() {}

    public func validate() throws { guard retentionDays >= 0 else { throw ValidationError(say("--retention-days must be 0 or more", "--retention-days 必须是 0 或更大")) } }

    public func run() throws {
        // Progress on a terminal, for a log of more than one slice (a hub of a million deals has
        // millions of entries).
        var shown = false
        let r = try adminCall {
            try data.openEngine().compact(retention: Int64(retentionDays) * day) { done, total in
                guard total > HubEngine.compactionSlice else { return }
                shown = true
                Console.progress(say("compacting: \(grouped(done)) of \(grouped(total)) log entries", "正在压缩：日志 \(grouped(total)) 条中的 \(grouped(done)) 条"))
            }
        }
        if shown { Console.progressErase() }
        if json {
            Console.out(try CompactJSON(watermark: r.watermark, entries: r.entries, tombstones: r.tombstones).jsonLine())
        } else {
            Console.out(
                say(
                    "compacted through \(r.watermark): \(r.entries) log entries, \(r.tombstones) tombstones",
                    "已压缩到序号 \(r.watermark)：日志 \(r.entries) 条，删除标记 \(r.tombstones) 个"))
        }
    }
}

/// `opps-hub backup`.
public struct BackupCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "backup", abstract: "Copy the hub database to a file with SQLite's online backup; the hub keeps serving.",
        discussion: "Example: opps-hub backup --to /backups/opps-2026-12-03.sqlite --data /srv/opps")
    @Option(help: "The backup file to write (must not exist).") var to: String
    @OptionGroup var data: DataOption
    public init() {}

    public func run() throws {
        guard !data.configuration.isPostgres else { throw CommandFailure(Self.onPostgres, chinese: Self.onPostgresChinese) }
        guard !FileManager.default.fileExists(atPath: to) else { throw CommandFailure("\(to) exists; choose a new file", chinese: "\(to) 已经存在：请换一个新文件") }
        let directory = try data.requireDirectory()
        let path = data.configuration.databasePath
        guard FileManager.default.fileExists(atPath: path) else { throw CommandFailure("no hub in \(directory)", chinese: "\(directory) 里没有服务器") }
        do {
            let db = try Database(path: path)
            let partial = to + ".partial"
            try? FileManager.default.removeItem(atPath: partial)
            // Progress on a terminal, by the MiB (a hub of a million deals is gigabytes).
            var shown: Int64 = -1
            try db.backup(to: partial) { done, total in
                let (mib, of) = (done >> 20, total >> 20)
                guard of >= 64, mib != shown else { return }
                shown = mib
                Console.progress(say("backing up: \(mib) of \(of) MiB", "正在备份：\(of) MiB 中的 \(mib) MiB"))
            }
            if shown >= 0 { Console.progressErase() }
            try FileManager.default.moveItem(atPath: partial, toPath: to)
        } catch let e as StoreError {
            throw CommandFailure("backup failed", chinese: "备份失败", because: e.reason)
        }
        Console.out(say("backed up \(directory) to \(to)", "已把 \(directory) 备份到 \(to)"))
    }

    static let onPostgresChinese = "这个服务器在 PostgreSQL 上：请用 PostgreSQL 自己的工具备份——pg_dump 做副本，pg_basebackup 和 WAL 归档做时间点恢复（docs/operator.md）"

    static let onPostgres = """
        this hub is on PostgreSQL: back it up with PostgreSQL's own tools — pg_dump for a copy, \
        pg_basebackup and WAL archiving for point-in-time recovery (docs/operator.md)
        """
}

/// `opps-hub restore`.
public struct RestoreCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "restore", abstract: "Replace the hub database with a backup (stop the hub first).",
        discussion:
            "Replicas that saw changes the backup lacks notice at their next sync and reconcile, keeping their pending writes and re-downloading only what changed.\n\nExample: opps-hub restore --from /backups/opps-2026-12-03.sqlite --data /srv/opps"
    )
    @Option(help: "The backup file.") var from: String
    @OptionGroup var data: DataOption
    public init() {}

    public func run() throws {
        guard !data.configuration.isPostgres else {
            throw CommandFailure(
                "this hub is on PostgreSQL: stop every hub, restore the database with pg_restore (or from a base backup), start them again; replicas reconcile at their next sync (docs/operator.md)",
                chinese: "这个服务器在 PostgreSQL 上：停止所有服务器进程，用 pg_restore（或基础备份）恢复数据库，再启动它们；副本在下一次同步时对齐（docs/operator.md）")
        }
        let directory = try data.requireDirectory()
        let fm = FileManager.default
        guard fm.fileExists(atPath: from) else { throw CommandFailure("no backup at \(from)", chinese: "\(from) 没有备份") }
        do {
            let check = try SQLiteHubStore(path: from)
            guard try check.hubID() != nil, check.database.isIntact() else {
                throw CommandFailure("\(from) is not an intact hub backup", chinese: "\(from) 不是完整的服务器备份")
            }
        } catch let e as StoreError {
            throw CommandFailure("\(from) is not a usable hub backup", chinese: "\(from) 不是可用的服务器备份", because: e.reason)
        }
        try? fm.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        // Never swap the database under a running hub: it would go on acknowledging writes into
        // the replaced file. Holding the lock also keeps a hub from starting mid-restore.
        let lock = try adminCall { try HubLock(directory: directory) }
        defer { withExtendedLifetime(lock) {} }
        let path = data.configuration.databasePath
        let staging = path + ".restoring"
        try? fm.removeItem(atPath: staging)
        do {
            let source = try Database(path: from)
            try source.backup(to: staging)
            for suffix in ["-wal", "-shm"] { try? fm.removeItem(atPath: path + suffix) }
            // rename(2) replaces the database atomically: either the old or the restored one is there.
            guard rename(staging, path) == 0 else {
                throw CommandFailure("cannot move the restored database into place (errno \(errno))", chinese: "无法把恢复的数据库放到位（errno \(errno)）")
            }
        } catch {
            try? fm.removeItem(atPath: staging)
            throw CommandFailure("restore failed: \(error)", chinese: "恢复失败：\(error)")
        }
        Console.out(say("restored \(directory) from \(from)", "已用 \(from) 恢复 \(directory)；副本在下一次同步时对齐"))
    }
}

/// `opps-hub duplicates`: likely duplicate accounts or contacts across the whole hub (the same
/// company or person made on two laptops offline), whoever made them — a manager's laptop only
/// sees those its team's deals use. Merging is a manager's act on a laptop (`opps account merge`),
/// synced and audited like any write (merge-semantics.md §7.3).
public struct DuplicatesCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "duplicates", abstract: "List likely duplicate accounts or contacts across the hub.",
        discussion:
            "Names compared as opps account duplicates compares them (any case and width, no punctuation or legal forms); contacts also by email and phone.\n\nExample: opps-hub duplicates --type contact --data /srv/opps"
    )

    @Option(help: "account or contact (客户, 联系人).") var type = "account"
    @OptionGroup var data: DataOption
    @Flag(help: "Print a JSON array of groups, each an array of {id, name, creator}.") var json = false

    public init() {}

    /// The type by its name or label (`客户`, `联系人`): account or contact.
    var entity: String? { Workspace.default.entity(input: type).map(\.name).flatMap { ["account", "contact"].contains($0) ? $0 : nil } }

    public func validate() throws {
        guard entity != nil else { throw ValidationError(say("--type is account or contact", "--type 是 account（客户）或 contact（联系人）")) }
    }

    public func run() throws {
        let type = entity ?? "account"
        let groups: [[Record]] = try adminCall {
            let engine = try data.openEngine()
            let records = try engine.store.liveRecords(entity: type).compactMap { try engine.store.record($0, workspace: engine.workspace) }
            return Duplicates.groups(records)
        }
        if json {
            Console.out(try groups.map { $0.map { DuplicateJSON(id: $0.id.description, name: $0["name"], creator: $0.creator) } }.jsonLine())
            return
        }
        let kind = type == "account" ? "客户" : "联系人"
        if groups.isEmpty { Console.out(say("no likely duplicate \(type)s on this hub", "服务器上没有可能重复的\(kind)")); return }
        for (i, g) in groups.enumerated() {
            Console.out(say("\(i + 1). \(g.count) \(type)s look like one:", "\(i + 1). 这 \(g.count) 个\(kind)看起来是同一个："))
            for r in g {
                Console.out(
                    say(
                        "   \(ShortID.shown(r.id))  \(r["name"].canonicalText)  (made by \(r.creator))",
                        "   \(ShortID.shown(r.id))  \(r["name"].canonicalText)（\(r.creator) 建的）"))
            }
        }
        Console.out(
            say(
                "a manager merges them from a laptop that holds both: opps \(type) merge KEEP DUPLICATE",
                "由经理在同时有这两条记录的电脑上合并：opps \(type) merge 保留的 重复的"))
    }
}

/// How an operator reads a record's writes and conflicts: in English the workspace's names and
/// the rules' names, as the JSON carries them; in Chinese the labels and the rules' sentences
/// that `opps` shows reps (`Vocabulary`), so an operator and a rep read the same words. A value
/// quoted ("…" or 「…」, an enum member by its label in Chinese); a reference by the short id
/// reps quote.
struct EventWords {
    let chinese: Bool
    let words: Vocabulary
    /// A record's name as the hub holds it now (nil: none, or no longer there).
    private let named: (RecordID) -> String?

    /// `engine` names the records a value refers to and a conflict is on, as the operator's
    /// reps see them in `opps` (a short id alone tells an operator nothing).
    init(_ engine: HubEngine) {
        chinese = ChineseHubHelp.readerIsChinese
        words = Vocabulary(engine.workspace, locale: chinese ? "zh-CN" : nil)
        let store = engine.store, workspace = engine.workspace
        named = { id in
            guard let r = try? store.record(id, workspace: workspace), case let .text(name) = r["name"], !name.isEmpty else { return nil }
            return name
        }
    }

    func entity(_ name: String) -> String { words.entity(name) }
    func field(_ entity: String, _ name: String) -> String { words.conflictField(entity, name) }
    func stage(_ value: Value) -> String { words.stage(value.canonicalText) }
    func access(_ access: Access) -> String { chinese ? Vocabulary.chineseAccess(access) : access.name }

    /// A record by its short id and its name: `89p6pqgb 商机「恒远物流 客服升级」`,
    /// `89p6pqgb Hooli Logistics CRM rollout`; the entity's word alone when it has no name.
    func record(_ id: RecordID, entity: String) -> String {
        let code = ShortID.shown(id)
        guard let name = named(id) else { return "\(code) \(self.entity(entity))" }
        return chinese ? "\(code) \(self.entity(entity))「\(name)」" : "\(code) \(name)"
    }

    func value(_ entity: String, _ field: String, _ value: Value) -> String {
        // A reference by the record's name and short id, as opps prints it (`华为（4kcexbcz）`).
        if case let .reference(target) = value {
            let code = ShortID.shown(target)
            return named(target).map { chinese ? "\($0)（\(code)）" : "\($0) (\(code))" } ?? code
        }
        // A cleared field, as the replica and the web app say it (not the canonical `null`).
        if value.isNull { return chinese ? "（空）" : "(empty)" }
        // An amount with thousands separators, a percentage with its sign, as opps shows them.
        // Chinese reads a member by its label too; English by its name, as typed.
        let text: String =
            switch value {
            case .decimal, .integer: words.value(entity, field, value)
            default: chinese ? words.value(entity, field, value) : value.canonicalText
            }
        return chinese ? "「\(text)」" : "\"\(text)\""
    }

    /// What became of a conflict's losing write and why, as a rep reads it in `opps conflicts`:
    /// `未被采用（同时修改：…）`, `lost (changed at the same time: …)`.
    func fate(_ conflict: ConflictRecord) -> String {
        chinese
            ? Vocabulary.chineseOutcome(conflict.outcome.rawValue) + "（" + words.chineseReason(conflict.rule, entity: conflict.entity, field: conflict.field) + "）"
            : conflict.outcome.rawValue + " (" + words.englishReason(conflict.rule, entity: conflict.entity, field: conflict.field) + ")"
    }
}
