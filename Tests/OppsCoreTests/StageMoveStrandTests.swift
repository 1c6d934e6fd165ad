import Foundation
import Testing

@testable import OppsCore

/// merge-semantics.md §7.1 "A request no one can carry out", for a stage move: where what a role
/// may write changes with the stage, a move can leave a pending request that no approver could
/// carry out (I13 refuses its approval). It is settled with the move, as after an owner change.
@Suite struct StageMoveStrandTests {
    typealias Device = BatchDeciderTests.Device
    /// BatchDeciderTests' team and eve, an expert.
    static let users = BatchDeciderTests.users + [.init(name: "eve", role: "expert", manager: "max")]

    /// Which moves may strand a request is found from the ownership matrix: the default
    /// workspace's forward moves through the open stages take nothing from anyone (the hub looks
    /// for nothing on them: the benchmarks' and a rep's everyday moves), while a move that takes
    /// some role's write away (an expert's solution fields at won, a reopened won deal out of a
    /// success manager's sight, a marketer's lead data once accepted) may.
    @Test func theDefaultWorkspacesForwardMovesStrandNothing() throws {
        let ws = Workspace.default
        let deal = try #require(ws.entity("opportunity"))
        for (from, to) in [("discovery", "solution"), ("solution", "proposal"), ("proposal", "negotiation"), ("discovery", "proposal")] {
            #expect(!ws.stageMoveMayStrand(entity: deal, from: from, to: to), "\(from) → \(to)")
        }
        for (from, to) in [("negotiation", "won"), ("won", "negotiation"), ("qualified", "discovery"), ("proposal", "lost")] {
            #expect(ws.stageMoveMayStrand(entity: deal, from: from, to: to), "\(from) → \(to)")
        }
    }

    /// A workspace where a rep owns the discount only until the lead is accepted: sam asks for a
    /// discount above the threshold at qualified, then accepts the lead (moves it to discovery).
    /// No approver could approve it now: the hub settles it with the move — rejected with its
    /// note, sam's value his conflict (`request-invalid`), the deal unlocked.
    /// The workspace where a rep owns the discount only until the lead is accepted, a lead mia
    /// handed to sam (at qualified), and sam's request for a 30 % discount on it, pending.
    static func discountAskedAtQualified() throws -> (hub: Reconciler, sam: Device, max: Device, deal: RecordID, request: RecordID) {
        let document = Workspace.defaultDocument.replacingOccurrences(
            of: "\"terms\": {\n          \"sales\": \"own if owner; read\"", with: "\"terms\": {\n          \"sales\": \"own in lead,qualified if owner; read\"")
        #expect(document != Workspace.defaultDocument)
        let ws = try Workspace.decode(document)
        let deal = try #require(ws.entity("opportunity"))
        #expect(ws.stageMoveMayStrand(entity: deal, from: "qualified", to: "discovery"))
        var hub = Reconciler(workspace: ws, directory: Directory(users: Self.users))
        var mia = Device(BatchDeciderTests.users[0], seed: 21)
        var sam = Device(BatchDeciderTests.users[1], seed: 22)
        for w in BatchDeciderTests.handOff(&mia, territory: "north") { hub.submit(w, actor: mia.actor) }
        let id = try #require(hub.state.records.values.first { $0.entity == "opportunity" }?.id)
        #expect(hub.state[id]?.owner == "sam" && hub.state[id]?["stage"] == .member("qualified"))
        let request = sam.create("approval")
        var writes = [request]
        for (f, v) in [
            ("opportunity", Value.reference(id)), ("kind", .member("discount")), ("requested", .text("discount → 30")),
            ("target", .text(id.description)), ("field", .text("discount")), ("value", .text("30.00")),
        ] {
            writes.append(sam.set(request.record, "approval", f, v))
        }
        for w in writes { hub.submit(w, actor: sam.actor) }
        #expect(hub.state[request.record]?["state"] == .member("pending"))
        #expect(hub.state[id]?["approval_state"] == .member("pending"))
        return (hub, sam, Device(BatchDeciderTests.users[5], seed: 23), id, request.record)
    }

