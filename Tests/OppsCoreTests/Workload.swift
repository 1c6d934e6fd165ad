@testable import OppsCore

/// A seeded random sales day against the pure hub (`Reconciler`): replicas of a team make
/// writes offline on their own view, push them in order, and pull pages of the log. Used by
/// the property tests; the seed names the whole run.
struct Workload: Sendable {
    struct Submission: Sendable {
        var write: FieldWrite
        var actor: Actor
        var currentBefore: FieldState?
        var decision: Decision
    }

    struct Replica: Sendable {
        var actor: Actor
        var id: ReplicaID
        var clock = HybridLogicalClock()
        /// What the hub confirmed, up to `cursor`.
        var confirmed = RecordSet()
        var cursor: UInt64 = 0
        var pending: [FieldWrite] = []
        /// The local effect of the pending writes, shown on top of `confirmed` (rebase).
        var overlay: [LogEntry] = []

        var view: RecordSet {
            var v = confirmed
            for e in overlay { v.apply(e) }
            return v
        }
        var skew: Int64
    }

    static let users: [Directory.User] = [
        .init(name: "mia", role: "marketing", manager: "max"),
        .init(name: "sam", role: "sales", manager: "max"),
        .init(name: "tom", role: "sales", manager: "max"),
        .init(name: "eve", role: "expert", manager: "max"),
        .init(name: "sue", role: "success", manager: "max"),
        .init(name: "max", role: "manager"),
        .init(name: "meg", role: "manager"),
    ]

    var rng: SeededGenerator
    var hub: Reconciler
    var replicas: [Replica]
    var submissions: [Submission] = []
    var now: Int64 = 1_795_000_000_000
    let workspace = Workspace.default

    init(seed: UInt64) {
        rng = SeededGenerator(seed: seed)
        hub = Reconciler(workspace: .default, directory: Directory(users: Self.users))
        var replicas = [Replica]()
        var r = SeededGenerator(seed: seed ^ 0x5EED)
        // Two laptops for sam, one for everyone else.
        for u in Self.users + [Self.users[1]] {
            replicas.append(Replica(actor: Actor(user: u.name, role: u.role), id: .random(using: &r), skew: Int64(r.next() % 5000) - 2500))
        }
        self.replicas = replicas
    }

    mutating func run(steps: Int) {
        for _ in 0..<steps { step() }
        // Quiesce: everyone pushes, then everyone pulls.
        for i in replicas.indices { push(i) }
        for i in replicas.indices { pull(i, pageSize: 1 + Int(rng.next() % 50)) }
    }

    mutating func step() {
        now += Int64(rng.next() % 60_000)
        let i = Int(rng.next() % UInt64(replicas.count))
        switch rng.next() % 24 {
        case 0: push(i)
        case 1: pull(i, pageSize: 1 + Int(rng.next() % 20))
        case 2: if replicas[i].confirmed.records.count < 12 { create(i) } else { edit(i) }
        case 3: if replicas[i].actor.role == "manager" { addMember(i) } else { edit(i) }
        default: edit(i)
        }
    }

    /// Fields the contended deal's edits go to.
    static let contendedFields = ["amount", "next_step", "name", "close_date", "solution", "health"]

    /// Fields most edits go to, so that concurrent writes to one field are common.
    static let hotFields = [
        "amount", "next_step", "stage", "solution", "name", "health", "tech_risk", "close_date", "discount",
        "qualification", "lead_source", "check_need", "check_budget", "check_timing", "check_contact", "owner",
        "loss_reason", "needs", "decision_makers", "quote_terms", "currency", "account", "contact",
    ]

    func relations(_ i: Int, _ record: Record, in view: RecordSet) -> Set<Relation> {
        let directory = hub.directory
        let user = replicas[i].actor.user
        return workspace.relations(of: user, to: record, team: view.team(of: record.id, rule: workspace.teamRule), manages: { directory.manages(user, $0) })
    }

