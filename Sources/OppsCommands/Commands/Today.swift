import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

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
            func j(_ items: [Item]) -> [TodayJSON.Item] {
                items.map { TodayJSON.Item(kind: $0.kind, id: $0.id.description, deal: $0.deal.description, text: $0.text, date: $0.due?.description) }
            }
            Console.out(try TodayJSON(date: today.description, due: j(due), overdue: j(overdue), stale: j(stale)).jsonLine())
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
