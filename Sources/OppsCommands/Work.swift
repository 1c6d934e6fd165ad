import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

/// The device's wall-clock instant, or a fixed one given on the command line.
func deviceNow() -> Timestamp { Timestamp(milliseconds: SystemClock().nowMilliseconds()) }

/// A deal named by id or prefix; anything else is bad input.
func dealID(_ r: Replica, _ id: String) throws -> RecordID {
    let deal = try r.resolveID(id)
    guard try r.record(deal)?.entity == "opportunity" else { throw ReplicaError.invalid("\(id) is not a deal") }
    return deal
}

/// `opps log`: an activity on a deal — append-only, stamped with device time, merged as a union.
struct LogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log", abstract: "Log a call, visit, email, meeting or check-in on a deal (works offline; activities are never overwritten).", discussion: "Example: opps log 7dka36sd --kind visit --place \"Beta HQ\" --note \"met the CFO\"")

    @Argument(help: "The deal: its short id as opps list prints it, or its exact name.") var id: String
    @Option(help: "call, visit, email, meeting, checkin or note.") var kind: String
    @Option(help: "What happened.") var note: String?
    @Option(help: "When (UTC, YYYY-MM-DDTHH:MM:SSZ); default: now, by this device's clock.") var at: String?
    @Option(help: "Where (for visits and check-ins).") var place: String?
    @OptionGroup var home: HomeOption
    @Flag(help: "Print the new activity as JSON.") var json = false

    func run() throws {
        let r = try home.open()
        let deal = try dealID(r, id)
        guard let entity = r.workspace.entity("activity"), let kindField = entity.field("kind") else { throw ReplicaError.invalid("this workspace has no activities") }
        var fields: [(String, Value)] = [("opportunity", .reference(deal)), ("kind", try r.parse(kind, for: kindField))]
        fields.append(("at", try at.map { try r.parse($0, for: entity.field("at")!) } ?? .timestamp(deviceNow())))
        if let note { fields.append(("note", .text(note))) }
        if let place { fields.append(("place", .text(place))) }
        var rng = SystemRandomNumberGenerator()
        let result = try r.create(entity: "activity", stage: nil, fields: fields, using: &rng)
        try printRecord(r, result.record, json: json, short: !json)
    }
}

/// `opps task …`.
struct TaskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "task", abstract: "Tasks on deals: next steps with a due date and an assignee.",
                                                    discussion: "Example: opps task add 7dka36sd \"send the quote\" --due 2026-12-04", subcommands: [Add.self, Done.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a task to a deal.", discussion: "Example: opps task add 7dka36sd \"send the quote\" --due 2026-12-04")
        @Argument(help: "The deal: its short id as opps list prints it, or its exact name.") var id: String
        @Argument(help: "What to do.") var text: String
        @Option(help: "Due date, YYYY-MM-DD.") var due: String
        @Option(help: "Who does it (a user name); default: you.") var assignee: String?
        @OptionGroup var home: HomeOption
        @Flag(help: "Print the new task as JSON.") var json = false

        func run() throws {
            let r = try home.open()
            let deal = try dealID(r, id)
            guard let entity = r.workspace.entity("task") else { throw ReplicaError.invalid("this workspace has no tasks") }
            var rng = SystemRandomNumberGenerator()
            let result = try r.create(entity: "task", stage: nil, fields: [
                ("opportunity", .reference(deal)), ("text", .text(text)), ("due", try r.parse(due, for: entity.field("due")!)),
                ("assignee", .text(assignee ?? r.user)), ("done", .boolean(false)),
            ], using: &rng)
            try printRecord(r, result.record, json: json, short: !json)
        }
    }

    struct Done: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Mark a task done.", discussion: "Example: opps task done k3m9x2qa")
        @Argument(help: "The task: its short id as opps today or opps show prints it.") var id: String
        @OptionGroup var home: HomeOption
        @Flag(help: "Print the outcome as JSON.") var json = false

        func run() throws {
            let r = try home.open()
            let task = try r.resolveID(id)
            guard try r.record(task)?.entity == "task" else { throw ReplicaError.invalid("\(id) is not a task") }
            try report(try r.edit(task, [("done", .boolean(true))]), json: json, r)
        }
    }
}

