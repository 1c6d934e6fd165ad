import OppsConsole
import OppsCore

/// The day's work that both the command line and the web app do: one path each, the same
/// rules, the same outbox.
extension Replica {
    /// Decides an approval request (approvers), offline too: `approved` or `rejected`, with a
    /// note for the requester; it takes effect at the hub when synced. Returns the request.
    @discardableResult
    public func decide(request id: RecordID, _ decision: String, note: String?) throws -> (result: EditResult, request: Record) {
        guard let name = workspace.approvals?.requests else { throw ReplicaError.invalid("this workspace has no approval requests") }
        guard let a = try record(id), a.entity == name else {
            throw ReplicaError.invalid("\(id) is not an approval request (see: opps approvals)", chinese: "\(id) 不是审批申请（见 opps approvals）")
        }
        guard decision == "approved" || decision == "rejected" else { throw ReplicaError.invalid("a decision is approved or rejected") }
        if a["state"].isNull { throw ReplicaError.invalid("this request has not reached the hub yet: sync first", chinese: "这个申请还没有到达服务器：请先同步") }
        var changes: [(String, Value)] = [("state", .member(decision))]
        if let note, !note.isEmpty { changes.append(("note", .text(note))) }
        return (try edit(id, changes), a)
    }

    /// Takes back one's own request before it is decided (merge-semantics §7.1 "Withdrawal"):
    /// writes `withdrawn`; the hub then says `withdrawn` and unlocks the deal. Offline too, and
    /// before the request reached the hub (it then never waits for anyone).
    public func withdraw(request id: RecordID) throws -> (result: EditResult, request: Record) {
        guard let name = workspace.approvals?.requests else { throw ReplicaError.invalid("this workspace has no approval requests", chinese: "这个工作区没有审批申请") }
        guard let a = try record(id), a.entity == name else {
            throw ReplicaError.invalid("\(id) is not an approval request (see: opps approvals)", chinese: "\(id) 不是审批申请（见 opps approvals）")
        }
        if let refusal = withdrawalRefusal(a) { throw refusal }
        return (try edit(id, [(Approvals.withdrawnField, .boolean(true))]), a)
    }

    /// Why this user may not withdraw `request` (an approval request), or nil when they may:
    /// what `opps withdraw` says, and whether a surface offers it (`mayWithdraw`).
    func withdrawalRefusal(_ request: Record) -> ReplicaError? {
        if workspace.entity(request.entity)?.field(Approvals.withdrawnField) == nil {
            return .invalid(
                "this hub's rules do not let a request be withdrawn (workspace version \(workspace.version)): ask the hub's operator",
                chinese: "这个服务器的规则（工作区版本 \(workspace.version)）不支持撤回申请：请联系服务器管理员")
        }
        if request.creator != user {
            return .invalid("only who asked may withdraw a request: this one is \(request.creator)'s", chinese: "只有申请人才能撤回申请：这个申请是 \(request.creator) 的")
        }
        if request[Approvals.withdrawnField] == .boolean(true) { return .invalid("this request is withdrawn already", chinese: "这个申请已经撤回了") }
        if case let .member(state) = request["state"], state != "pending" {
            let said = Vocabulary(workspace, locale: "zh-CN").value(request.entity, "state", request["state"])
            return .invalid("this request was \(state) already: there is nothing to withdraw", chinese: "这个申请已经\(said)，无需撤回")
        }
        return nil
    }

    /// Moves a deal to `stage` (its name), with the reason when there is one: the loss reason
    /// when moving to a stage reachable from any open one (lost), else the hand-off's rejection
    /// reason. Gates and ownership rules apply as for any edit.
    public func moveStage(_ id: RecordID, to stage: String, reason: String?) throws -> EditResult {
        var changes = [(String, Value)]()
        if let reason, !reason.isEmpty {
            if workspace.stage(stage)?.fromAnyOpen == true, let lossField = workspace.entity("opportunity")?.field("loss_reason") {
                changes.append(("loss_reason", try parse(reason, for: lossField, of: "opportunity")))
            } else if let field = workspace.handoff?.rejectReason {
                changes.append((field, .text(reason)))
            }
        }
        changes.append(("stage", .member(stage)))
        return try edit(id, changes)
    }

    /// Every deal (each entity with stages) with its activities and team memberships: what the
    /// pipeline reports are computed from, as this laptop holds them.
    public func pipeline() throws -> Pipeline {
        let needed: Set<String> = ["activity", "membership"]
        var builder = Pipeline.Builder(workspace: workspace)
        for e in workspace.entities where (needed.contains(e.name) || e.stageField != nil) && e.name != Pipeline.Builder.activity {
            try store.forEach(entity: e.name, workspace: workspace) { builder.add($0) }
        }
        try addActivities(to: &builder)
        return try pipeline(builder)
    }

    /// Every activity held, as its deal and time: read from its row's parent and one field
    /// where the activity hangs off its deal by that field (the default workspace), else whole.
    func addActivities(to builder: inout Pipeline.Builder) throws {
        let activity = Pipeline.Builder.activity
        if workspace.entity(activity)?.visibleVia == Pipeline.Builder.activityDeal {
            try store.forEachChild(entity: activity, field: Pipeline.Builder.activityTime, workspace: workspace) { builder.addActivity(on: $0, at: $1, created: $2) }
        } else {
            try store.forEach(entity: activity, workspace: workspace) { builder.add($0) }
        }
    }