    /// A manager puts an expert or success manager on a deal's team.
    mutating func addMember(_ i: Int) {
        let deals = replicas[i].confirmed.records.values.filter { $0.entity == "opportunity" && !$0.isDeleted }.sorted { $0.id < $1.id }
        guard !deals.isEmpty else { return }
        let deal = deals[Int(rng.next() % UInt64(deals.count))]
        let (user, role) = [("eve", "expert"), ("sue", "success"), ("tom", "sales")][Int(rng.next() % 3)]
        let id = UUID128.version7(milliseconds: now, using: &rng)
        let author = replicas[i].actor.user
        var writes = [FieldWrite(record: id, entity: "membership", kind: .create, author: author, stamp: Stamp(hlc: tick(i), replica: replicas[i].id))]
        for (f, v) in [("opportunity", Value.reference(deal.id)), ("user", .text(user)), ("role", .member(role)), ("state", .member("active"))] {
            writes.append(FieldWrite(record: id, entity: "membership", field: f, value: v, author: author, stamp: Stamp(hlc: tick(i), replica: replicas[i].id)))
        }
        replicas[i].pending.append(contentsOf: writes)
    }

    mutating func tick(_ i: Int) -> HLC { replicas[i].clock.tick(physical: now + replicas[i].skew) }

    mutating func create(_ i: Int) {
        let actor = replicas[i].actor
        let entity: String
        var value: Value = .null
        switch actor.role {
        case "marketing": entity = "opportunity"; value = .member("lead")
        case "sales": entity = rng.next() % 3 == 0 ? "activity" : "opportunity"; value = entity == "opportunity" ? .member("discovery") : .null
        case "manager": entity = "opportunity"; value = .member(["lead", "qualified", "discovery"][Int(rng.next() % 3)])
        default: entity = "activity"
        }
        let id = UUID128.version7(milliseconds: now, using: &rng)
        let w = FieldWrite(record: id, entity: entity, kind: .create, value: value, author: actor.user, stamp: Stamp(hlc: tick(i), replica: replicas[i].id))
        replicas[i].pending.append(w)
        // The replica derives the creation locally, as the hub will.
        replicas[i].overlay.append(
            LogEntry(sequence: 0, record: id, entity: entity, field: "", kind: .create, value: value, stamp: w.stamp, author: actor.user, authority: .own))
        for (f, v) in workspace.initialFields(of: w, role: actor.role) {
            replicas[i].overlay.append(
                LogEntry(sequence: 0, record: id, entity: entity, field: f, kind: .set, value: v, stamp: w.stamp, author: actor.user, authority: .own))
        }
    }

