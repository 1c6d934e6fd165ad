import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

/// `opps`: the field rep's command line. Every command works offline against the local
/// replica; `opps sync` reconciles with the hub.
public struct Opps: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "opps",
        abstract: "Work on your opportunities offline and sync them with the OppSync hub.",
        discussion: """
            The replica lives in --home DIR, else $OPPS_HOME, else ~/.opps. A record is named by the short \
            id opps prints (4+ of its characters do) or its exact name. Commands that print data take --json.

            Stages, fields and choices read in your language when the workspace has labels in it \
            (opps locale zh-CN, or LANG); you may type a name or a label: opps set 7dka36sd 技术风险=低.

            Exit codes: 0 ok; 1 bad usage or input; 2 the hub cannot be reached (local work is kept); \
            3 refused by an ownership rule; 4 authentication failed.
            
            Example: opps init --hub http://127.0.0.1:8080 --token opps_… then opps new \"ACME rollout\" --account ACME
            """,
        version: "0.1.0",
        subcommands: [InitCommand.self, ConnectCommand.self, SyncCommand.self, StatusCommand.self, NewCommand.self, LeadCommand.self, ListCommand.self, ForecastCommand.self,
                      ShowCommand.self, SetCommand.self, StageCommand.self, TeamCommand.self, ApprovalsCommand.self, ApproveCommand.self, RejectCommand.self,
                      LogCommand.self, TaskCommand.self, TodayCommand.self, BoardCommand.self, FunnelCommand.self, ReportCommand.self, ExportCommand.self,
                      ConflictsCommand.self, HistoryCommand.self, DeleteCommand.self, AccountCommand.self, ContactCommand.self, LocaleCommand.self, Rules.self]
    )

    public init() {}
}

/// Runs `opps` with `arguments` and returns the exit code; errors become one line on stderr
/// (or a JSON object on stdout with --json), never a stack trace.
public enum OppsMain {
    public static func run(_ arguments: [String]) async -> Int32 {
        let json = arguments.contains("--json")
        let commands = Opps.configuration.subcommands.map { $0._commandName }
        if let typo = CommandSuggestion.unknown(arguments, known: commands) {
            let hint = CommandSuggestion.closest(to: typo, among: commands).map { "did you mean \"\($0)\"? " } ?? ""
            report("unknown command \"\(typo)\": \(hint)(opps --help lists the commands)", code: 1, json: json)
            return 1
        }
        var command: any ParsableCommand
        do {
            command = try Opps.parseAsRoot(arguments)
        } catch {
            if error is CleanExit || Opps.exitCode(for: error).isSuccess {
                Console.out(Opps.fullMessage(for: error))
                return 0
            }
            report(Opps.message(for: error), code: 1, json: json)
            return 1
        }
        do {
            if var async = command as? any AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
            return 0
        } catch let e as ReplicaError {
            let code: Int32 = switch e {
            case .unreachable, .unreachableAtInit: 2
            case .refused: 3
            case .authentication, .disabled: 4
            case .certificate: 5
            default: 1
            }
            report(e.description, code: code, json: json)
            return code
        } catch let e as ExitCode {
            return e.rawValue
        } catch {
            if error is CleanExit || Opps.exitCode(for: error).isSuccess {
                Console.out(Opps.fullMessage(for: error))
                return 0
            }
            report(Opps.message(for: error), code: 1, json: json)
            return 1
        }
    }

    static func report(_ message: String, code: Int32, json: Bool) {
        if json {
            Console.out(JSON.object([("error", .string(message)), ("exit", .number(Int(code)))]).compactText)
        } else {
            Console.err("opps: " + message)
        }
    }
}

/// `--home`: where the replica lives.
struct HomeOption: ParsableArguments {
    @Option(help: "The replica home (default: $OPPS_HOME, else ~/.opps).")
    var home: String?

    var path: String {
        if let home { return home }
        if let env = ProcessInfo.processInfo.environment["OPPS_HOME"], !env.isEmpty { return env }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".opps").path
    }

    @Option(help: "Show the workspace's labels in this language (zh-CN, en…); default: opps locale's setting, else LANG.")
    var locale: String?

    func validate() throws {
        if let locale, !LocaleTag.isValid(locale) { throw ValidationError("--locale takes a language tag such as zh-CN or en") }
    }

    func open() throws -> Replica { try Replica(home: path, clock: SystemClock()) }

    /// The words to print for `r`'s workspace: labels in the reader's language (workspace-format.md
    /// "Labels"): --locale, the replica's setting, LC_ALL / LC_MESSAGES / LANG, the workspace's own.
    func words(_ r: Replica) -> Vocabulary {
        let env = ProcessInfo.processInfo.environment
        let posix = ["LC_ALL", "LC_MESSAGES", "LANG"].lazy.compactMap { LocaleTag.fromPOSIX(env[$0]) }.first
        let setting = (try? r.store.meta("locale")).flatMap { $0.isEmpty ? nil : $0 }
        return Vocabulary(r.workspace, locale: r.workspace.displayLocale(preferring: [locale, setting, posix]))
    }
}

struct SystemClock: PhysicalClock {
    func nowMilliseconds() -> Int64 { DeviceClock.fixed ?? Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }
}

/// The device clock `opps` reads. Tests pin it (per task, so parallel tests do not interfere)
/// to script a day with known device times; the command line never does.
public enum DeviceClock {
    @TaskLocal public static var fixed: Int64?
}

// MARK: - init, sync, status

struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init", abstract: "Create this laptop's replica, connect it to the hub, and do the first full sync.", discussion: "Example: opps init --hub http://127.0.0.1:8080 --token opps_…")

    @Option(help: "The hub's URL, e.g. http://127.0.0.1:8080.")
    var hub: String

    @Option(help: "Your token (from the operator's 'opps-hub user add').")
    var token: String

    @Option(help: "A PEM file of certificates to trust for an https:// hub with a private CA or a self-signed certificate.")
    var ca: String?

    @OptionGroup var home: HomeOption

    @Flag(help: "Print the result as one JSON object.")
    var json = false

    func validate() throws {
        try ConnectCommand.check(hub: hub, token: token, ca: ca)
    }

    func run() async throws {
        let ca = ConnectCommand.absolute(self.ca)
        let transport = HTTPTransport(baseURL: hub, caFile: ca)
        defer { Task { await transport.shutdown() } }
        let replica: Replica
        do {
            replica = try await Replica.create(home: home.path, hubURL: hub, token: token, caFile: ca, transport: transport, clock: SystemClock())
        } catch let ReplicaError.unreachable(why) {
            throw ReplicaError.unreachableAtInit(why)
        }
        // `opps init --locale zh-CN` keeps the language as this laptop's setting (opps locale).
        if let locale = home.locale { try replica.store.setMeta("locale", locale) }
        let report = try await SyncCommand.perform(replica, transport: transport, json: json)
        if json {
            Console.out(JSON.object([("user", .string(replica.user)), ("role", .string(replica.role)), ("home", .string(home.path)),
                                     ("pulled", .number(report.pulled))]).compactText)
        } else {
            Console.out("replica for \(replica.user) (\(replica.role)) in \(home.path): \(try replica.store.recordCount()) records")
        }
    }
}

struct ConnectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connect",
        abstract: "Give this replica a new token, hub URL or CA certificate, keeping all its work.",
        discussion: """
            After the operator rotates your token (opps sync says the token was not accepted), after the hub moves, \
            or when the hub uses a private CA: nothing local is lost, pending writes sync at the next opps sync. \
            The hub is asked first; nothing changes unless it accepts the token as yours.
            
            Example: opps connect --token opps_NEW
            """)

    @Option(help: "The hub's new URL.") var hub: String?
    @Option(help: "Your new token (from the operator).") var token: String?
    @Option(help: "A PEM file of certificates to trust for the hub (empty: the system's only).") var ca: String?
    @OptionGroup var home: HomeOption
    @Flag(help: "Print the result as one JSON object.") var json = false

    static func check(hub: String?, token: String?, ca: String?) throws {
        if let hub, !(hub.hasPrefix("http://") || hub.hasPrefix("https://")) { throw ValidationError("--hub must be an http:// or https:// URL") }
        if let token, !(token.hasPrefix("opps_") && token.count == 69) { throw ValidationError("--token must be the opps_… token the operator gave you") }
        if let ca, !ca.isEmpty, !FileManager.default.isReadableFile(atPath: ca) { throw ValidationError("cannot read --ca \(ca)") }
    }

    /// The CA file as an absolute path: the replica keeps it for later syncs from anywhere.
    static func absolute(_ path: String?) -> String? {
        guard let path, !path.isEmpty, !path.hasPrefix("/") else { return path }
        return FileManager.default.currentDirectoryPath + "/" + path
    }

    func validate() throws {
        guard hub != nil || token != nil || ca != nil else { throw ValidationError("give --token, --hub or --ca (see opps connect --help)") }
        try Self.check(hub: hub, token: token, ca: ca)
    }

    func run() async throws {
        let replica = try home.open()
        let ca = Self.absolute(self.ca)
        let transport = HTTPTransport(baseURL: hub ?? replica.hubURL, caFile: ca.map { $0.isEmpty ? nil : $0 } ?? replica.caFile)
        defer { Task { await transport.shutdown() } }
        try await replica.connect(hubURL: hub, token: token, caFile: ca, transport: transport)
        let pending = try replica.store.outboxCount()
        if json {
            Console.out(JSON.object([("user", .string(replica.user)), ("hub", .string(replica.hubURL)), ("pending", .number(pending))]).compactText)
        } else {
            Console.out("connected \(replica.user)'s replica to \(replica.hubURL); \(pending) pending write(s) kept: run opps sync")
        }
    }
}

/// One line of sync progress (issue 15 item 3): what is done of what the hub said there is, the
/// rate, and the time left — `[#########.....................] 30,000 of 100,000 records, 8,100/s, 9 s left`.
func progressLine(_ p: SyncProgress, elapsed: Double, bar: Bool = true) -> String {
    let done = p.done
    let rate = Double(p.received) / max(0.001, elapsed)
    let what = p.start == 0 && p.total > 0 ? "\(grouped(p.received)) of \(grouped(Int(p.total))) records" : "\(grouped(p.received)) records and changes"
    var line = "\(what), \(grouped(Int(rate)))/s"
    if done > 0, done < 1 { line += ", \(Int((elapsed * (1 - done) / done).rounded(.up))) s left" }
    guard bar else { return "pulled " + line }
    let filled = Int(done * 30)
    return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: 30 - filled) + "] " + line
}

/// A deal's amount as people read it: `1,480,000.50 CNY` (empty without one).
func amountText(_ deal: Record) -> String {
    deal["amount"].isNull ? "" : groupedAmount(deal["amount"].canonicalText) + (deal["currency"].isNull ? "" : " " + deal["currency"].canonicalText)
}

