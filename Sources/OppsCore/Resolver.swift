/// Who is writing: the user and role the hub took from the token (never from the body).
public struct Actor: Sendable, Hashable {
    public var user: UserName
    public var role: String

    public init(user: UserName, role: String) {
        self.user = user
        self.role = role
    }
}

/// Everything a rule looks at besides the field and the write: the workspace, the writer,
/// how the writer relates to the record, and the record as the deciding side holds it.
public struct RuleContext: Sendable {
    public var workspace: Workspace
    public var actor: Actor
    public var relations: Set<Relation>
    /// The record as the hub (or, for the laptop's check, the replica) holds it; nil when it
    /// does not exist yet.
    public var record: Record?
    /// The replica an older copy of which made the write (sync-protocol.md §5.5): the write is
    /// then also its stamp under that id, and holds only on top of the current value.
    public var olderCopy: ReplicaID?
    /// The record is absent because compaction removed its tombstone (merge-semantics.md §7.2):
    /// it was deleted, and stays so — a create naming its id makes nothing. Set only with
    /// `record` nil.
    public var compacted = false

    public init(workspace: Workspace, actor: Actor, relations: Set<Relation>, record: Record?) {
        self.workspace = workspace
        self.actor = actor
        self.relations = relations
        self.record = record
    }

    /// Whether `stamp` is the write's own: its stamp, or (from an older copy) the same hlc under
    /// the older copy's replica id — the other copy sent it already.
    func isOwn(_ stamp: Stamp, _ w: FieldWrite) -> Bool {
        stamp == w.stamp || olderCopy.map { stamp == Stamp(hlc: w.stamp.hlc, replica: $0) } ?? false
    }

    /// Whether the write was made on top of `current`; from an older copy, a `stamp` base naming
    /// the batch's replica also names the older copy's write with that hlc (§5.5).
    func baseMatches(_ w: FieldWrite, _ current: FieldState?) -> Bool {
        if w.base.matches(current) { return true }
        guard let olderCopy, case let .stamp(base) = w.base, base.replica == w.stamp.replica, let current else { return false }
        return current.stamp == Stamp(hlc: base.hlc, replica: olderCopy)
    }

    /// The record's current stage, for staged entities.
    public var stage: String? {
        guard let record, let entity = workspace.entity(record.entity), let sf = entity.stageField,
            case let .member(s) = record[sf]
        else { return nil }
        return s
    }
}

extension Workspace {
    /// The access a user has to a field of a record (DOMAIN.md ownership matrix): the laptop
    /// uses it to refuse a write before it is made, the hub inside `resolve`. Same tables,
    /// same answer (merge-semantics.md I10).
    public func permission(actor: Actor, relations: Set<Relation>, record: Record?, entity: String, field: String) -> Access {
        guard let e = self.entity(entity), let f = e.field(field) else { return .hidden }
        if let record, e.stageField != nil,
            !isVisible(
                record: record, entity: record.entity == entity ? e : self.entity(record.entity), role: actor.role,
                relations: relations)
        {
            return .hidden
        }
        return permission(actor: actor, relations: relations, stage: stage(of: record, in: e), entity: e, field: f)
    }

    /// What `actor` may do to `field` of a record of `entity` at `stage` holding `relations`.
    public func permission(actor: Actor, relations: Set<Relation>, stage: String?, entity: Entity, field: Field) -> Access {
        guard let group = entity.group(field.group), let rule = group.access[actor.role] else { return .hidden }
        return rule.access(stage: stage, relations: relations)
    }

    /// The fields of an `entity` record at `stage` that `actor` may not see — `permission` says
    /// hidden — in the one place the hub filters what it sends and what it checksums.
    public func hiddenFields(entity: String, stage: String?, actor: Actor, relations: Set<Relation>) -> Set<String> {
        guard let e = self.entity(entity) else { return [] }
        return Set(e.fields.filter { permission(actor: actor, relations: relations, stage: stage, entity: e, field: $0) == .hidden }.map(\.name))
    }

    func stage(of record: Record?, in entity: Entity) -> String? {
        guard let record, let sf = entity.stageField, case let .member(s) = record[sf] else { return nil }
        return s
    }

