import Foundation
import OppsCore
import OppsReplica
import OppsStore
import OppsTestSupport
import OppsWire
import Testing

@testable import OppsHub

/// The window of recent log entries every user's snapshot shares (RecentChanges.swift): each
/// change is read from the store once, not once per user who syncs after it, and what it
/// answers is what the store would.
struct RecentChangesTests {
    let clock = TestClock(1_795_000_000_000)
    let engine: HubEngine
    let hub: LockedEngine
    let tokens: [String: String]

    init() throws {
        (engine, tokens) = try testEngine(
            "opps-recent", clock: clock,
            users: [
                HubUser(name: "max", role: "manager"), HubUser(name: "sam", role: "sales", territory: "north", manager: "max"),
                HubUser(name: "tom", role: "sales", territory: "north", manager: "max"), HubUser(name: "ann", role: "sales", territory: "south", manager: "max"),
                HubUser(name: "sue", role: "success", manager: "max"),
            ])
        hub = LockedEngine(engine)
    }

    func replica(_ user: String, via transport: any Transport) async throws -> Replica {
        let home = Scratch.directory("opps-recent-r") + "/replica"
        return try await Replica.create(home: home, hubURL: "in-process", token: tokens[user]!, transport: transport, clock: clock)
    }

    /// Users syncing after a round of changes are brought forward from memory: the changed rows
    /// are read from the store once, by the first of them. Every advance is checked against a
    /// full build (verifySnapshots), so a stale row — a deal handed to tom that tom would not
    /// see, or sam would keep seeing — fails the sync itself.
    @Test func changesAreReadOnceAndEveryUserStillSeesExactlyWhatTheyMay() async throws {
        let t = RoundRobin([hub])
        let sam = try await replica("sam", via: t), tom = try await replica("tom", via: t)
        let max = try await replica("max", via: t), ann = try await replica("ann", via: t)
        var rng = SystemRandomNumberGenerator()
        var deals = [RecordID]()
        for i in 0..<5 {
            deals.append(try sam.create(entity: "opportunity", stage: "discovery", fields: [("name", .text("华北 \(i)"))], using: &rng).record)
        }
        _ = try await sam.sync(transport: t)
        for r in [tom, max, ann] { _ = try await r.sync(transport: t) }

        // A round of changes: sam edits every deal; max hands two of them to tom.
        for (i, d) in deals.enumerated() { try sam.edit(d, [("next_step", .text("第 \(i) 步"))]) }
        _ = try await sam.sync(transport: t)
        try max.edit(deals[0], [("owner", .text("tom"))])
        try max.edit(deals[1], [("owner", .text("tom"))])
        _ = try await max.sync(transport: t)

        let read0 = engine.recent.rowsRead, memory0 = engine.recent.rowsFromMemory
        let examined0 = engine.advanceExamined
        _ = try await tom.sync(transport: t)
        let readByFirst = engine.recent.rowsRead - read0
        #expect(readByFirst <= deals.count, "the first to sync reads each changed row at most once")
        // Tom is charged for the two deals handed to him, not for sam's other three.
        #expect(engine.advanceExamined - examined0 == 2, "tom looked at \(engine.advanceExamined - examined0) records")
        let examined1 = engine.advanceExamined
        _ = try await ann.sync(transport: t)
        // Ann (another territory) sees none of them: her snapshot moves on without looking at one.
        #expect(engine.advanceExamined == examined1, "ann looked at \(engine.advanceExamined - examined1) records")
        _ = try await sam.sync(transport: t)
        #expect(engine.recent.rowsRead - read0 == readByFirst, "later users read no row again")
        // Sam's pull looked at his five deals (three still his, two he held until now), from memory.
        #expect(engine.recent.rowsFromMemory - memory0 >= deals.count)
        #expect(engine.recent.misses == 0, "every advance, a snapshot's first included, found its entries in memory")

        for (name, r) in [("sam", sam), ("tom", tom), ("max", max), ("ann", ann)] {
            let user = try #require(try engine.store.user(named: name))
            let expected = Set(try engine.visibleState(for: user).map(\.id))
            #expect(Set(try r.store.allConfirmed(workspace: r.workspace).filter { !$0.isDeleted }.map(\.id)) == expected, "\(name)")
        }
        #expect(Set(try tom.store.allConfirmed(workspace: tom.workspace).map(\.id)).isSuperset(of: deals[0...1]))
        #expect(Set(try sam.store.allConfirmed(workspace: sam.workspace).map(\.id)).isDisjoint(with: deals[0...1]))
    }