    /// `kept` (a pipeline this replica gave) with the entries of `deals` read again, each with its
    /// activities and team: what a full build would give after edits that touched only those
    /// deals and what hangs off them. Nil where a workspace keeps activities or members off their
    /// deal by another field than the row's parent (then only a full build reads them right).
    public func pipeline(patching kept: Pipeline, deals ids: some Sequence<RecordID>) throws -> Pipeline? {
        let activity = Pipeline.Builder.activity
        let members = workspace.teamRule.flatMap { rule in rule.entity == "membership" && workspace.entity(rule.entity)?.visibleVia == rule.parent ? rule.entity : nil }
        guard workspace.entity(activity).map({ $0.visibleVia == Pipeline.Builder.activityDeal }) ?? true,
            workspace.teamRule == nil || members != nil
        else { return nil }
        let dealEntity = workspace.dealEntity?.name
        var p = kept
        for id in Set(ids) {
            var builder = Pipeline.Builder(workspace: workspace)
            for r in try store.children(of: id, entity: activity, workspace: workspace) { builder.add(r) }
            if let members { for r in try store.children(of: id, entity: members, workspace: workspace) { builder.add(r) } }
            let deal = try store.view(id, workspace: workspace).flatMap { $0.entity == dealEntity && !$0.isDeleted ? $0 : nil }
            let children = builder.pipeline()
            p = p.replacing(id, with: deal, activities: children.activities[id] ?? [], team: children.teams[id] ?? [], pending: try pendingMoves(of: id)[id] ?? [])
        }
        return p
    }

    /// A pipeline of `records` read on this device's clock (which day a follow-up falls on).
    public func pipeline(of records: [Record]) throws -> Pipeline {
        var builder = Pipeline.Builder(workspace: workspace)
        for r in records { builder.add(r) }
        return try pipeline(builder)
    }

    /// A pipeline of `deals` with every activity held, read one at a time (what `today` and
    /// `list --stale` ask of a deal: its last follow-up).
    public func pipeline(ofDeals deals: [Record]) throws -> Pipeline {
        var builder = Pipeline.Builder(workspace: workspace)
        for deal in deals { builder.add(deal) }
        try addActivities(to: &builder)
        return try pipeline(builder)
    }

    /// The stage moves made here and not yet synced (the outbox's writes of a deal's stage
    /// field), by deal, in the order made: each a step of the deal's history in every report,
    /// as the hub will log it (device time), not one jump to the last.
    func pendingMoves(of deal: RecordID? = nil) throws -> [RecordID: [StageStep]] {
        guard let sf = workspace.dealEntity?.stageField else { return [:] }
        var moves = [RecordID: [StageStep]]()
        for e in try store.outbox(replica: id, author: user, record: deal, field: sf) {
            guard e.write.kind == .set, case let .member(stage) = e.write.value else { continue }
            moves[e.write.record, default: []].append(StageStep(to: stage, at: e.write.stamp.hlc.milliseconds, by: user))
        }
        return moves
    }

    /// The pipeline `builder` gathered, with this laptop's stage moves not yet synced, read on
    /// this device's clock.
    func pipeline(_ builder: Pipeline.Builder) throws -> Pipeline {
        var builder = builder
        for (deal, moves) in try pendingMoves() { for m in moves { builder.addPendingMove(m, on: deal) } }
        var p = builder.pipeline()
        p.offsetSeconds = LocalTime.offsetSeconds(at: physical.nowMilliseconds())
        return p
    }

    /// Logs an activity on a deal (call, visit, email, meeting, checkin, note): append-only,
    /// at `at` (device time) and merged as a union.
    public func logActivity(deal: RecordID, kind: String, at: Value, note: String?, place: String?) throws -> EditResult {
        guard try record(deal)?.entity == "opportunity" else { throw ReplicaError.invalid("\(deal) is not a deal", chinese: "\(deal) 不是商机") }
        guard let entity = workspace.entity("activity"), let kindField = entity.field("kind") else { throw ReplicaError.invalid("this workspace has no activities") }
        var fields: [(String, Value)] = [("opportunity", .reference(deal)), ("kind", try parse(kind, for: kindField, of: entity.name)), ("at", at)]
        if let note, !note.isEmpty { fields.append(("note", .text(note))) }
        if let place, !place.isEmpty { fields.append(("place", .text(place))) }
        var rng = SystemRandomNumberGenerator()
        return try create(entity: "activity", stage: nil, fields: fields, using: &rng)
    }
}

extension Replica {
    /// A deal's timeline: stage moves, activities, tasks, approvals, team changes and this
    /// laptop's conflicts on it, oldest first, by device time (Timeline.swift).
    public func timeline(of deal: Record) throws -> [TimelineEvent] {
        let records = try ["activity", "task", workspace.approvals?.requests ?? "approval", "membership"]
            .filter { workspace.entity($0) != nil }
            .flatMap { try self.related($0, of: deal.id) }
        let conflicts = try store.conflicts().filter { $0.record == deal.id }.map { c in
            TimelineEvent(
                at: c.hubMilliseconds, by: c.author,
                kind: .conflict(number: c.id, field: c.field, value: c.value, outcome: c.outcome, rule: c.rule, winner: c.winner), record: deal.id)
        }
        return Timeline.events(of: deal, related: records, workspace: workspace, extra: conflicts, pending: try pendingMoves(of: deal.id)[deal.id] ?? [])
    }

    /// What this user may do to a field of a record now (the same rule `edit` checks).
    public func access(to record: Record, field: String) throws -> Access {
        workspace.permission(actor: Actor(user: user, role: role), relations: try relations(to: record), record: record, entity: record.entity, field: field)
    }

    /// The fields of a record this user may change now, each with their access (propose or
    /// more): not the stage (moved by its own command), not the stage log, not a field locked
    /// while an approval is pending, not a write-once field already set. The web page's inputs
    /// and `opps show`'s "empty, yours to fill" both ask it.
    public func changeableFields(of record: Record) throws -> [String: Access] {
        let entity = workspace.entity(record.entity)
        let locked = try lockedFields(of: record)
        return try accessByField(to: record).filter { name, access in
            guard access >= .propose, name != entity?.stageField, name != workspace.stageHistory, !locked.contains(name) else { return false }
            return !(entity?.field(name)?.writeOnce ?? false) || record[name].isNull
        }
    }

