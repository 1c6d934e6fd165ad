import ArgumentParser
import Foundation
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Pipeline reports from stage history and activities, by device time.",
        discussion: "Example: opps report time-in-stage --owner sam --from 2026-10-01", subcommands: [TimeInStage.self, FollowUp.self])

    struct TimeInStage: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "time-in-stage", abstract: "Average and median days per stage.",
            discussion:
                "Counts each stay that ended (the deal moved on) in the period; a deal still in a stage is not counted there. Days to the hundredth.\n\nExample: opps report time-in-stage --csv > stays.csv"
        )
        @OptionGroup var options: ReportOptions
        @OptionGroup var home: HomeOption

        func validate() throws { try options.check(as: home) }

        func run() throws {
            let r = try home.open()
            let rows = try options.pipeline(r).timeInStage(options.filter)
            if options.json {
                Console.out(
                    try rows.map { row in
                        StageTimeJSON(
                            stage: row.stage, stays: row.stats?.count ?? 0, average_days: row.stats.map { .decimal(daysText($0.average)) },
                            median_days: row.stats.map { .decimal(daysText($0.median)) })
                    }.jsonLine())
                return
            }
            if options.csv {
                options.csvOut(
                    ["stage", "stays", "average_days", "median_days"],
                    rows.map { row in
                        [row.stage, String(row.stats?.count ?? 0), row.stats.map { daysText($0.average) } ?? "", row.stats.map { daysText($0.median) } ?? ""]
                    })
                return
            }
            let words = home.words(r)
            // The numbers end where their headings end, in either language.
            let header = [words.say("stage", "阶段"), words.say("stays", "次数"), words.say("average", "平均"), words.say("median", "中位数")]
            // As long as a stay took, in days and hours (`8天4小时`); --json and --csv keep the days.
            func time(_ ms: Int64) -> String { durationText(milliseconds: ms, chinese: words.say.chinese) }
            let lines = rows.map { row in
                [
                    cut(words.stage(row.stage), 20), String(row.stats?.count ?? 0), row.stats.map { time($0.average) } ?? "-",
                    row.stats.map { time($0.median) } ?? "-",
                ]
            }
            for line in table([header] + lines, right: [1, 2, 3]) { Console.out(line) }
        }
    }

    struct FollowUp: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "follow-up", abstract: "Follow-up speed: hand-off to first activity, and follow-ups per deal, per owner.",
            discussion:
                "Counts deals handed off (first moved into the hand-off stage) in the period; activities at or after the hand-off are follow-ups. Hours to the hundredth.\n\nExample: opps report follow-up --from 2026-11-01"
        )
        @OptionGroup var options: ReportOptions
        @OptionGroup var home: HomeOption

        func validate() throws { try options.check(as: home) }

        func run() throws {
            let r = try home.open()
            let rows = try options.pipeline(r).followUp(options.filter)
            func perDeal(_ f: Pipeline.FollowUp) -> String { hundredths(Int64(f.activities), over: Int64(f.handedOff)) }
            if options.json {
                Console.out(
                    try rows.map { f in
                        FollowUpJSON(
                            owner: f.owner, handed_off: f.handedOff, followed_up: f.followedUp,
                            first_activity_average_hours: f.firstActivity.map { .decimal(hoursText($0.average)) },
                            first_activity_median_hours: f.firstActivity.map { .decimal(hoursText($0.median)) }, follow_ups: f.activities,
                            follow_ups_per_deal: .decimal(perDeal(f)))
                    }.jsonLine())
                return
            }
            if options.csv {
                options.csvOut(
                    ["owner", "handed_off", "followed_up", "first_activity_average_hours", "first_activity_median_hours", "follow_ups", "follow_ups_per_deal"],
                    rows.map { f in
                        [
                            f.owner, String(f.handedOff), String(f.followedUp), f.firstActivity.map { hoursText($0.average) } ?? "",
                            f.firstActivity.map { hoursText($0.median) } ?? "", String(f.activities), perDeal(f),
                        ]
                    })
                return
            }
            let say = home.words(r).say
            if rows.isEmpty { Console.out(say.noHandOffs); return }
            // One row of deals whose owner this reader does not see (a success manager's) says
            // what the total says: the total alone.
            let owners = rows.filter { !$0.isTotal }
            let shown = owners.count == 1 && owners[0].owner == "-" ? rows.filter(\.isTotal) : rows
            // The numbers end where their headings end, in either language.
            let header = [
                say("owner", "负责人"), say("handed off", "移交"), say("followed up", "已跟进"), say("to 1st follow-up: avg / median", "到首次跟进 平均 / 中位"),
                say("follow-ups a deal", "每商机跟进"),
            ]
            func time(_ ms: Int64) -> String { durationText(milliseconds: ms, chinese: say.chinese) }
            let lines = shown.map { f in
                [
                    cut(f.isTotal ? say("all", "合计") : f.owner, 16), String(f.handedOff), String(f.followedUp),
                    // As long as it took, in days and hours (`4天8小时`); --json and --csv keep the hours.
                    f.firstActivity.map { time($0.average) + " / " + time($0.median) } ?? "-", perDeal(f),
                ]
            }
            for line in table([header] + lines, right: [1, 2, 3, 4]) { Console.out(line) }
        }
    }
}

/// a ÷ b to the hundredth, half up ("1.50"); "0.00" when b is 0.
func hundredths(_ a: Int64, over b: Int64) -> String {
    guard b > 0 else { return "0.00" }
    let h = (a * 200 + b) / (b * 2)
    return "\(h / 100).\(h % 100 < 10 ? "0" : "")\(h % 100)"
}
