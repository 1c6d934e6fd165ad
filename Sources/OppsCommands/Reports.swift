import ArgumentParser
import OppsConsole
import OppsCore
import OppsReplica

// Pipeline reports, offline, from device time (issue 5 item 6). The figures are computed in
// OppsCore (Pipeline.swift) from what this replica holds; these commands filter and render.

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

    func pipeline(_ r: Replica) throws -> Pipeline {
        let needed: Set<String> = ["activity", "membership"]
        return Pipeline(workspace: r.workspace, records: try r.workspace.entities.filter { needed.contains($0.name) || $0.stageField != nil }
            .flatMap { try r.store.list(entity: $0.name, workspace: r.workspace) })
    }

    func csvOut(_ header: [String], _ rows: [[String]]) {
        Console.out(([header] + rows).map(CSV.line).joined(separator: "\r\n"))
    }
}


struct BoardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "board", abstract: "The pipeline board: a column per stage, each deal with owner, amount, next step and overdue marks.",
        discussion: """
            Deals created in the period (device time). `!` marks a next step due before today on an open deal. \
            Amounts are totalled per currency, never across currencies. Fits the terminal's width; colours \
            only on a terminal (NO_COLOR turns them off).
            
            Example: opps board --owner sam
            """)

    @OptionGroup var options: ReportOptions
    @Flag(help: "Include the closed stages (won, lost).") var closed = false
    @Option(help: "Today's date for the overdue marks, YYYY-MM-DD (default: today by this device's clock).") var date: String?
    @OptionGroup var home: HomeOption

    func run() throws {
        let r = try home.open()
        let today = try date.map { d -> CivilDate in
            do { return try CivilDate(parsing: d) } catch { throw ReplicaError.invalid("--date must be YYYY-MM-DD") }
        } ?? deviceNow().date
        let board = try options.pipeline(r).board(options.filter, today: today, includeClosed: closed)
        if options.json {
            Console.out(JSON.object([("date", .string(today.description)), ("stages", .array(board.map { column in
                .object([("stage", .string(column.stage.name)), ("deals", .number(column.deals.count)), ("amounts", column.totals.json),
                         ("items", .array(column.deals.map { b in
                             .object([("id", .string(b.deal.id.description)), ("name", b.deal["name"].plainJSON), ("owner", b.deal["owner"].plainJSON),
                                      ("amount", b.deal["amount"].plainJSON), ("currency", b.deal["currency"].plainJSON),
                                      ("next_step", b.deal["next_step"].plainJSON), ("next_step_due", b.deal["next_step_due"].plainJSON),
                                      ("overdue", .bool(b.overdue))])
                         }))])
            }))]).compactText)
            return
        }
        if options.csv {
            options.csvOut(["stage", "id", "name", "owner", "amount", "currency", "next_step", "next_step_due", "overdue"], board.flatMap { column in
                column.deals.map { b in
                    [column.stage.name, b.deal.id.description] + ["name", "owner", "amount", "currency", "next_step", "next_step_due"].map { b.deal[$0].isNull ? "" : b.deal[$0].canonicalText }
                        + [b.overdue ? "yes" : "no"]
                }
            })
            return
        }
        let words = home.words(r)
        let width = max(60, Console.width)
        let colour = Console.colours
        func bold(_ s: String) -> String { colour ? "\u{1B}[1m\(s)\u{1B}[0m" : s }
        func red(_ s: String) -> String { colour ? "\u{1B}[31m\(s)\u{1B}[0m" : s }
        // mark(2) name owner(8) amount(16) next step: the name and next step share what is left.
        let fixed = 2 + 1 + 8 + 1 + 16 + 1
        let nameWidth = max(12, (width - fixed) * 2 / 5), nextWidth = max(8, width - fixed - nameWidth - 1)
        for column in board {
            let total = column.totals.totals.isEmpty ? "" : " · " + totalsText(column.totals)
            let title = words.stage(column.stage.name) == column.stage.name ? column.stage.name.uppercased() : words.stage(column.stage.name)
            Console.out(bold(fit("\(title) (\(column.deals.count))\(total)", width).trimmingTrailing()))
            for b in column.deals {
                let amount = b.deal["amount"].isNull ? "" : amountText(b.deal)
                var next = b.deal["next_step"].isNull ? "" : b.deal["next_step"].canonicalText
                if case let .date(d) = b.deal["next_step_due"] { next += (next.isEmpty ? "" : " ") + "(\(d))" }
                let line = (b.overdue ? "! " : "  ") + fit(b.deal["name"].canonicalText, nameWidth) + " " + fit(b.deal.owner ?? "-", 8) + " "
                    + fit(amount, 16) + " " + fit(next, nextWidth)
                Console.out(b.overdue ? red(line.trimmingTrailing()) : line.trimmingTrailing())
            }
        }
    }
}