    /// The fields a create write sets besides creating the record: the initial stage, and the
    /// creator as owner when the workspace says so. The hub logs them as writes with the
    /// create's stamp; a replica derives the same ones locally.
    public func initialFields(of write: FieldWrite, role: String) -> [(field: String, value: Value)] {
        guard write.kind == .create, let entity = entity(write.entity) else { return [] }
        var out = [(String, Value)]()
        if let sf = entity.stageField, case .member = write.value { out.append((sf, write.value)) }
        if entity.ownerOnCreate.contains(role) { out.append(("owner", .text(write.author))) }
        return out
    }

    /// How a user relates to a record. `team` is the set of active team members (the hub
    /// derives it from membership records); `manages` says whether the user manages another.
    /// Whether the record is the user's own membership (`member`), or assigned to them
    /// (`assignee`), it reads from the record.
    public func relations(of user: UserName, to record: Record, team: Set<UserName>, manages: (UserName) -> Bool) -> Set<Relation> {
        var r = Self.relations(
            of: user, owner: record.owner, creator: record.creator, onTeam: team.contains(user), member: isMembership(record, of: user), manages: manages)
        if isAssigned(record, to: user) { r.insert(.assignee) }
        return r
    }

    /// Whether `record`'s entity names an `assigned_to` field and it holds `user` (the relation
    /// `assignee`).
    public func isAssigned(_ record: Record, to user: UserName) -> Bool {
        guard let field = assigneeField(of: record.entity), !user.isEmpty else { return false }
        return record[field] == .text(user)
    }

    /// Whether `record` is the one that puts `user` on its parent's team (the relation `member`).
    public func isMembership(_ record: Record, of user: UserName) -> Bool {
        guard let rule = teamRule, record.entity == rule.entity else { return false }
        return rule.member(record)?.user == user
    }

    /// The same from the record's owner and creator alone (the hub's narrow index has them),
    /// and whether it is the user's own membership (the hub's teams table says). Never
    /// `assignee`: what a reader sees does not depend on it (the workspace is refused otherwise).
    public static func relations(
        of user: UserName, owner: UserName?, creator: UserName, onTeam: Bool, member: Bool, manages: (UserName) -> Bool
    ) -> Set<Relation> {
        var r = Set<Relation>()
        if owner == user { r.insert(.owner) }
        if creator == user { r.insert(.creator) }
        if onTeam { r.insert(.team) }
        if member { r.insert(.member) }
        if let subject = owner ?? Optional(creator), subject != user, manages(subject) { r.insert(.managed) }
        return r
    }

    /// True when a user of `role` with these relations may see the record.
    public func isVisible(record: Record, role: String, relations: Set<Relation>) -> Bool {
        isVisible(record: record, entity: entity(record.entity), role: role, relations: relations)
    }

    /// The same with the record's entity already at hand (the hub decides every write with it:
    /// looking it up again copied it).
    func isVisible(record: Record, entity: Entity?, role: String, relations: Set<Relation>) -> Bool {
        guard let r = self.role(role) else { return false }
        let stage = entity.flatMap { self.stage(of: record, in: $0) }
        return r.sees.contains { condition in
            switch condition {
            case .all: true
            case let .relation(rel): relations.contains(rel)
            case let .stage(s): stage == s
            }
        }
    }
}

extension Workspace {
    /// Whether a value meets a stage gate (`leave_requires`, `enter_requires`, the hand-off
    /// checklist): set, a boolean true, a text not empty.
    public static func meetsGate(_ v: Value) -> Bool {
        switch v {
        case .null: false
        case let .boolean(b): b
        case let .text(s): !s.isEmpty
        default: true
        }
    }

