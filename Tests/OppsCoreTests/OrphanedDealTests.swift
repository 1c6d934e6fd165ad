import Testing

@testable import OppsCore

/// merge-semantics.md I17: a write the hub accepts never leaves a deal seen by no enabled user
/// (`orphaned`): not a manager clearing the owner of a deal only they could reach, not an owner
/// given to a user nobody sees through, not a hand-off no rep can take, not an approval asking
/// for one of these.
@Suite struct OrphanedDealTests {
    typealias Device = BatchDeciderTests.Device
    /// BatchDeciderTests' team, and `ex`: a rep with no manager (a departing one, disabled below).
    static let users = BatchDeciderTests.users + [.init(name: "ex", role: "sales")]
    static let now: Int64 = 1_795_000_000_000

    /// A deal `opps-hub import` made (its creator the hub), in discovery, owned by `owner`.
    static func imported(_ hub: inout Reconciler, owner: UserName, seed: UInt64) -> RecordID {
        var rng = SeededGenerator(seed: seed)
        let id = UUID128.version7(milliseconds: now, using: &rng)
        hub.imported(
            id: id, entity: "opportunity", stage: .member("discovery"), createdBy: BatchDecider.systemAuthor, writer: BatchDecider.systemAuthor,
            values: [("name", .text("导入的商机")), ("owner", .text(owner))], at: now)
        return id
    }

    static func ownerStamp(_ hub: Reconciler, _ deal: RecordID) -> Base { .stamp(hub.state[deal]!.fields["owner"]!.stamp) }

    @Test func aManagerCannotClearTheOwnerOfADealOnlyTheOwnerAndTheyReach() {
        var hub = Reconciler(workspace: .default, directory: Directory(users: Self.users))
        var max = Device(Self.users[5], seed: 11)
        let deal = Self.imported(&hub, owner: "sam", seed: 1)
        // Cleared, nobody would see it, max included (he sees it through sam): refused, and the
        // cleared value is max's conflict, so nothing is lost either way.
        let clear = max.set(deal, "opportunity", "owner", .null, base: Self.ownerStamp(hub, deal))
        let verdict = hub.verdict(clear, actor: max.actor)
        #expect(verdict.decision.outcome == .rejected)
        #expect(verdict.decision.rule == .orphaned)
        #expect(verdict.decision.detail == "no user would see this opportunity afterwards: give it an owner who sees it")
        #expect(verdict.shown == .text("sam"))
        #expect(hub.state[deal]?.owner == "sam")
        let kept = hub.conflicts.last!
        #expect(kept.id == verdict.conflict && kept.rule == .orphaned && kept.loser.author == "max" && kept.loser.value == .null)
        // Given to another of his reps instead: applied.
        #expect(hub.submit(max.set(deal, "opportunity", "owner", .text("tom"), base: Self.ownerStamp(hub, deal)), actor: max.actor).outcome == .applied)
        #expect(hub.state[deal]?.owner == "tom")
    }

    @Test func clearingTheOwnerOfADealItsCreatorsManagerSeesIsApplied() {
        var hub = Reconciler(workspace: .default, directory: Directory(users: Self.users))
        var sam = Device(Self.users[1], seed: 12)
        var max = Device(Self.users[5], seed: 13)
        let create = sam.create("opportunity", stage: "discovery")
        #expect(hub.submit(create, actor: sam.actor).outcome == .applied)
        #expect(hub.state[create.record]?.owner == "sam")
        // Made by sam, whom max manages: max still sees it without an owner.
        let clear = max.set(create.record, "opportunity", "owner", .null, base: Self.ownerStamp(hub, create.record))
        #expect(hub.submit(clear, actor: max.actor).outcome == .applied)
        #expect(hub.state[create.record]?.owner == nil)
    }

    @Test func anOwnerNobodyElseSeesThroughDoesNotCountOnceDisabled() {
        var hub = Reconciler(workspace: .default, directory: Directory(users: Self.users))
        var max = Device(Self.users[5], seed: 14)
        let deal = Self.imported(&hub, owner: "sam", seed: 2)
        // ex, enabled, sees what he owns: the transfer holds.
        var transfer = max.set(deal, "opportunity", "owner", .text("ex"), base: Self.ownerStamp(hub, deal))
        #expect(hub.submit(transfer, actor: max.actor).outcome == .applied)
        #expect(hub.state[deal]?.owner == "ex")
        // Disabled, with no manager above him, he is nobody's way to the deal.
        hub.directory = Directory(users: Self.users.map { $0.name == "ex" ? .init(name: "ex", role: "sales", disabled: true) : $0 })
        let deal2 = Self.imported(&hub, owner: "sam", seed: 3)
        transfer = max.set(deal2, "opportunity", "owner", .text("ex"), base: Self.ownerStamp(hub, deal2))
        let verdict = hub.verdict(transfer, actor: max.actor)
        #expect(verdict.decision.rule == .orphaned)
        #expect(hub.state[deal2]?.owner == "sam")
    }