    /// The field's value now, when it is no longer the one that held when the hub decided
    /// `conflict` (someone wrote it since); nil when it is the same, or when this user was not
    /// shown the decision's value or may not read the field now (never a value hidden from them).
    public func changedSince(_ conflict: LocalConflict) throws -> Value? {
        guard let held = conflict.winner, let record = try record(conflict.record), !record.isDeleted,
            let access = try accessByField(to: record)[conflict.field], access != .hidden
        else { return nil }
        let now = record[conflict.field]
        return now == held ? nil : now
    }

    /// The same for every field of the record, its relations to the user worked out once.
    public func accessByField(to record: Record) throws -> [String: Access] {
        let relations = try relations(to: record)
        let actor = Actor(user: user, role: role)
        var table = [String: Access]()
        for f in workspace.entity(record.entity)?.fields ?? [] {
            table[f.name] = workspace.permission(actor: actor, relations: relations, record: record, entity: record.entity, field: f.name)
        }
        return table
    }
}

/// One line of a user's day (`opps today`, the web app's Today).
public struct AgendaItem: Sendable, Hashable {
    /// `task`, `next_step` or `stale`.
    public var kind: String
    /// The task or the deal.
    public var id: RecordID
    public var deal: RecordID
    public var text: String
    /// When it is due; for a stale deal, the day of its last follow-up.
    public var due: CivilDate?
    /// The deal's owner, for an item of a manager's team.
    public var owner: UserName?
    /// For a deal held up by fields this user owns (`Agenda.toFill`): those fields, in the
    /// workspace's order.
    public var fields: [String] = []
}

/// What a user has to do today: due, overdue, and their open deals gone stale; for a manager,
/// their team's deals that slipped; for an approver, the requests waiting for them.
public struct Agenda: Sendable {
    /// Items a list of the day shows before it says how many more (`opps today`, the web's Today;
    /// asked for, every one). A day of a few dozen is read whole; a laptop of 100,000 quiet deals
    /// printed 500,000 lines.
    public static let shownFirst = 25

    public var due: [AgendaItem] = []
    public var overdue: [AgendaItem] = []
    public var stale: [AgendaItem] = []
    /// A manager's (a role that sees the deals of those it manages): open deals others own on
    /// this replica whose next step is overdue (`next_step`) or that went stale (`stale`), by
    /// owner, then date.
    public var team: [AgendaItem] = []
    /// Approval requests waiting for this user's decision (an approver's; others' requests).
    public var awaitingDecision = 0
    /// Won deals no one has taken on yet (DOMAIN.md: "success accepts the hand-off"): their
    /// post-sale owner (`onboarding`) empty, and this user one who owns that field there — a
    /// success manager's. Dated by their close date, the longest waiting first.
    public var handOffs: [AgendaItem] = []
    /// Won deals this user is the post-sale owner of whose renewal date is past (not renewed: a
    /// renewal done gets its next date), today or in the next `renewalDays`, the oldest first.
    /// A renewal whose day passed stayed off the day, as if done.
    public var renewals: [AgendaItem] = []
    /// How far ahead `renewals` looks: a renewal is prepared weeks before its day.
    public static let renewalDays = 30
    /// How many days a lead handed to one of a manager's reps waits unaccepted before it is on
    /// the manager's day (`team`, kind `unaccepted`): a rep who has not taken it on by the second
    /// day has not seen it, or does not want it.
    public static let unacceptedDays = 2
    /// Won deals this user is the post-sale owner of whose health is red (at risk), dated by the
    /// day it was set so, the longest first: a success manager's customers to look after first.
    public var atRisk: [AgendaItem] = []
    /// Leads handed to this user that they have not yet accepted or sent back (DOMAIN.md
    /// qualified: "the rep accepts (moves on) or rejects with a reason"): deals they own at the
    /// hand-off's second stage whose stage they may move, dated by the day the deal reached that
    /// stage, the longest waiting first. Follow-up speed is measured from that day.
    public var handedToYou: [AgendaItem] = []
    /// Open deals others own that wait on fields this user owns: fields the deal needs to leave
    /// its stage, still empty (an expert's solution and technical risk at solution, DOMAIN.md:
    /// "the expert contributes the solution fields"). Each item's `fields` names them; by id.
    public var toFill: [AgendaItem] = []
}

/// A task as `opps task list` reads it.
public struct TaskItem: Sendable, Equatable {
    public var id: RecordID
    /// The deal it is on (nil: its deal is not on this replica, or none).
    public var deal: RecordID?
    public var text: String
    public var due: CivilDate?
    /// Who does it (nil: no one named; its maker).
    public var assignee: UserName?
    public var done: Bool
}

extension Replica {
    /// With no deal, this user's open tasks: those assigned to them or made by them for no one,
    /// as `agenda` files them, and those they made for others, whatever their date. With a deal,
    /// every task on it, open ones first. Each part by due date (undated last), then id.
    public func tasks(on deal: RecordID? = nil) throws -> [TaskItem] {
        var items = [TaskItem]()
        for t in try store.list(entity: "task", workspace: workspace) {
            let on: RecordID? = if case let .reference(d) = t["opportunity"] { d } else { nil }
            let assignee: UserName? = if case let .text(a) = t["assignee"] { a } else { nil }
            let done = t["done"] == .boolean(true)
            if let deal {
                guard on == deal else { continue }
            } else {
                guard !done, assignee == user || t.creator == user else { continue }
            }
            let due: CivilDate? = if case let .date(d) = t["due"] { d } else { nil }
            items.append(TaskItem(id: t.id, deal: on, text: t["text"].canonicalText, due: due, assignee: assignee, done: done))
        }
        let far = Int64.max
        return items.sorted {
            ($0.done ? 1 : 0, $0.due.map { Int64($0.daysSinceEpoch) } ?? far, $0.id) < ($1.done ? 1 : 0, $1.due.map { Int64($0.daysSinceEpoch) } ?? far, $1.id)
        }
    }
}