    mutating func edit(_ i: Int) {
        let view = replicas[i].view
        let role = replicas[i].actor.role
        // Mostly records this user may see (as a real replica holds), sometimes any.
        let seeAll = rng.next() % 10 == 0
        let candidates = view.records.values.filter {
            !$0.isDeleted && $0.entity != "membership" && (seeAll || workspace.isVisible(record: $0, role: role, relations: relations(i, $0, in: view)))
        }.sorted { $0.id < $1.id }
        guard !candidates.isEmpty else {
            if view.records.count < 12 { create(i) }
            return
        }
        // Half the edits go to the oldest visible deal, so that offline edits collide often.
        let deals = candidates.filter { $0.entity == "opportunity" }
        let contended = !deals.isEmpty && rng.next() % 2 == 0
        let record = contended ? deals[0] : candidates[Int(rng.next() % UInt64(candidates.count))]
        if rng.next() % 40 == 0 {
            let w = FieldWrite(
                record: record.id, entity: record.entity, kind: .delete, author: replicas[i].actor.user, stamp: Stamp(hlc: tick(i), replica: replicas[i].id))
            replicas[i].pending.append(w)
            return
        }
        guard let entity = workspace.entity(record.entity) else { return }
        let hot = entity.fields.filter { (contended ? Self.contendedFields : Self.hotFields).contains($0.name) }
        let pool = !hot.isEmpty && rng.next() % 10 < 8 ? hot : entity.fields
        let field = pool[Int(rng.next() % UInt64(pool.count))]
        var value = randomValue(field.type, stageField: field.name == entity.stageField)
        // Stage moves are mostly one step forward, as in a real pipeline.
        if field.name == entity.stageField, case let .member(s)? = Optional(record["stage"]), let idx = workspace.stageIndex(s),
            idx + 1 < workspace.stages.count, rng.next() % 3 != 0
        {
            value = .member(workspace.stages[idx + 1].name)
        }
        let current = view[record.id]?.fields[field.name]
        let base: Base
        if let current {
            base = current.sequence != 0 ? .sequence(current.sequence) : .stamp(current.stamp)
        } else {
            base = .none
        }
        let w = FieldWrite(
            record: record.id, entity: record.entity, field: field.name, value: value, base: base,
            author: replicas[i].actor.user, stamp: Stamp(hlc: tick(i), replica: replicas[i].id))
        replicas[i].pending.append(w)
        // Pending writes show on top of the hub's state (rebase): later local writes build on them.
        replicas[i].overlay.append(
            LogEntry(
                sequence: 0, record: w.record, entity: w.entity, field: w.field, kind: .set, value: value,
                stamp: w.stamp, author: w.author, authority: .write))
    }

    mutating func randomValue(_ type: FieldType, stageField: Bool) -> Value {
        if !stageField, rng.next() % 15 == 0 { return .null }
        switch type {
        case .text: return .text(["demo", "call back", "PoC", "两节点集群", "quote sent"][Int(rng.next() % 5)])
        case .integer: return .integer(Int64(rng.next() % 100))
        case let .decimal(scale):
            // Mostly below the approval thresholds, sometimes above.
            let units = Int64(rng.next() % (rng.next() % 4 == 0 ? 300_000_000 : 2_000))
            return .decimal(ExactDecimal(units: units, scale: scale))
        case .date: return .date(CivilDate(daysSinceEpoch: Int32(20_000 + rng.next() % 1000)))
        case .timestamp: return .timestamp(Timestamp(milliseconds: now))
        case let .enumeration(members): return .member(members[Int(rng.next() % UInt64(members.count))])
        case .boolean: return .boolean(rng.next() % 4 != 0)
        case .reference: return .reference(RecordID(high: rng.next(), low: rng.next()))
        case .user: return .text(Self.users[Int(rng.next() % UInt64(Self.users.count))].name)
        }
    }

    mutating func push(_ i: Int) {
        let batch = replicas[i].pending
        replicas[i].pending.removeAll()
        for w in batch {
            let ctx = hub.context(for: replicas[i].actor, record: w.record)
            let before: FieldState? =
                switch w.kind {
                case .set: ctx.record?.fields[w.field]
                case .create: ctx.record?.created
                case .delete: ctx.record?.deleted
                }
            let d = hub.submit(w, actor: replicas[i].actor, at: now)
            submissions.append(Submission(write: w, actor: replicas[i].actor, currentBefore: before, decision: d))
        }
        // Outcomes are known: the overlay goes, and the pull brings what the hub decided.
        replicas[i].overlay.removeAll()
        pull(i, pageSize: 1 + Int(rng.next() % 30))
    }

    /// Pulls the whole log after the cursor in pages (this model replica sees everything: the
    /// pure model checks merge, not visibility).
    mutating func pull(_ i: Int, pageSize: Int) {
        while replicas[i].cursor < hub.head {
            for entry in hub.page(after: replicas[i].cursor, limit: pageSize) {
                replicas[i].confirmed.apply(entry)
                replicas[i].clock.receive(entry.stamp.hlc, physical: now + replicas[i].skew)
                replicas[i].cursor = entry.sequence
            }
        }
    }
}