/// "1234567.50" → "1,234,567.50": an exact decimal's text with thousands separators.
func groupedAmount(_ text: String) -> String {
    let negative = text.hasPrefix("-")
    let body = negative ? String(text.dropFirst()) : text
    let parts = body.split(separator: ".", maxSplits: 1)
    guard let whole = parts.first, let n = Int(whole) else { return text }
    return (negative ? "-" : "") + grouped(n) + (parts.count > 1 ? "." + parts[1] : "")
}

/// 1234567 → "1,234,567".
func grouped(_ n: Int) -> String {
    let digits = String(n.magnitude)
    var out = ""
    for (i, c) in digits.enumerated() {
        if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
        out.append(c)
    }
    return (n < 0 ? "-" : "") + out
}

struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sync", abstract: "Push your pending writes, then pull everything new from the hub.", discussion: "Example: opps sync")

    @OptionGroup var home: HomeOption

    @Flag(help: "Print one JSON object: pushed, applied, conflicts, pulled, repaired.")
    var json = false

    static func perform(_ replica: Replica, transport: any Transport, json: Bool) async throws -> SyncReport {
        let start = Date()
        let tty = Console.isTerminal && !json
        let report = try await replica.sync(transport: transport) { p in
            guard p.pages > 1 || p.received > 1000 else { return }
            if tty {
                Console.progress("\r" + progressLine(p, elapsed: Date().timeIntervalSince(start)))
            } else if !json, p.pages % 10 == 0 {
                Console.err(progressLine(p, elapsed: Date().timeIntervalSince(start), bar: false))
            }
        }
        if tty { Console.progress("\n") }
        return report
    }

    func run() async throws {
        let replica = try home.open()
        let transport = HTTPTransport(baseURL: replica.hubURL, caFile: replica.caFile)
        defer { Task { await transport.shutdown() } }
        let r = try await Self.perform(replica, transport: transport, json: json)
        if json {
            Console.out(JSON.object([("pushed", .number(r.pushed)), ("applied", .number(r.applied)), ("conflicts", .number(r.conflicts)),
                                     ("pulled", .number(r.pulled)), ("repaired", .bool(r.repaired)), ("cursor", .number(Int64(r.cursor))),
                                     ("clock_skew_ms", .number(r.clockSkewMilliseconds)), ("flagged_checkins", .number(r.flaggedCheckins))]).compactText)
        } else {
            Console.out("pushed \(r.pushed) change\(r.pushed == 1 ? "" : "s") to \(r.pushedRecords) record\(r.pushedRecords == 1 ? "" : "s") (\(r.applied) applied, \(r.conflicts) conflicts), pulled \(r.pulled)" + (r.repaired ? "; repaired from the hub" : ""))
            if r.flaggedCheckins > 0 { Console.out("this laptop's clock is \(abs(r.clockSkewMilliseconds) / 1000) s off the hub's: \(r.flaggedCheckins) check-in(s) flagged") }
            if r.conflicts > 0 { Console.out("see: opps conflicts") }
            // Two laptops that made one company offline: say so once the sync brought both here.
            if r.pulled > 0 {
                for entity in ["account", "contact"] where replica.workspace.entity(entity) != nil {
                    let n = Duplicates.groups(try replica.store.list(entity: entity, workspace: replica.workspace)).count
                    if n > 0 { Console.out("\(n) likely duplicate \(entity)\(n == 1 ? "" : "s") here: opps \(entity) duplicates") }
                }
            }
        }
    }
}

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Who you are, which hub, when you last synced, what waits to sync.", discussion: "Example: opps status")

    @OptionGroup var home: HomeOption

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        let r = try home.open()
        let last = try r.store.meta("last_sync").flatMap(Int64.init).map { Timestamp(milliseconds: $0).description }
        let pending = try r.store.outboxCount()
        let conflicts = try r.store.conflicts().count
        if json {
            Console.out(JSON.object([("user", .string(r.user)), ("role", .string(r.role)), ("hub", .string(r.hubURL)), ("replica", .string(r.id.description)),
                                     ("last_sync", last.map(JSON.string) ?? .null), ("pending", .number(pending)), ("conflicts", .number(conflicts)),
                                     ("records", .number(try r.store.recordCount())), ("workspace_version", .number(Int64(r.workspace.version)))]).compactText)
        } else {
            Console.out("""
                user      \(r.user) (\(r.role))
                hub       \(r.hubURL)
                last sync \(last ?? "never")
                pending   \(pending) write(s)
                conflicts \(conflicts)
                records   \(try r.store.recordCount())
                """)
        }
    }
}

// MARK: - Creating

