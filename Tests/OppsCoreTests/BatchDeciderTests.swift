import Foundation
import Testing

@testable import OppsCore

/// The hub's decision loop as a pure core type: what it derives (stage history, the hand-off
/// assignment, approvals), that it only returns effects, and that its visibility for writes is
/// the visibility rule a pull applies.
@Suite struct BatchDeciderTests {
    static let users: [Directory.User] = [
        .init(name: "mia", role: "marketing", manager: "max"),
        .init(name: "sam", role: "sales", manager: "max", territory: "north"),
        .init(name: "tom", role: "sales", manager: "max", territory: "north"),
        .init(name: "ann", role: "sales", manager: "max", territory: "south"),
        .init(name: "bob", role: "sales", manager: "max", territory: "north", disabled: true),
        .init(name: "max", role: "manager"),
    ]

    struct Device {
        let user: Directory.User
        let replica: ReplicaID
        var clock = HybridLogicalClock()
        var now: Int64 = 1_795_000_000_000
        var rng: SeededGenerator

        init(_ user: Directory.User, seed: UInt64) {
            self.user = user
            rng = SeededGenerator(seed: seed)
            replica = .random(using: &rng)
        }

        var actor: Actor { Actor(user: user.name, role: user.role) }
        mutating func stamp() -> Stamp {
            now += 1000
            return Stamp(hlc: clock.tick(physical: now), replica: replica)
        }
        mutating func create(_ entity: String, stage: String? = nil) -> FieldWrite {
            let id = UUID128.version7(milliseconds: now, using: &rng)
            return FieldWrite(record: id, entity: entity, kind: .create, value: stage.map { .member($0) } ?? .null, author: user.name, stamp: stamp())
        }
        mutating func set(_ record: RecordID, _ entity: String, _ field: String, _ value: Value, base: Base = .none) -> FieldWrite {
            FieldWrite(record: record, entity: entity, field: field, value: value, base: base, author: user.name, stamp: stamp())
        }
    }

    /// A lead mia qualifies in `territory`, handed off: the writes `opps` makes.
    static func handOff(_ mia: inout Device, territory: String) -> [FieldWrite] {
        let account = mia.create("account")
        let contact = mia.create("contact")
        let lead = mia.create("opportunity", stage: "lead")
        var writes = [
            account, mia.set(account.record, "account", "name", .text("Acme \(account.record)")), contact,
            mia.set(contact.record, "contact", "name", .text("Li Lei")), lead,
        ]
        for (f, v) in [
            ("name", Value.text("Pilot")), ("account", .reference(account.record)), ("contact", .reference(contact.record)), ("lead_source", .member("event")),
            ("qualification", .text("budget ok")), ("territory", .text(territory)),
            ("check_need", .boolean(true)), ("check_budget", .boolean(true)), ("check_timing", .boolean(true)), ("check_contact", .boolean(true)),
        ] {
            writes.append(mia.set(lead.record, "opportunity", f, v))
        }
        writes.append(mia.set(lead.record, "opportunity", "stage", .member("qualified"), base: .stamp(lead.stamp)))
        return writes
    }