extension Replica {
    /// A task as a rep types it for `opps task done`: an id or short id, as any record's, or the
    /// text of one of their open tasks (`opps task done 给张总发报价`), case and spaces aside. A
    /// text that several of them have, or that is only part of some, is refused naming them —
    /// a task is not marked done on a guess. Anything else is looked up as `resolveID` does (a
    /// deal's name comes back as the deal, for the caller to say it is not a task).
    public func resolveTask(_ typed: String) throws -> RecordID {
        if RecordID(parsing: typed) != nil { return try resolveID(typed) }
        if let code = ShortID.normalise(typed), code.count >= 4, !(try shortIDs().matching(code).isEmpty) { return try resolveID(typed) }
        let bare = typed.lookupFolded.filter { $0 != " " }
        guard !bare.isEmpty else { return try resolveID(typed) }
        let open = try tasks()
        let texts = open.map { $0.text.lookupFolded.filter { $0 != " " } }
        let exact = zip(open, texts).filter { $0.1 == bare }.map(\.0)
        if exact.count == 1 { return exact[0].id }
        let named = exact.isEmpty ? zip(open, texts).filter { $0.1.contains(bare) }.map(\.0) : exact
        guard !named.isEmpty else {
            do {
                return try resolveID(typed)
            } catch ReplicaError.lookup(.unknown, _, _, _) {
                // Nothing has that id or name: said as of tasks, where to read their ids.
                throw ReplicaError.invalid(
                    "no open task of yours is \"\(typed)\", and nothing here has that id: opps task list prints your tasks' ids",
                    chinese: "你没有叫「\(typed)」的未完成任务，也没有这个编号的记录：opps task list 列出你的任务和编号")
            }
        }
        let short = try shortIDs()
        let listed = try named.prefix(5).map { t in
            let deal = try t.deal.flatMap { try record($0)?.nameText }
            return (code: short(t.id), text: t.text, deal: deal)
        }
        let more = named.count - listed.count
        let en = listed.map { "\($0.code) \"\($0.text)\"" + ($0.deal.map { " (\($0))" } ?? "") }.joined(separator: ", ") + (more > 0 ? ", and \(more) more" : "")
        let zh = listed.map { "\($0.code)「\($0.text)」" + ($0.deal.map { "（\($0)）" } ?? "") }.joined(separator: "、") + (more > 0 ? " 等 \(named.count) 项" : "")
        if exact.isEmpty {
            throw ReplicaError.invalid(
                "no open task of yours is \"\(typed)\"; it is part of \(en): give its id (opps task done ID)",
                chinese: "你没有叫「\(typed)」的未完成任务；包含它的有 \(zh)：请用编号（opps task done 编号）")
        }
        throw ReplicaError.invalid(
            "\(named.count) open tasks of yours are \"\(typed)\": \(en): give its id (opps task done ID)",
            chinese: "你有 \(named.count) 个未完成任务叫「\(typed)」：\(zh)：请用编号（opps task done 编号）")
    }
}

extension Replica {
    /// The deals here at the hand-off's two stages — the leads at its first, then those handed
    /// to its second — each part by name; a lead at the first with the fields it still needs to
    /// be handed off (empty: ready). Nil when the workspace has no hand-off. `opps lead list`.
    public func leads() throws -> (handoff: Handoff, leads: [(lead: Record, missing: [String])])? {
        guard let handoff = workspace.handoff else { return nil }
        let order = [handoff.from, handoff.to]
        // Only the deals at those two stages are read (a manager's laptop holds tens of thousands).
        var deals = [(Int, Record)]()
        for (i, stage) in order.enumerated() {
            try store.forEach(entity: "opportunity", stages: [stage], newestFirst: true, workspace: workspace) { deals.append((i, $0)) }
        }
        let sorted = deals.sorted { a, b in
            a.0 != b.0 ? a.0 < b.0 : a.1["name"].canonicalText.localizedStandardCompare(b.1["name"].canonicalText) == .orderedAscending
        }
        return (handoff, sorted.map { i, deal in (deal, i == 0 ? workspace.stageMoveMissing(of: deal, to: handoff.to, role: role) : []) })
    }

    /// A lead in the hand-off stage that the hub will give to the next rep in turn whatever
    /// their territory: the workspace assigns within the lead's territory (workspace-format.md,
    /// `assignment`), the lead names none, has no owner yet, and was never handed off before (a
    /// lead sent back keeps its rep, who gets it again). Then the territories this laptop has
    /// seen on deals and accounts, most used first, for the line that gives it one; nil otherwise.
    /// What `opps stage` and the web say after such a move, while the lead can still be given one.
    public func handedOffAnywhere(_ id: RecordID) throws -> [String]? {
        guard let handoff = workspace.handoff, workspace.assignment?.within == "territory", let lead = try record(id),
            let entity = workspace.entity(lead.entity), let sf = entity.stageField, entity.field("territory") != nil,
            lead[sf] == .member(handoff.to), lead.owner == nil,
            !(workspace.stageHistory.map { StageLog.steps(lead[$0]).contains { $0.to == handoff.to } } ?? false)
        else { return nil }
        if case let .text(t) = lead["territory"], !t.trimmingCharacters(in: .whitespaces).isEmpty { return nil }
        return try territories()
    }

    /// The territories named on the deals and accounts this laptop holds, most used first.
    public func territories() throws -> [String] {
        var uses = [String: Int]()
        for entity in workspace.entities where entity.field("territory") != nil && (entity.stageField != nil || entity.name == "account") {
            try store.forEachValue(entity: entity.name, field: "territory", workspace: workspace) { _, value in
                guard case let .text(t)? = value else { return }
                let name = t.trimmingCharacters(in: .whitespaces)
                if !name.isEmpty { uses[name, default: 0] += 1 }
            }
        }
        return uses.sorted { a, b in a.value != b.value ? a.value > b.value : a.key < b.key }.map(\.key)
    }