extension String {
    func trimmingTrailing() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}

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

    func run() throws {
        let r = try home.open()
        let f = try options.pipeline(r).funnel(options.filter)
        let winRate = percentText(f.won, f.won + f.lost)
        func conv(_ row: Pipeline.FunnelRow) -> String? { row.conversion.flatMap { percentText($0.0, $0.1) } }
        if options.json {
            Console.out(JSON.object([
                ("stages", .array(f.rows.map { row in
                    .object([("stage", .string(row.stage)), ("now", .number(row.current)), ("amounts", row.amounts.json), ("reached", .number(row.reached)),
                             ("conversion_percent", conv(row).map(JSON.decimal) ?? .null)])
                })),
                ("won", .number(f.won)), ("lost", .number(f.lost)), ("win_rate_percent", winRate.map(JSON.decimal) ?? .null),
            ]).compactText)
            return
        }
        if options.csv {
            options.csvOut(["stage", "now", "amounts", "reached", "conversion_percent"], f.rows.map { row in
                [row.stage, String(row.current), row.amounts.description, String(row.reached), conv(row) ?? ""]
            })
            return
        }
        let words = home.words(r)
        Console.out("stage         now  reached  conversion  amounts")
        for row in f.rows {
            Console.out(fit(words.stage(row.stage), 12) + " " + String(row.current).leftPad(4) + " " + String(row.reached).leftPad(8) + " "
                        + (conv(row).map { $0 + " %" } ?? "").leftPad(11) + "  " + totalsText(row.amounts))
        }
        Console.out("win rate: " + (winRate.map { "\($0) % (\(f.won) won, \(f.lost) lost)" } ?? "no closed deals"))
    }
}


struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "report", abstract: "Pipeline reports from stage history and activities, by device time.",
                                                    discussion: "Example: opps report time-in-stage --team north", subcommands: [TimeInStage.self, FollowUp.self])

    struct TimeInStage: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "time-in-stage", abstract: "Average and median days per stage.",
            discussion: "Counts each stay that ended (the deal moved on) in the period; a deal still in a stage is not counted there. Days to the hundredth.\n\nExample: opps report time-in-stage --csv > stays.csv")
        @OptionGroup var options: ReportOptions
        @OptionGroup var home: HomeOption

        func run() throws {
            let r = try home.open()
            let rows = try options.pipeline(r).timeInStage(options.filter)
            if options.json {
                Console.out(JSON.array(rows.map { row in
                    .object([("stage", .string(row.stage)), ("stays", .number(row.stats?.count ?? 0)),
                             ("average_days", row.stats.map { .decimal(daysText($0.average)) } ?? .null),
                             ("median_days", row.stats.map { .decimal(daysText($0.median)) } ?? .null)])
                }).compactText)
                return
            }
            if options.csv {
                options.csvOut(["stage", "stays", "average_days", "median_days"], rows.map { row in
                    [row.stage, String(row.stats?.count ?? 0), row.stats.map { daysText($0.average) } ?? "", row.stats.map { daysText($0.median) } ?? ""]
                })
                return
            }
            let words = home.words(r)
            Console.out("stage         stays  average  median (days)")
            for row in rows {
                Console.out(fit(words.stage(row.stage), 12) + " " + String(row.stats?.count ?? 0).leftPad(6) + " " + (row.stats.map { daysText($0.average) } ?? "-").leftPad(8)
                            + " " + (row.stats.map { daysText($0.median) } ?? "-").leftPad(7))
            }
        }
    }

    struct FollowUp: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "follow-up", abstract: "Follow-up speed: hand-off to first activity, and follow-ups per deal, per owner.",
            discussion: "Counts deals handed off (first moved into the hand-off stage) in the period; activities at or after the hand-off are follow-ups. Hours to the hundredth.\n\nExample: opps report follow-up --from 2026-11-01")
        @OptionGroup var options: ReportOptions
        @OptionGroup var home: HomeOption

        func run() throws {
            let r = try home.open()
            let rows = try options.pipeline(r).followUp(options.filter)
            func perDeal(_ f: Pipeline.FollowUp) -> String { hundredths(Int64(f.activities), over: Int64(f.handedOff)) }
            if options.json {
                Console.out(JSON.array(rows.map { f in
                    .object([("owner", .string(f.owner)), ("handed_off", .number(f.handedOff)), ("followed_up", .number(f.followedUp)),
                             ("first_activity_average_hours", f.firstActivity.map { .decimal(hoursText($0.average)) } ?? .null),
                             ("first_activity_median_hours", f.firstActivity.map { .decimal(hoursText($0.median)) } ?? .null),
                             ("follow_ups", .number(f.activities)), ("follow_ups_per_deal", .decimal(perDeal(f)))])
                }).compactText)
                return
            }
            if options.csv {
                options.csvOut(["owner", "handed_off", "followed_up", "first_activity_average_hours", "first_activity_median_hours", "follow_ups", "follow_ups_per_deal"],
                               rows.map { f in
                                   [f.owner, String(f.handedOff), String(f.followedUp), f.firstActivity.map { hoursText($0.average) } ?? "",
                                    f.firstActivity.map { hoursText($0.median) } ?? "", String(f.activities), perDeal(f)]
                               })
                return
            }
            if rows.isEmpty { Console.out("no hand-offs in the period"); return }
            Console.out("owner      handed off  followed up  first activity avg / median (h)  follow-ups per deal")
            for f in rows {
                Console.out(fit(f.owner, 10) + " " + String(f.handedOff).leftPad(10) + " " + String(f.followedUp).leftPad(12) + " "
                            + ((f.firstActivity.map { hoursText($0.average) + " / " + hoursText($0.median) }) ?? "-").leftPad(32) + " " + perDeal(f).leftPad(20))
            }
        }
    }
}

