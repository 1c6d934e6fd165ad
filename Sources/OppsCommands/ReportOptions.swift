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
    @Option(help: "Period start, YYYY-MM-DD (UTC, inclusive).") var from: String?
    @Option(help: "Period end, YYYY-MM-DD (UTC, inclusive).") var to: String?
    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Print CSV (RFC 4180): a header row, then one row per line of the report.") var csv = false

    func validate() throws {
        if json && csv { throw ValidationError("give --json or --csv, not both") }
        for (name, text) in [("--from", from), ("--to", to)] {
            if let text { do { _ = try CivilDate(parsing: text) } catch { throw ValidationError("\(name) must be YYYY-MM-DD") } }
        }
        if let f = from.flatMap({ try? CivilDate(parsing: $0) }), let t = to.flatMap({ try? CivilDate(parsing: $0) }), t < f {
            throw ValidationError("--to is before --from")
        }
    }

    var filter: PipelineFilter {
        PipelineFilter(owner: owner, member: team, from: from.flatMap { try? CivilDate(parsing: $0) }, to: to.flatMap { try? CivilDate(parsing: $0) })
    }

    func pipeline(_ r: Replica) throws -> Pipeline { try r.pipeline() }

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

/// Totals per currency as a person reads them: `480,000.00 CNY, 12,500.00 USD`.
func totalsText(_ totals: CurrencyTotals) -> String {
    totals.totals.keys.sorted().map { "\(groupedAmount(totals.text($0))) \($0)" }.joined(separator: ", ")
}