    /// A lead sent back: when (device time), by whom — only to a reader who may see the deal's
    /// owner (the rep who sends a lead back is its owner, whom a marketer may not see past the
    /// hand-off) — and the reason given.
    public struct SentBack: Sendable, Equatable {
        public var at: Int64
        public var by: UserName?
        public var reason: String?
    }

    /// How a lead came back to the hand-off's first stage from its second, or nil when its last
    /// stage change was not that (a lead never handed off, or one still at the second stage).
    /// `opps lead list` and a marketer's day say so: "ready" read wrong on a lead the rep had
    /// just refused.
    public func sentBack(_ lead: Record) throws -> SentBack? {
        guard let handoff = workspace.handoff, lead["stage"] == .member(handoff.from),
            let last = try pipeline(of: [lead]).history[lead.id]?.last, last.to == handoff.from, last.from == handoff.to
        else { return nil }
        let reason = handoff.rejectReason.flatMap { lead[$0].isNull ? nil : lead[$0].canonicalText }
        // Who sent it back is withheld by the hub from a reader who may not see the lead's owner
        // (visibility.md §6): the log's user is then empty.
        return SentBack(at: last.at, by: last.by == Workspace.withheldName ? nil : last.by, reason: reason)
    }

    /// Of `leads()`, those this user made that still wait at the first stage: `opps today`
    /// counts them, the web app's Today lists them (a marketer's day has no deals due).
    public func leadsAwaitingHandOff() throws -> [(lead: Record, missing: [String])] {
        guard let (handoff, leads) = try leads() else { return [] }
        return leads.filter { $0.lead["stage"] == .member(handoff.from) && $0.lead.created.author == user }
    }

    /// Tasks assigned to this user (or made by them for no one) and next steps of their open
    /// deals, due today or before; their open deals with no follow-up in `stale_days`.
    public func agenda(today: CivilDate) throws -> Agenda {
        var a = Agenda()
        func file(_ item: AgendaItem) {
            guard let d = item.due else { return }
            if d == today { a.due.append(item) } else if d < today { a.overdue.append(item) }
        }
        for t in try store.list(entity: "task", workspace: workspace) where t["done"] != .boolean(true) {
            guard t["assignee"] == .text(user) || (t["assignee"].isNull && t.creator == user), case let .reference(deal) = t["opportunity"] else { continue }
            var d: CivilDate?
            if case let .date(x) = t["due"] { d = x }
            file(AgendaItem(kind: "task", id: t.id, deal: deal, text: t["text"].canonicalText, due: d))
        }
        let closed = Set(workspace.stages.filter(\.closed).map(\.name))
        let manages = workspace.role(role)?.sees.contains(.relation(.managed)) == true
        let mine = try store.list(entity: "opportunity", owner: user, workspace: workspace)
        // A manager's replica holds the deals of those they manage: others' open deals there.
        // Only the open deals are read: a closed one is no one's next step.
        var others = [Record](), unassigned = [Record]()
        let handoffTo = workspace.handoff?.to
        if manages {
            let open = workspace.stages.filter { !closed.contains($0.name) }.map(\.name)
            try store.forEach(entity: "opportunity", stages: open, newestFirst: true, workspace: workspace) { deal in
                if let owner = deal.owner {
                    if owner != user { others.append(deal) }
                } else if let handoffTo, deal["stage"] == .member(handoffTo) {
                    unassigned.append(deal)
                }
            }
        }
        let pipeline = try self.pipeline(ofDeals: mine + others + unassigned)
        // A lead handed off that no rep could take (every rep it may go to at capacity, or none
        // enabled): the hub left it without an owner, so no one works it until one is given.
        for deal in unassigned {
            a.team.append(
                AgendaItem(kind: "unassigned", id: deal.id, deal: deal.id, text: "", due: Self.handedOff(deal, to: handoffTo ?? "", pipeline: pipeline), owner: nil))
        }
        for deal in others {
            // A lead handed to one of theirs that waits to be accepted (DOMAIN.md: follow-up speed
            // is measured from the hand-off): the day it was handed off, once it has waited long.
            if let handoffTo, deal["stage"] == .member(handoffTo) {
                let day = Self.handedOff(deal, to: handoffTo, pipeline: pipeline)
                if today.daysSinceEpoch - day.daysSinceEpoch >= Agenda.unacceptedDays {
                    a.team.append(AgendaItem(kind: "unaccepted", id: deal.id, deal: deal.id, text: "", due: day, owner: deal.owner))
                    continue
                }
            }
            if case let .date(d) = deal["next_step_due"], d < today {
                a.team.append(
                    AgendaItem(
                        kind: "next_step", id: deal.id, deal: deal.id, text: deal["next_step"].isNull ? "" : deal["next_step"].canonicalText,
                        due: d, owner: deal.owner))
            } else if pipeline.isStale(deal, today: today) {
                let last = pipeline.lastFollowUp(deal)
                a.team.append(AgendaItem(kind: "stale", id: deal.id, deal: deal.id, text: "no follow-up since \(last)", due: last, owner: deal.owner))
            }
        }
        a.awaitingDecision = try awaitingDecision()
        for deal in mine {
            if case let .member(s) = deal["stage"], closed.contains(s) { continue }
            if case let .date(d) = deal["next_step_due"] {
                file(AgendaItem(kind: "next_step", id: deal.id, deal: deal.id, text: deal["next_step"].isNull ? "" : deal["next_step"].canonicalText, due: d))
            }
            // The last follow-up: the newest activity on the deal, by device time.
            if pipeline.isStale(deal, today: today) {
                let last = pipeline.lastFollowUp(deal)
                a.stale.append(AgendaItem(kind: "stale", id: deal.id, deal: deal.id, text: "no follow-up since \(last)", due: last))
            }
        }
        // After a deal is won its next step is the success manager's (DOMAIN.md: next step, O
        // after won): a closed deal whose next step this user owns now is on their day, though
        // the deal is the rep's. Read stage by stage (the stage index), and only the stages where
        // this role could own it at all (a rep's or a manager's day reads no closed deal).
        let ownable =
            workspace.entity("opportunity").flatMap { e in e.field("next_step").map { (e, $0) } }.map { e, f in
                closed.filter { workspace.permission(actor: Actor(user: user, role: role), relations: Set(Relation.allCases), stage: $0, entity: e, field: f) == .own }
            } ?? []
        for stage in ownable {
            for deal in try store.list(entity: "opportunity", stage: stage, workspace: workspace) where deal.owner != user {
                guard case let .date(d) = deal["next_step_due"], try access(to: deal, field: "next_step") == .own else { continue }
                file(AgendaItem(kind: "next_step", id: deal.id, deal: deal.id, text: deal["next_step"].isNull ? "" : deal["next_step"].canonicalText, due: d))
            }
        }
        try fileHandedToYou(mine, pipeline: pipeline, into: &a)
        try fileToFill(closed: closed, into: &a)
        try fileAfterWon(into: &a, today: today)
        let order: (AgendaItem, AgendaItem) -> Bool = { ($0.due?.daysSinceEpoch ?? 0, $0.id) < ($1.due?.daysSinceEpoch ?? 0, $1.id) }
        a.handOffs.sort(by: order)
        a.handedToYou.sort(by: order)
        a.renewals.sort(by: order)
        a.atRisk.sort(by: order)
        a.due.sort(by: order)
        a.overdue.sort(by: order)
        a.stale.sort(by: order)
        a.team.sort { ($0.owner ?? "", $0.due?.daysSinceEpoch ?? 0, $0.id) < ($1.owner ?? "", $1.due?.daysSinceEpoch ?? 0, $1.id) }
        return a
    }
}

