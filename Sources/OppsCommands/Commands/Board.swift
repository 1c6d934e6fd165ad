import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

// Pipeline reports, offline, from device time (issue 5 item 6). The figures are computed in
// OppsCore (Pipeline.swift) from what this replica holds; these commands filter and render.

struct BoardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "board", abstract: "The pipeline board: a column per stage, each deal with its short id, amount, next step and overdue mark.",
        discussion: """
            Deals created in the period (device time). `!` marks a next step due before today on an open deal; \
            each deal's short id is the one opps show, set and stage take. The owner shows when the board holds \
            more than one owner's deals. A column of more than \(BoardCommand.shown) deals shows those whose next step is overdue \
            or soonest first and says how many more (--all lists every one; --json and --csv always do). \
            Amounts are totalled per currency, never across currencies. Fits the terminal's width; colours \
            only on a terminal (NO_COLOR turns them off).

            Example: opps board --owner sam
            """)

    @OptionGroup var options: ReportOptions
    @Flag(help: "Include the closed stages (won, lost).") var closed = false
    @Option(help: "Today's date for the overdue marks, YYYY-MM-DD (default: today by this device's clock).") var date: String?
    @Flag(help: "List every deal of each column (a column of more than \(BoardCommand.shown) shows its overdue and soonest next steps first, and says how many more).")
    var all = false
    @OptionGroup var home: HomeOption

    /// Deals a column shows before it says how many more (`--all`: every one), as `opps today`'s lists.
    static let shown = Agenda.shownFirst

    /// The deals of a column a terminal shows: all of them in the board's order (by name) while
    /// they fit, else the first `shown` of those that need a step soonest — overdue, then by the
    /// next step's date, then by name — for a manager's column of thousands printed whole is
    /// one nobody reads.
    func shownDeals(_ deals: [Pipeline.BoardDeal]) -> [Pipeline.BoardDeal] {
        guard !all, deals.count > Self.shown else { return deals }
        // (not overdue, the step's day, place by name): each read once, not at every comparison.
        let keys = deals.enumerated().map { i, b -> (Int, Int32, Int) in
            let due: Int32 = if case let .date(d) = b.deal["next_step_due"] { d.daysSinceEpoch } else { .max }
            return (b.overdue ? 0 : 1, due, i)
        }
        return keys.sorted { $0 < $1 }.prefix(Self.shown).map { deals[$0.2] }
    }

    func validate() throws { try options.check(as: home) }

    /// A deal's next step and its date, as the board shows them: the month and day, the year
    /// too when it is not `today`'s (five columns more for the step's text).
    func nextText(_ deal: Record, today: CivilDate) -> String {
        var next = deal["next_step"].isNull ? "" : deal["next_step"].canonicalText
        if case let .date(d) = deal["next_step_due"] { next += (next.isEmpty ? "" : " ") + "(\(shortDay(d, today: today)))" }
        return next
    }

    /// The same in `width` columns: what is cut is the step's text, never its date.
    func nextCell(_ deal: Record, width: Int, today: CivilDate) -> String {
        let whole = nextText(deal, today: today)
        guard whole.displayWidth > width, case let .date(d) = deal["next_step_due"], !deal["next_step"].isNull else { return fit(whole, width) }
        let date = " (\(shortDay(d, today: today)))"
        guard width - date.count >= 6 else { return fit(whole, width) }
        return fit(deal["next_step"].canonicalText, width - date.count).trimmingTrailing() + date
    }

    func run() throws {
        let r = try home.open()
        let today =
            try date.map { d -> CivilDate in
                guard let date = typedDate(d) else {
                    throw ReplicaError.invalid("--date must be a date: 2026-12-05, 12-05 or tomorrow", chinese: "--date 要写日期：2026-12-05、12-05 或 明天")
                }
                return date
            } ?? localToday()
        let board = try options.pipeline(r).board(options.filter, today: today, includeClosed: closed)
        if options.json {
            Console.out(
                try BoardJSON(
                    date: today.description,
                    stages: board.map { column in
                        BoardJSON.Column(
                            stage: column.stage.name, deals: column.deals.count, amounts: column.totals.json,
                            items: column.deals.map { b in
                                BoardJSON.Item(
                                    id: b.deal.id.description, name: b.deal["name"], owner: b.deal["owner"], amount: b.deal["amount"], currency: b.deal["currency"],
                                    next_step: b.deal["next_step"], next_step_due: b.deal["next_step_due"], overdue: b.overdue)
                            })
                    }
                ).jsonLine())
            return
        }
        if options.csv {
            options.csvOut(
                ["stage", "id", "name", "owner", "amount", "currency", "next_step", "next_step_due", "overdue"],
                board.flatMap { column in
                    column.deals.map { b in
                        [column.stage.name, b.deal.id.description]
                            + ["name", "owner", "amount", "currency", "next_step", "next_step_due"].map { b.deal[$0].isNull ? "" : b.deal[$0].canonicalText }
                            + [b.overdue ? "yes" : "no"]
                    }
                })
            return
        }
        let words = home.words(r)
        // Every deal the board would show is closed (a success manager's are all won): say so,
        // and how to see them, rather than leave the open columns empty with no word.
        var closedHint: String?
        if !closed, board.allSatisfy({ $0.deals.isEmpty }) {
            let ended = try options.pipeline(r).board(options.filter, today: today, includeClosed: true).filter { $0.stage.closed && !$0.deals.isEmpty }
            let count = ended.reduce(0) { $0 + $1.deals.count }
            if count > 0 {
                let stages = ended.map { "\(words.stage($0.stage.name)) \($0.deals.count)" }.joined(separator: words.say(", ", "，"))
                closedHint = words.say.onlyClosedDeals(count, stages, command: "opps board --closed")
            } else {
                // Nothing at all: on a new rep's laptop, how to make the first; else the filter left none.
                closedHint = try r.store.recordCount(entity: "opportunity", upTo: 1) == 0 ? words.say.noDealsYet(r, words: words) : words.say.noDealsMatch
            }
        }
        defer { if let closedHint { Console.out(closedHint) } }
        let width = max(60, Console.width)
        // mark(2) id(8) name [owner(8)] amount next step: the name and next step share what is
        // left. Each deal by the short id the other commands take; the owner only when the board
        // holds more than one owner's deals (a rep's own board is all theirs).
        let short = try r.shortIDs()
        let owners = Set(board.flatMap { $0.deals.map { $0.deal.owner ?? "-" } })
        let shown = board.map { shownDeals($0.deals) }
        let showOwner = owners.count > 1
        // Eight characters, or more where two ids here share their first eight.
        let idWidth = shown.flatMap { $0.map { short($0.deal.id).count } }.max() ?? ShortID.length
        // The amount as wide as the widest here (46,000,000.00 JPY is 17), never cut.
        let amountWidth = shown.flatMap { $0.map { $0.deal["amount"].isNull ? 0 : amountText($0.deal).displayWidth } }.max() ?? 0
        let fixed = 2 + idWidth + 1 + (showOwner ? 8 + 1 : 0) + amountWidth + 1
        // The name and the next step share what is left, half to the name (what a deal is known by), except that
        // a column narrower than its share gives the rest to the other (one deal's board is
        // not cut at 80 columns when both fit).
        let room = width - fixed - 1
        let deals = shown.flatMap { $0 }
        let wantName = deals.map { $0.deal["name"].canonicalText.displayWidth }.max() ?? 0
        let wantNext = deals.map { nextText($0.deal, today: today).displayWidth }.max() ?? 0
        var nameWidth = max(12, room / 2)
        if wantName + wantNext <= room || wantName < nameWidth {
            nameWidth = max(4, wantName)
        } else if wantNext < room - nameWidth {
            nameWidth = room - wantNext
        }
        let nextWidth = max(8, room - nameWidth)
        for (column, deals) in zip(board, shown) {
            let total = column.totals.totals.isEmpty ? "" : " · " + totalsText(column.totals, words.say)
            let title = words.stage(column.stage.name) == column.stage.name ? column.stage.name.uppercased() : words.stage(column.stage.name)
            Console.out(fit("\(title) (\(grouped(column.deals.count)))\(total)", width).trimmingTrailing(), style: .bold)
            defer { if deals.count < column.deals.count { Console.out(words.say.moreOnBoard(column.deals.count - deals.count, owners: showOwner)) } }
            for b in deals {
                let amount = b.deal["amount"].isNull ? "" : amountText(b.deal)
                let line =
                    (b.overdue ? "! " : "  ") + short(b.deal.id).padding(idWidth) + " " + fit(b.deal["name"].canonicalText, nameWidth) + " "
                    + (showOwner ? fit(b.deal.owner ?? "-", 8) + " " : "") + fit(amount, amountWidth) + " " + nextCell(b.deal, width: nextWidth, today: today)
                if b.overdue { Console.out(line.trimmingTrailing(), style: .red) } else { Console.out(line.trimmingTrailing()) }
            }
        }
    }
}