struct NewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "new", abstract: "Create an opportunity you own (works offline).", discussion: "Example: opps new \"华东 试点\" --account 上海云帆 --amount 120000.00 --currency CNY --close 2027-03-31")

    @Argument(help: "The opportunity's name.")
    var name: String

    @Option(help: "The account: its short id or exact name, or a name for a new account.")
    var account: String

    @Option(help: "The amount, an exact decimal such as 12000.00.")
    var amount: String?

    @Option(help: "The currency code (CNY, USD, EUR, JPY, HKD, GBP).")
    var currency: String?

    @Option(help: "The expected close date, YYYY-MM-DD.")
    var close: String?

    @OptionGroup var home: HomeOption

    @Flag(help: "Print the new record, as show --json does.")
    var json = false

    func run() throws {
        let r = try home.open()
        var rng = SystemRandomNumberGenerator()
        let entity = r.workspace.entity("opportunity")!
        let id: RecordID = try r.store.transaction {
            let accountID = try findOrCreate(r, entity: "account", text: account, rng: &rng)
            var fields: [(String, Value)] = [("name", .text(name)), ("account", .reference(accountID))]
            if let amount { fields.append(("amount", try r.parse(amount, for: entity.field("amount")!))) }
            if let currency { fields.append(("currency", try r.parse(currency, for: entity.field("currency")!))) }
            if let close { fields.append(("close_date", try r.parse(close, for: entity.field("close_date")!))) }
            let stage = r.workspace.entity("opportunity")?.create[r.role]?.last
            guard let stage else { throw ReplicaError.refused(field: "opportunity", rule: .createNotPermitted, detail: "\(r.role) may not create opportunities") }
            let result = try r.create(entity: "opportunity", stage: r.role == "sales" ? "discovery" : stage, fields: fields, using: &rng)
            return result.record
        }
        try printRecord(r, id, json: json, short: true)
    }
}

/// An account or contact given as an id/prefix, or a name for a new one. A new name that is
/// likely one already here ("Omega Ltd." for "Omega": Duplicates) is refused, naming it: a
/// second "Omega" made offline is what the manager would have to merge later.
func findOrCreate(_ r: Replica, entity: String, text: String, extra: [(String, Value)] = [], rng: inout some RandomNumberGenerator) throws -> RecordID {
    if let id = try? r.resolveID(text), try r.record(id)?.entity == entity { return id }
    let existing = try r.store.list(entity: entity, workspace: r.workspace)
    for e in existing where e["name"] == .text(text) { return e.id }
    try refuseLikelyDuplicate(r, entity: entity, [("name", .text(text))] + extra, among: existing)
    return try r.create(entity: entity, stage: nil, fields: [("name", .text(text))] + extra, using: &rng).record
}

/// One clear line when a record of `entity` with `fields` would likely duplicate one here
/// (Duplicates.likely): which one, and how to make a new one anyway.
func refuseLikelyDuplicate(_ r: Replica, entity: String, _ fields: [(String, Value)], among existing: [Record]) throws {
    guard let match = Duplicates.likely(Dictionary(fields, uniquingKeysWith: { a, _ in a }), among: existing).first else { return }
    let short = try r.shortIDs()
    let name = fields.first { $0.0 == "name" }?.1.canonicalText ?? ""
    throw ReplicaError.invalid("\"\(name)\" looks like the \(entity) \"\(match["name"].canonicalText)\" (\(short(match.id))) already here: "
        + "give \(short(match.id)) to use it, or make a new one with opps \(entity) new \"\(name)\"\(entity == "contact" ? " --account ACCOUNT" : "") --allow-duplicate")
}

struct LeadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "lead", abstract: "Marketing: work on leads.", discussion: "Example: opps lead add \"Beta pilot\" --company Beta --contact \"Li Wei\" --source event", subcommands: [Add.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a lead (an opportunity in the lead stage) for a company.", discussion: "Example: opps lead add \"Beta pilot\" --company Beta --contact \"Li Wei\" --source event")

        @Argument(help: "The lead's name.")
        var name: String

        @Option(help: "The company (an existing account's id or name, or a new one).")
        var company: String

        @Option(help: "The contact person's name.")
        var contact: String?

        @Option(help: "Where the lead came from: web, event, referral, campaign, cold_call, partner, other.")
        var source: String?

        @OptionGroup var home: HomeOption

        @Flag(help: "Print the new record, as show --json does.")
        var json = false

        func run() throws {
            let r = try home.open()
            var rng = SystemRandomNumberGenerator()
            let entity = r.workspace.entity("opportunity")!
            let id: RecordID = try r.store.transaction {
                let account = try findOrCreate(r, entity: "account", text: company, rng: &rng)
                var fields: [(String, Value)] = [("name", .text(name)), ("account", .reference(account))]
                if let contact {
                    fields.append(("contact", .reference(try findOrCreate(r, entity: "contact", text: contact, extra: [("account", .reference(account))], rng: &rng))))
                }
                if let source { fields.append(("lead_source", try r.parse(source, for: entity.field("lead_source")!))) }
                return try r.create(entity: "opportunity", stage: "lead", fields: fields, using: &rng).record
            }
            try printRecord(r, id, json: json, short: true)
        }
    }
}

// MARK: - Reading

func recordJSON(_ r: Replica, _ record: Record) -> JSON {
    let entity = r.workspace.entity(record.entity)
    var fields = [(String, JSON)]()
    for f in entity?.fields ?? [] { fields.append((f.name, record[f.name].plainJSON)) }
    return .object([("id", .string(record.id.description)), ("type", .string(record.entity)), ("fields", .object(fields))])
}