    /// The open stage after `record`'s and the fields its gate still needs to get there (the
    /// stage's `leave_requires`, and the hand-off's checklist when the record is where a
    /// hand-off starts), in the workspace's order; nil for a record without a stage, a closed
    /// one, or one at the last open stage. What `opps new` and a deal's page say comes next.
    public func nextGate(of record: Record) -> (next: Stage, missing: [String])? {
        guard let sf = entity(record.entity)?.stageField, case let .member(stage) = record[sf], let i = stageIndex(stage), i + 1 < stages.count,
            !stages[i].closed, !stages[i + 1].closed
        else { return nil }
        var missing = stages[i].leaveRequires.filter { !Self.meetsGate(record[$0]) }
        if let h = handoff, h.from == stage { missing += h.checklist.filter { !Self.meetsGate(record[$0]) && !missing.contains($0) } }
        return (stages[i + 1], missing)
    }
}

/// The one rule that decides every write, on the hub and — for the pre-check — on the laptop
/// (merge-semantics.md §4–§6). Pure: same inputs, same decision, on every machine.
public func resolve(current: FieldState?, incoming w: FieldWrite, context c: RuleContext) -> Decision {
    let ws = c.workspace
    func refuse(_ rule: RuleID, _ detail: String, access: Access = .hidden, missing: [String] = []) -> Decision {
        Decision(
            outcome: .rejected, rule: rule, detail: detail, authority: access, winner: current,
            loser: incomingState(w, authority: access), missing: missing)
    }
    guard let entity = ws.entity(w.entity) else { return refuse(.unknownEntity, "unknown entity \"\(w.entity)\"") }
    guard ws.role(c.actor.role) != nil else { return refuse(.unknownRole, "unknown role \"\(c.actor.role)\"") }
    guard w.author == c.actor.user else { return refuse(.forgedAuthor, "a write's author is the authenticated user") }
    if let record = c.record, record.entity != w.entity {
        return refuse(.recordExists, "record exists as \(record.entity), not \(w.entity)")
    }

    switch w.kind {
    case .create:
        if c.compacted { return refuse(.recordDeleted, "the record was deleted") }
        if let record = c.record {
            if c.isOwn(record.created.stamp, w) { return Decision(outcome: .duplicate, rule: .duplicate, winner: record.created) }
            return refuse(.recordExists, "the record already exists")
        }
        guard let allowed = entity.create[c.actor.role] else {
            return refuse(.createNotPermitted, "\(c.actor.role) may not create \(entity.name)")
        }
        if entity.stageField != nil {
            guard case let .member(stage) = w.value, allowed.contains(stage) else {
                return refuse(.createNotPermitted, "\(c.actor.role) creates \(entity.name) in: \(allowed.joined(separator: ", "))")
            }
        } else if !w.value.isNull {
            return refuse(.typeMismatch, "\(entity.name) has no stages: a create carries no value")
        }
        let state = FieldState(value: w.value, stamp: w.stamp, author: w.author, authority: .own)
        return Decision(outcome: .applied, rule: .create, authority: .own, winner: state)

    case .delete:
        guard let record = c.record else {
            return c.compacted ? refuse(.recordDeleted, "the record is already deleted") : refuse(.recordMissing, "no such record")
        }
        if let d = record.deleted {
            if c.isOwn(d.stamp, w) { return Decision(outcome: .duplicate, rule: .duplicate, winner: d) }
            return refuse(.recordDeleted, "the record is already deleted")
        }
        guard entity.delete.contains(c.actor.role),
            ws.isVisible(record: record, entity: entity, role: c.actor.role, relations: c.relations) || entity.visibleVia != nil
        else { return refuse(.deleteNotPermitted, "\(c.actor.role) may not delete \(entity.name)") }
        let state = FieldState(value: .null, stamp: w.stamp, author: w.author, authority: .own)
        return Decision(outcome: .applied, rule: .delete, authority: .own, winner: state)

    case .set:
        break
    }

    guard let record = c.record else {
        return c.compacted ? refuse(.recordDeleted, "the record was deleted") : refuse(.recordMissing, "no such record")
    }
    if let current, c.isOwn(current.stamp, w) { return Decision(outcome: .duplicate, rule: .duplicate, winner: current) }
    // I9: a tombstone wins over every concurrent edit.
    if record.isDeleted { return refuse(.recordDeleted, "the record was deleted") }
    // A user writes only what they may see (DOMAIN.md visibility). For entities that hang off
    // another record the hub checks the parent's visibility before calling resolve.
    if entity.stageField != nil, !ws.isVisible(record: record, entity: entity, role: c.actor.role, relations: c.relations) {
        return refuse(.notVisible, "the record is not visible to this user")
    }
    guard let field = entity.field(w.field) else { return refuse(.unknownField, "\(entity.name) has no field \"\(w.field)\"") }
    let value: Value
    switch field.normalise(w.value) {
    case let .success(v): value = v
    case let .failure(e): return refuse(.typeMismatch, "\(field.name): \(e.message)")
    }
    var write = w
    write.value = value
    let stage = ws.stage(of: record, in: entity)
    let access = ws.permission(actor: c.actor, relations: c.relations, stage: stage, entity: entity, field: field)
    func refuseNormalised(_ rule: RuleID, _ detail: String, missing: [String] = []) -> Decision {
        Decision(
            outcome: .rejected, rule: rule, detail: detail, authority: access, winner: current,
            loser: incomingState(write, authority: access), missing: missing)
    }
    func propose(_ rule: RuleID, _ detail: String) -> Decision {
        Decision(
            outcome: .proposal, rule: rule, detail: detail, authority: access, winner: current,
            loser: incomingState(write, authority: access))
    }
    let isStageField = field.name == entity.stageField

    if access == .hidden { return refuseNormalised(.notVisible, "\(c.actor.role) cannot see \(field.name)" + (stage.map { " in \($0)" } ?? "")) }
    if access == .read { return refuseNormalised(.readOnly, "\(c.actor.role) may only read \(field.name)" + (stage.map { " in \($0)" } ?? "")) }
    if isStageField, value.isNull { return refuseNormalised(.typeMismatch, "the stage cannot be empty") }
    // I8: append-only records are written once, by their creator, field by field.
    if entity.appendOnly, current != nil || w.author != record.creator {
        return refuseNormalised(.appendOnly, "\(entity.name) records are append-only")
    }
    // An append-only record tells what happened: none of its times may lie after the moment it
    // was written (device time, with five minutes for clocks that disagree). With I15 this bounds
    // how far a report's follow-up times can be pushed.
    if entity.appendOnly, case let .timestamp(t) = value, t.milliseconds > w.stamp.hlc.milliseconds + 300_000 {
        return refuseNormalised(.futureTime, "\(field.name) is in the future: an \(entity.name) records what already happened")
    }
    // The approval rules, read once (each read copied them).
    let approvals = ws.approvals
    let isRequest = approvals?.requests == entity.name
    // A request's creator may take it back until it is decided (§7.1 "Withdrawal"): withdrawn
    // is only ever true, and a request decided or withdrawn already is not taken back.
    if isRequest, field.name == Approvals.withdrawnField {
        guard value == .boolean(true) else { return refuseNormalised(.typeMismatch, "withdrawn is only ever true: a withdrawal is not undone") }
        if case let .member(state) = record["state"], state != "pending" {
            return refuseNormalised(.alreadyDecided, "the request was already \(state) by \(record.fields["state"]?.author ?? "")")
        }
    }
    // I13: what an approver writes in a request's state is a decision, approved or rejected
    // (not cleared: a request without a state reads as not yet made); who decided is the hub's
    // to write, from the decision.
    if isRequest, field.name == "state", !Approvals.decisions.contains(where: { value == .member($0) }) {
        return refuseNormalised(.typeMismatch, "a decision is approved or rejected")
    }
    if isRequest, field.name == "decided_by" {
        return refuseNormalised(.readOnly, "decided_by is written by the hub, from the decision")
    }
    // I14: a write-once field never changes once it holds a value — not even by its writer — so
    // an approval request is what its approver saw, and a membership names one user for good.
    if field.writeOnce, let current, !current.value.isNull {
        return refuseNormalised(.writeOnce, "\(field.name) is set once: make a new \(entity.name) instead")
    }
    // Commercial fields are locked while an approval is pending (DOMAIN.md approvals).
    if let ap = approvals, ap.locks(field, of: record, in: entity, for: c.actor.role) {
        return refuseNormalised(.approvalPending, "\(field.name) is locked while an approval is pending")
    }
    // An approval request is immutable once made (DOMAIN.md approvals): when it has a state
    // (pending, or decided), nothing it asks for may be added — an approver approves what they saw.
    if isRequest, let decisionGroup = entity.field("state")?.group, field.group != decisionGroup, field.name != Approvals.withdrawnField,
        !record["state"].isNull
    {
        return refuseNormalised(.writeOnce, "the request was already made: make a new one")
    }
    // An approval request is decided once: the first decision the hub sequences stands; the
    // decider may still amend their own note, and only that (DOMAIN.md approvals, merge-semantics I13).
    if isRequest, entity.field("state")?.group == field.group,
        case let .member(state) = record["state"], state != "pending", let decided = record.fields["state"], decided.author != w.author || field.name != "note"
    {
        return refuseNormalised(.alreadyDecided, "the request was already \(state) by \(decided.author)")
    }
    if access == .propose { return propose(.proposeOnly, "\(c.actor.role) may only propose \(field.name)") }

    if isStageField, case let .member(to) = value, let from = stage, from != to {
        if let verdict = stageTransition(from: from, to: to, record: record, entity: entity, role: c.actor.role, workspace: ws) {
            return verdict.outcome == .proposal
                ? propose(verdict.rule, verdict.detail)
                : refuseNormalised(verdict.rule, verdict.detail, missing: verdict.missing)
        }
    }
    // A value above an approval threshold is a proposal until an approver decides.
    if let ap = approvals, !ap.approvers.contains(c.actor.role), entity.stageField != nil, case let .decimal(d) = value {
        for rule in ap.rules where rule.leaving == nil && rule.field == field.name && d > rule.above {
            return propose(.approvalRequired, "\(field.name) above \(rule.above) needs approval")
        }
    }

    let incoming = FieldState(value: value, stamp: w.stamp, author: w.author, authority: access)
    // I1: a permitted write on top of the current value applies.
    if c.baseMatches(w, current) { return Decision(outcome: .applied, rule: .baseCurrent, authority: access, winner: incoming) }
    guard let current else {
        return Decision(outcome: .applied, rule: .noCompetingValue, authority: access, winner: incoming)
    }
    // §5.5: a write an older copy of a replica sends again may have been sent by the other copy
    // and built on since: it never displaces a value it did not see.
    if c.olderCopy != nil {
        return Decision(
            outcome: .lost, rule: .olderCopy, detail: "sent again by an older copy of its replica, and the value changed since it was made",
            authority: access, winner: current, loser: incoming)
    }
    // I4: concurrent writes: more authority wins; between equals the later stamp (hlc, then replica).
    let incomingWins: Bool
    let rule: RuleID
    if access != current.authority {
        incomingWins = access > current.authority
        rule = .authority
    } else {
        incomingWins = current.stamp < w.stamp
        rule = current.stamp.hlc == w.stamp.hlc ? .replicaTieBreak : .laterClock
    }
    if incomingWins {
        return Decision(outcome: .won, rule: rule, authority: access, winner: incoming, loser: current)
    }
    return Decision(outcome: .lost, rule: rule, authority: access, winner: current, loser: incoming)
}