extension Replica {
    /// The field naming who takes a won deal on after the sale, and its renewal date
    /// (DOMAIN.md "post-sale"): a workspace without them has no hand-offs or renewals on a day.
    static let onboardingField = "onboarding"
    static let renewalField = "renewal_date"
    /// The customer's health, and its value that puts a customer on the day (DOMAIN.md: success
    /// owns health after the sale).
    static let healthField = "health"
    static let atRiskHealth = Value.member("red")

    /// Others' open deals waiting on fields this user owns (`Agenda.toFill`): read only for a role
    /// that sees deals through their owner and team alone — every deal here it does not own is
    /// one it is on the team of — and owns, as a team member, a field some open stage needs to
    /// leave it (an expert's solution fields). A rep's or a manager's day reads nothing for it.
    func fileToFill(closed: Set<String>, into a: inout Agenda) throws {
        guard let e = workspace.entity("opportunity"), let sees = workspace.role(role)?.sees, sees.contains(.relation(.team)),
            sees.allSatisfy({ $0 == .relation(.team) || $0 == .relation(.owner) })
        else { return }
        let me = Actor(user: user, role: role)
        let open = workspace.stages.filter { !$0.closed }
        let gateFields: [Field] = Set(open.flatMap(\.leaveRequires)).sorted().compactMap { e.field($0) }
        var ownsAsMember = false
        for s in open {
            for f in gateFields where workspace.permission(actor: me, relations: [.team], stage: s.name, entity: e, field: f) >= .own { ownsAsMember = true }
        }
        guard ownsAsMember else { return }
        for deal in try store.list(entity: "opportunity", workspace: workspace) {
            // Not the reader's own deal (an expert may not see who owns it: nil here).
            guard deal.owner != user, case let .member(s) = deal["stage"], !closed.contains(s), let gate = workspace.nextGate(of: deal) else { continue }
            let fields = try gate.missing.filter { try access(to: deal, field: $0) >= .own }
            guard !fields.isEmpty else { continue }
            var item = AgendaItem(kind: "to_fill", id: deal.id, deal: deal.id, text: deal["name"].isNull ? "" : deal["name"].canonicalText, due: nil, owner: deal.owner)
            item.fields = fields
            a.toFill.append(item)
        }
    }

    /// A rep's leads handed to them and not yet accepted or sent back (`Agenda.handedToYou`): of
    /// `mine`, those at the hand-off's second stage whose stage this user may move there.
    func fileHandedToYou(_ mine: [Record], pipeline: Pipeline, into a: inout Agenda) throws {
        guard let handoff = workspace.handoff else { return }
        for deal in mine where try isHandedToMe(deal) {
            let name = deal["name"].isNull ? "" : deal["name"].canonicalText
            a.handedToYou.append(
                AgendaItem(kind: "handed_to_you", id: deal.id, deal: deal.id, text: name, due: Self.handedOff(deal, to: handoff.to, pipeline: pipeline)))
        }
    }

    /// Whether `deal` is a lead handed to this user that they have not yet accepted or sent back:
    /// theirs, at the hand-off's second stage, its stage theirs to move. Today lists it; the web's
    /// deal page says what to do with it.
    public func isHandedToMe(_ deal: Record) throws -> Bool {
        guard let handoff = workspace.handoff, deal.owner == user, deal["stage"] == .member(handoff.to) else { return false }
        return try access(to: deal, field: "stage") >= .write
    }

    /// The day (the reader's) a lead last reached the hand-off's second stage `to`, by the device
    /// time of the move: follow-up speed is measured from it.
    static func handedOff(_ deal: Record, to: String, pipeline: Pipeline) -> CivilDate {
        let reached = pipeline.history[deal.id]?.last { $0.to == to }?.at ?? deal.created.stamp.hlc.milliseconds
        return Timestamp(milliseconds: reached).date(offsetSeconds: pipeline.offsetSeconds)
    }