func printRecord(_ r: Replica, _ id: RecordID, json: Bool, short: Bool = false, words: Vocabulary? = nil) throws {
    guard let record = try r.record(id) else { throw ReplicaError.invalid("no record \(id)") }
    let words = words ?? Vocabulary(r.workspace, locale: nil)
    if json { Console.out(recordJSON(r, record).compactText); return }
    let code = try r.shortIDs()(record.id)
    if short {
        let name = record["name"].isNull ? "" : " \"\(record["name"].canonicalText)\""
        Console.out("\(code)  \(words.entity(record.entity))\(name) (pending sync)")
        return
    }
    let pending = try r.pendingFields(id)
    Console.out("\(words.entity(record.entity)) \(code)  (\(record.id))")
    if let d = record.deleted { Console.out("  deleted by \(d.author) at \(d.stamp.hlc.timestamp): kept here as it was; nothing can change it") }
    for f in r.workspace.entity(record.entity)?.fields ?? [] {
        let v = record[f.name]
        if v.isNull { continue }
        // The stage log reads as the timeline's stage moves, below.
        if f.name == r.workspace.stageHistory { continue }
        // A reference reads as the record's name and short id; an amount with thousands separators.
        var shown = words.value(record.entity, f.name, v)
        if case let .reference(target) = v {
            if let t = try r.record(target) {
                shown = "\(t["name"].isNull ? t.entity : t["name"].canonicalText) (\(try r.shortIDs()(target)))"
            } else {
                shown = "\(target) (not on this laptop)"
            }
        }
        if case .decimal = v { shown = groupedAmount(shown) }
        Console.out("  \(words.field(record.entity, f.name).padding(16)) \(shown)\(pending.contains(f.name) ? "   (pending sync)" : "")")
    }
    if r.workspace.entity(record.entity)?.stageField != nil { try printTimeline(r, record, words) }
}

/// A deal's timeline under its fields: stage moves, activities, tasks, approvals, team changes
/// and this laptop's conflicts, oldest first, by device time (Timeline.swift).
func printTimeline(_ r: Replica, _ deal: Record, _ words: Vocabulary) throws {
    let related = try ["activity", "task", r.workspace.approvals?.requests ?? "approval", "membership"]
        .filter { r.workspace.entity($0) != nil }
        .flatMap { try r.store.list(entity: $0, workspace: r.workspace) }
    let conflicts = try r.store.conflicts().filter { $0.record == deal.id }.map { c in
        TimelineEvent(at: c.hubMilliseconds, by: c.author, kind: .conflict(number: c.id, field: c.field, value: c.value, outcome: c.outcome, rule: c.rule, winner: c.winner),
                      record: deal.id)
    }
    let events = Timeline.events(of: deal, related: related, workspace: r.workspace, extra: conflicts)
    guard !events.isEmpty else { return }
    let short = try r.shortIDs()
    Console.out("  timeline (device time)")
    let e = deal.entity
    for event in events {
        let line: String
        switch event.kind {
        case let .stage(from, to):
            line = from.map { "stage \(words.stage($0)) → \(words.stage(to))" } ?? "created in \(words.stage(to))"
        case let .activity(kind, note, place, flagged):
            line = words.member("activity", "kind", kind) + (place.map { " at \($0)" } ?? "") + (note.map { ": \($0)" } ?? "")
                + (flagged ? " (device clock was off at sync)" : "")
        case let .task(text, due, done, assignee):
            line = "task \(short(event.record)) \"\(text)\"" + (due.map { " due \($0)" } ?? "") + (assignee.map { " for \($0)" } ?? "") + (done ? ", done" : ", open")
        case let .approval(kind, field, value, state, decidedBy, note):
            let what = field.map { words.field(e, $0) + (value.map { " " + $0 } ?? "") } ?? words.member("approval", "kind", kind)
            line = "approval \(short(event.record)) for \(what): " + words.member("approval", "state", state) + (decidedBy.map { " by \($0)" } ?? "")
                + (note.map { " — \($0)" } ?? "")
        case let .team(user, role, state):
            line = "team: \(user) (\(words.member("membership", "role", role))) " + words.member("membership", "state", state)
        case let .conflict(number, field, value, outcome, rule, winner):
            let shown = { (v: Value) in v.isNull ? "(empty)" : words.value(e, field, v) }
            line = "conflict #\(number) \(words.field(e, field)): \(shown(value)) \(outcome) (\(rule))" + (winner.map { "; holds \(shown($0))" } ?? "")
        case .deleted:
            line = "deleted the \(words.entity(e))"
        }
        Console.out("    \(minuteText(event.at))  \(event.by.padding(6)) \(line)")
    }
}

