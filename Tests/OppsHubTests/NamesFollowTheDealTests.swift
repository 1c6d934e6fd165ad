import Foundation
import OppsCore
import OppsReplica
import OppsStore
import OppsTestSupport
import OppsWire
import Testing

@testable import OppsHub

/// What hangs off a deal follows the deal's names (visibility.md §6): in a workspace where
/// marketing reads a lead's owner only while it is a lead or handed off, the manager's note on
/// mia's lead comes to her laptop with his name, and once the rep accepts the lead it is sent to
/// her again without it — through the real replica's syncs, whose pulls the hub answers from the
/// snapshot it brings forward (not a full walk), so the note must be among what that step says changed.
struct NamesFollowTheDealTests {
    let clock = TestClock(1_795_000_000_000)

    @Test func aNoteOnALeadLosesItsAuthorWhenTheLeadMovesPastMarketing() async throws {
        let (engine, tokens) = try testEngine(
            "opps-names-follow", clock: clock,
            users: [
                HubUser(name: "max", role: "manager"), HubUser(name: "sam", role: "sales", territory: "north", manager: "max"),
                HubUser(name: "mia", role: "marketing", manager: "max"),
            ])
        let version = Workspace.default.version
        let document = Workspace.defaultDocument
            .replacingOccurrences(of: "\"version\": \(version),", with: "\"version\": \(version + 1),")
            .replacingOccurrences(
                of: "\"team\": {\n          \"sales\": \"propose if owner; read\",",
                with: "\"team\": {\n          \"marketing\": \"read in lead,qualified\",\n          \"sales\": \"propose if owner; read\",")
        #expect(try engine.apply(workspace: document).mayEverReadOwners(role: "marketing"))
        let t = RoundRobin([LockedEngine(engine)])
        func replica(_ user: String) async throws -> Replica {
            try await Replica.create(
                home: Scratch.directory("opps-names-follow-r") + "/replica", hubURL: "in-process", token: tokens[user]!, transport: t, clock: clock)
        }
        let mia = try await replica("mia"), max = try await replica("max"), sam = try await replica("sam")
        var rng = SystemRandomNumberGenerator()
        let account = try mia.create(entity: "account", stage: nil, fields: [("name", .text("云帆"))], using: &rng).record
        let contact = try mia.create(entity: "contact", stage: nil, fields: [("name", .text("王伟"))], using: &rng).record
        let lead = try mia.create(
            entity: "opportunity", stage: "lead",
            fields: [
                ("name", .text("云帆 线索")), ("account", .reference(account)), ("contact", .reference(contact)), ("lead_source", .member("event")),
                ("qualification", .text("budget ok")), ("check_need", .boolean(true)), ("check_budget", .boolean(true)),
                ("check_timing", .boolean(true)), ("check_contact", .boolean(true)), ("territory", .text("north")),
            ], using: &rng
        ).record
        _ = try mia.moveStage(lead, to: "qualified", reason: nil)
        _ = try await mia.sync(transport: t)
        _ = try await max.sync(transport: t)
        let note = try max.create(entity: "activity", stage: nil, fields: [("opportunity", .reference(lead)), ("kind", .member("note"))], using: &rng).record
        _ = try await max.sync(transport: t)
        _ = try await mia.sync(transport: t)
        #expect(try mia.record(note)?.creator == "max", "handed off, she still reads its owner, and its names")
        #expect(try mia.record(lead)?.owner == "sam")
        // Another sync with nothing new: the hub now answers her from the snapshot it keeps.
        _ = try await mia.sync(transport: t)

        _ = try await sam.sync(transport: t)
        _ = try sam.moveStage(lead, to: "discovery", reason: nil)
        _ = try await sam.sync(transport: t)
        let report = try await mia.sync(transport: t)
        #expect(!report.repaired)
        #expect(try mia.record(lead)?.owner == nil && mia.record(lead)?["stage"] == .member("discovery"))
        let held = try #require(try mia.record(note))
        #expect(held.creator == "" && held.fields.values.allSatisfy { $0.author == "" }, "\(held)")
        let expected = try engine.visibleState(for: #require(try engine.store.user(named: "mia"))).first { $0.id == note }
        #expect(held == expected)
    }
}

/// A name in a value (visibility.md §6): an expert on a deal reads a task the rep keeps as
/// someone else's. The rep gives her a task, then, while her laptop is away, gives it to someone
/// else; her write to it is refused (it is no longer hers: DOMAIN.md's next-step row), and the
/// push's answer and the conflict she pulls say that it is someone else's, not whose.
struct NamesInValuesTests {
    struct Scene {
        var sam: TestReplica, max: TestReplica, eve: TestReplica
        var deal: RecordID, hers: RecordID, his: RecordID
        var rng: SeededGenerator
    }