    /// A success manager's part of the day: won deals waiting to be taken on, and the renewals
    /// of their own coming up. Read stage by stage, only the won stages where this role owns the
    /// post-sale owner field (no other role's day reads a closed deal for it).
    func fileAfterWon(into a: inout Agenda, today: CivilDate) throws {
        guard let e = workspace.entity("opportunity"), let onboarding = e.field(Self.onboardingField), onboarding.type == .user else { return }
        let me = Actor(user: user, role: role)
        let won = workspace.stages.filter { $0.closed && !$0.fromAnyOpen }.map(\.name).filter {
            workspace.permission(actor: me, relations: Set(Relation.allCases), stage: $0, entity: e, field: onboarding) == .own
        }
        let horizon = today.daysSinceEpoch + Int32(Agenda.renewalDays)
        for stage in won {
            for deal in try store.list(entity: "opportunity", stage: stage, workspace: workspace) {
                let name = deal["name"].isNull ? "" : deal["name"].canonicalText
                if deal[onboarding.name].isNull {
                    guard try access(to: deal, field: onboarding.name) == .own else { continue }
                    var closed: CivilDate?
                    if case let .date(d) = deal["close_date"] { closed = d }
                    a.handOffs.append(AgendaItem(kind: "handoff", id: deal.id, deal: deal.id, text: name, due: closed))
                } else if deal[onboarding.name] == .text(user) {
                    if case let .date(d) = deal[Self.renewalField], d.daysSinceEpoch <= horizon {
                        a.renewals.append(AgendaItem(kind: "renewal", id: deal.id, deal: deal.id, text: name, due: d))
                    }
                    if deal[Self.healthField] == Self.atRiskHealth, let set = deal.fields[Self.healthField] {
                        a.atRisk.append(AgendaItem(kind: "at_risk", id: deal.id, deal: deal.id, text: name, due: LocalTime.date(set.stamp.hlc.milliseconds)))
                    }
                }
            }
        }
    }

    /// The reader's own writes that did not hold and that they have not put aside here: what
    /// `opps today` and the web's Today count.
    public func openOwnConflicts() throws -> Int { try store.conflicts().count { $0.author == user } }

    /// Approval requests waiting for this user's decision: others' pending requests, for an
    /// approver (0 for anyone else).
    public func awaitingDecision() throws -> Int {
        guard let requests = workspace.approvals?.requests else { return 0 }
        return try store.list(entity: requests, workspace: workspace).count(where: awaitsMyDecision)
    }

    /// Whether an approval request waits for this user's decision: pending, someone else's, and
    /// this user an approver.
    public func awaitsMyDecision(_ request: Record) -> Bool {
        workspace.approvals?.approvers.contains(role) == true && request["state"] == .member("pending") && request.creator != user
    }

    /// A request withdrawn on this laptop that the hub has not yet said is withdrawn (撤回中).
    public static func withdrawing(_ request: Record) -> Bool {
        request[Approvals.withdrawnField] == .boolean(true) && request["state"] != .member("withdrawn")
    }

    /// One's own request that may still be withdrawn: not decided, not withdrawn already.
    public func mayWithdraw(_ request: Record) -> Bool {
        request.entity == workspace.approvalRequests && withdrawalRefusal(request) == nil
    }

    /// Adds a task to a deal, due on `due`, for `assignee` (default: this user).
    public func addTask(deal: RecordID, text: String, due: String, assignee: UserName?) throws -> EditResult {
        guard try record(deal)?.entity == "opportunity" else { throw ReplicaError.invalid("\(deal) is not a deal", chinese: "\(deal) 不是商机") }
        guard let entity = workspace.entity("task"), let dueField = entity.field("due") else { throw ReplicaError.invalid("this workspace has no tasks") }
        guard !text.isEmpty else { throw ReplicaError.invalid("a task needs a text", chinese: "任务需要写明要做什么") }
        var rng = SystemRandomNumberGenerator()
        return try create(
            entity: "task", stage: nil,
            fields: [
                ("opportunity", .reference(deal)), ("text", .text(text)), ("due", try parse(due, for: dueField, of: "task")),
                ("assignee", .text(assignee.flatMap { $0.isEmpty ? nil : $0 } ?? user)), ("done", .boolean(false)),
            ], using: &rng)
    }

    /// Marks a task done.
    public func finishTask(_ id: RecordID) throws -> EditResult {
        guard try record(id)?.entity == "task" else { throw ReplicaError.invalid("\(id) is not a task", chinese: "\(id) 不是任务") }
        return try edit(id, [("done", .boolean(true))])
    }

    /// A conflict of this laptop by its number (what `opps conflicts` prints after #).
    public func openConflict(_ number: UInt64) throws -> LocalConflict {
        guard let c = try store.conflicts().first(where: { $0.id == number }) else {
            throw ReplicaError.invalid("no open conflict #\(number) here: opps conflicts lists them", chinese: "本机没有未处理的冲突 #\(number)：opps conflicts 列出所有冲突")
        }
        return c
    }

    /// Whether this user may write a conflict's value again (`restoreConflict`): their own, and
    /// a value, not a clearing. What `opps conflicts` and the web app offer.
    ///
    /// Offered only where writing it again could go through: the value is the user's, the record
    /// is still on this laptop, and the user may still write or propose that field at the
    /// record's stage (a deal handed to someone else, or moved on, no longer offers it), and the
    /// hub did not refuse the value itself (`refusedForItsValue`: the same value is refused again).
    public func mayRestore(_ c: LocalConflict) -> Bool {
        guard c.author == user, !c.value.isNull, !Self.refusedForItsValue(c.rule), let held = try? record(c.record), !held.isDeleted,
            let access = try? access(to: held, field: c.field), access >= .propose
        else { return false }
        return (try? lockedFields(of: held).contains(c.field)) == false
    }

    /// The rules that refuse a value for what it is, wherever and whenever it is written: a user
    /// field naming nobody the hub knows (the laptop has no directory to check it against), a
    /// value of the wrong type; and those that refuse for good what the record already holds: a
    /// write-once field set, a request decided or withdrawn. Writing it again would only be
    /// refused again.
    static func refusedForItsValue(_ rule: String) -> Bool {
        [RuleID.unknownUser, .typeMismatch, .writeOnce, .alreadyDecided].contains { $0.rawValue == rule }
    }

