import Foundation
import OppsCore
import OppsReplica
import OppsStore
import Testing

/// Issue 15 item 10: an activity records what happened; one dated in the future is refused on
/// the laptop at once, and at the hub by the same rule (`future-time`).
@Suite struct FutureActivityTests {
    @Test func anActivityDatedInTheFutureIsRefusedAndNothingIsMade() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            let home = f.home("sam")
            #expect(await f.initReplica("sam", url).code == 0)
            let id = try #require(await opps("new", "ACME", "--account", "ACME", "--home", home, "--json").json?["id"]?.string)
            let before = try Replica(home: home, clock: FixedClock(milliseconds: 0)).store.recordCount()
            let tomorrow = Timestamp(milliseconds: Int64(Date().timeIntervalSince1970 * 1000) + 86_400_000).description
            let r = await opps("log", id, "--kind", "visit", "--at", tomorrow, "--home", home)
            #expect(r.code == 1)
            #expect(r.stderr.contains("future"), "\(r.stderr)")
            #expect(try Replica(home: home, clock: FixedClock(milliseconds: 0)).store.recordCount() == before)
            let past = Timestamp(milliseconds: Int64(Date().timeIntervalSince1970 * 1000) - 3_600_000).description
            #expect(await opps("log", id, "--kind", "visit", "--at", past, "--home", home).code == 0)
        }
    }

    /// `resolve`, which the laptop and the hub both run: five minutes of slack, not more.
    @Test func theSharedRuleRefusesATimeMoreThanFiveMinutesAfterTheWrite() {
        let ws = Workspace.default
        let activity = Record(
            id: RecordID(high: 0x0190, low: 1), entity: "activity",
            created: FieldState(
                value: .null, stamp: Stamp(hlc: HLC(milliseconds: 1_000_000, counter: 0), replica: ReplicaID(UUID128(high: 1, low: 1))),
                author: "sam", authority: .own))
        let context = RuleContext(workspace: ws, actor: Actor(user: "sam", role: "sales"), relations: [.creator], record: activity)
        func write(at: Int64) -> FieldWrite {
            FieldWrite(
                record: activity.id, entity: "activity", field: "at", value: .timestamp(Timestamp(milliseconds: at)), base: .none, author: "sam",
                stamp: Stamp(hlc: HLC(milliseconds: 2_000_000, counter: 0), replica: ReplicaID(UUID128(high: 1, low: 1))))
        }
        #expect(resolve(current: nil, incoming: write(at: 2_000_000 + 300_001), context: context).rule == .futureTime)
        #expect(resolve(current: nil, incoming: write(at: 2_000_000 + 300_000), context: context).outcome == .applied)
        #expect(resolve(current: nil, incoming: write(at: 1_000), context: context).outcome == .applied)
    }
}