    /// A pull looks at the records that may concern its user, not at everything the fleet
    /// changed since their last sync (that grew with the company: O(reps) a pull). Sam is handed
    /// one of ann's 30 new deals, sue (who sees every won deal) gets the one ann wins: each finds
    /// it while looking at a handful of records, and every advance is checked against a full
    /// build (verifySnapshots), so a record the index missed fails the sync itself.
    @Test func aPullLooksOnlyAtWhatMayConcernItsUser() async throws {
        let t = RoundRobin([hub])
        let sam = try await replica("sam", via: t), ann = try await replica("ann", via: t)
        let max = try await replica("max", via: t), sue = try await replica("sue", via: t)
        var rng = SystemRandomNumberGenerator()
        let mine = try sam.create(entity: "opportunity", stage: "discovery", fields: [("name", .text("华北 甲"))], using: &rng).record
        for r in [sam, ann, max, sue] { _ = try await r.sync(transport: t) }

        var south = [RecordID]()
        for i in 0..<30 { south.append(try ann.create(entity: "opportunity", stage: "discovery", fields: [("name", .text("华南 \(i)"))], using: &rng).record) }
        _ = try await ann.sync(transport: t)
        let entries = 30
        _ = try await sam.sync(transport: t)
        #expect(engine.recent.lastExamined < 5, "sam looked at \(engine.recent.lastExamined) of \(entries) new records")
        #expect(Set(try sam.store.allConfirmed(workspace: sam.workspace).map(\.id)) == [mine])

        // One of them handed to sam: his next pull finds it among the few it looks at.
        _ = try await max.sync(transport: t)
        try max.edit(south[0], [("owner", .text("sam"))])
        _ = try await max.sync(transport: t)
        _ = try await sam.sync(transport: t)
        #expect(engine.recent.lastExamined < 5)
        #expect(Set(try sam.store.allConfirmed(workspace: sam.workspace).map(\.id)) == [mine, south[0]])

        // A deal ann wins: sue, who sees a deal by its stage alone, receives it.
        let wonDeal = try ann.create(entity: "opportunity", stage: "discovery", fields: wonFields, using: &rng).record
        for stage in ["solution", "proposal", "negotiation", "won"] { try ann.edit(wonDeal, [("stage", .member(stage))]) }
        south.append(wonDeal)
        _ = try await ann.sync(transport: t)
        _ = try await sue.sync(transport: t)
        #expect(engine.recent.lastExamined < 5, "sue looked at \(engine.recent.lastExamined)")
        let sueUser = try #require(try engine.store.user(named: "sue"))
        let sueSees = Set(try engine.visibleState(for: sueUser).map(\.id))
        #expect(sueSees.contains(wonDeal), "the deal reached won on the hub")
        #expect(Set(try sue.store.allConfirmed(workspace: sue.workspace).filter { !$0.isDeleted }.map(\.id)) == sueSees)
        // Max sees every rep's deals through the people he manages: his pull finds all 30.
        _ = try await max.sync(transport: t)
        #expect(Set(try max.store.allConfirmed(workspace: max.workspace).map(\.id)).isSuperset(of: south))
    }

    /// What a deal needs to be moved on to won (every stage gate on the way).
    let wonFields: [(String, Value)] = [
        ("name", .text("华南 赢单")), ("needs", .text("调度")), ("decision_makers", .text("王总")),
        ("amount", .decimal(ExactDecimal(units: 5_000_000, scale: 2))), ("close_date", .date(CivilDate(daysSinceEpoch: 20_800))),
        ("solution", .text("云平台")), ("tech_risk", .member("low")), ("quote_terms", .text("分期")), ("currency", .member("CNY")),
    ]