    /// Sam's deal with eve on its team, and two tasks on it: one for eve, one for sam himself.
    static func dealWithTasks(_ f: HubFixture, _ c: WireClient, seed: UInt64) async throws -> Scene {
        var rng = SeededGenerator(seed: seed)
        var sam = TestReplica(user: "sam", token: f.tokens["sam"]!, seed: 1)
        var max = TestReplica(user: "max", token: f.tokens["max"]!, seed: 2)
        var eve = TestReplica(user: "eve", token: f.tokens["eve"]!, seed: 3)
        for r in [sam, max, eve] { _ = try await r.handshake(c) }
        let create = sam.create(using: &rng)
        let deal = create.record
        var writes = [create, sam.write(deal, "name", .text("华北电网"))]
        var tasks = [RecordID]()
        for (text, assignee) in [("review the architecture", "eve"), ("send the quote", "sam")] {
            let made = sam.create("task", stage: nil, using: &rng)
            tasks.append(made.record)
            writes += [
                made, sam.write(made.record, "opportunity", .reference(deal), entity: "task"), sam.write(made.record, "text", .text(text), entity: "task"),
                sam.write(made.record, "assignee", .text(assignee), entity: "task"),
            ]
        }
        let made = try await sam.push(c, writes)
        #expect(made.results.allSatisfy { $0.outcome == .applied }, "\(made.results)")
        let member = max.create("membership", stage: nil, using: &rng)
        let joined = try await max.push(
            c,
            [
                member, max.write(member.record, "opportunity", .reference(deal), entity: "membership"),
                max.write(member.record, "user", .text("eve"), entity: "membership"),
                max.write(member.record, "role", .member("expert"), entity: "membership"),
                max.write(member.record, "state", .member("active"), entity: "membership"),
            ])
        #expect(joined.results.allSatisfy { $0.outcome == .applied }, "\(joined.results)")
        try await eve.pull(c)
        try await sam.pull(c)
        return Scene(sam: sam, max: max, eve: eve, deal: deal, hers: tasks[0], his: tasks[1], rng: rng)
    }

    @Test func anExpertsRefusedWriteToATaskIsAnsweredWithoutTheRepsName() async throws {
        let f = try HubFixture()
        try await f.application().test(.router) { client in
            let c = WireClient(client: client)
            let scene = try await Self.dealWithTasks(f, c, seed: 11)
            var (sam, max, eve) = (scene.sam, scene.max, scene.eve)
            let (task, his) = (scene.hers, scene.his)
            #expect(eve.state[task]?["assignee"] == .text("eve"), "hers, by her name")
            #expect(eve.state[his]?["assignee"] == .text("") && eve.state[his]?["text"] == .text("send the quote"), "the rep's own task, by no name")

            // The rep gives hers to tom; her laptop, not yet told, hands it on to the manager.
            let theirs = eve.write(task, "assignee", .text("max"), entity: "task")
            #expect(try await sam.push(c, [sam.write(task, "assignee", .text("tom"), entity: "task")]).results.map(\.outcome) == [.applied])
            let answer = try await eve.push(c, [theirs])
            let result = try #require(answer.results.first)
            #expect(result.outcome == .rejected && result.rule == "read-only" && result.hasWinner, "no longer hers: \(result)")
            let shown = try result.winner.pulledValue()
            #expect(shown == .text(""), "\(result)")
            let bytes = try AdversarialPropertyTests.bytes(answer)
            #expect(!bytes.contains("tom") && !bytes.contains("sam"), "\(answer)")
            let page = try await c.call(Endpoint.pull, eve.pullRequest(maxChanges: 0), token: eve.token, as: PullResponse.self)
            let conflict = try #require(page.conflicts.first { $0.hasWinner })
            let (winner, lost) = (try conflict.winner.pulledValue(), try conflict.value.pulledValue())
            #expect(winner == .text("") && lost == .text("max"), "\(conflict)")
            #expect(page.authors.allSatisfy { ["eve", "hub", ""].contains($0) }, "\(page.authors)")
            try eve.apply(page)
            #expect(eve.state[task]?["assignee"] == .text(""))
            // The manager reads whose it is. He and the deal's rep, who arbitrate what happens on
            // the deal, hold her refused write to its task too (sync-protocol.md §6.2).
            try await max.pull(c)
            #expect(max.state[task]?["assignee"] == .text("tom"))
            try await sam.pull(c)
            for reader in [max, sam] {
                #expect(
                    reader.conflicts.contains { RecordID(bytes: $0.record) == task && $0.rule == "read-only" && (try? $0.value.pulledValue()) == .text("max") },
                    "\(reader.user): \(reader.conflicts)")
            }
        }
    }

