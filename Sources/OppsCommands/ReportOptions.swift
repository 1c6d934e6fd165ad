import ArgumentParser
import Foundation
import OppsCSV
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

/// Filters shared by every report.
struct ReportOptions: ParsableArguments {
    @Option(help: "Only deals this user owns.") var owner: String?
    @Option(help: "Only deals this user is an active team member of.") var team: String?
    @Option(help: ArgumentHelp("Period start, YYYY-MM-DD (by this device's time zone, inclusive).", valueName: "date")) var from: String?
    @Option(help: ArgumentHelp("Period end, YYYY-MM-DD (by this device's time zone, inclusive).", valueName: "date")) var to: String?
    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Print CSV (RFC 4180): a header row, then one row per line of the report.") var csv = false

    /// Bad filters in the reader's words: `home` is the command's own --home and --locale (these
    /// options have none), so its reader is asked. Each command that takes them calls it from its
    /// validate().
    func check(as home: HomeOption) throws {
        let say = home.say
        if json && csv { throw ValidationError(say("give --json or --csv, not both", "--json 和 --csv 只能给一个")) }
        for (name, text) in [("--from", from), ("--to", to)] {
            if let text, typedDate(text) == nil {
                throw ValidationError(say("\(name) must be a date: 2026-12-05, 12-05 or tomorrow", "\(name) 要写日期：2026-12-05、12-05 或 明天"))
            }
        }
        if let f = from.flatMap(typedDate), let t = to.flatMap(typedDate), t < f {
            throw ValidationError(say("--to is before --from", "--to 早于 --from"))
        }
    }

    var filter: PipelineFilter {
        var f = PipelineFilter(owner: owner, member: team, from: from.flatMap(typedDate), to: to.flatMap(typedDate))
        f.offsetSeconds = LocalTime.offsetSeconds(at: deviceNow().milliseconds)
        return f
    }

    /// The pipeline the filters apply to; a name in them that is no user's is refused first (a
    /// typo would only show an empty report).
    func pipeline(_ r: Replica) throws -> Pipeline {
        if let owner { try r.requireUser(owner, entity: "opportunity", field: "owner") }
        if let team { try r.requireUser(team, entity: "membership", field: "user") }
        return try r.pipeline()
    }

    func csvOut(_ header: [String], _ rows: [[String]]) {
        Console.out(([header] + rows).map(CSV.line).joined(separator: "\r\n"))
    }
}

extension String {
    func trimmingTrailing() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}

/// Totals per currency as a person reads them: `480,000.00 CNY · 12,500.00 USD` (a comma
/// between amounts read as one more thousands separator), as the web app writes them.
func totalsText(_ totals: CurrencyTotals, _ say: Phrases) -> String { totalsItems(totals, say).joined(separator: amountsSeparator) }

/// Between two amounts of a list.
let amountsSeparator = " · "

/// Each currency's total as the reader reads it: `120,000.00 CNY`; amounts whose deal names no
/// currency (`CurrencyTotals.noCurrency`) as such, never as a currency called "?".
func totalsItems(_ totals: CurrencyTotals, _ say: Phrases) -> [String] {
    totals.codes.map { code in
        let amount = totals.overflowed.contains(code) ? say("(beyond 18 digits)", "（超过 18 位）") : groupedAmount(totals.text(code))
        return amount + (code == CurrencyTotals.noCurrency ? say(" (no currency)", "（未填币种）") : " " + code)
    }
}

/// Items (a report's amounts per currency, the fields to fill) in lines of at most `width`
/// columns, joined by `separator`, never broken inside one.
func itemLines(_ items: [String], width: Int, separator: String = ", ") -> [String] {
    // A line that another follows ends with the separator, its trailing space dropped.
    let mark = String(separator.reversed().drop { $0 == " " }.reversed())
    var lines: [String] = []
    var line = ""
    for item in items {
        // The mark a line ends with when another follows counts too.
        if !line.isEmpty, line.displayWidth + separator.displayWidth + item.displayWidth + mark.displayWidth > width {
            lines.append(line + mark)
            line = item
        } else {
            line += (line.isEmpty ? "" : separator) + item
        }
    }
    return lines + [line]
}