/// `opps today`: what needs doing.
struct TodayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "today",
        abstract: "What is due today, what is overdue (tasks and next steps), and your deals with no follow-up in the stale window.",
        discussion: "The stale window is the workspace's stale_days (default 14). Dates are this device's (UTC).\n\nExample: opps today")

    @Option(help: "Report as of this day (YYYY-MM-DD) instead of today.") var date: String?
    @OptionGroup var home: HomeOption
    @Flag(help: "Print one JSON object: due, overdue, stale.") var json = false

    struct Item {
        var kind: String
        var id: RecordID
        var deal: RecordID
        var text: String
        var due: CivilDate?
    }

    func validate() throws {
        if let date { do { _ = try CivilDate(parsing: date) } catch { throw ValidationError("--date must be YYYY-MM-DD") } }
    }

    func run() throws {
        let r = try home.open()
        let today = try date.map { try CivilDate(parsing: $0) } ?? deviceNow().date
        var due = [Item](), overdue = [Item](), stale = [Item]()
        func file(_ item: Item) {
            guard let d = item.due else { return }
            if d == today { due.append(item) } else if d < today { overdue.append(item) }
        }
        for t in try r.store.list(entity: "task", workspace: r.workspace) where t["done"] != .boolean(true) {
            guard t["assignee"] == .text(r.user) || (t["assignee"].isNull && t.creator == r.user), case let .reference(deal) = t["opportunity"] else { continue }
            var d: CivilDate?
            if case let .date(x) = t["due"] { d = x }
            file(Item(kind: "task", id: t.id, deal: deal, text: t["text"].canonicalText, due: d))
        }
        let closed = Set(r.workspace.stages.filter(\.closed).map(\.name))
        let mine = try r.store.list(entity: "opportunity", owner: r.user, workspace: r.workspace)
        let pipeline = Pipeline(workspace: r.workspace, records: mine + (try r.store.list(entity: "activity", workspace: r.workspace)))
        for deal in mine {
            if case let .member(s) = deal["stage"], closed.contains(s) { continue }
            if case let .date(d) = deal["next_step_due"] {
                file(Item(kind: "next_step", id: deal.id, deal: deal.id, text: deal["next_step"].isNull ? "(next step)" : deal["next_step"].canonicalText, due: d))
            }
            // The last follow-up: the newest activity on the deal, by device time.
            if pipeline.isStale(deal, today: today) {
                let last = pipeline.lastFollowUp(deal)
                stale.append(Item(kind: "stale", id: deal.id, deal: deal.id, text: "no follow-up since \(last)", due: last))
            }
        }
        let order: (Item, Item) -> Bool = { ($0.due?.daysSinceEpoch ?? 0, $0.id) < ($1.due?.daysSinceEpoch ?? 0, $1.id) }
        due.sort(by: order); overdue.sort(by: order); stale.sort(by: order)
        if json {
            func j(_ items: [Item]) -> JSON {
                .array(items.map { .object([("kind", .string($0.kind)), ("id", .string($0.id.description)), ("deal", .string($0.deal.description)),
                                           ("text", .string($0.text)), ("date", $0.due.map { .string($0.description) } ?? .null)]) })
            }
            Console.out(JSON.object([("date", .string(today.description)), ("due", j(due)), ("overdue", j(overdue)), ("stale", j(stale))]).compactText)
            return
        }
        Console.out("today \(today): \(due.count) due, \(overdue.count) overdue, \(stale.count) stale")
        let short = try r.shortIDs()
        for (title, items) in [("due today", due), ("overdue", overdue), ("stale deals", stale)] where !items.isEmpty {
            Console.out(title + ":")
            for i in items {
                // Each item names its deal, so a task is never just "call back".
                let name = try r.record(i.deal).map { $0["name"].canonicalText } ?? short(i.deal)
                let when = i.kind == "stale" ? "" : i.due.map { "  (\($0))" } ?? ""
                Console.out("  \(short(i.id))  \(i.kind.padding(9))  \(name): \(i.text)\(when)")
            }
        }
    }
}

/// `opps export --csv`: the records this laptop holds, as CSV (RFC 4180).
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write the records of one type on this laptop as CSV to stdout (a header row, then one row per record).", discussion: "Example: opps export --csv --type account > accounts.csv")

    @Flag(help: "CSV output (the only format for now).") var csv = false
    @Option(help: "The record type: opportunity, account, contact, activity, task, approval, membership.") var type = "opportunity"
    @OptionGroup var home: HomeOption

    func validate() throws {
        guard csv else { throw ValidationError("give --csv") }
    }

    func run() throws {
        let r = try home.open()
        guard let entity = r.workspace.entity(type) else {
            throw ReplicaError.invalid("unknown type \"\(type)\" (\(r.workspace.entities.map(\.name).joined(separator: ", ")))")
        }
        // The creation's device time and author close the row, so an import keeps the history
        // whole (time in the first stage, the creator's sight of a lead): a lossless round trip.
        // A staged record also names the stage it was created in: the stage log starts after it.
        let staged = entity.stageField != nil
        var lines = [(["id"] + entity.fields.map(\.name) + ["created_at", "created_by"] + (staged ? ["created_stage"] : [])).joined(separator: ",")]
        for record in try r.store.list(entity: type, workspace: r.workspace) {
            lines.append(([record.id.description] + entity.fields.map { record[$0.name].isNull ? "" : CSV.cell(record[$0.name].canonicalText) }
                          + [record.created.stamp.hlc.timestamp.description, CSV.cell(record.creator)]
                          + (staged ? [record.created.value.isNull ? "" : record.created.value.canonicalText] : [])).joined(separator: ","))
        }
        Console.out(lines.joined(separator: "\r\n"))
    }
}
