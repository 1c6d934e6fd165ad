import Foundation
import OppsCore
import OppsHub
import OppsReplica
import OppsStore
import Testing

@Suite struct BackupTests {
    /// A backup taken while a rep keeps syncing edits, restored later: a replica that saw
    /// changes the backup lacks reconciles at its next sync — keeping its pending write and
    /// re-downloading only the records that changed after the backup.
    @Test func aReplicaAheadOfARestoredHubReconcilesWithoutLosingPendingWork() async throws {
        let f = try CommandFixture()
        try seedDeals(f, count: 200)
        let hubDir = f.root + "/hub"
        let backup = f.root + "/backup.sqlite"
        let ids = Box()
        try await f.serving { url in
            for u in ["sam", "max"] { #expect(await opps("init", "--hub", url, "--token", f.tokens[u]!, "--home", f.home(u)).code == 0) }
            let deal = try #require(await opps("list", "--home", f.home("sam"), "--json").json?.array?.first?["id"]?.string)
            ids.deal = deal
            // A later sync acknowledges the first one's pages (the hub then knows what max holds).
            #expect(await opps("sync", "--home", f.home("max")).code == 0)
            // Backup under write load: sam keeps editing and syncing while the backup runs.
            async let load: Void = {
                for i in 0..<15 {
                    _ = await opps("set", deal, "probability=\(i)", "--home", f.home("sam"))
                    _ = await opps("sync", "--home", f.home("sam"))
                }
            }()
            let b = await oppsHub("backup", "--to", backup, "--data", hubDir)
            #expect(b.code == 0, "\(b.stderr)")
            await load
            #expect(try SQLiteHubStore(path: backup).database.isIntact())
            // After the backup: a new deal and a changed amount, seen by max.
            let fresh = try #require(await opps("new", "After backup", "--account", "Later Co", "--home", f.home("sam"), "--json").json?["id"]?.string)
            ids.fresh = fresh
            ids.amountAtBackup = await opps("show", deal, "--home", f.home("sam"), "--json").json?["fields"]?["amount"]?.string ?? ""
            #expect(await opps("set", deal, "amount=777.00", "--home", f.home("sam")).code == 0)
            #expect(await opps("sync", "--home", f.home("sam")).code == 0)
            #expect(await opps("sync", "--home", f.home("max")).code == 0)
            #expect(await opps("show", fresh, "--home", f.home("max")).code == 0)
            // max works offline.
            #expect(await opps("set", deal, "discount=5.00", "--home", f.home("max")).code == 0)
        }
        // The hub is stopped and restored from the backup.
        let r = await oppsHub("restore", "--from", backup, "--data", hubDir)
        #expect(r.code == 0, "\(r.stderr)")
        let restored = try Hub(configuration: HubConfiguration(dataDirectory: hubDir, port: 0))
        try await f.serving(hub: restored) { url in
            let deal = ids.deal
            // The restarted hub listens on another free port in this test; point the replicas at it.
            for u in ["sam", "max"] { try ReplicaStore(path: f.home(u) + "/replica.sqlite").setMeta("hub_url", url) }
            let s = await opps("sync", "--home", f.home("max"), "--json")
            #expect(s.code == 0, "\(s.stdout) \(s.stderr)")
            #expect(s.json?["repaired"]?.bool == true)
            #expect(s.json?["applied"]?.int == 1)  // the pending discount landed
            #expect((s.json?["pulled"]?.int ?? 999) < 20)  // not the 200+ unchanged records
            #expect(await opps("show", ids.fresh, "--home", f.home("max")).code == 1)  // the restored hub never had it
            let fields = await opps("show", deal, "--home", f.home("max"), "--json").json?["fields"]
            #expect(fields?["discount"]?.string == "5.00")
            // The restored hub never saw 777.00: max is back to the amount the backup holds.
            #expect(!ids.amountAtBackup.isEmpty)
            #expect(fields?["amount"]?.string == ids.amountAtBackup)
            // sam's replica is ahead too (batches and cursor): it realigns and syncs.
            #expect(await opps("set", deal, "next_step=call again", "--home", f.home("sam")).code == 0)
            let ss = await opps("sync", "--home", f.home("sam"), "--json")
            #expect(ss.code == 0, "\(ss.stdout) \(ss.stderr)")
            #expect(ss.json?["applied"]?.int == 1)
            #expect(await opps("sync", "--home", f.home("max")).code == 0)
            #expect(await opps("show", deal, "--home", f.home("max"), "--json").json?["fields"]?["next_step"]?.string == "call again")
        }
    }

}

final class Box: @unchecked Sendable {
    var deal = ""
    var fresh = ""
    var amountAtBackup = ""
}
