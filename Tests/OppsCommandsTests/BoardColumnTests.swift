import Foundation
import OppsCore
import Testing

@testable import OppsCommands

/// A board column of more deals than a terminal reads (a manager's discovery column in the
/// 100,000-deal demo: 9,942 deals, 31,567 lines) shows its first deals and how many more: the
/// overdue first, oldest first, then the soonest next steps; `--all` lists every one in the
/// board's order, and `--json` always carries all.
@Suite struct BoardColumnTests {
    @Test func aLongColumnShowsWhatNeedsAStepFirstAndSaysHowManyMore() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            #expect(await f.initReplica("sam", url).code == 0)
            let sam = f.home("sam")
            let count = BoardCommand.shown + 2
            // Named so that by name the late ones come last: "Deal 01" … "Deal 27", the two with
            // the oldest steps ("Deal 26", "Deal 27") overdue on 2026-12-10, one of them longer.
            var ids = [String]()
            for n in 1...count {
                let due = n == count ? "2026-11-20" : n == count - 1 ? "2026-12-01" : "2026-12-\(String(format: "%02d", 11 + n % 15))"
                let made = await opps("new", String(format: "Deal %02d", n), "--account", "ACME", "next_step=call", "next_step_due=\(due)", "--home", sam, "--json")
                #expect(made.code == 0, "\(made.stderr)")
                ids.append(made.json?["id"]?.string ?? "")
            }
            let board = await opps(["board", "--date", "2026-12-10", "--home", sam], environment: ["LANG": "C", "COLUMNS": "100"])
            let lines = board.stdout.split(separator: "\n").map(String.init)
            let discovery = try #require(lines.firstIndex { $0.hasPrefix("DISCOVERY (\(count))") }, "\(board.stdout)")
            let shown = lines[(discovery + 1)...].prefix { $0.hasPrefix("! ") || ($0.hasPrefix("  ") && !$0.hasPrefix("  …")) }
            #expect(shown.count == BoardCommand.shown, "\(board.stdout)")
            // The overdue first, the oldest of them first; then by the next step's date.
            #expect(shown.first?.hasPrefix("! ") == true && shown.first?.contains("Deal \(count)") == true, "\(board.stdout)")
            #expect(shown.dropFirst().first?.contains("Deal \(count - 1)") == true, "\(board.stdout)")
            #expect(shown.filter { $0.hasPrefix("! ") }.count == 2)
            #expect(lines[discovery + 1 + BoardCommand.shown] == "  …and 2 more (opps board --all lists every one)", "\(board.stdout)")
            // Every one with --all, by name as a short board is.
            let all = await opps(["board", "--date", "2026-12-10", "--all", "--home", sam], environment: ["LANG": "C", "COLUMNS": "100"])
            let allLines = all.stdout.split(separator: "\n").filter { $0.contains(" Deal ") }
            #expect(allLines.count == count && !all.stdout.contains("more (opps board"), "\(all.stdout)")
            #expect(allLines.first?.contains("Deal 01") == true && allLines.last?.contains("Deal \(count)") == true, "\(all.stdout)")
            // In Chinese; and --json is never cut.
            let zh = await opps(["board", "--date", "2026-12-10", "--home", sam, "--locale", "zh-CN"], environment: ["COLUMNS": "80"])
            #expect(zh.stdout.contains("\n  …还有 2 个（opps board --all 列出全部）\n"), "\(zh.stdout)")
            let json = try #require(await opps("board", "--date", "2026-12-10", "--json", "--home", sam).json)
            let column = json["stages"]?.array?.first { $0["stage"]?.string == "discovery" }
            #expect(column?["items"]?.array?.count == count && column?["deals"]?.int == count)
        }
    }
}