    @Test func aHandOffIsAssignedRoundRobinWithinTheTerritorySkippingDisabledRepsAndLogsTheStageAsTheHub() {
        var hub = Reconciler(workspace: .default, directory: Directory(users: Self.users))
        var mia = Device(Self.users[0], seed: 1)
        var owners = [String]()
        for _ in 0..<3 {
            let writes = Self.handOff(&mia, territory: "north")
            for w in writes { #expect(hub.submit(w, actor: mia.actor).outcome == .applied, "\(w.field)") }
            let deal = hub.state[writes[4].record]!
            owners.append(deal.owner ?? "-")
            // The stage move is on the deal's stage history, written by the hub itself.
            #expect(deal["stage_log"].canonicalText.contains("qualified"))
            #expect(deal.fields["stage_log"]?.author == BatchDecider.systemAuthor)
            #expect(deal.fields["owner"]?.author == BatchDecider.systemAuthor)
        }
        // sam, tom, sam: north only, bob disabled, ann in the south.
        #expect(owners == ["sam", "tom", "sam"])
        #expect(hub.memory.meta["assign.last.north"] == "sam")
        // Every hub write is in the log, in sequence, gapless.
        #expect(hub.log.map(\.sequence) == Array(1...UInt64(hub.log.count)))
    }

    @Test func anApprovalRequestBecomesPendingAndARejectionIsTheRequestersConflict() {
        var hub = Reconciler(workspace: .default, directory: Directory(users: Self.users))
        var mia = Device(Self.users[0], seed: 2)
        var sam = Device(Self.users[1], seed: 3)
        var max = Device(Self.users[5], seed: 4)
        for w in Self.handOff(&mia, territory: "north") { hub.submit(w, actor: mia.actor) }
        let deal = hub.state.records.values.first { $0.entity == "opportunity" }!
        #expect(deal.owner == "sam")
        let request = sam.create("approval")
        var writes = [request]
        for (f, v) in [
            ("opportunity", Value.reference(deal.id)), ("kind", .member("discount")), ("requested", .text("discount → 30")),
            ("target", .text(deal.id.description)), ("field", .text("discount")), ("value", .text("30.00")),
        ] {
            writes.append(sam.set(request.record, "approval", f, v))
        }
        for w in writes { hub.submit(w, actor: sam.actor) }
        #expect(hub.state[request.record]?["state"] == .member("pending"))
        #expect(hub.state[deal.id]?["approval_state"] == .member("pending"))
        let conflictsBefore = hub.conflicts.count
        let stateStamp = hub.state[request.record]!.fields["state"]!.stamp
        #expect(hub.submit(max.set(request.record, "approval", "state", .member("rejected"), base: .stamp(stateStamp)), actor: max.actor).outcome == .applied)
        #expect(hub.state[request.record]?["decided_by"] == .text("max"))
        #expect(hub.state[deal.id]?["approval_state"] == .member("rejected"))
        // The requested value is not lost: it is sam's conflict, with the rule that decided.
        let rejected = hub.conflicts.dropFirst(conflictsBefore)
        #expect(rejected.map(\.rule) == [.approvalRejected])
        #expect(rejected.first?.loser.author == "sam")
        #expect(hub.conflicts.map(\.id) == Array(1...UInt64(hub.conflicts.count)))
    }

    /// A hub where mia handed a lead off to sam (the deal's id), and sam's and max's devices.
    static func handedOff(seed: UInt64) -> (hub: Reconciler, sam: Device, max: Device, deal: RecordID) {
        var hub = Reconciler(workspace: .default, directory: Directory(users: users))
        var mia = Device(users[0], seed: seed)
        for w in handOff(&mia, territory: "north") { hub.submit(w, actor: mia.actor) }
        let deal = hub.state.records.values.first { $0.entity == "opportunity" }!.id
        return (hub, Device(users[1], seed: seed + 1), Device(users[5], seed: seed + 2), deal)
    }

    /// sam's discount request on the deal mia handed off to him, made pending (the writes `opps set` makes).
    static func discountRequest(_ hub: inout Reconciler, _ sam: inout Device, deal: RecordID, value: String, withdrawnFirst: Bool = false) -> RecordID {
        let request = sam.create("approval")
        var writes = [request]
        if withdrawnFirst { writes.append(sam.set(request.record, "approval", "withdrawn", .boolean(true))) }
        for (f, v) in [
            ("opportunity", Value.reference(deal)), ("kind", .member("discount")), ("requested", .text("discount → \(value)")),
            ("target", .text(deal.description)), ("field", .text("discount")), ("value", .text(value)),
        ] {
            writes.append(sam.set(request.record, "approval", f, v))
        }
        for w in writes { hub.submit(w, actor: sam.actor) }
        return request.record
    }

    /// A rep takes back a request not yet decided (merge-semantics §7.1 "Withdrawal"): the
    /// request says withdrawn in his name, the deal is unlocked, a decision after it is refused
    /// and kept as the approver's conflict; a decided request is not taken back; only its
    /// creator withdraws it, only with true, once.
    @Test func aPendingRequestIsWithdrawnByItsCreatorOnlyAndUnlocksTheDeal() throws {
        var (hub, sam, max, deal) = Self.handedOff(seed: 12)
        let eight = Value.decimal(try ExactDecimal(parsing: "8.00"))
        let request = Self.discountRequest(&hub, &sam, deal: deal, value: "30.00")
        #expect(hub.state[deal]?["approval_state"] == .member("pending"))
        // Locked: sam cannot set the discount himself while it is pending.
        #expect(hub.submit(sam.set(deal, "opportunity", "discount", eight), actor: sam.actor).rule == .approvalPending)
        // Only its creator, and only with true.
        #expect(hub.submit(max.set(request, "approval", "withdrawn", .boolean(true)), actor: max.actor).outcome == .rejected)
        #expect(hub.submit(sam.set(request, "approval", "withdrawn", .boolean(false)), actor: sam.actor).rule == .typeMismatch)
        // An approver's state is a decision: never withdrawn, never pending.
        #expect(hub.submit(max.set(request, "approval", "state", .member("withdrawn")), actor: max.actor).rule == .typeMismatch)
        #expect(hub.submit(max.set(request, "approval", "state", .null), actor: max.actor).rule == .typeMismatch, "a request without a state reads as not yet made")
        // Who decided is the hub's to write: an approver cannot name another beforehand.
        #expect(hub.submit(max.set(request, "approval", "decided_by", .text("tom")), actor: max.actor).rule == .readOnly)
        #expect(hub.state[request]?["decided_by"] == .null)
        #expect(hub.state[request]?["state"] == .member("pending"))

        let withdrawal = hub.submit(sam.set(request, "approval", "withdrawn", .boolean(true)), actor: sam.actor)
        #expect(withdrawal.outcome == .applied)
        #expect(hub.state[request]?["state"] == .member("withdrawn"))
        #expect(hub.state[request]?.fields["state"]?.author == "sam")
        #expect(hub.state[request]?["decided_by"] == .null)
        #expect(hub.state[deal]?["approval_state"] == .member("none"))
        #expect(hub.submit(sam.set(deal, "opportunity", "discount", eight), actor: sam.actor).outcome == .applied)
        // max decided offline before he heard: refused, kept as his conflict; nothing written.
        let conflicts = hub.conflicts.count
        let late = hub.submit(max.set(request, "approval", "state", .member("approved")), actor: max.actor)
        #expect(late.outcome == .rejected && late.rule == .alreadyDecided)
        #expect(hub.conflicts.dropFirst(conflicts).map(\.loser.author) == ["max"])
        #expect(hub.state[deal]?["discount"].canonicalText == "8.00")
        #expect(hub.state[deal]?["approval_state"] == .member("none"))
        // Withdrawn once: a second withdrawal is refused.
        #expect(hub.submit(sam.set(request, "approval", "withdrawn", .boolean(true)), actor: sam.actor).rule == .alreadyDecided)

        // A decided request is not taken back; its decider cannot decide again (only amend the note).
        let second = Self.discountRequest(&hub, &sam, deal: deal, value: "25.00")
        let made = try #require(hub.state[second]?.fields["state"]?.stamp)
        #expect(hub.submit(max.set(second, "approval", "state", .member("approved"), base: .stamp(made)), actor: max.actor).outcome == .applied)
        #expect(hub.submit(sam.set(second, "approval", "withdrawn", .boolean(true)), actor: sam.actor).rule == .alreadyDecided)
        #expect(hub.submit(max.set(second, "approval", "state", .member("rejected")), actor: max.actor).rule == .alreadyDecided)
        #expect(hub.submit(max.set(second, "approval", "note", .text("ok for Q4")), actor: max.actor).outcome == .applied)
        #expect(hub.state[second]?["state"] == .member("approved"))
        #expect(hub.state[deal]?["discount"].canonicalText == "25.00")

        // Taken back before it reached the hub (withdrawn written first, offline): never
        // pending, the deal never locked.
        let third = Self.discountRequest(&hub, &sam, deal: deal, value: "40.00", withdrawnFirst: true)
        #expect(hub.state[third]?["state"] == .member("withdrawn"))
        #expect(hub.state[deal]?["approval_state"] == .member("approved"))
        #expect(hub.log.map(\.sequence) == Array(1...UInt64(hub.log.count)))
    }

    /// Two discount requests wait on one deal (a client of its own making asked twice): the
    /// deal stays locked until the last of them is decided or withdrawn, then says how that one
    /// ended.
    @Test func aDealStaysLockedWhileAnyOfItsRequestsWaits() throws {
        var (hub, sam, max, deal) = Self.handedOff(seed: 22)
        let first = Self.discountRequest(&hub, &sam, deal: deal, value: "30.00")
        let second = Self.discountRequest(&hub, &sam, deal: deal, value: "20.00")
        #expect(hub.state[second]?["state"] == .member("pending"))
        // The first withdrawn: the second still waits, so the deal stays locked.
        #expect(hub.submit(sam.set(first, "approval", "withdrawn", .boolean(true)), actor: sam.actor).outcome == .applied)
        #expect(hub.state[deal]?["approval_state"] == .member("pending"))
        #expect(hub.submit(sam.set(deal, "opportunity", "amount", .decimal(try ExactDecimal(parsing: "1.00"))), actor: sam.actor).rule == .approvalPending)
        // The second decided: now the deal says so, and is unlocked.
        let made = try #require(hub.state[second]?.fields["state"]?.stamp)
        #expect(hub.submit(max.set(second, "approval", "state", .member("rejected"), base: .stamp(made)), actor: max.actor).outcome == .applied)
        #expect(hub.state[deal]?["approval_state"] == .member("rejected"))

        // The same the other way round: one decided while another waits keeps the lock.
        let third = Self.discountRequest(&hub, &sam, deal: deal, value: "15.00")
        let fourth = Self.discountRequest(&hub, &sam, deal: deal, value: "12.00")
        let thirdMade = try #require(hub.state[third]?.fields["state"]?.stamp)
        #expect(hub.submit(max.set(third, "approval", "state", .member("approved"), base: .stamp(thirdMade)), actor: max.actor).outcome == .applied)
        #expect(hub.state[deal]?["discount"].canonicalText == "15.00")
        #expect(hub.state[deal]?["approval_state"] == .member("pending"))
        #expect(hub.submit(sam.set(fourth, "approval", "withdrawn", .boolean(true)), actor: sam.actor).outcome == .applied)
        #expect(hub.state[deal]?["approval_state"] == .member("none"))
    }

    @Test func decidingTheSameWriteTwiceGivesTheSameVerdictAndEffects() throws {
        var hub = Reconciler(workspace: .default, directory: Directory(users: Self.users))
        var mia = Device(Self.users[0], seed: 5)
        let writes = Self.handOff(&mia, territory: "south")
        for w in writes.dropLast() { hub.submit(w, actor: mia.actor) }
        let memory = hub.memory
        func decide() throws -> (Verdict, [HubEffect]) {
            var d = BatchDecider(
                reader: memory, workspace: .default, directory: Directory(users: Self.users), clock: HybridLogicalClock(),
                hubReplica: Reconciler.hubReplica, hubTime: mia.now, maxClockAhead: 86_400_000)
            let v = try d.decide(writes.last!, actor: mia.actor)
            return (v, d.takeEffects() + d.finish())
        }
        let (a, effectsA) = try decide()
        let (b, effectsB) = try decide()
        #expect(a == b)
        #expect(effectsA == effectsB)
        // The stage move, its history, the assignment (ann, the south's rep) and the record.
        let logged = effectsA.compactMap { if case let .append(e) = $0 { e.field } else { nil } }
        #expect(logged == ["stage", "stage_log", "owner"])
        #expect(effectsA.contains(.meta(key: "assign.last.south", value: "ann")))
        #expect(effectsA.contains { if case let .save(r) = $0 { r.owner == "ann" } else { false } })
    }

    @Test func aDeviceClockFarAheadIsRefusedAndKeptAsItsConflict() {
        var hub = Reconciler(workspace: .default, directory: Directory(users: Self.users))
        var mia = Device(Self.users[0], seed: 6)
        let lead = mia.create("opportunity", stage: "lead")
        let verdict = hub.verdict(lead, actor: mia.actor, at: mia.now - 2 * 86_400_000)
        #expect(verdict.decision.rule == .clockAhead)
        #expect(verdict.conflict == 1)
        #expect(hub.state[lead.record] == nil)
    }

    /// A write's visibility check and the pull's view are the one rule: for every user and
    /// record of the property workloads, the decider sees a record exactly when the view holds
    /// it (or it hangs off a record not set yet and the user created it).
    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func theDecidersVisibilityIsTheViewsRule(seed: UInt64) throws {
        var w = Workload(seed: seed)
        w.run(steps: 400)
        let memory = w.hub.memory
        let directory = w.hub.directory
        var checked = 0
        for user in Workload.users {
            let actor = Actor(user: user.name, role: user.role)
            let view = memory.workspace.view(of: memory.state, for: actor, directory: directory)
            var d = BatchDecider(
                reader: memory, workspace: memory.workspace, directory: directory, clock: HybridLogicalClock(),
                hubReplica: Reconciler.hubReplica, hubTime: 0, maxClockAhead: 0)
            for r in memory.state.records.values.sorted(by: { $0.id < $1.id }) where !r.isDeleted {
                let orphan =
                    memory.workspace.entity(r.entity).map { memory.workspace.visibility(of: r, entity: $0, user: user.name) == .own && $0.visibleVia != nil } ?? false
                #expect(try d.visible(r, to: actor) == (view[r.id] != nil || orphan), "seed \(seed): \(user.name) \(r.entity) \(r.id)")
                checked += 1
            }
        }
        #expect(checked > 50)
    }
}

/// The team rule is workspace data (workspace-format.md "team"): named, it is used; a bad one is
/// refused with the key that is wrong; absent, the conventional membership rule holds.
@Suite struct TeamRuleTests {
    static func document(team: String) -> String {
        Workspace.defaultDocument.replacingOccurrences(of: "\"stage_history\": \"stage_log\",", with: "\"stage_history\": \"stage_log\", \"team\": \(team),")
    }