    /// DOMAIN.md's next-step row: an expert writes "on tasks assigned to them" (the relation
    /// `assignee`, visibility.md §3). The hub judges each write by the task as it holds it then:
    /// a forged write to the rep's task is refused, and so is a write in the same batch after
    /// she gave her own away.
    @Test func anExpertWritesOnlyTheTasksAssignedToHer() async throws {
        let f = try HubFixture()
        try await f.application().test(.router) { client in
            let c = WireClient(client: client)
            let scene = try await Self.dealWithTasks(f, c, seed: 12)
            var (sam, eve, rng) = (scene.sam, scene.eve, scene.rng)
            let (deal, hers, his) = (scene.deal, scene.hers, scene.his)
            // The rep's task: read, never written, whatever her laptop sends.
            let forged = try await eve.push(
                c, [eve.write(his, "done", .boolean(true), entity: "task"), eve.write(his, "assignee", .text("eve"), entity: "task")])
            #expect(forged.results.map(\.outcome) == [.rejected, .rejected] && forged.results.allSatisfy { $0.rule == "read-only" }, "\(forged.results)")
            // The deal's own next step she reads too (the rep's).
            let nextStep = try await eve.push(c, [eve.write(deal, "next_step", .text("PoC first"))])
            #expect(nextStep.results.map(\.rule) == ["read-only"], "\(nextStep.results)")
            // Hers: she closes it. Then, in one batch, she gives it back and writes it again.
            let closed = try await eve.push(c, [eve.write(hers, "done", .boolean(true), entity: "task")])
            #expect(closed.results.map(\.outcome) == [.applied], "\(closed.results)")
            let given = try await eve.push(
                c, [eve.write(hers, "assignee", .text("sam"), entity: "task"), eve.write(hers, "text", .text("review it again"), entity: "task")])
            #expect(given.results.map(\.outcome) == [.applied, .rejected] && given.results.last?.rule == "read-only", "\(given.results)")
            // A task she makes herself, for the rep, stays hers to write.
            let mine = eve.create("task", stage: nil, using: &rng)
            let made = try await eve.push(
                c,
                [
                    mine, eve.write(mine.record, "opportunity", .reference(deal), entity: "task"),
                    eve.write(mine.record, "assignee", .text("sam"), entity: "task"),
                    eve.write(mine.record, "text", .text("book the lab"), entity: "task"),
                ])
            #expect(made.results.allSatisfy { $0.outcome == .applied }, "\(made.results)")
            try await sam.pull(c)
            #expect(sam.state[hers]?["done"] == .boolean(true) && sam.state[hers]?["assignee"] == .text("sam"))
            #expect(sam.state[hers]?["text"] == .text("review the architecture") && sam.state[his]?["done"] != .boolean(true))
            #expect(sam.state[mine.record]?["text"] == .text("book the lab"))
        }
    }
}

/// A write to what its writer may not see (sync-protocol.md §6.2 `conflicts`) is theirs alone:
/// a user with a valid token and any record's id cannot put lines of their choosing into the
/// record's owner's conflicts, nor their manager's, as a write that merely did not hold does.
struct UnseenWriteTests {
    @Test func aWriteToADealItsWriterCannotSeeReachesNoOneElse() async throws {
        let f = try HubFixture()
        try await f.application().test(.router) { client in
            let c = WireClient(client: client)
            let scene = try await NamesInValuesTests.dealWithTasks(f, c, seed: 13)
            var (sam, max) = (scene.sam, scene.max)
            var ann = TestReplica(user: "ann", token: f.tokens["ann"]!, seed: 4)
            _ = try await ann.handshake(c)
            let spam = "call +1 555 0100 to keep your deal"
            let answer = try await ann.push(
                c, [ann.write(scene.deal, "next_step", .text(spam)), ann.write(scene.his, "text", .text(spam), entity: "task")])
            #expect(answer.results.map(\.rule) == ["not-visible", "not-visible"], "\(answer.results)")
            try await sam.pull(c)
            try await max.pull(c)
            for reader in [sam, max] {
                #expect(!reader.conflicts.contains { (try? $0.value.pulledValue()) == .text(spam) }, "\(reader.user): \(reader.conflicts)")
            }
            #expect(sam.state[scene.deal]?["next_step"] != .text(spam))
            // Hers to see: her own writes that did not hold.
            try await ann.pull(c)
            #expect(ann.conflicts.filter { (try? $0.value.pulledValue()) == .text(spam) }.count == 2, "\(ann.conflicts)")
        }
    }
}
