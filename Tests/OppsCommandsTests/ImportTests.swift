import Foundation
import OppsConsole
import OppsCore
import OppsStore
import OppsTestSupport
import Testing

/// `opps-hub import` (issue 5 item 7): all or nothing with a row/column report, or the valid
/// rows with --skip-invalid; imported records reach the replicas that may see them.
@Suite struct ImportTests {
    /// `opps-hub` as an operator whose LANG names Chinese runs it.
    func chinese(_ args: String...) async -> Run { await ProcessEnvironment.$pinned.withValue(["LANG": "zh_CN.UTF-8"]) { await oppsHub(args) } }

    /// An import refused (exit 1) with exactly these lines on stderr.
    func expectRefused(_ run: Run, _ lines: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(run.code == 1, "\(run.stderr)", sourceLocation: sourceLocation)
        #expect(run.stderr.split(separator: "\n").map(String.init) == lines, "\(run.stderr)", sourceLocation: sourceLocation)
    }

    @Test func invalidRowsAreReportedAndNothingIsImportedUnlessAskedTo() async throws {
        let f = try CommandFixture()
        let hub = f.root + "/hub"
        var rng = SeededGenerator(seed: 9)
        let alpha = UUID128.version7(milliseconds: 1_795_000_000_000, using: &rng), beta = UUID128.version7(milliseconds: 1_795_000_000_001, using: &rng)
        let accounts = f.root + "/accounts.csv"
        try "id,name,industry,territory\r\n\(alpha),\"Alpha, Inc.\",software,north\r\n\(beta),Beta,\"retail \"\"big box\"\"\",north\r\n"
            .write(toFile: accounts, atomically: true, encoding: .utf8)
        let deals = f.root + "/deals.csv"
        try """
        name,account,stage,owner,amount,currency,close_date
        Alpha renewal,\(alpha),discovery,sam,12000.00,CNY,2026-12-31
        Beta pilot,\(beta),proposal,tom,"12,000",USD,2026-12-31
        Gamma,\(UUID128.version7(milliseconds: 1, using: &rng)),lead,nobody,1.00,CNY,2026-13-01
        Delta,\(alpha),discovery,sam
        Epsilon,\(alpha),dreaming,sam,-5.00,XYZ,

        """.write(toFile: deals, atomically: true, encoding: .utf8)
        try await f.serving { url in
            #expect(await oppsHub("import", accounts, "--type", "account", "--data", hub).code == 0)
            let refused = await oppsHub("import", deals, "--type", "opportunity", "--data", hub)
            #expect(refused.code == 1)
            let lines = refused.stderr.split(separator: "\n").map(String.init)
            #expect(lines.contains { $0.contains("row 3, column amount: ") && $0.contains("12,000") }, "\(refused.stderr)")
            for expected in [
                "row 4, column account: no account", "row 4, column owner: no user \"nobody\"", "row 4, column close_date",
                "row 5, column -: expected 7 cells, found 4", "row 6, column stage", "row 6, column currency",
                "row 6, column amount: less than 0, the least allowed",
            ] {
                #expect(lines.contains { $0.contains(expected) }, "missing \(expected) in \(refused.stderr)")
            }
            #expect(lines.last?.contains("nothing imported: 4 invalid rows") == true)
            // --check reports and imports nothing, --skip-invalid or not (the list below stays empty).
            let checked = await oppsHub("import", deals, "--type", "opportunity", "--check", "--skip-invalid", "--data", hub)
            #expect(
                checked.code == 1 && checked.stderr.hasSuffix("opps-hub: checked 5 opportunity rows: 1 valid, 4 invalid; nothing imported (--check)\n"),
                "\(checked.stderr)")
            #expect(await oppsHub("import", deals, "--type", "opportunity", "--check", "--json", "--data", hub).json?["valid_rows"]?.int == 1)
            #expect(await opps("init", "--hub", url, "--token", f.tokens["sam"]!, "--home", f.home("sam")).code == 0)
            #expect(await opps("list", "--home", f.home("sam"), "--json").json?.array?.count == 0)

            let partial = await oppsHub("import", deals, "--type", "opportunity", "--skip-invalid", "--as", "max", "--data", hub, "--json")
            #expect(partial.code == 0, "\(partial.stderr)")
            #expect(partial.json?["imported"]?.int == 1)
            #expect(partial.json?["invalid_rows"]?.int == 4)
            #expect(partial.json?["problems"]?.array?.first?["row"]?.int == 3)
            #expect(await opps("sync", "--home", f.home("sam")).code == 0)
            let held = await opps("list", "--home", f.home("sam"), "--json").json?.array ?? []
            #expect(held.count == 1)
            #expect(held.first?["fields"]?["name"]?.string == "Alpha renewal")
            #expect(held.first?["fields"]?["amount"]?.string == "12000.00")
            #expect(held.first?["fields"]?["stage"]?.string == "discovery")
            let account = await opps("show", alpha.description, "--home", f.home("sam"), "--json").json?["fields"]
            #expect(account?["name"]?.string == "Alpha, Inc.")
            // Made by the import itself: the hub's, in the reader's words (not the name "hub").
            let shown = await opps(["show", alpha.description, "--home", f.home("sam")], environment: ["LANG": "C"]).stdout
            #expect(shown.contains("\n  made by          the hub, 20"), "\(shown)")
            let zh = await opps("show", alpha.description, "--home", f.home("sam"), "--locale", "zh-CN").stdout
            #expect(zh.contains("\n  创建人           服务器（20"), "\(zh)")
            // The imported deal has its stage history, so reports count it.
            #expect(await opps("funnel", "--home", f.home("sam"), "--json").json?["stages"]?.array?[2]["now"]?.int == 1)

            // A bad header imports nothing, --skip-invalid or not.
            let bad = f.root + "/bad.csv"
            try "name,colour\nX,blue\n".write(toFile: bad, atomically: true, encoding: .utf8)
            let header = await oppsHub("import", bad, "--type", "account", "--skip-invalid", "--data", hub)
            #expect(header.code == 1)
            #expect(header.stderr.contains("row 1, column colour: account has no field \"colour\""), "\(header.stderr)")
            #expect(await oppsHub("import", accounts, "--type", "account", "--data", hub).stderr.contains("a record with this id exists"))
            #expect(await oppsHub("import", accounts, "--type", "widget", "--data", hub).code == 1)
            // A reference to a row of the same file must be of the type being imported.
            let own = "0190a1b2-c3d5-7a0b-9c1d-2e3f40516299"
            let selfRef = f.root + "/self.csv"
            try "id,name,account,stage\n\(own),Loop,\(own),discovery\n".write(toFile: selfRef, atomically: true, encoding: .utf8)
            let loop = await oppsHub("import", selfRef, "--type", "opportunity", "--data", hub)
            #expect(loop.code == 1)
            #expect(loop.stderr.contains("row 2, column account: \(own) is a row of this file (opportunity), not account"), "\(loop.stderr)")
            #expect(await oppsHub("import", f.root + "/missing.csv", "--type", "account", "--data", hub).code == 1)
            // A spreadsheet's headers as people write them: capitals, spaces for underscores.
            let excel = f.root + "/excel.csv"
            try "Name,Industry,Territory\nOracle,software,north\n".write(toFile: excel, atomically: true, encoding: .utf8)
            #expect(await oppsHub("import", excel, "--type", "Account", "--data", hub).stdout == "imported 1 account record\n")
            let dealsSheet = f.root + "/excel-deals.csv"
            try "Name,Account,Stage,Owner,Close Date\nOracle pilot,\(alpha),discovery,sam,2026-12-31\n".write(toFile: dealsSheet, atomically: true, encoding: .utf8)
            #expect(await oppsHub("import", dealsSheet, "--type", "Opportunity", "--data", hub).code == 0)
        }
    }

    /// A Chinese operator's spreadsheet: the type, the columns, the members and the stage by
    /// their labels, the report in Chinese; what arrives is stored by name.
    @Test func aChineseSpreadsheetImportsByLabels() async throws {
        let f = try CommandFixture()
        let hub = f.root + "/hub"
        var rng = SeededGenerator(seed: 31)
        let huawei = UUID128.version7(milliseconds: 1_795_000_000_000, using: &rng)
        let accounts = f.root + "/客户.csv"
        try "id,名称,行业,区域\n\(huawei),华为,电信,华南\n".write(toFile: accounts, atomically: true, encoding: .utf8)
        let deals = f.root + "/商机.csv"
        try """
        名称,客户,阶段,负责人,金额,币种,赢率,折扣
        华为 云迁移,\(huawei),谈判,sam,120000.00,人民币,40%,12.5%
        华为 培训,\(huawei),需求挖掘,bob,12万,美元,,
        华为 扩容,\(huawei),梦想,sam,1.00,卢布,,

        """.write(toFile: deals, atomically: true, encoding: .utf8)
        try await f.serving { url in
            // Checked first: the same file then imports, so the check wrote nothing.
            #expect(await chinese("import", accounts, "--type", "客户", "--check", "--data", hub).stdout == "已检查 1 行「客户」：有效 1 行，无效 0 行；没有导入（--check）\n")
            let imported = await chinese("import", accounts, "--type", "客户", "--data", hub)
            #expect(imported.code == 0 && imported.stdout == "已导入 1 条「客户」记录\n", "\(imported.stderr)")
            let refused = await chinese("import", deals, "--type", "商机", "--data", hub)
            expectRefused(
                refused,
                [
                    "\(deals)：第 3 行，「负责人」列：没有用户「bob」",
                    "\(deals)：第 3 行，「金额」列：「12万」不是小数（写成 12000.00 这样，小数点后最多 2 位）",
                    "\(deals)：第 4 行，「阶段」列：「梦想」不是可选的值（可选：lead、qualified、discovery、solution、proposal、negotiation、won、lost）",
                    "\(deals)：第 4 行，「币种」列：「卢布」不是可选的值（可选：CNY、USD、EUR、JPY、HKD、GBP）",
                    "opps-hub：什么都没有导入：2 行无效（加 --skip-invalid 导入其余的行）",
                ])
            // The same report in English names the columns as the file does.
            let english = await oppsHub("import", deals, "--type", "opportunity", "--data", hub)
            #expect(english.stderr.contains("row 3, column 负责人: no user \"bob\""), "\(english.stderr)")
            let partial = await chinese("import", deals, "--type", "商机", "--skip-invalid", "--data", hub)
            #expect(partial.stdout == "已导入 1 条「商机」记录；跳过 2 行无效的\n", "\(partial.stdout)\(partial.stderr)")
            // Stored by name: the stage and the currency as a replica reads them.
            #expect(await opps("init", "--hub", url, "--token", f.tokens["sam"]!, "--home", f.home("sam")).code == 0)
            let held = await opps("list", "--home", f.home("sam"), "--json").json?.array ?? []
            #expect(held.count == 1 && held.first?["fields"]?["stage"]?.string == "negotiation", "\(held)")
            #expect(held.first?["fields"]?["currency"]?.string == "CNY" && held.first?["fields"]?["name"]?.string == "华为 云迁移")
            // Percentages as a spreadsheet writes them (workspace-format.md `unit`), stored as numbers.
            #expect(held.first?["fields"]?["probability"]?.int == 40 && held.first?["fields"]?["discount"]?.string == "12.50", "\(held)")
            // A column named twice (by its name and its label), an unknown type: one line each.
            let twice = f.root + "/twice.csv"
            try "名称,name\n甲,乙\n".write(toFile: twice, atomically: true, encoding: .utf8)
            #expect(await chinese("import", twice, "--type", "客户", "--data", hub).stderr.hasPrefix("\(twice)：第 1 行，「name」列：这一列出现了两次\n"))
            // A reference by the account's name or the short id a rep quotes: the one live record
            // that has it; a name two accounts share, or none has, is refused with what to write.
            let zte = f.root + "/zte.csv"
            try "名称,行业\n中兴,通信\n中兴,通讯\n".write(toFile: zte, atomically: true, encoding: .utf8)
            #expect(await chinese("import", zte, "--type", "客户", "--data", hub).code == 0)
            let zteIDs = Set(await oppsHub("duplicates", "--type", "客户", "--data", hub, "--json").json?.array?.first?.array?.compactMap { $0["id"]?.string } ?? [])
            #expect(zteIDs.count == 2, "\(zteIDs)")
            let short = String(ShortID.code(huawei).prefix(ShortID.length))
            let byName = f.root + "/by-name.csv"
            try """
            名称,客户,阶段,负责人
            华为 二期,华为,方案,sam
            华为 三期,\(short.uppercased()),方案,sam
            中兴 试点,中兴,方案,sam
            阿里 试点,阿里,方案,sam

            """.write(toFile: byName, atomically: true, encoding: .utf8)
            let ambiguous = await chinese("import", byName, "--type", "商机", "--data", hub)
            let lines = ambiguous.stderr.split(separator: "\n").map(String.init)
            #expect(lines.count == 3 && lines[0].hasPrefix("\(byName)：第 4 行，「客户」列：有 2 条「客户」记录叫「中兴」：请写其中一条的 id 或短 id（"), "\(ambiguous.stderr)")
            #expect(lines[1] == "\(byName)：第 5 行，「客户」列：没有 id、短 id 或名称是「阿里」的「客户」记录", "\(ambiguous.stderr)")
            #expect(await oppsHub("import", byName, "--type", "opportunity", "--data", hub).stderr.contains("row 4, column 客户: 2 account records are named \"中兴\""))
            #expect(await chinese("import", byName, "--type", "商机", "--skip-invalid", "--data", hub).stdout == "已导入 2 条「商机」记录；跳过 2 行无效的\n")
            #expect(await opps("sync", "--home", f.home("sam")).code == 0)
            let second = await opps("list", "--home", f.home("sam"), "--json").json?.array?.filter { $0["fields"]?["name"]?.string?.hasPrefix("华为 ") == true } ?? []
            #expect(second.count == 3 && second.allSatisfy { $0["fields"]?["account"]?.string == huawei.description }, "\(second)")
            let unknown = await chinese("import", accounts, "--type", "合同", "--data", hub)
            #expect(unknown.code == 1 && unknown.stderr.hasPrefix("opps-hub：没有记录类型「合同」（类型有：商机（opportunity）、客户（account）、联系人（contact）"), "\(unknown.stderr)")
        }
    }

    /// A deal no user would see (no owner, made by the hub, a stage no role sees as such) is out
    /// of everyone's reach: refused at its row, with how to give it someone, in both languages.
    @Test func aDealNobodyWouldSeeIsRefused() async throws {
        let f = try CommandFixture(extra: [HubUser(name: "sue", role: "success")])
        let hub = f.root + "/hub"
        let deals = f.root + "/deals.csv"
        try """
        name,stage,owner
        Orphan,discovery,
        Sam's,discovery,sam
        Won orphan,won,
        Mia's lead,lead,mia

        """.write(toFile: deals, atomically: true, encoding: .utf8)
        let noOwnerColumn = f.root + "/no-owner.csv"
        try "名称,阶段\n孤儿,方案\n".write(toFile: noOwnerColumn, atomically: true, encoding: .utf8)
        try await f.serving { url in
            let refused = await oppsHub("import", deals, "--type", "opportunity", "--data", hub)
            expectRefused(
                refused,
                [
                    "\(deals): row 2, column owner: no user would see this opportunity: give it an owner who sees it (column owner), or import it --as a user who should",
                    "opps-hub: nothing imported: 1 invalid row (--skip-invalid imports the others)",
                ])
            let zh = await chinese("import", noOwnerColumn, "--type", "商机", "--data", hub)
            #expect(
                zh.code == 1 && zh.stderr.hasPrefix("\(noOwnerColumn)：第 2 行：没有用户能看到这条「商机」：请填写能看到它的「负责人」，或用 --as 以应该看到它的用户身份导入\n"),
                "\(zh.stderr)")
            // Imported as the manager, the same file reaches them (they made the deals).
            #expect(await oppsHub("import", deals, "--type", "opportunity", "--as", "max", "--data", hub).code == 0)
            #expect(await opps("init", "--hub", url, "--token", f.tokens["max"]!, "--home", f.home("max")).code == 0)
            let held = await opps("list", "--home", f.home("max"), "--json").json?.array?.compactMap { $0["fields"]?["name"]?.string } ?? []
            #expect(Set(held) == ["Orphan", "Sam's", "Won orphan", "Mia's lead"], "\(held)")
        }
    }

    /// --skip-invalid leaves out a row that names (by its id) an invalid row of the same file,
    /// and a row naming that one: imported, they would name records that never exist.
    @Test func aRowNamingAnInvalidRowOfItsFileIsLeftOutWithIt() async throws {
        let f = try CommandFixture()
        let hub = f.root + "/hub"
        // A workspace whose accounts may name a parent account.
        let version = Workspace.default.version
        let anchor = #"{"name": "territory", "number": 4,"#
        let document = Workspace.defaultDocument.replacingOccurrences(of: "\"version\": \(version),", with: "\"version\": \(version + 1),")
            .replacingOccurrences(
                of: anchor, with: #"{"name": "parent", "number": 5, "type": "reference", "entity": "account", "group": "account"},"# + "\n        " + anchor)
        let file = f.root + "/ws.json"
        try document.write(toFile: file, atomically: true, encoding: .utf8)
        #expect(await oppsHub("workspace", "apply", file, "--data", hub).code == 0)
        var rng = SeededGenerator(seed: 12)
        let ids = (0..<5).map { UUID128.version7(milliseconds: 1_795_000_000_000 + Int64($0), using: &rng) }
        let tooLong = String(repeating: "x", count: 101)
        let accounts = f.root + "/accounts.csv"
        // Row 3 is invalid (its territory); row 4 names it, row 5 names row 4; row 6 names row 2.
        try """
        id,name,territory,parent
        \(ids[0]),Alpha Group,north,
        \(ids[1]),Beta,\(tooLong),\(ids[0])
        \(ids[2]),Beta Shanghai,east,\(ids[1])
        \(ids[3]),Beta Pudong,east,\(ids[2])
        \(ids[4]),Alpha Beijing,north,\(ids[0])

        """.write(toFile: accounts, atomically: true, encoding: .utf8)
        let checked = await oppsHub("import", accounts, "--type", "account", "--check", "--data", hub)
        let lines = checked.stderr.split(separator: "\n").map(String.init)
        #expect(checked.code == 1)
        #expect(lines.contains { $0.contains("row 3, column territory") }, "\(checked.stderr)")
        #expect(lines.contains("\(accounts): row 4, column parent: \(ids[1]) is the id of row 3, which is invalid"), "\(checked.stderr)")
        #expect(lines.contains("\(accounts): row 5, column parent: \(ids[2]) is the id of row 4, which is invalid"), "\(checked.stderr)")
        #expect(!lines.contains { $0.contains("row 2,") || $0.contains("row 6,") }, "\(checked.stderr)")
        // In the file's order.
        let rowsNamed = lines.compactMap { $0.firstMatch(of: /row (\d+),/).map { Int($0.1)! } }
        #expect(rowsNamed == rowsNamed.sorted() && rowsNamed.count == 3, "\(checked.stderr)")
        let skipped = await oppsHub("import", accounts, "--type", "account", "--skip-invalid", "--data", hub)
        #expect(skipped.code == 0 && skipped.stdout.contains("imported 2 account records; skipped 3 invalid rows"), "\(skipped.stdout)\(skipped.stderr)")
        // The two imported; the three left out are not on the hub.
        for (i, id) in ids.enumerated() {
            let audited = await oppsHub("audit", id.description, "--data", hub, "--json")
            let created = audited.json?.array?.contains { $0["kind"]?.string == "write" } ?? false
            #expect(created == [0, 4].contains(i), "row \(i + 2): \(audited.stdout)\(audited.stderr)")
        }
    }
}
