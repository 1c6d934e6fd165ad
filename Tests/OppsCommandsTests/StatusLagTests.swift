import Foundation
import OppsCommands
import OppsCore
import Testing

/// Issue 15 item 8: `opps-hub status` showed "lag 270089" for a marketer who sees one lead. Lag
/// is what that replica has yet to receive: changes since its cursor to records its user sees.
@Suite struct StatusLagTests {
    @Test func lagCountsOnlyWhatTheReplicaWillReceive() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            for u in ["sam", "mia", "max"] { #expect(await f.initReplica(u, url).code == 0) }
            #expect(await opps("lead", "add", "Beta pilot", "--company", "Beta", "--contact", "Li Wei", "--source", "event", "--home", f.home("mia")).code == 0)
            #expect(await opps("sync", "--home", f.home("mia")).code == 0)
            var deal = ""
            for i in 0..<10 {
                let made = await opps("new", "Deal \(i)", "--account", "ACME", "--amount", "100.00", "--currency", "CNY", "--home", f.home("sam"), "--json")
                deal = made.json?["id"]?.string ?? deal
            }
            #expect(await opps("sync", "--home", f.home("sam")).code == 0)
            #expect(await opps("sync", "--home", f.home("max")).code == 0)
            // The manager changes one of sam's deals twice; sam has not pulled since.
            #expect(await opps("set", deal, "amount=200.00", "--home", f.home("max")).code == 0)
            #expect(await opps("set", deal, "next_step=call back", "--home", f.home("max")).code == 0)
            #expect(await opps("sync", "--home", f.home("max")).code == 0)
            // sam's second laptop syncs after those changes: the same user, another cursor.
            let second = f.root + "/sam-laptop-2"
            #expect(await opps("init", "--hub", url, "--token", f.tokens["sam"]!, "--home", second).code == 0)
            #expect(await opps("sync", "--home", second).code == 0)
            let status = await oppsHub("status", "--data", f.root + "/hub", "--json")
            #expect(status.code == 0, "\(status.stderr)")
            let replicas = status.json?["replicas"]?.array ?? []
            func lags(_ user: String) -> [Int] { replicas.filter { $0["user"]?.string == user }.compactMap { $0["lag"]?.int }.sorted() }
            #expect(lags("mia") == [0], "mia sees one lead nobody changed: \(replicas)")
            #expect(lags("max") == [0])
            #expect(lags("sam") == [0, 2], "two changes to sam's deal wait for his first laptop, none for the second: \(replicas)")
            #expect((status.json?["head"]?.int ?? 0) > 40)

            // "Is sam's laptop syncing?": his two replicas alone, with the same lags; the rest of
            // the report is the hub's. A user with no replica, and a name nobody has, are said so.
            let hub = f.root + "/hub"
            let sams = await oppsHub("status", "--data", hub, "--user", "sam", "--json")
            let only = sams.json?["replicas"]?.array ?? []
            #expect(sams.code == 0 && only.allSatisfy { $0["user"]?.string == "sam" } && only.compactMap { $0["lag"]?.int }.sorted() == [0, 2], "\(sams.stdout)")
            #expect(sams.json?["head"] == status.json?["head"] && sams.json?["records"] == status.json?["records"])
            let table = await oppsHub(["status", "--data", hub, "--user", "sam"], environment: ["LANG": "C"])
            let rows = table.stdout.split(separator: "\n").filter { $0.hasPrefix("  sam ") }
            #expect(table.code == 0 && rows.count == 2 && !table.stdout.contains("  mia ") && !table.stdout.contains("  max "), "\(table.stdout)")
            #expect(table.stdout.split(separator: "\n").allSatisfy { $0.count <= 80 }, "\(table.stdout)")
            #expect(await oppsHub("user", "add", "ann", "--role", "sales", "--data", hub).code == 0)
            let none = await oppsHub(["status", "--data", hub, "--user", "ann"], environment: ["LANG": "C"])
            #expect(none.code == 0 && none.stdout.hasSuffix("ann has no replica that has synced yet\n"), "\(none.stdout)")
            let nobody = await oppsHub(["status", "--data", hub, "--user", "bob"], environment: ["LANG": "C"])
            #expect(nobody.code != 0 && nobody.stderr.contains("no user is named bob: opps-hub user list --data \(hub) shows them"), "\(nobody.stderr)")
            let zh = await oppsHub(["status", "--data", hub, "--user", "bob"], environment: ["LANG": "zh_CN.UTF-8"])
            #expect(zh.stderr.contains("没有名为 bob 的用户"), "\(zh.stderr)")
        }
    }
}