/// `2026-11-30 01:44`: a device time to the minute, UTC.
func minuteText(_ milliseconds: Int64) -> String {
    String(Timestamp(milliseconds: milliseconds).description.prefix(16)).replacingOccurrences(of: "T", with: " ")
}

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List opportunities on this laptop (search, filter, sort).",
                                                    discussion: "Filters combine.\n\nExample: opps list --stage discovery --mine --search 物流 --closing-to 2026-12-31 --amount-min 100000 --sort close")

    @Option(help: "Only this stage.")
    var stage: String?

    @Flag(help: "Only those you own.")
    var mine = false

    @Option(help: "Only those this user owns.")
    var owner: String?

    @Option(help: "Only those whose name, or whose account's name, contains this text (any case).")
    var search: String?

    @Option(help: "Only those of this account: its short id or exact name.")
    var account: String?

    @Option(help: "Only those closing on or after this date, YYYY-MM-DD.")
    var closingFrom: String?

    @Option(help: "Only those closing on or before this date, YYYY-MM-DD.")
    var closingTo: String?

    @Option(help: "Only those with an amount of at least this (any currency), such as 100000.00.")
    var amountMin: String?

    @Option(help: "Only those with an amount of at most this (any currency).")
    var amountMax: String?

    @Flag(help: "Only open deals with no follow-up (activity) within the workspace's stale_days.")
    var stale = false

    @Option(help: "Order: newest (default), close (soonest first), amount (largest first), name.")
    var sort: String = "newest"

    @OptionGroup var home: HomeOption

    @Flag(help: "Print a JSON array of records.")
    var json = false

    func validate() throws {
        guard ["newest", "close", "amount", "name"].contains(sort) else { throw ValidationError("--sort is newest, close, amount or name") }
        for (name, text) in [("--closing-from", closingFrom), ("--closing-to", closingTo)] {
            if let text { do { _ = try CivilDate(parsing: text) } catch { throw ValidationError("\(name) must be YYYY-MM-DD") } }
        }
        if mine && owner != nil { throw ValidationError("give --mine or --owner, not both") }
        for (name, text) in [("--amount-min", amountMin), ("--amount-max", amountMax)] {
            if let text { do { _ = try ExactDecimal(parsing: text) } catch { throw ValidationError("\(name) must be a decimal such as 100000.00") } }
        }
    }

    func run() throws {
        let r = try home.open()
        let words = home.words(r)
        let stage = try self.stage.map { try stageNamed($0, r, words) }
        var records = try r.store.list(entity: "opportunity", stage: stage, owner: mine ? r.user : owner, workspace: r.workspace)
        if let account {
            let id = try r.resolveID(account)
            guard try r.record(id)?.entity == "account" else { throw ReplicaError.invalid("\(account) is not an account") }
            records = records.filter { $0["account"] == .reference(id) }
        }
        if let search {
            let needle = search.lowercased()
            var accountNames = [RecordID: String]()
            for a in try r.store.list(entity: "account", workspace: r.workspace) { accountNames[a.id] = a["name"].canonicalText.lowercased() }
            records = records.filter { d in
                if d["name"].canonicalText.lowercased().contains(needle) { return true }
                if case let .reference(a) = d["account"], accountNames[a]?.contains(needle) == true { return true }
                return false
            }
        }
        let from = closingFrom.flatMap { try? CivilDate(parsing: $0) }, to = closingTo.flatMap { try? CivilDate(parsing: $0) }
        if from != nil || to != nil {
            records = records.filter { d in
                guard case let .date(c) = d["close_date"] else { return false }
                return (from.map { c >= $0 } ?? true) && (to.map { c <= $0 } ?? true)
            }
        }
        let low = amountMin.flatMap { try? ExactDecimal(parsing: $0) }, high = amountMax.flatMap { try? ExactDecimal(parsing: $0) }
        if low != nil || high != nil {
            records = records.filter { d in
                guard case let .decimal(a) = d["amount"] else { return false }
                return (low.map { a >= $0 } ?? true) && (high.map { a <= $0 } ?? true)
            }
        }
        if stale {
            let activities = try r.store.list(entity: "activity", workspace: r.workspace)
            let pipeline = Pipeline(workspace: r.workspace, records: records + activities)
            let today = deviceNow().date
            records = records.filter { pipeline.isStale($0, today: today) }
        }
        // Deals without the sorting field go last.
        func date(_ d: Record) -> CivilDate? { if case let .date(c) = d["close_date"] { c } else { nil } }
        func amount(_ d: Record) -> ExactDecimal? { if case let .decimal(a) = d["amount"] { a } else { nil } }
        switch sort {
        case "close": records.sort { a, b in date(b).map { y in date(a).map { $0 < y } ?? false } ?? (date(a) != nil) }
        case "amount": records.sort { a, b in amount(b).map { y in amount(a).map { y < $0 } ?? false } ?? (amount(a) != nil) }
        case "name": records.sort { $0["name"].canonicalText < $1["name"].canonicalText }
        default: break
        }
        if json {
            Console.out(JSON.array(records.map { recordJSON(r, $0) }).compactText)
            return
        }
        if records.isEmpty {
            let filtered = stage != nil || mine || owner != nil || search != nil || account != nil || from != nil || to != nil || low != nil || high != nil || stale
            Console.out(filtered ? "no opportunities here match" : "no opportunities on this laptop yet: opps new NAME --account ACCOUNT makes one, opps sync brings yours")
            return
        }
        // Short ids (ShortID): unique among what this laptop holds, the same on every laptop.
        let short = try r.shortIDs()
        let h = { (field: String) in words.header("opportunity", field) }
        Console.out("\("ID".padding(ShortID.length))  \(fit(h("stage"), 11))  \(fit(h("name"), 28))  \(fit(h("owner"), 8))  \(h("amount"))")
        for rec in records {
            let amount = amountText(rec)
            Console.out("\(short(rec.id).padding(ShortID.length))  \(fit(words.value("opportunity", "stage", rec["stage"]), 11))  \(fit(rec["name"].canonicalText, 28))  \(fit(rec.owner ?? "-", 8))  \(amount)")
        }
    }
}

struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one record with every field.", discussion: "Example: opps show 7dka36sd (or opps show \"ACME rollout\")")

    @Argument(help: "The record: its short id as opps list prints it (4+ characters do), a full id, or an exact name.")
    var id: String

    @OptionGroup var home: HomeOption

    @Flag(help: "Print {id, type, fields} as JSON (decimals as strings).")
    var json = false

    func run() throws {
        let r = try home.open()
        try printRecord(r, try r.resolveID(id), json: json, words: home.words(r))
    }
}

// MARK: - Editing

