import Foundation
import OppsCore
import Testing

/// A command printed for the user to type next names the record by its short id: a deal named
/// by its name (`opps stage "格力电器 售后系统" 已验证`) was named back as typed, unquoted, so the
/// printed `opps set 格力电器 售后系统 资质说明=…` named the account 格力电器 and `售后系统` was taken
/// for a value.
@Suite struct TypedBackTests {
    @Test func aDealTypedByANameWithASpaceIsNamedBackByItsShortID() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            #expect(await f.initReplica("sam", url).code == 0)
            let sam = f.home("sam")
            let made = await opps("new", "格力电器 售后系统", "--account", "格力电器", "--home", sam)
            let code = String(made.stdout.prefix(ShortID.length))
            let name = "格力电器 售后系统"

            // The gate: both lines name the deal by its id, and typed back they work.
            let refused = await opps("stage", name, "solution", "--home", sam)
            #expect(refused.code == 3)
            let lines = refused.stderr.split(separator: "\n").map(String.init)
            let set = try #require(lines.first { $0.hasPrefix("  opps set ") }, "\(refused.stderr)")
            #expect(set.hasPrefix("  opps set \(code) "), "\(refused.stderr)")
            #expect(lines.last == "  opps stage \(code) solution", "\(refused.stderr)")
            // The same after opps set NAME stage=…, in Chinese.
            let zh = await opps("set", name, "阶段=方案", "--home", sam, "--locale", "zh-CN")
            #expect(zh.code == 3 && zh.stderr.contains("\n  opps set \(code) ") && zh.stderr.hasSuffix("\n  opps stage \(code) 方案\n"), "\(zh.stderr)")
            // The printed set line, its examples filled in, then the printed move.
            let filled = set.trimmingCharacters(in: .whitespaces).split(separator: " ").dropFirst().map { word -> String in
                word.hasSuffix("=…")
                    ? word.replacingOccurrences(of: "…", with: "CRM")
                    : word.hasSuffix("=YYYY-MM-DD") ? word.replacingOccurrences(of: "YYYY-MM-DD", with: "2027-03-31") : String(word)
            }
            #expect(await opps(filled + ["--home", sam]).code == 0, "\(filled)")
            #expect(await opps("stage", code, "solution", "--home", sam).code == 0)

            // opps log without a kind, and with the kind after the note.
            let noKind = await opps("log", name, "--home", sam)
            #expect(noKind.code != 0 && noKind.stderr.contains("opps log \(code) visit \"what happened\""), "\(noKind.stderr)")
            let late = await opps("log", name, "met", "the", "CFO", "--home", sam)
            #expect(late.stderr.contains("as in opps log \(code) visit \"met the CFO\""), "\(late.stderr)")
            // opps task done on the deal: its next step is written on the deal, by its id.
            let notTask = await opps("task", "done", name, "--home", sam)
            #expect(notTask.code != 0 && notTask.stderr.contains("(opps set \(code) next_step=… next_step_due=YYYY-MM-DD)"), "\(notTask.stderr)")
        }
    }
}