    /// What a settled discount request leaves: rejected with the hub's note (no decider), sam's
    /// value his conflict, the deal unlocked, a later approval refused and nothing written.
    static func expectSettled(_ hub: inout Reconciler, _ max: inout Device, deal id: RecordID, request: RecordID, conflictsBefore: Int) throws {
        #expect(hub.state[request]?["state"] == .member("rejected"))
        #expect(hub.state[request]?["note"] == .text("not applied: sam may no longer change discount of that record"))
        #expect(hub.state[request]?["decided_by"] == .null)
        #expect(hub.state[id]?["approval_state"] == .member("none"), "unlocked")
        let settled = hub.conflicts.dropFirst(conflictsBefore)
        #expect(settled.map(\.rule) == [.requestInvalid] && settled.first?.loser.author == "sam", "\(settled)")
        #expect(settled.first?.loser.value == .decimal(ExactDecimal(units: 3000, scale: 2)))
        let stateStamp = try #require(hub.state[request]?.fields["state"]?.stamp)
        let late = hub.submit(max.set(request, "approval", "state", .member("approved"), base: .stamp(stateStamp)), actor: max.actor)
        #expect(late.rule == .alreadyDecided)
        #expect(hub.state[id]?["discount"] == .null)
    }

    /// sam asks for a discount above the threshold at qualified, then accepts the lead (moves it
    /// to discovery). No approver could approve it now: the hub settles it with the move.
    @Test func aStageMoveThatTakesTheRequestersWriteAwaySettlesTheRequest() throws {
        var (hub, sam, max, id, request) = try Self.discountAskedAtQualified()
        let conflictsBefore = hub.conflicts.count

        // sam accepts the lead: applied, and what he asked is settled with it.
        let stageStamp = try #require(hub.state[id]?.fields["stage"]?.stamp)
        #expect(hub.submit(sam.set(id, "opportunity", "stage", .member("discovery"), base: .stamp(stageStamp)), actor: sam.actor).outcome == .applied)
        try Self.expectSettled(&hub, &max, deal: id, request: request, conflictsBefore: conflictsBefore)
    }

    /// The same move made by an approval: an expert's proposed stage, approved by the manager,
    /// settles sam's discount request in the same write.
    @Test func anApprovedStageMoveSettlesWhatItStrands() throws {
        var (hub, _, max, id, request) = try Self.discountAskedAtQualified()
        var eve = Device(Self.users.last!, seed: 24)
        let membership = max.create("membership")
        for w in [membership]
            + [("opportunity", Value.reference(id)), ("user", .text("eve")), ("role", .member("expert")), ("state", .member("active"))].map({
                max.set(membership.record, "membership", $0.0, $0.1)
            })
        {
            #expect(hub.submit(w, actor: max.actor).outcome == .applied)
        }
        let proposal = eve.create("approval")
        for w in [proposal]
            + [
                ("opportunity", Value.reference(id)), ("kind", .member("change")), ("requested", .text("stage → discovery")),
                ("target", .text(id.description)), ("field", .text("stage")), ("value", .text("discovery")),
            ].map({ eve.set(proposal.record, "approval", $0.0, $0.1) })
        {
            hub.submit(w, actor: eve.actor)
        }
        #expect(hub.state[proposal.record]?["state"] == .member("pending"))
        let conflictsBefore = hub.conflicts.count
        let stateStamp = try #require(hub.state[proposal.record]?.fields["state"]?.stamp)
        #expect(hub.submit(max.set(proposal.record, "approval", "state", .member("approved"), base: .stamp(stateStamp)), actor: max.actor).outcome == .applied)
        #expect(hub.state[id]?["stage"] == .member("discovery"))
        #expect(hub.state[proposal.record]?["state"] == .member("approved"))
        try Self.expectSettled(&hub, &max, deal: id, request: request, conflictsBefore: conflictsBefore)
    }
}