struct SetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set", abstract: "Change fields of a record in one atomic local edit.",
        discussion: "Values: decimals 12000.00, dates YYYY-MM-DD, users by name (owner=bob), records by short id or name, enum members by name, empty to clear.\n\nExample: opps set 7dka36sd next_step=\"demo Friday\" next_step_due=2026-12-04")

    @Argument(help: "The record: its short id as opps list prints it (4+ characters do), a full id, or an exact name.")
    var id: String

    @Argument(help: "FIELD=VALUE pairs.")
    var assignments: [String]

    @OptionGroup var home: HomeOption

    @Flag(help: "Print the outcome as JSON.")
    var json = false

    func validate() throws {
        guard !assignments.isEmpty else { throw ValidationError("give at least one FIELD=VALUE") }
        for a in assignments where !a.contains("=") { throw ValidationError("\"\(a)\" is not FIELD=VALUE") }
    }

    func run() throws {
        let r = try home.open()
        let recordID = try r.resolveID(id)
        guard let record = try r.record(recordID), let entity = r.workspace.entity(record.entity) else { throw ReplicaError.invalid("no record \(id)") }
        try report(try r.edit(recordID, try OppsCommands.assignments(r, entity.name, assignments)), json: json, r, words: home.words(r))
    }
}

struct DeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Delete a record (managers, in the default workspace).",
        discussion: """
        For a record made by mistake or a duplicate. Everyone who holds the record learns at their next \
        sync that it was deleted, and by whom; nothing can change it afterwards, and a write still \
        waiting on someone's laptop comes back to them as a conflict. A deal you no longer need to \
        work is closed as lost, not deleted.
        
        Example: opps delete 7dka36sd
        """)

    @Argument(help: "The record: its short id as opps list prints it (4+ characters do), a full id, or an exact name.")
    var id: String

    @OptionGroup var home: HomeOption

    func run() throws {
        let r = try home.open()
        let recordID = try r.resolveID(id)
        try r.delete(recordID)
        Console.out("deleted \(try r.shortIDs()(recordID)) (pending sync)")
    }
}

func report(_ result: EditResult, json: Bool, _ r: Replica, words: Vocabulary? = nil) throws {
    let words = words ?? Vocabulary(r.workspace, locale: nil)
    let entity = try r.record(result.record)?.entity ?? "opportunity"
    func label(_ field: String) -> String { words.field(entity, field) }
    if json {
        Console.out(JSON.object([("id", .string(result.record.description)), ("applied", .array(result.applied.map(JSON.string))),
                                 ("proposed", .array(result.proposed.enumerated().map { i, p in
                                     .object([("field", .string(p.field)), ("rule", .string(p.rule.rawValue)),
                                              ("request", i < result.requests.count ? .string(result.requests[i].description) : .null)]) }))]).compactText)
        return
    }
    if !result.applied.isEmpty { Console.out("changed \(result.applied.map(label).joined(separator: ", ")) (pending sync)") }
    let short = try r.shortIDs()
    var told = Set<RecordID>()
    for (i, p) in result.proposed.enumerated() {
        if i < result.requests.count {
            // One request may carry several fields (a loss and its reason): said once.
            let id = result.requests[i]
            guard told.insert(id).inserted else { continue }
            // The request's own field first (a stage move), then what it carries.
            let stageField = r.workspace.entity("opportunity")?.stageField
            let together = result.proposed.indices.filter { $0 < result.requests.count && result.requests[$0] == id }
                .map { result.proposed[$0] }.sorted { ($0.field == stageField ? 0 : 1) < ($1.field == stageField ? 0 : 1) }
            let main = together.first ?? p
            Console.out("requested approval \(short(id)) for \(together.map { label($0.field) }.joined(separator: " and ")): \(main.detail) — see: opps approvals")
        } else {
            Console.out("proposed \(label(p.field)): \(p.detail) — the owner or a manager decides")
        }
    }
}

struct StageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stage", abstract: "Move a deal to another stage (gates and ownership rules apply, offline too).", discussion: "Example: opps stage 7dka36sd solution; opps stage 7dka36sd lost --reason price")

    @Argument(help: "The record: its short id as opps list prints it (4+ characters do), a full id, or an exact name.")
    var id: String

    @Argument(help: "The stage.")
    var stage: String

    @Option(help: "Why: the hand-off rejection reason when moving a lead back, or the loss reason when moving to lost.")
    var reason: String?

    @OptionGroup var home: HomeOption

    @Flag(help: "Print the outcome as JSON.")
    var json = false

    func run() throws {
        let r = try home.open()
        let words = home.words(r)
        let stage = try stageNamed(self.stage, r, words)
        let recordID = try r.resolveID(id)
        var changes = [(String, Value)]()
        if let reason {
            if r.workspace.stage(stage)?.fromAnyOpen == true, let lossField = r.workspace.entity("opportunity")?.field("loss_reason") {
                changes.append(("loss_reason", try r.parse(reason, for: lossField)))
            } else if let field = r.workspace.handoff?.rejectReason {
                changes.append((field, .text(reason)))
            }
        }
        changes.append(("stage", .member(stage)))
        try report(try r.edit(recordID, changes), json: json, r, words: words)
    }
}

// MARK: - Conflicts and history

struct ConflictsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "conflicts",
                                                    abstract: "Writes of yours that lost, were rejected or became proposals, and writes that overwrote yours.",
                                                    discussion: "Example: opps conflicts, then opps conflicts restore 12 or opps conflicts dismiss 12.",
                                                    subcommands: [ListConflicts.self, DismissConflict.self, RestoreConflict.self], defaultSubcommand: ListConflicts.self)
}

/// A conflict of this laptop by its number (what `opps conflicts` prints after #).
func openConflict(_ r: Replica, _ number: UInt64) throws -> LocalConflict {
    guard let c = try r.store.conflicts().first(where: { $0.id == number }) else {
        throw ReplicaError.invalid("no open conflict #\(number) here: opps conflicts lists them")
    }
    return c
}