/// a ÷ b to the hundredth, half up ("1.50"); "0.00" when b is 0.
func hundredths(_ a: Int64, over b: Int64) -> String {
    guard b > 0 else { return "0.00" }
    let h = (a * 200 + b) / (b * 2)
    return "\(h / 100).\(h % 100 < 10 ? "0" : "")\(h % 100)"
}

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

    func run() throws {
        let r = try home.open()
        let pipeline = try options.pipeline(r)
        var filter = options.filter
        let from = filter.from, to = filter.to
        filter.from = nil
        filter.to = nil
        let rows = pipeline.forecast(filter, from: from, to: to)
        if options.json {
            Console.out(JSON.array(rows.map { row in
                .object([("owner", .string(row.owner)), ("month", .string(row.month)), ("deals", .number(Int64(row.deals))),
                         ("pipeline", row.pipeline.json), ("weighted", row.weighted.json), ("best_case", row.bestCase.json),
                         ("commit", row.commit.json), ("won", row.won.json)])
            }).compactText)
            return
        }
        if options.csv {
            options.csvOut(["owner", "month", "deals", "pipeline", "weighted", "best_case", "commit", "won"],
                           rows.map { [$0.owner, $0.month, String($0.deals), $0.pipeline.description, $0.weighted.description, $0.bestCase.description,
                                       $0.commit.description, $0.won.description] })
            return
        }
        if rows.isEmpty { Console.out("no deals close in this period on this laptop"); return }
        // One block per month and owner: a line per figure, amounts grouped, so it reads at 80 columns.
        for row in rows {
            Console.out("\(row.month)  \(row.owner)  (\(row.deals) deal\(row.deals == 1 ? "" : "s"))")
            for (label, totals) in [("pipeline", row.pipeline), ("weighted", row.weighted), ("best case", row.bestCase), ("commit", row.commit), ("won", row.won)]
            where !totals.totals.isEmpty {
                Console.out("  \(label.padding(10))  " + totalsText(totals))
            }
        }
    }
}

/// Totals per currency as a person reads them: `480,000.00 CNY, 12,500.00 USD`.
func totalsText(_ totals: CurrencyTotals) -> String {
    totals.totals.keys.sorted().map { "\(groupedAmount(totals.text($0))) \($0)" }.joined(separator: ", ")
}
