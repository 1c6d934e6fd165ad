import Foundation
import Hummingbird
import HummingbirdTesting
import OppsCSV
import OppsCore
import OppsStore
import OppsTestSupport
import OppsWire
import Testing

@testable import OppsHub

@Suite struct OperatingTests {
    static let day: Int64 = 86_400_000

    func edits(_ c: WireClient, _ r: inout TestReplica, _ n: Int, rng: inout SeededGenerator) async throws {
        var writes = [FieldWrite]()
        for _ in 0..<n {
            let d = r.create(using: &rng)
            writes += [d, r.write(d.record, "name", .text("deal \(rng.next() % 1000)"))]
        }
        _ = try await r.push(c, writes)
    }

    @Test func compactionKeepsA29DayOfflineReplicaInSyncAndResyncsOlderOnes() async throws {
        let clock = TestClock(1_795_000_000_000)
        let f = try HubFixture { $0.clock = clock }
        try await f.application().test(.router) { client in
            let engine = try HubEngine(store: SQLiteHubStore(path: f.configuration.databasePath), configuration: f.configuration)
            let c = WireClient(client: client)
            var rng = SeededGenerator(seed: 21)
            var sam = TestReplica(user: "sam", token: f.tokens["sam"]!, seed: 1)  // goes offline for 29 days
            var old = TestReplica(user: "sam", token: f.tokens["sam"]!, seed: 2)  // a laptop left in a drawer
            var max = TestReplica(user: "max", token: f.tokens["max"]!, seed: 3)
            for r in [sam, old, max] { _ = try await r.handshake(c) }
            try await edits(c, &sam, 10, rng: &rng)
            for _ in 0..<2 { try await sam.pull(c); try await old.pull(c); try await max.pull(c) }  // the second pull acknowledges the first
            clock.advance(days: 1)
            try await edits(c, &max, 10, rng: &rng)
            for _ in 0..<2 { try await max.pull(c) }
            // 29 days later: compaction keeps what sam has not acknowledged.
            clock.advance(days: 28)
            let status = try engine.status(retention: 30 * Self.day)
            #expect(status.compactableEntries > 0)
            #expect(status.replicas.count == 3)
            let r1 = try engine.compact(retention: 30 * Self.day)
            #expect(r1.entries == status.compactableEntries)
            try await sam.pull(c)  // incremental, no error
            #expect(sam.state.opportunityIDs.count == 10)
            #expect(sam.checkpoints.last?.checksum == sam.checksum.value)
            // Much later: the drawer laptop is beyond retention; its cursor has been compacted away.
            clock.advance(days: 33)
            try await edits(c, &max, 5, rng: &rng)
            for _ in 0..<2 { try await max.pull(c); try await sam.pull(c) }
            let r2 = try engine.compact(retention: 30 * Self.day)
            #expect(r2.watermark > old.cursor)
            await expectFailure(410, .cursorExpired) { try await old.pull(c) }
            // A full re-sync from nothing brings it back to the same state.
            var again = old
            again.state = RecordSet()
            again.cursor = 0  // a restart from nothing echoes the last token received (sync-protocol.md §6.1)
            try await again.pull(c)
            #expect(again.state == sam.state)
            #expect(again.checkpoints.last?.checksum == again.checksum.value)
        }
    }