    /// What a record is, as a reader names it: a deal, an account or a contact by its name; a
    /// deal's task, activity, approval or team member by its deal's name and `part`, what it
    /// is (`云帆 续约 · 任务「发报价」`), with `deal` the deal whose page lists it. What `opps
    /// conflicts` and the web app name a conflict's record by.
    public struct Subject: Sendable, Equatable {
        public var title: String
        public var part: String
        public var deal: RecordID?
    }

    public func subject(_ id: RecordID, words: Vocabulary) throws -> Subject? {
        guard let record = try record(id) else { return nil }
        if record.entity == "opportunity" { return Subject(title: record["name"].canonicalText, part: "", deal: record.id) }
        guard case let .reference(parent) = record["opportunity"], let deal = try self.record(parent) else {
            return Subject(title: record["name"].isNull ? words.entity(record.entity) : record["name"].canonicalText, part: "", deal: nil)
        }
        // A request by what it asks (`折扣 → 25%`), not by its note (the hub's, in English).
        let text = record.entity == workspace.approvalRequests ? requested(record, words: words, chinese: words.readsChinese) : record.subjectText?.canonicalText
        let what = text.map { words.readsChinese ? "「\($0)」" : " \"\($0)\"" } ?? ""
        let part = words.entity(record.entity) + what
        return Subject(title: deal["name"].canonicalText + " · " + part, part: part, deal: deal.id)
    }

    /// Puts a conflict aside: seen, what holds stays (only this laptop's list changes).
    public func dismissConflict(_ number: UInt64) throws -> LocalConflict {
        let c = try openConflict(number)
        _ = try store.resolveConflict(c.id)
        return c
    }

    /// Writes the user's value from a conflict again, as a new edit on top of what holds, with
    /// the rules of any edit; the conflict closes once the edit is made (applied or requested).
    public func restoreConflict(_ number: UInt64) throws -> EditResult {
        let c = try openConflict(number)
        guard c.author == user else {
            throw ReplicaError.invalid(
                "#\(c.id) is \(c.author)'s value: only they can restore it (a manager can, with opps-hub restore)",
                chinese: "#\(c.id) 是 \(c.author) 的值：只有他本人能恢复（经理可以用 opps-hub restore）")
        }
        guard let record = try record(c.record), !record.isDeleted else {
            throw ReplicaError.invalid("#\(c.id): the record is no longer on this laptop", chinese: "#\(c.id)：这条记录已不在本机")
        }
        if Self.refusedForItsValue(c.rule) {
            let unknown = c.rule == RuleID.unknownUser.rawValue
            throw ReplicaError.invalid(
                (unknown
                    ? "#\(c.id): the hub has no user named \(c.value.canonicalText); write the field again with a user's name"
                    : "#\(c.id): the hub refused this value for its type; write the field again")
                    + " (opps conflicts dismiss \(c.id) puts this aside)",
                chinese: (unknown ? "#\(c.id)：服务器上没有名为 \(c.value.canonicalText) 的用户；请填写一个用户名重新修改" : "#\(c.id)：服务器因类型不符拒绝了这个值；请重新填写")
                    + "（opps conflicts dismiss \(c.id) 不再显示此冲突）")
        }
        guard workspace.entity(c.entity)?.field(c.field) != nil, !c.value.isNull else {
            throw ReplicaError.invalid("#\(c.id) holds no value to restore", chinese: "#\(c.id) 没有可以恢复的值")
        }
        // One edit: taking it back (`undo`) opens the conflict again.
        return try store.transaction {
            let result = try edit(c.record, [(c.field, c.value)])
            _ = try store.resolveConflict(c.id, byEdit: store.currentEdit)
            return result
        }
    }
}

extension Replica {
    /// A deal's team: its membership records (requested, active or removed).
    public func memberships(of deal: RecordID) throws -> [Record] { try related("membership", of: deal) }

    /// The live records of `entity` on a deal: through the parent index when the entity hangs
    /// off deals (`visible_via`), else by its `opportunity` reference.
    public func related(_ entity: String, of deal: RecordID) throws -> [Record] {
        if workspace.entity(entity)?.visibleVia == "opportunity" { return try store.children(of: deal, entity: entity, workspace: workspace) }
        return try store.list(entity: entity, workspace: workspace).filter { $0["opportunity"] == .reference(deal) }
    }

    /// The role `user` has on the teams of other deals on this laptop (the latest one's), if
    /// they are on any: what `opps team add` takes when no role is typed.
    public func teamRole(of member: UserName) throws -> String? {
        try store.list(entity: "membership", workspace: workspace)
            .filter { $0["user"] == .text(member) && $0["state"] != .member("removed") }
            .max { ($0.created.stamp.hlc.rawValue) < ($1.created.stamp.hlc.rawValue) }
            .flatMap { if case let .member(role) = $0["role"], ["expert", "success"].contains(role) { role } else { nil } }
    }

    /// Asks for `user` on a deal's team as `role` (expert or success): the owner requests, a
    /// manager approves (or adds at once).
    public func addTeamMember(deal: RecordID, user member: UserName, role: String) throws -> EditResult {
        guard ["expert", "success"].contains(role) else { throw ReplicaError.invalid("a team role is expert or success", chinese: "团队角色只能是 expert 或 success") }
        guard try record(deal)?.entity == "opportunity" else { throw ReplicaError.invalid("\(deal) is not a deal", chinese: "\(deal) 不是商机") }
        guard !member.isEmpty else { throw ReplicaError.invalid("name the user to add", chinese: "请写出要加入的用户") }
        if try memberships(of: deal).contains(where: { $0["user"] == .text(member) && $0["state"] != .member("removed") }) {
            throw ReplicaError.invalid("\(member) is already on the team (or requested)", chinese: "\(member) 已在团队中（或已申请）")
        }
        var rng = SystemRandomNumberGenerator()
        return try create(
            entity: "membership", stage: nil,
            fields: [("opportunity", .reference(deal)), ("user", .text(member)), ("role", .member(role)), ("state", .member("active"))], using: &rng)
    }
}
