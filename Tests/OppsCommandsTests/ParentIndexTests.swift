import Foundation
import OppsCore
import OppsStore
import Testing

/// An edit finds a deal's open requests and team through the `parent` index (replica-3), not by
/// reading every request; a replica made before the index is filled in when it is opened.
@Suite struct ParentIndexTests {
    @Test func aReplicaFromBeforeTheIndexStillSeesItsLocks() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            #expect(await f.initReplica("sam", url).code == 0)
            let home = f.home("sam")
            let made = await opps("new", "Lock test", "--account", "Beta", "--amount", "100.00", "--currency", "CNY", "--home", home)
            let id = String(made.stdout.prefix(ShortID.length))
            let asked = await opps("set", id, "discount=15.00", "--home", home)
            #expect(asked.stdout.contains("requested approval"), "\(asked.stdout)")
            // The request locks the commercials at once, on this laptop.
            #expect(await opps("set", id, "amount=90.00", "--home", home).code == 3)
            // As an older replica would have it: no parent on any row, the index never filled.
            let db = try Database(path: home + "/replica.sqlite")
            try db.execute("UPDATE records SET parent = NULL")
            try db.execute("DELETE FROM meta WHERE key = 'parents_indexed'")
            let locked = await opps("set", id, "amount=90.00", "--home", home)
            #expect(locked.code == 3, "the lock holds after the index is rebuilt on open: \(locked.stdout) \(locked.stderr)")
            let rows = try db.query("SELECT COUNT(*) FROM records WHERE parent IS NOT NULL")
            #expect(rows.first?.first?.int ?? 0 >= 1)
        }
    }
}