func incomingState(_ w: FieldWrite, authority: Access) -> FieldState {
    FieldState(value: w.value, stamp: w.stamp, author: w.author, authority: authority)
}

extension Workspace {
    /// The fields `record` still lacks to move to `stage` (a gate, the hand-off checklist), for
    /// a user of `role`; empty when nothing is missing or the move is refused for another reason.
    public func stageMoveMissing(of record: Record, to stage: String, role: String) -> [String] {
        guard let entity = entity(record.entity), entity.stageField != nil, let from = self.stage(of: record, in: entity), from != stage else { return [] }
        return stageTransition(from: from, to: stage, record: record, entity: entity, role: role, workspace: self)?.missing ?? []
    }

    /// Why moving `record` to `stage` is refused by the stage rules for a user of `role` (gates,
    /// sticky stages, backward moves), or nil. Proposals do not count: an approved request is the
    /// confirmation. The hub asks it before applying an approved stage move, so an approval never
    /// skips a gate (a deal closed as lost without its loss reason).
    public func stageMoveRefusal(of record: Record, to stage: String, role: String) -> String? {
        guard let entity = entity(record.entity), entity.stageField != nil, let from = self.stage(of: record, in: entity), from != stage else { return nil }
        guard let verdict = stageTransition(from: from, to: stage, record: record, entity: entity, role: role, workspace: self),
            verdict.outcome == .rejected
        else { return nil }
        return verdict.detail
    }
}

