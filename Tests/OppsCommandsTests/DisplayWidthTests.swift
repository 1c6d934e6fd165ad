import OppsConsole
import OppsCore
import Testing

@testable import OppsCommands

/// Issue 15 item 7: tables pad by terminal columns, so Chinese names line up.
@Suite struct DisplayWidthTests {
    @Test func wideCharactersTakeTwoColumns() {
        #expect("ACME".displayWidth == 4)
        #expect("华为云 试点".displayWidth == 11)
        #expect("ｆｕｌｌ".displayWidth == 8)
        #expect("e\u{301}".displayWidth == 1)  // e + combining acute: one column
        #expect("華為".padding(6) == "華為  ")
        #expect("12".leftPad(5) == "   12")
    }

    @Test func aTablesColumnsAreAsWideAsTheirWidestCellInColumns() {
        let lines = table([["阶段", "次数", "中位数（天）"], ["需求挖掘", "110", "8.21"], ["lead", "5", "-"]], right: [1, 2])
        #expect(lines == ["阶段      次数  中位数（天）", "需求挖掘   110          8.21", "lead         5             -"])
        // Left-aligned cells are padded but the line's trailing spaces dropped; a long cell cut.
        #expect(table([["a", "b"], ["ccc", ""]]) == ["a    b", "ccc"])
        #expect(cut("上海云帆物流有限公司", 9) == "上海云帆…" && cut("sam", 9) == "sam")
    }

    @Test func fitCutsAtAColumnNotInsideAWideCharacter() {
        #expect(fit("华为云试点项目", 9) == "华为云试…")  // 8 columns of text + the ellipsis
        #expect(fit("华为云试点项目", 9).displayWidth == 9)
        #expect(fit("华为", 6) == "华为  ")
        #expect(fit("ACME rollout", 6) == "ACME …")
        // A wide character that does not fit in the last column: the cell is still its width.
        #expect(fit("东方物流 数据分析 试点", 20) == "东方物流 数据分析 … ")
        #expect(fit("东方物流 数据分析 试点", 20).displayWidth == 20)
    }

    /// The board's next step in its column: what is cut is the step's text, never its date.
    @Test func aBoardsNextStepKeepsItsDate() throws {
        var deal = Record(
            id: RecordID(high: 1, low: 2), entity: "opportunity",
            created: FieldState(value: .null, stamp: Stamp(hlc: .zero, replica: ReplicaID(UUID128(high: 0, low: 0))), author: "", authority: .own))
        let stamp = deal.created.stamp
        deal.fields["next_step"] = FieldState(value: .text("约财务总监谈预算和试点范围"), stamp: stamp, author: "", authority: .own)
        deal.fields["next_step_due"] = FieldState(value: .date(try CivilDate(parsing: "2026-12-11")), stamp: stamp, author: "", authority: .own)
        let board = BoardCommand()
        // The year only when it is not this one's.
        let today = try CivilDate(parsing: "2026-12-05"), lastYear = try CivilDate(parsing: "2025-12-30")
        #expect(board.nextCell(deal, width: 40, today: today) == "约财务总监谈预算和试点范围 (12-11)".padding(40), "padded to its column")
        #expect(board.nextCell(deal, width: 40, today: lastYear) == "约财务总监谈预算和试点范围 (2026-12-11)".padding(40))
        #expect(board.nextCell(deal, width: 24, today: lastYear) == "约财务总监… (2026-12-11)")
        #expect(board.nextCell(deal, width: 24, today: today) == "约财务总监谈预… (12-11)")
        #expect(board.nextCell(deal, width: 24, today: today).displayWidth <= 24)
        // Too narrow for the text and its date: cut as one.
        #expect(board.nextCell(deal, width: 10, today: today).displayWidth == 10)
    }

    @Test func listColumnsLineUpWithChineseNames() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            let home = f.home("sam")
            #expect(await f.initReplica("sam", url).code == 0)
            #expect(await opps("new", "华为云 试点", "--account", "华为", "--amount", "5.00", "--home", home).code == 0)
            #expect(await opps("new", "ACME rollout", "--account", "ACME", "--amount", "5.00", "--home", home).code == 0)
            let lines = await opps("list", "--home", home).stdout.split(separator: "\n").map(String.init).filter { $0.contains("5.00") }
            #expect(lines.count == 2)
            // The amount column starts at the same terminal column on every row.
            let columns = lines.compactMap { line in line.range(of: "5.00").map { String(line[..<$0.lowerBound]).displayWidth } }
            #expect(Set(columns).count == 1, "\(lines)")
        }
    }
}