struct DismissConflict: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dismiss", abstract: "Put a conflict aside: you have seen it and keep what holds.",
                                                    discussion: "Example: opps conflicts dismiss 12. Only this laptop's list changes; the hub keeps the record of it.")
    @Argument(help: "The conflict's number (after # in opps conflicts).") var number: UInt64
    @OptionGroup var home: HomeOption

    func run() throws {
        let r = try home.open()
        let c = try openConflict(r, number)
        _ = try r.store.resolveConflict(c.id)
        Console.out("dismissed #\(c.id): \(c.field) keeps what holds")
    }
}

struct RestoreConflict: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "restore", abstract: "Write your value from a conflict again, where the rules allow.",
                                                    discussion: """
        Example: opps conflicts restore 12. The value is written again as a new edit on top of what holds now, with the \
        same rules as opps set: it applies, becomes a request, or is refused on the spot (exit 3) and the conflict stays open.
        """)
    @Argument(help: "The conflict's number (after # in opps conflicts).") var number: UInt64
    @OptionGroup var home: HomeOption
    @Flag(help: "Print the outcome as JSON.") var json = false

    func run() throws {
        let r = try home.open()
        let c = try openConflict(r, number)
        guard c.author == r.user else { throw ReplicaError.invalid("#\(c.id) is \(c.author)'s value: only they can restore it (a manager can, with opps-hub restore)") }
        guard let record = try r.record(c.record), !record.isDeleted else { throw ReplicaError.invalid("#\(c.id): the record is no longer on this laptop") }
        guard r.workspace.entity(c.entity)?.field(c.field) != nil, !c.value.isNull else {
            throw ReplicaError.invalid("#\(c.id) holds no value to restore")
        }
        let result = try r.edit(c.record, [(c.field, c.value)])
        _ = try r.store.resolveConflict(c.id)
        try report(result, json: json, r)
    }
}

struct ListConflicts: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the open conflicts (the default).", discussion: "Example: opps conflicts --json")

    @OptionGroup var home: HomeOption

    @Flag(help: "Print a JSON array (record, field, mine, winner, winner_author, rule, outcome, at).")
    var json = false

    func run() throws {
        let r = try home.open()
        let conflicts = try r.store.conflicts()
        if json {
            Console.out(JSON.array(conflicts.map { c in
                .object([("id", .number(Int64(c.id))), ("record", .string(c.record.description)), ("field", .string(c.field)),
                         ("mine", c.value.plainJSON), ("author", .string(c.author)), ("winner", c.winner?.plainJSON ?? .null),
                         ("winner_author", c.winnerAuthor.map(JSON.string) ?? .null), ("rule", .string(c.rule)), ("outcome", .string(c.outcome)),
                         ("at", .string(Timestamp(milliseconds: c.hubMilliseconds).description))])
            }).compactText)
            return
        }
        if conflicts.isEmpty { Console.out("no conflicts"); return }
        let short = try r.shortIDs()
        let words = home.words(r)
        for c in conflicts {
            let shown = { (v: Value) in v.isNull ? "(empty)" : words.value(c.entity, c.field, v) }
            Console.out("#\(c.id) \(short(c.record)) \(words.field(c.entity, c.field)): \(c.author)'s \(shown(c.value)) \(c.outcome) (\(c.rule)); holds: \(c.winner.map(shown) ?? "(not shown to you)")\(c.winnerAuthor.map { " by " + $0 } ?? "") at \(Timestamp(milliseconds: c.hubMilliseconds))")
        }
    }
}

struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "history", abstract: "A record's trail on this laptop: who changed what, when (device time).", discussion: "Example: opps history 7dka36sd")

    @Argument(help: "The record: its short id as opps list prints it (4+ characters do), a full id, or an exact name.")
    var id: String

    @OptionGroup var home: HomeOption

    @Flag(help: "Print a JSON array, one object per change.")
    var json = false

    func run() throws {
        let r = try home.open()
        let recordID = try r.resolveID(id)
        let lines = try r.store.history(recordID)
        let words = home.words(r)
        let entity = try r.record(recordID)?.entity ?? "opportunity"
        if json {
            Console.out(JSON.array(lines.map { h in
                .object([("field", .string(h.field)), ("old", h.old.plainJSON), ("new", h.new.plainJSON), ("author", .string(h.author)),
                         ("at", .string(h.hlc.timestamp.description)), ("source", .string(h.source)), ("rule", .string(h.rule))])
            }).compactText)
            return
        }
        for h in lines {
            // A line without a field is the record's deletion (merge-semantics.md §7.2).
            let change = h.field.isEmpty ? "deleted the record"
                : "\(words.field(entity, h.field)): \(words.value(entity, h.field, h.old)) → \(words.value(entity, h.field, h.new))"
            Console.out("\(h.hlc.timestamp) \(h.author.padding(6)) \(change) [\(h.source)\(h.rule.isEmpty ? "" : " " + h.rule)]")
        }
    }
}

/// A stage typed by a user: its name or any label (any case); one clear line naming the stages
/// in the reader's words otherwise.
func stageNamed(_ text: String, _ r: Replica, _ words: Vocabulary) throws -> String {
    if let s = r.workspace.stage(input: text) { return s.name }
    throw ReplicaError.invalid("unknown stage \"\(text)\" (\(r.workspace.stages.map { words.stage($0.name) }.joined(separator: ", ")))")
}
