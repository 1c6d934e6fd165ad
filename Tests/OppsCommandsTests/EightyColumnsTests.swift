import Foundation
import OppsConsole
import OppsCore
import Testing

@testable import OppsCommands

/// What `opps` prints fits a terminal of 80 columns (captured output is laid out for 80), in
/// English and in Chinese, where a Chinese character takes two: a day with a long next step, two
/// conflicts, an approval request decided with a note, a team and every report.
@Suite struct EightyColumnsTests {
    @Test func everyCommandFitsEightyColumnsInBothLanguages() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            for user in ["sam", "max"] { #expect(await f.initReplica(user, url).code == 0) }
            let sam = f.home("sam"), max = f.home("max")
            let (deal, _, _) = try await f.conflictsOnADeal()
            let long = "周五去客户现场演示新版本并确认报价，然后和财务总监一起过一遍合同条款与付款计划"
            #expect(await opps("set", deal, "下一步=\(long)", "next_step_due=2026-12-04", "--home", sam).code == 0)
            let (doomed, request) = try await f.aLossWaitingForMax()
            #expect(await opps("reject", request, "--note", "客户还在比较三家供应商的报价，下周再看一次", "--home", max).code == 0)
            #expect(await opps("log", deal, "--kind", "visit", "--place", "上海云帆物流有限公司总部", "--note", long, "--home", sam).code == 0)
            #expect(await opps("task", "add", deal, long, "--due", "2026-12-03", "--home", sam).code == 0)
            #expect(await opps("new", "上海云帆物流有限公司 全国仓储数据平台 二期扩容", "--account", "上海云帆物流有限公司", "--amount", "86500000", "--currency", "JPY", "--home", sam).code == 0)
            #expect(await opps("contact", "new", "欧阳晓明", "--account", "上海云帆物流有限公司", "title=首席信息官兼数字化转型负责人", "phone=+86 139 1123 5364", "--home", sam).code == 0)
            for user in ["sam", "max", "sam"] { #expect(await opps("sync", "--home", f.home(user)).code == 0) }
            let commands: [[String]] = [
                ["status"], ["list"], ["show", deal], ["show", doomed], ["history", deal], ["conflicts"], ["approvals", "--all"], ["today", "--date", "2026-12-05"],
                ["board"], ["funnel"], ["forecast"], ["report", "time-in-stage"], ["report", "follow-up"], ["rules", "--role", "sales"],
                ["account", "list"], ["contact", "list"], ["account", "show", "上海云帆物流有限公司"], ["team", deal], ["--help"], ["set", "--help"],
            ]
            for home in [sam, max] {
                for locale in ["en", "zh-CN"] {
                    for command in commands {
                        let run = await opps(command + ["--home", home, "--locale", locale])
                        #expect(run.code == 0, "\(command) \(locale): \(run.stderr)")
                        for line in run.stdout.split(separator: "\n") {
                            #expect(String(line).displayWidth <= 80, "\(command) \(locale) (\(String(line).displayWidth)): \(line)")
                            // Nothing trails a line (a padded column with nothing after it).
                            #expect(line.last != " ", "\(command) \(locale) ends in a space: '\(line)'")
                        }
                        // A report's numbers end where their headings end: its columns after the
                        // first are right-aligned, so every line is as wide as the heading's.
                        if command.first == "report" {
                            let widths = Set(run.stdout.split(separator: "\n").map { String($0).displayWidth })
                            #expect(widths.count == 1, "\(command) \(locale):\n\(run.stdout)")
                        }
                    }
                }
            }
        }
    }
}
