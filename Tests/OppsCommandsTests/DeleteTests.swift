import Foundation
import OppsCommands
import OppsCore
import OppsReplica
import Testing

/// `opps delete` end to end (merge-semantics.md §7.2): the manager's delete reaches the rep who
/// held the deal as a deletion — no repair, gone from the list, `show` and `history` say who
/// deleted it — and a rep may not delete.
@Suite struct DeleteTests {
    @Test func aDeletedDealLeavesEveryListAndSaysWhoDeletedIt() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            for u in ["sam", "max"] { #expect(await f.initReplica(u, url).code == 0) }
            let made = await opps(
                "new", "华东 试点项目", "--account", "上海云帆", "--amount", "5000.00", "--currency", "CNY", "--close", "2027-03-31",
                "--home", f.home("sam"), "--json")
            let id = try #require(made.json?["id"]?.string)
            #expect(await opps("sync", "--home", f.home("sam")).code == 0)
            #expect(await opps("sync", "--home", f.home("max")).code == 0)

            // A rep may not delete: one line, exit 3, nothing queued; then what a rep does instead.
            let refused = await opps("delete", id, "--home", f.home("sam"))
            #expect(refused.code == 3, "\(refused.stdout) \(refused.stderr)")
            let lines = refused.stderr.split(separator: "\n")
            #expect(lines.count == 2 && lines[0].contains("delete"), "\(refused.stderr)")
            #expect(lines.last == "a deal that went nowhere is closed as lost: opps stage \(id) lost --reason WHY (a manager deletes one made by mistake)")

            let deleted = await opps("delete", id, "--home", f.home("max"))
            #expect(deleted.code == 0, "\(deleted.stderr)")
            #expect(deleted.stdout.contains("deleted"))
            #expect(!(await opps("list", "--home", f.home("max"))).stdout.contains("华东 试点项目"))
            let maxSync = await opps("sync", "--home", f.home("max"), "--json")
            #expect(maxSync.code == 0)
            #expect(maxSync.json?["repaired"] == .bool(false), "\(maxSync.stdout)")
            #expect(await opps("show", id, "--home", f.home("max")).stdout.contains("deleted by max"))

            let samSync = await opps("sync", "--home", f.home("sam"), "--json")
            #expect(samSync.code == 0)
            #expect(samSync.json?["repaired"] == .bool(false), "a deletion is applied, not repaired: \(samSync.stdout)")
            #expect(!(await opps("list", "--home", f.home("sam"))).stdout.contains("华东 试点项目"))
            let shown = await opps("show", id, "--home", f.home("sam"))
            #expect(shown.stdout.contains("deleted by max"), "\(shown.stdout)")
            let trail = await opps("history", id, "--home", f.home("sam"), "--json")
            #expect(trail.json?.array?.contains { $0["rule"]?.string == "delete" && $0["author"]?.string == "max" } == true, "\(trail.stdout)")

            // Deleting it again is refused with the rule that says why.
            let twice = await opps("delete", id, "--home", f.home("max"))
            #expect(twice.code == 3, "\(twice.code) \(twice.stdout) \(twice.stderr)")
            #expect(twice.stderr.contains("already deleted"), "\(twice.stderr)")
        }
    }

    /// A manager offline logs a call on a deal, then deletes the deal; one sync sends both. The
    /// call is made (its deal was live when the hub decided it), then hangs off a deleted deal
    /// that nobody sees: the hub never sends it back, and it used to stay on the laptop, never
    /// confirmed, a call on nothing (found by the simulator). At the pull's end it goes
    /// (sync-protocol.md §6.3); the deal's tombstone stays.
    @Test func whatALaptopMadeOnADealItThenDeletedDoesNotStayBehind() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            for u in ["sam", "max"] { #expect(await f.initReplica(u, url).code == 0) }
            let made = await opps("new", "云帆 扩容", "--account", "上海云帆", "--home", f.home("sam"), "--json")
            let id = try #require(made.json?["id"]?.string)
            #expect(await opps("sync", "--home", f.home("sam")).code == 0)
            #expect(await opps("sync", "--home", f.home("max")).code == 0)
            let logged = await opps("log", id, "call", "谈了预算", "--home", f.home("max"))
            #expect(logged.code == 0, "\(logged.stderr)")
            #expect(await opps("delete", id, "--home", f.home("max")).code == 0)
            let synced = await opps("sync", "--json", "--home", f.home("max"))
            #expect(synced.code == 0 && synced.json?["conflicts"]?.int == 0, "\(synced.stdout)\(synced.stderr)")
            let replica = try Replica(home: f.home("max"), clock: FixedClock(milliseconds: 1_795_000_000_000))
            let unconfirmed = try replica.store.allIDs().filter { try replica.store.confirmed($0, workspace: replica.workspace) == nil }
            #expect(unconfirmed.isEmpty, "shown on the laptop, never confirmed by the hub: \(unconfirmed)")
            #expect(await opps("show", id, "--home", f.home("max")).stdout.contains("deleted by max"))
        }
    }
}
