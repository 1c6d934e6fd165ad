import Foundation
import OppsCore
import OppsStore
import Testing

/// A stage gate that is not met says what to type next: the `opps set` that fills it in, each
/// field in the reader's words with an example of what it takes, then the move again.
@Suite struct StageHintTests {
    @Test func aGateNotMetSaysWhatToTypeNext() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            #expect(await f.initReplica("sam", url).code == 0)
            let sam = f.home("sam")
            let made = await opps("new", "Gate deal", "--account", "ACME", "--home", sam)
            let short = String(made.stdout.prefix(ShortID.length))
            let en = await opps("stage", short, "solution", "--home", sam, "--locale", "en")
            #expect(en.code == 3)
            let lines = en.stderr.split(separator: "\n")
            #expect(lines.count == 4, "\(en.stderr)")
            #expect(lines.first?.hasPrefix("opps: refused: stage") == true)
            // Each command on a line of its own, as it is typed back.
            let hint = String(lines[2])
            #expect(lines[1] == "fill them in first, then move it again:" && lines[3] == "  opps stage \(short) solution", "\(en.stderr)")
            #expect(hint.hasPrefix("  opps set \(short) "), "\(hint)")
            #expect(hint.contains("close_date=YYYY-MM-DD") && hint.contains("amount=120000.00"), "\(hint)")
            // The stage written as a field says the same (it said only what was missing).
            let viaSet = await opps("set", short, "阶段=方案", "--home", sam, "--locale", "zh-CN")
            #expect(viaSet.code == 3 && viaSet.stderr.contains("\n先补上这些字段，再移动一次：\n  opps set \(short) "), "\(viaSet.stderr)")
            #expect(viaSet.stderr.hasSuffix("\n  opps stage \(short) 方案\n"), "\(viaSet.stderr)")
            // In Chinese, fields by label; typed back as printed, the move goes through.
            let zh = await opps("stage", short, "方案", "--home", sam, "--locale", "zh-CN").stderr
            let set = try #require(zh.split(separator: "\n").first { $0.hasPrefix("  opps set ") }?.dropFirst(2))
            #expect(set.contains("预计成交日期=YYYY-MM-DD") && set.contains("金额=120000.00"), "\(zh)")
            // Copied as printed, the placeholder is refused (a field holding "…" would pass the gate empty).
            let verbatim = await opps(set.split(separator: " ").dropFirst(1).map(String.init) + ["--home", sam, "--locale", "zh-CN"])
            #expect(verbatim.code == 1 && verbatim.stderr.hasPrefix("opps: 客户需求：「…」是例子里的占位：请写上实际内容\n"), "\(verbatim.stderr)")
            #expect(
                await opps("set", short, "needs=...", "--home", sam, "--locale", "en").stderr == "opps: needs: ... is the example's placeholder: write what it is\n")
            var words = set.split(separator: " ").dropFirst(3).map { String($0) }
            words = words.map { $0.replacingOccurrences(of: "YYYY-MM-DD", with: "2027-03-01").replacingOccurrences(of: "=…", with: "=需要升级") }
            let filled = await opps(["set", short] + words + ["--home", sam])
            #expect(filled.code == 0, "\(words) \(filled.stderr)")
            // "On to the next stage" in the reader's words: discovery's next, solution.
            let next = await opps("stage", short, "下一阶段", "--home", sam, "--locale", "zh-CN")
            #expect(next.code == 0 && next.stdout.hasPrefix("已修改 阶段：方案"), "\(next.stdout)\(next.stderr)")
            // --json keeps to its one object.
            let json = await opps("stage", short, "negotiation", "--home", sam, "--json")
            #expect(json.code == 3 && json.stderr.isEmpty && json.stdout.split(separator: "\n").count == 1, "\(json.stdout) \(json.stderr)")
        }
    }
}