    /// The index against walking every entry, on the window alone: the same records for the same
    /// question, and where the window's row cache was cleared (too many rows), the index does
    /// not answer for the heads before and the walk does.
    @Test func theIndexAnswersAsTheWalkDoesOrNotAtAll() async throws {
        let t = RoundRobin([hub])
        let sam = try await replica("sam", via: t), ann = try await replica("ann", via: t)
        var rng = SystemRandomNumberGenerator()
        let store = engine.store
        let h0 = try store.head()
        for i in 0..<3 { _ = try sam.create(entity: "opportunity", stage: "discovery", fields: [("name", .text("北 \(i)"))], using: &rng) }
        for i in 0..<6 { _ = try ann.create(entity: "opportunity", stage: "discovery", fields: [("name", .text("南 \(i)"))], using: &rng) }
        _ = try await sam.sync(transport: t)
        _ = try await ann.sync(transport: t)
        let h1 = try store.head()
        let samsDeal = { (row: RecordColumns?) in row?.kind == 0 && row?.owner == "sam" }
        let concern = RecentChanges.Concern(names: ["sam"], stages: [], held: [], referenced: [:], parents: [])

        let window = RecentChanges(capacity: 1_000)
        try window.extend(to: h0, store: store)
        try window.extend(to: h1, store: store)
        let walked = try #require(window.lastTouches(after: h0, through: h1) { samsDeal($1) })
        #expect(window.lastExamined == Int(h1 - h0))
        let indexed = try #require(window.lastTouches(after: h0, through: h1, concern: concern) { samsDeal($1) })
        #expect(Set(indexed) == Set(walked) && walked.count == 3)
        #expect(window.lastExamined < Int(h1 - h0), "the index looked at \(window.lastExamined) of \(h1 - h0) entries")

        // The row cache cleared (more rows than it keeps): the index answers only from that
        // head on; asked for an older head, the walk answers instead.
        let small = RecentChanges(capacity: 40, indexWhenAnswering: true)
        try small.extend(to: h0, store: store)
        try small.extend(to: h1, store: store)
        #expect(h1 - h0 <= 40 && small.indexedFrom == h0)
        #expect(Set(try #require(small.lastTouches(after: h0, through: h1, concern: concern) { samsDeal($1) })) == Set(walked))
        let strangers = (0..<32).map { RecordID(high: 0xFEED, low: UInt64($0)) }
        _ = try small.columns(of: strangers, at: h1, store: store)
        #expect(small.indexedFrom == h1, "the rows of what was touched up to h1 were dropped")
        let old = try #require(small.lastTouches(after: h0, through: h1, concern: concern) { samsDeal($1) })
        #expect(small.lastExamined == Int(h1 - h0), "asked for a head the index no longer answers for, it walks")
        #expect(Set(old).isSuperset(of: walked), "the walk keeps, unasked, what it holds no row of")
        try sam.edit(walked[0], [("next_step", .text("回访"))])
        _ = try await sam.sync(transport: t)
        let h2 = try store.head()
        try small.extend(to: h2, store: store)
        let recent = try #require(small.lastTouches(after: h1, through: h2, concern: concern) { samsDeal($1) })
        #expect(recent == [walked[0]] && small.lastExamined == 1)
    }

    /// Past twice its capacity the window drops its oldest entries in bulk, and their filings
    /// with them: what it still holds is answered by the index as by the walk, and a head it
    /// no longer holds is not answered at all.
    @Test func theIndexForgetsWhatTheWindowDrops() async throws {
        let t = RoundRobin([hub])
        let sam = try await replica("sam", via: t), ann = try await replica("ann", via: t)
        var rng = SystemRandomNumberGenerator()
        let north = try sam.create(entity: "opportunity", stage: "discovery", fields: [("name", .text("北"))], using: &rng).record
        let south = try ann.create(entity: "opportunity", stage: "discovery", fields: [("name", .text("南"))], using: &rng).record
        _ = try await sam.sync(transport: t)
        _ = try await ann.sync(transport: t)
        let store = engine.store
        let window = RecentChanges(capacity: 6, indexWhenAnswering: true)
        let h0 = try store.head()
        try window.extend(to: h0, store: store)
        var heads = [h0]
        for i in 0..<20 {
            try sam.edit(north, [("next_step", .text("第 \(i) 步"))])
            _ = try await sam.sync(transport: t)
            try ann.edit(south, [("next_step", .text("第 \(i) 步"))])
            _ = try await ann.sync(transport: t)
            heads.append(try store.head())
            try window.extend(to: heads.last!, store: store)
        }
        let head = heads.last!
        #expect(window.from > h0 + 12, "the window moved on past twice its capacity (from \(window.from))")
        // At most three filings an entry (creator, owner, stage) for at most twice the capacity.
        #expect(window.filings <= 3 * 2 * 6, "\(window.filings) filings held")
        #expect(window.lastTouches(after: h0, through: head) { _, _ in true } == nil, "a head it dropped is not answered")
        let after = heads[heads.count - 2]
        let concern = { (name: String) in RecentChanges.Concern(names: [name], stages: [], held: [], referenced: [:], parents: []) }
        let owned = { (name: String) in { (_: RecordID, row: RecordColumns?) in row?.owner == name } }
        for (name, deal) in [("sam", north), ("ann", south)] {
            let walked = try #require(window.lastTouches(after: after, through: head, keep: owned(name)))
            let indexed = try #require(window.lastTouches(after: after, through: head, concern: concern(name), keep: owned(name)))
            #expect(walked == [deal] && indexed == [deal], "\(name): \(walked) \(indexed)")
            #expect(window.lastExamined == 1)
        }
    }

