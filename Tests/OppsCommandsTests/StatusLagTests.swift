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
        }
    }
}