    @Test func aNamedTeamRuleIsReadAndTheDefaultIsTheConventionalOne() throws {
        #expect(Workspace.default.teamRule == TeamRule(entity: "membership", parent: "opportunity", user: "user", state: "state", active: "active"))
        // Requested members count as the team when the workspace says so.
        let ws = try Workspace.decode(Self.document(team: #"{"entity": "membership", "user": "user", "state": "state", "active": "requested"}"#))
        #expect(ws.teamRule?.active == "requested")
        var rng = SeededGenerator(seed: 1)
        let deal = UUID128.version7(milliseconds: 1, using: &rng)
        var m = Record(
            id: UUID128.version7(milliseconds: 2, using: &rng), entity: "membership",
            created: FieldState(value: .null, stamp: Stamp(hlc: HLC(rawValue: 1), replica: .random(using: &rng)), author: "max", authority: .own))
        for (f, v) in [("opportunity", Value.reference(deal)), ("user", .text("eve")), ("state", .member("requested"))] {
            m.fields[f] = FieldState(value: v, stamp: m.created.stamp, author: "max", authority: .own)
        }
        #expect(ws.teamRule?.team(of: deal, among: [m]) == ["eve"])
        #expect(Workspace.default.teamRule?.team(of: deal, among: [m]) == [])
    }

    @Test(arguments: [
        (#"{"entity": "crew", "user": "user", "state": "state", "active": "active"}"#, "team.entity"),
        (#"{"entity": "account", "user": "user", "state": "state", "active": "active"}"#, "team.entity"),
        (#"{"entity": "membership", "user": "role", "state": "state", "active": "active"}"#, "team.user"),
        (#"{"entity": "membership", "user": "user", "state": "user", "active": "active"}"#, "team.state"),
        (#"{"entity": "membership", "user": "user", "state": "state", "active": "sleeping"}"#, "team.active"),
        (#"{"entity": "membership", "user": "user", "state": "state"}"#, "team.active"),
    ])
    func aBadTeamRuleIsRefusedNamingTheKey(team: String, key: String) {
        do {
            _ = try Workspace.decode(Self.document(team: team))
            Issue.record("accepted \(team)")
        } catch {
            #expect("\(error)".contains(key), "\(error)")
        }
    }
}