    /// A snapshot brought forward remembers, of what the step touched, only what its user saw
    /// before or sees after: the records that entered or left, and those visible that changed —
    /// not everything the other reps pushed meanwhile (1,000 reps' snapshots once kept ~1,000
    /// ids a step each, and filled the cache).
    @Test func aSnapshotRemembersOnlyWhatItsUserSawOrSees() async throws {
        let t = RoundRobin([hub])
        let sam = try await replica("sam", via: t), ann = try await replica("ann", via: t), max = try await replica("max", via: t)
        var rng = SystemRandomNumberGenerator()
        var north = [RecordID]()
        for i in 0..<20 { north.append(try sam.create(entity: "opportunity", stage: "discovery", fields: [("name", .text("华北 \(i)"))], using: &rng).record) }
        let handedToAnn = north.removeLast()
        let own = try ann.create(entity: "opportunity", stage: "discovery", fields: [("name", .text("华南 甲"))], using: &rng).record
        let handedToSam = try ann.create(entity: "opportunity", stage: "discovery", fields: [("name", .text("华南 乙"))], using: &rng).record
        for r in [sam, ann, max, ann] { _ = try await r.sync(transport: t) }
        let cachedBefore = engine.visibilityCache.get("ann")
        let before = try #require(cachedBefore)
        let head0 = before.head, visible0 = before.visible

        for (i, d) in north.enumerated() { try sam.edit(d, [("next_step", .text("第 \(i) 步"))]) }
        try max.edit(handedToAnn, [("owner", .text("ann"))])
        try max.edit(handedToSam, [("owner", .text("sam"))])
        try ann.edit(own, [("next_step", .text("回访"))])
        for r in [sam, max, ann] { _ = try await r.sync(transport: t) }

        let cachedAfter = engine.visibilityCache.get("ann")
        let after = try #require(cachedAfter)
        let remembered = try #require(after.changes(since: head0))
        #expect(after.head > head0)
        #expect(remembered.isDisjoint(with: north), "sam's deals, hidden from ann before and after, are not remembered")
        #expect(remembered.isSuperset(of: visible0.symmetricDifference(after.visible)), "what entered or left ann's view is remembered")
        #expect(remembered.isSuperset(of: [own, handedToAnn]))
        #expect(!visible0.contains(handedToAnn) && after.visible.contains(handedToAnn) && after.visible.isDisjoint(with: north))
    }

