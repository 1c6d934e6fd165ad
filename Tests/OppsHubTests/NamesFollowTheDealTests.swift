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
