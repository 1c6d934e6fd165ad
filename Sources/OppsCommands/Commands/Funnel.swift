import ArgumentParser
import Foundation
import OppsCommandLine
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

struct FunnelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "funnel", abstract: "The funnel: deals and amounts per stage, stage-to-stage conversion and win rate.",
        discussion: """
            Over the deals created in the period (device time). `now`: deals in the stage today, with \
            their amounts per currency. `reached`: deals that passed through the stage — entered the \
            pipeline at or before it and got at least this far (a won deal passed every open stage from \
            where it entered; a lost one keeps the furthest it reached). Conversion: of the deals that \
            passed through the previous open stage, the share that reached this one (won: from the \
            last open stage). Win rate: won ÷ (won + lost).

            Example: opps funnel --from 2026-10-01 --to 2026-12-31
            """)

    @OptionGroup var options: ReportOptions
    @OptionGroup var home: HomeOption

    func validate() throws { try options.check(as: home) }

    func run() throws {
        let r = try home.open()
        let f = try options.pipeline(r).funnel(options.filter)
        let winRate = percentText(f.won, f.won + f.lost)
        func conv(_ row: Pipeline.FunnelRow) -> String? { row.conversion.flatMap { percentText($0.0, $0.1) } }
        if options.json {
            Console.out(
                try FunnelJSON(
                    stages: f.rows.map {
                        FunnelJSON.Stage(stage: $0.stage, now: $0.current, amounts: $0.amounts.json, reached: $0.reached, conversion_percent: conv($0).map(JSON.decimal))
                    }, won: f.won, lost: f.lost, win_rate_percent: winRate.map(JSON.decimal)
                ).jsonLine())
            return
        }
        if options.csv {
            options.csvOut(
                ["stage", "now", "amounts", "reached", "conversion_percent"],
                f.rows.map { row in
                    [row.stage, String(row.current), row.amounts.description, String(row.reached), conv(row) ?? ""]
                })
            return
        }
        let words = home.words(r)
        let say = words.say
        Console.out(
            say.header([("stage", "阶段", 12, false), ("now", "当前", 4, true), ("reached", "到达", 8, true), ("conversion", "转化率", 11, true)]) + "  "
                + say("amounts", "金额"))
        for row in f.rows {
            let head =
                fit(words.stage(row.stage), 12) + " " + String(row.current).leftPad(4) + " " + String(row.reached).leftPad(8) + " "
                + (conv(row).map { $0 + "%" } ?? "").leftPad(11) + "  "
            // Several currencies continue under the amounts column, so a row fits the terminal.
            let amounts = itemLines(totalsItems(row.amounts, say), width: max(20, Console.width - head.displayWidth), separator: amountsSeparator)
            Console.out((head + amounts[0]).trimmingTrailingSpaces)
            for more in amounts.dropFirst() { Console.out(String(repeating: " ", count: head.displayWidth) + more) }
        }
        Console.out(say.winRate(winRate, won: f.won, lost: f.lost))
    }
}