    /// The window against the store directly: the entries it holds are the store's, a row it
    /// answers is the store's row at that head, a row changed after the asked head is read from
    /// the store, and a log compacted past the window starts it again.
    @Test func theWindowAnswersWhatTheStoreWouldAndNothingStale() async throws {
        let t = RoundRobin([hub])
        let sam = try await replica("sam", via: t)
        var rng = SystemRandomNumberGenerator()
        let a = try sam.create(entity: "opportunity", stage: "discovery", fields: [("name", .text("甲"))], using: &rng).record
        let b = try sam.create(entity: "opportunity", stage: "discovery", fields: [("name", .text("乙"))], using: &rng).record
        _ = try await sam.sync(transport: t)
        let store = engine.store
        let window = RecentChanges(capacity: 1_000)
        try window.extend(to: 0, store: store)
        let h1 = try store.head()
        try window.extend(to: h1, store: store)
        #expect(window.touches(after: 0, through: h1).map(Array.init) == (try store.touches(after: 0, limit: 10_000)))
        #expect(window.touches(after: 2, through: h1).map(Array.init) == (try store.touches(after: 2, limit: 10_000)))
        // The rows of a and b came with their entries.
        #expect(window.rowsRead == 2)
        let rows = try window.columns(of: [a, b], at: h1, store: store)
        #expect(rows == (try store.columns(of: [a, b])))
        #expect(window.rowsRead == 2 && window.rowsFromMemory == 2, "asked after the entries that brought them, the rows are answered from memory")
        _ = try window.columns(of: [a, b], at: h1, store: store)
        #expect(window.rowsRead == 2 && window.rowsFromMemory == 4, "and again")

        // b changes hands; the window follows and drops b's row, keeps a's.
        let max = try await replica("max", via: t)
        _ = try await max.sync(transport: t)
        try max.edit(b, [("owner", .text("tom"))])
        _ = try await max.sync(transport: t)
        let h2 = try store.head()
        try window.extend(to: h2, store: store)
        let moved = try window.columns(of: [a, b], at: h2, store: store)
        let stored = try store.columns(of: [a, b])
        #expect(moved[b]?.owner == "tom")
        #expect(moved == stored)
        #expect(window.rowsRead == 3, "only b's row is read again")
        // Asked for the older head, b's row (changed after it) is not answered from memory.
        _ = try window.columns(of: [b], at: h1, store: store)
        #expect(window.rowsRead == 4)
        // A window not reaching back that far says so rather than answer part.
        #expect(window.touches(after: h2, through: h2 + 1) == nil)

        // Compacted past the window's head, then moved on: the window starts again there.
        let behind = RecentChanges(capacity: 1_000)
        try behind.extend(to: h1, store: store)
        try sam.edit(a, [("next_step", .text("再谈"))])
        _ = try await sam.sync(transport: t)
        let h3 = try store.head()
        _ = try store.transaction { try store.compact(below: h2) }
        try behind.extend(to: h3, store: store)
        #expect(behind.from == h3 && behind.head == h3 && behind.touches(after: h1, through: h3) == nil)

        // More entries than it keeps: it starts again at the new head instead of reading them.
        let small = RecentChanges(capacity: 2)
        try small.extend(to: 0, store: store)
        try small.extend(to: h3, store: store)
        #expect(small.from == h3 && small.touches(after: 0, through: h3) == nil)
    }

    /// A snapshot older than a compaction another process made is built again, not brought
    /// forward over entries that are gone: here a manager's snapshot on hub A is left at h0,
    /// the manager's replica moves on through hub B, and B compacts past h0. A's window was
    /// cleared by B's writes, so A would have to read the log since h0, which no longer holds
    /// the deal sam made first. Every advance is checked against a full build.
    @Test func aSnapshotOlderThanACompactionIsBuiltAgain() async throws {
        let other = LockedEngine(try HubEngine(store: engine.configuration.openStore(), configuration: engine.configuration))
        let viaA = RoundRobin([hub]), viaB = RoundRobin([other])
        let max = try await replica("max", via: viaA)
        _ = try await max.sync(transport: viaA)
        let sam = try await replica("sam", via: viaB)
        var rng = SystemRandomNumberGenerator()
        let first = try sam.create(entity: "opportunity", stage: "discovery", fields: [("name", .text("先"))], using: &rng).record
        let second = try sam.create(entity: "opportunity", stage: "discovery", fields: [("name", .text("后"))], using: &rng).record
        _ = try await sam.sync(transport: viaB)
        let h1 = try engine.store.head()
        try sam.edit(second, [("next_step", .text("报价"))])
        _ = try await sam.sync(transport: viaB)
        _ = try await max.sync(transport: viaB)
        _ = try other.engine.store.transaction { try other.engine.store.compact(below: h1) }
        clock.advance(1000)
        _ = try await max.sync(transport: viaA)
        let held = Set(try max.store.allConfirmed(workspace: max.workspace).map(\.id))
        #expect(held.isSuperset(of: [first, second]))
    }
}