    /// A workspace where marketing sees every lead, and nothing past it: a lead it moves into
    /// the hand-off stage is seen only through the rep the hand-off gives it.
    static var leadsOnly: Workspace {
        var ws = Workspace.default
        ws.roles = ws.roles.map { $0.name == "marketing" ? Role(name: $0.name, title: $0.title, sees: [.stage("lead")]) : $0 }
        return ws
    }

    @Test func aHandOffCountsTheRepItGivesAndIsRefusedWhenNoRepCanTakeIt() {
        // mia with no manager above her: nobody sees her deals through her.
        let users = Self.users.map { $0.name == "mia" ? .init(name: "mia", role: "marketing") : $0 }
        var hub = Reconciler(workspace: Self.leadsOnly, directory: Directory(users: users))
        var mia = Device(Self.users[0], seed: 15)
        let first = BatchDeciderTests.handOff(&mia, territory: "north")
        for w in first { #expect(hub.submit(w, actor: mia.actor).outcome == .applied, "\(w.field)") }
        #expect(hub.state[first[4].record]?.owner != nil)
        #expect(hub.state[first[4].record]?["stage"] == .member("qualified"))
        // Every rep gone: the move would leave the lead to no one, so it stays a lead mia sees.
        hub.directory = Directory(users: users.map { $0.role == "sales" ? .init(name: $0.name, role: "sales", manager: $0.manager, disabled: true) : $0 })
        let second = BatchDeciderTests.handOff(&mia, territory: "north")
        for w in second.dropLast() { #expect(hub.submit(w, actor: mia.actor).outcome == .applied, "\(w.field)") }
        let move = hub.verdict(second.last!, actor: mia.actor)
        #expect(move.decision.rule == .orphaned)
        #expect(hub.state[second[4].record]?["stage"] == .member("lead"))
        #expect(hub.state[second[4].record]?.owner == nil)
        #expect(hub.conflicts.last?.loser.value == .member("qualified"))
    }

    @Test func anApprovalThatWouldLeaveTheDealToNobodyIsInvalidWhenMadeAndWhenDecided() {
        var hub = Reconciler(workspace: .default, directory: Directory(users: Self.users))
        var sam = Device(Self.users[1], seed: 16)
        var max = Device(Self.users[5], seed: 17)
        let deal = Self.imported(&hub, owner: "sam", seed: 4)
        func request(owner: UserName) -> RecordID {
            let request = sam.create("approval")
            hub.submit(request, actor: sam.actor)
            for (f, v) in [
                ("opportunity", Value.reference(deal)), ("kind", .member("change")), ("requested", .text("owner → \(owner)")),
                ("target", .text(deal.description)), ("field", .text("owner")), ("value", .text(owner)),
            ] {
                hub.submit(sam.set(request.record, "approval", f, v), actor: sam.actor)
            }
            return request.record
        }
        // Made while ex is enabled: he would see what he owns, so it waits for max.
        let asked = request(owner: "ex")
        #expect(hub.state[asked]?["state"] == .member("pending"))
        // ex leaves before max decides: approving it would leave the deal to no one.
        hub.directory = Directory(users: Self.users.map { $0.name == "ex" ? .init(name: "ex", role: "sales", disabled: true) : $0 })
        let stateStamp = hub.state[asked]!.fields["state"]!.stamp
        #expect(hub.submit(max.set(asked, "approval", "state", .member("approved"), base: .stamp(stateStamp)), actor: max.actor).outcome == .applied)
        #expect(hub.state[asked]?["state"] == .member("rejected"))
        #expect(hub.state[asked]?["note"] == .text("not applied: no user would see this opportunity afterwards: give it an owner who sees it"))
        #expect(hub.conflicts.last?.rule == .requestInvalid && hub.conflicts.last?.loser.author == "max")
        #expect(hub.state[deal]?.owner == "sam")
        // Made now, it is invalid from the start.
        let again = request(owner: "ex")
        #expect(hub.state[again]?["state"] == .member("rejected"))
        #expect(hub.state[again]?["note"] == .text("invalid request: no user would see this opportunity afterwards: give it an owner who sees it"))
    }
}