/// A stage move that does not simply apply: why, and whether it is refused or proposed.
struct StageVerdict {
    var outcome: Outcome
    var rule: RuleID
    var detail: String
    var missing: [String] = []
}

/// Stage rules of DOMAIN.md "The default pipeline", driven by the workspace: gates, the
/// hand-off checklist, sticky won/lost, backward moves, confirmations and approval gates.
/// nil: the move is allowed.
func stageTransition(from: String, to: String, record: Record, entity: Entity, role: String, workspace ws: Workspace) -> StageVerdict? {
    guard let fi = ws.stageIndex(from), let ti = ws.stageIndex(to) else {
        return StageVerdict(outcome: .rejected, rule: .typeMismatch, detail: "unknown stage")
    }
    let source = ws.stages[fi], target = ws.stages[ti]
    let isOverride = ws.overrideRoles.contains(role)
    func satisfied(_ f: String) -> Bool { Workspace.meetsGate(record[f]) }
    // I11: won and lost are sticky: only an override role reopens.
    if source.closed {
        return isOverride ? nil : StageVerdict(outcome: .rejected, rule: .stickyClosed, detail: "\(from) is closed: only a manager reopens it")
    }
    var missing = target.enterRequires.filter { !satisfied($0) }
    if target.fromAnyOpen {
        if !target.confirmBy.isEmpty, !target.confirmBy.contains(role) {
            return StageVerdict(outcome: .proposal, rule: .needsConfirmation, detail: "moving to \(to) needs confirmation")
        }
        return missing.isEmpty
            ? nil : StageVerdict(outcome: .rejected, rule: .stageGate, detail: "entering \(to) needs: " + missing.joined(separator: ", "), missing: missing)
    }
    if ti < fi {
        if fi - ti > 1, !isOverride {
            return StageVerdict(outcome: .rejected, rule: .backwardMove, detail: "moving back more than one stage is a manager's act")
        }
        if let h = ws.handoff, from == h.to, to == h.from, let reason = h.rejectReason, !satisfied(reason) {
            return StageVerdict(outcome: .rejected, rule: .reasonRequired, detail: "rejecting a hand-off needs \(reason)", missing: [reason])
        }
        return nil
    }
    // Forward: every stage left behind must have its gate satisfied.
    var checklistMissing = [String]()
    for stage in ws.stages[fi..<ti] {
        for f in stage.leaveRequires where !satisfied(f) && !missing.contains(f) { missing.append(f) }
        if let h = ws.handoff, stage.name == h.from {
            for f in h.checklist where !satisfied(f) && !missing.contains(f) {
                missing.append(f)
                checklistMissing.append(f)
            }
        }
    }
    if !missing.isEmpty {
        let rule: RuleID = checklistMissing.count == missing.count ? .handoffChecklist : .stageGate
        return StageVerdict(outcome: .rejected, rule: rule, detail: "leaving \(from) needs: " + missing.joined(separator: ", "), missing: missing)
    }
    if let ap = ws.approvals, !ap.approvers.contains(role) {
        for rule in ap.rules {
            guard let leaving = rule.leaving, let li = ws.stageIndex(leaving), fi <= li, li < ti,
                case let .decimal(d) = record[rule.field], d > rule.above,
                record[ap.stateField] != .member("approved")
            else { continue }
            return StageVerdict(outcome: .proposal, rule: .approvalRequired, detail: "leaving \(leaving) with \(rule.field) above \(rule.above) needs approval")
        }
    }
    if !target.confirmBy.isEmpty, !target.confirmBy.contains(role) {
        return StageVerdict(outcome: .proposal, rule: .needsConfirmation, detail: "moving to \(to) needs confirmation")
    }
    return nil
}
