import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

struct ForecastCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forecast", abstract: "The forecast: pipeline, weighted, best case, commit and won per owner and close month, per currency.",
        discussion: """
            Over the deals closing in the period (by close date; --from/--to). Weighted: each open deal's \
            amount times its probability (its own probability field, else its stage's from the workspace). \
            Best case and commit: open deals at or after the workspace's forecast stages (default: \
            solution and negotiation). Won: deals won that close in the month. Lost deals forecast nothing.

            Example: opps forecast --from 2026-10-01 --to 2026-12-31
            """)

    @OptionGroup var options: ReportOptions
    @OptionGroup var home: HomeOption

    func validate() throws { try options.check(as: home) }

    func run() throws {
        let r = try home.open()
        let pipeline = try options.pipeline(r)
        var filter = options.filter
        let from = filter.from, to = filter.to
        filter.from = nil
        filter.to = nil
        let rows = pipeline.forecast(filter, from: from, to: to)
        if options.json {
            Console.out(
                try rows.map {
                    ForecastJSON(
                        owner: $0.owner, month: $0.month, deals: $0.deals, pipeline: $0.pipeline.json, weighted: $0.weighted.json, best_case: $0.bestCase.json,
                        commit: $0.commit.json, won: $0.won.json)
                }.jsonLine())
            return
        }
        if options.csv {
            // No owner, no close date: an empty cell (the table's "-" read `'-` in a spreadsheet,
            // the apostrophe that keeps a formula from running written before it).
            func cell(_ s: String) -> String { s == "-" ? "" : s }
            options.csvOut(
                ["owner", "month", "deals", "pipeline", "weighted", "best_case", "commit", "won"],
                rows.map {
                    [
                        cell($0.owner), cell($0.month), String($0.deals), $0.pipeline.description, $0.weighted.description, $0.bestCase.description,
                        $0.commit.description, $0.won.description,
                    ]
                })
            return
        }
        let say = home.words(r).say
        if rows.isEmpty { Console.out(say.noForecast); return }
        // One block per month and owner: a line per figure, amounts grouped, so it reads at 80 columns.
        let ownersShown = rows.contains { $0.owner != "-" }
        // Blocks of deals with no amount yet (leads, most with no close date either) would be
        // headings with nothing under them, before the figures: counted at the end instead, a
        // line a month, owner by owner.
        func figures(_ row: ForecastRow) -> [CurrencyTotals] { [row.pipeline, row.weighted, row.bestCase, row.commit, row.won] }
        let empty = rows.filter { figures($0).allSatisfy(\.totals.isEmpty) }
        for row in rows where !figures(row).allSatisfy(\.totals.isEmpty) {
            Console.out(say.forecastHeading(month: row.month, owner: row.owner, deals: row.deals, ownersShown: ownersShown))
            for (label, totals) in zip(say.forecastLabels, figures(row)) where !totals.totals.isEmpty {
                let amounts = itemLines(totalsItems(totals, say), width: max(20, Console.width - 14), separator: amountsSeparator)
                Console.out("  \(label.padding(10))  " + amounts.joined(separator: "\n" + String(repeating: " ", count: 14)))
            }
        }
        guard !empty.isEmpty else { return }
        Console.out(say.noAmountsYet)
        var months: [String] = []
        for row in empty where !months.contains(row.month) { months.append(row.month) }
        let heads = months.map { say.forecastMonth($0) }
        let width = heads.map(\.displayWidth).max() ?? 0
        for (month, head) in zip(months, heads) {
            let counts = empty.filter { $0.month == month }.map { (owner: ownersShown ? $0.owner : nil, deals: $0.deals) }
            Console.out(hanging("  \(head.padding(width))  ", say.dealsByOwner(counts)))
        }
    }
}