    /// A compaction prunes the log a slice per transaction, after marking where replicas must
    /// re-sync: between two slices another connection (a serving hub) commits without waiting —
    /// one transaction over a million entries held its writes for seconds — and the result is
    /// the one-transaction compaction's: the same entries gone, replicas in sync.
    @Test func compactionPrunesInSlicesThatAServingHubCommitsBetween() async throws {
        let clock = TestClock(1_795_000_000_000)
        let f = try HubFixture { $0.clock = clock }
        try await f.application().test(.router) { client in
            let engine = try HubEngine(store: SQLiteHubStore(path: f.configuration.databasePath), configuration: f.configuration)
            let c = WireClient(client: client)
            var rng = SeededGenerator(seed: 23)
            var sam = TestReplica(user: "sam", token: f.tokens["sam"]!, seed: 1)
            _ = try await sam.handshake(c)
            try await edits(c, &sam, 20, rng: &rng)
            for _ in 0..<2 { try await sam.pull(c) }
            clock.advance(days: 1)
            let compactable = try engine.status(retention: 30 * Self.day).compactableEntries
            #expect(compactable >= 40)
            // Another connection to the file that will not wait for a lock.
            let other = try Database(path: f.configuration.databasePath)
            try other.execute("PRAGMA busy_timeout = 0")
            var slices = 0
            var reported = [Int]()
            let r = try engine.compact(retention: 30 * Self.day, slice: 7) { done, total in
                slices += 1
                reported.append(done)
                #expect(total == compactable)
                #expect(throws: Never.self, "a slice's transaction is over: another connection commits at once") {
                    try other.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('probe', ?)", [.text("\(slices)")])
                }
            }
            #expect(r.entries == compactable && reported.last == compactable && slices >= compactable / 7, "\(slices) slices, \(reported)")
            #expect(try engine.status(retention: 30 * Self.day).compactableEntries == 0)
            // The replica goes on incrementally; a new one syncs whole.
            try await edits(c, &sam, 1, rng: &rng)
            try await sam.pull(c)
            #expect(sam.state.opportunityIDs.count == 21 && sam.checkpoints.last?.checksum == sam.checksum.value)
            var fresh = TestReplica(user: "sam", token: f.tokens["sam"]!, seed: 9)
            _ = try await fresh.handshake(c)
            try await fresh.pull(c)
            #expect(fresh.state == sam.state)
        }
    }

    @Test func auditAndRestoreKeepEveryValueOnTheRecord() async throws {
        let f = try HubFixture()
        try await f.application().test(.router) { client in
            let engine = try HubEngine(store: SQLiteHubStore(path: f.configuration.databasePath), configuration: f.configuration)
            let c = WireClient(client: client)
            var rng = SeededGenerator(seed: 22)
            var sam = TestReplica(user: "sam", token: f.tokens["sam"]!, seed: 1)
            var max = TestReplica(user: "max", token: f.tokens["max"]!, seed: 2)
            for r in [sam, max] { _ = try await r.handshake(c) }
            let deal = sam.create(using: &rng)
            _ = try await sam.push(c, [deal, sam.write(deal.record, "amount", .decimal(ExactDecimal(units: 100, scale: 2)))])
            try await sam.pull(c)
            try await max.pull(c)
            let mine = sam.write(deal.record, "amount", .decimal(ExactDecimal(units: 900, scale: 2)))
            _ = try await max.push(c, [max.write(deal.record, "amount", .decimal(ExactDecimal(units: 500, scale: 2)))])
            let lost = try await sam.push(c, [mine])
            let conflictID = lost.results[0].conflict
            #expect(conflictID > 0)
            // The manager decides for sam's value after all.
            let (sequence, displaced) = try engine.restore(conflict: conflictID, by: "max")
            #expect(displaced > 0)
            #expect(throws: HubError.self) { try engine.restore(conflict: conflictID, by: "sam") }  // not an override role
            try await sam.pull(c)
            #expect(sam.state[deal.record]?["amount"] == .decimal(ExactDecimal(units: 900, scale: 2)))
            #expect(sam.state[deal.record]?.fields["amount"]?.sequence == sequence)
            let (entries, conflicts) = try engine.audit(record: deal.record)
            #expect(entries.filter { $0.entry.field == "amount" }.map(\.entry.author) == ["sam", "max", "max"])
            #expect(Set(conflicts.map(\.conflict.rule)) == [.authority, .restored])
            #expect(try engine.store.openConflicts(user: "sam").map(\.conflict.id).contains(conflictID) == false)
            #expect(try engine.store.adminLog(subject: deal.record.description).count == 1)
        }
    }

    /// A hub made with version 8 of the default workspace (no withdrawal) takes version 9 when
    /// the operator applies it (docs/operator.md): a field, a group and a request state added.
    @Test func version8TakesTheWithdrawalOfVersion9() throws {
        var eight = Workspace.defaultDocument.replacingOccurrences(of: "\"version\": \(Workspace.default.version),", with: "\"version\": 8,")
        for (piece, with) in [
            (#", "withdrawn": {"zh-CN": "已撤回"}"#, ""), (#", "withdrawn"]"#, "]"),
            (#","# + "\n" + #"        "withdrawal": {"zh-CN": "撤回"}"#, ""),
        ] {
            #expect(eight.contains(piece), "\(piece)")
            eight = eight.replacingOccurrences(of: piece, with: with)
        }
        eight = eight.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.contains(#""name": "withdrawn""#) }.joined(separator: "\n")
        eight = eight.replacingOccurrences(
            of: #""group": "request_value", "write_once": true},"# + "\n" + "      ]", with: #""group": "request_value", "write_once": true}"# + "\n" + "      ]")
        if let start = eight.range(of: #","# + "\n" + #"        "withdrawal": {"marketing""#),
            let end = eight.range(of: #""manager": "write if creator; read"}"#, range: start.upperBound..<eight.endIndex)
        {
            eight.removeSubrange(start.lowerBound..<end.upperBound)
        }
        let old = try Workspace.decode(eight)
        #expect(old.version == 8 && old.entity("approval")?.field("withdrawn") == nil)
        #expect(HubEngine.compatibility(from: old, to: .default).isEmpty, "\(HubEngine.compatibility(from: old, to: .default))")
        #expect(!HubEngine.compatibility(from: .default, to: old).isEmpty, "a field taken away is refused")
    }

    /// The fields a shape of record hides are worked out once and kept (`hiddenFields`): a
    /// workspace that takes a role's sight of a field away — applied here, or by another
    /// process and read at the next request — is what the next pull filters by.
    @Test func whatAFieldHidesFollowsANewWorkspaceAtOnce() throws {
        let f = try HubFixture()
        let engine = try HubEngine(store: f.configuration.openStore(), configuration: f.configuration)
        let other = try HubEngine(store: f.configuration.openStore(), configuration: f.configuration)
        let version = engine.workspace.version
        let marketing = Actor(user: "mia", role: "marketing")
        func hidden(_ e: HubEngine) -> Set<String> { e.hiddenFields(entity: "opportunity", stage: "lead", actor: marketing, relations: [.creator]) }
        func document(_ v: UInt64, marketingSeesCommercials: Bool) -> String {
            var text = Workspace.defaultDocument.replacingOccurrences(of: "\"version\": \(version),", with: "\"version\": \(v),")
            if !marketingSeesCommercials { text = text.replacingOccurrences(of: #""marketing": "read in lead,qualified","#, with: "") }
            return text
        }
        #expect(document(version + 1, marketingSeesCommercials: false) != document(version + 1, marketingSeesCommercials: true))
        for e in [engine, other] { #expect(!hidden(e).contains("amount"), "marketing reads a lead's amount") }
        _ = try engine.apply(workspace: document(version + 1, marketingSeesCommercials: false))
        #expect(hidden(engine).contains("amount") && hidden(engine).contains("discount"))
        // The other engine learns of it at its next request, and filters by it from then on.
        #expect(!hidden(other).contains("amount"), "not read yet")
        try other.refreshDirectory()
        #expect(hidden(other).contains("amount"))
        // And back: a later version that gives the sight back shows the field again.
        _ = try engine.apply(workspace: document(version + 2, marketingSeesCommercials: true))
        #expect(!hidden(engine).contains("amount"))
    }

    /// A workspace is checked against the version the store holds when it is applied, not the
    /// one the applying engine read when it opened: another operator (or hub) may have applied
    /// one in between.
    @Test func aWorkspaceIsCheckedAgainstTheVersionStoredWhenItIsApplied() throws {
        let f = try HubFixture()
        let first = try HubEngine(store: f.configuration.openStore(), configuration: f.configuration)
        let second = try HubEngine(store: f.configuration.openStore(), configuration: f.configuration)
        let version = first.workspace.version
        func document(_ v: UInt64, addingRegion: Bool) -> String {
            var text = Workspace.defaultDocument.replacingOccurrences(of: "\"version\": \(version),", with: "\"version\": \(v),")
            if addingRegion {
                let anchor = #"{"name": "stage_log", "number": 35,"#
                text = text.replacingOccurrences(of: anchor, with: #"{"name": "region", "number": 99, "type": "text", "group": "lead"},"# + "\n        " + anchor)
            }
            return text
        }
        // Both opened on the current version; the second applies one with a new field.
        _ = try second.apply(workspace: document(version + 1, addingRegion: true))
        #expect(try f.configuration.openStore().workspaceVersion() == version + 1)
        // The first's own next version, made from the one it read, would drop that field.
        let dropped = #expect(throws: HubError.self) { try first.apply(workspace: document(version + 2, addingRegion: false)) }
        #expect(dropped?.message.contains("field opportunity.region was removed") == true, "\(dropped?.message ?? "")")
        // The same version number as the second's: a clear refusal, not a duplicate key.
        let same = #expect(throws: HubError.self) { try first.apply(workspace: document(version + 1, addingRegion: true)) }
        #expect(same?.message.contains("version must be above \(version + 1)") == true, "\(same?.message ?? "")")
        // Nothing of either refusal was written; the next version applies.
        #expect(try f.configuration.openStore().workspaceVersion() == version + 1)
        #expect(try first.apply(workspace: document(version + 2, addingRegion: true)).version == version + 2)
    }

    /// I17 on the operator's side: a deal with no owner that its team alone sees (an expert on
    /// it) loses its last sight when that expert's role changes. The change stands, and the hub
    /// names the deal — not only deals the user owns — so the operator can undo it.
    @Test func aRoleChangeThatTakesATeamsLastSightOfADealNamesTheDeal() throws {
        let team = [
            HubUser(name: "max", role: "manager"), HubUser(name: "sam", role: "sales", territory: "north", manager: "max"),
            HubUser(name: "eve", role: "expert", manager: "max"),
        ]
        let (engine, _) = try testEngine("opps-unseen", clock: TestClock(1_795_000_000_000), users: team)
        let max = try #require(try engine.store.user(named: "max"))
        var rng = SeededGenerator(seed: 21)
        // A deal from the old CRM: made by the hub, owned by sam, so max sees it through sam.
        let id = UUID128.version7(milliseconds: 1_795_000_000_000, using: &rng)
        _ = try engine.importRecords(entity: "opportunity", rows: try CSV.parse("id,name,stage,owner\n\(id),Imported,discovery,sam\n"), author: nil, skipInvalid: false)
        // max puts eve on its team, then clears its owner: eve, on the team, still sees it.
        var replica = TestReplica(user: "max", token: "", seed: 5)
        try engineHandshake(engine, max, replica)
        let membership = replica.create("membership", stage: nil, using: &rng)
        try enginePush(
            engine, max,
            try replica.batch([
                membership, replica.write(membership.record, "opportunity", .reference(id), entity: "membership"),
                replica.write(membership.record, "user", .text("eve"), entity: "membership"),
                replica.write(membership.record, "role", .member("expert"), entity: "membership"),
                replica.write(membership.record, "state", .member("active"), entity: "membership"),
            ]))
        try enginePush(engine, max, try replica.batch([replica.write(id, "owner", .null)]))
        #expect(try engine.store.record(id, workspace: engine.workspace)?.owner == nil)
        // A change that moves no one's sight says nothing.
        #expect(try engine.updateUserSayingUnseen("eve") { $0.capacity = 3 }.leftUnseen.isEmpty)
        #expect(try engine.updateUserSayingUnseen("sam") { $0.territory = "south" }.leftUnseen.isEmpty)
        // eve made customer success: no one sees the deal now, and the hub says which.
        let (changed, unseen) = try engine.updateUserSayingUnseen("eve") { $0.role = "success" }
        #expect(changed.role == "success")
        #expect(unseen == [UnseenDeal(id: id, owner: nil)])
        // Undone, the deal is in eve's sight again.
        #expect(try engine.updateUserSayingUnseen("eve") { $0.role = "expert" }.leftUnseen.isEmpty)
        #expect(
            try engine.store.records(
                visibleTo: VisibilityQuery.make(
                    user: "eve", role: "expert", workspace: engine.workspace, directory: Directory(users: try engine.store.users().map(\.directoryEntry)))
            ).contains(id))
    }
}
