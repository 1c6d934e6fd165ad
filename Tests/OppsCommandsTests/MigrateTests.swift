import Foundation
import OppsCore
import OppsHub
import OppsTestSupport
import Testing

/// `opps-hub migrate`: a hub moved from SQLite to PostgreSQL answers its replicas as before —
/// their cursors, tokens, conflicts and unsynced work stay valid, and nothing is re-sent.
@Suite(.serialized, .enabled(if: ScratchPostgres.url != nil, "needs OPPS_TEST_PG (Tools/pg/cluster.sh)"))
struct MigrateTests {
    @Test func replicasDoNotNoticeTheHubMovedToPostgreSQL() async throws {
        let f = try CommandFixture()
        let sam = f.home("sam"), max = f.home("max")
        let before = Before()
        try await f.serving { url in
            #expect(await f.initReplica("sam", url).code == 0)
            #expect(await f.initReplica("max", url).code == 0)
            _ = try await f.conflictsOnADeal()
            before.deal = try #require(
                await opps("new", "云帆物流 续约", "--account", "云帆物流", "--amount", "50000.00", "--currency", "CNY", "--home", sam, "--json").json?["id"]?.string)
            #expect(await opps("sync", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            before.conflicts = await opps("conflicts", "--home", sam, "--json").json?.array ?? []
        }
        let deal = before.deal, conflictsBefore = before.conflicts
        // Unsynced work on sam's laptop while the hub moves.
        #expect(await opps("set", deal, "next_step=报价", "--home", sam).code == 0)

        let url = try ScratchPostgres.fresh()
        let moved = await oppsHub("migrate", "--from", f.root + "/hub", "--to", url, "--json")
        #expect(moved.code == 0, "\(moved.stderr)")
        #expect((moved.json?["tables"]?.array ?? []).contains { $0["table"]?.string == "log" && ($0["rows"]?.int ?? 0) > 0 })
        // Nothing is moved twice.
        let again = await oppsHub("migrate", "--from", f.root + "/hub", "--to", url)
        #expect(again.code == 1 && again.stderr.contains("already holds a hub"), "\(again.stderr)")

        var configuration = HubConfiguration(dataDirectory: "", port: 0)
        configuration.storeURL = url
        configuration.verifySnapshots = true
        let pg = try Hub(configuration: configuration)
        try await f.serving(hub: pg) { url in
            for home in [sam, max] { #expect(await opps("connect", "--hub", url, "--home", home).code == 0) }
            let synced = try #require(await opps("sync", "--home", sam, "--json").json)
            #expect(synced["repaired"]?.bool == false, "no repair: the cursor is valid on the new hub")
            #expect(synced["applied"]?.int == 1, "the unsynced edit went through")
            #expect(synced["pulled"]?.int == 1, "only its own edit comes back, confirmed: nothing re-sent")
            let other = try #require(await opps("sync", "--home", max, "--json").json)
            #expect(other["repaired"]?.bool == false)
            #expect(other["pulled"]?.int == 1, "only the edit made since")
            #expect(await opps("show", deal, "--home", max).stdout.contains("报价"))
            #expect((await opps("conflicts", "--home", sam, "--json").json?.array ?? []) == conflictsBefore)
        }
        // The operator commands work on the new store.
        let users = await oppsHub("user", "list", "--store", url)
        #expect(users.code == 0 && users.stdout.contains("sam"))
    }
}

/// What a test reads while its hub serves and checks after.
final class Before: @unchecked Sendable {
    var deal = ""
    var conflicts: [JSON] = []
}
