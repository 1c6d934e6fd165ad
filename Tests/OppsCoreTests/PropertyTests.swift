import Testing

@testable import OppsCore

/// Merge-semantics invariants as properties over seeded random workloads
/// (merge-semantics.md §9). Each failure message names the seed; rerun one with
/// `swift test --filter PropertyTests` after pinning it in `seeds`.
@Suite struct PropertyTests {
    static let seeds: [UInt64] = Array(1...40)
    static let steps = 400

    static func run(_ seed: UInt64) -> Workload {
        var w = Workload(seed: seed)
        w.run(steps: steps)
        return w
    }

    /// One run per seed, shared by the tests that only read it.
    static let runs: [UInt64: Workload] = Dictionary(uniqueKeysWithValues: seeds.map { ($0, run($0)) })

    @Test func theWorkloadExercisesEveryOutcome() {
        var counts = [Outcome: Int]()
        for w in Self.runs.values { for s in w.submissions { counts[s.decision.outcome, default: 0] += 1 } }
        // A generator that only ever applies proves nothing: conflicts must be common.
        for o in [Outcome.applied, .won, .lost, .rejected, .proposal] { #expect((counts[o] ?? 0) >= 20, "\(o): \(counts)") }
    }

    // (a) I2: the same inputs give the same decisions, log and state.
    @Test(arguments: seeds)
    func decisionsAreDeterministic(seed: UInt64) {
        let a = Self.run(seed), b = Self.run(seed)
        #expect(a.submissions.map(\.decision) == b.submissions.map(\.decision), "seed \(seed)")
        #expect(a.hub.log == b.hub.log, "seed \(seed)")
        #expect(a.hub.conflicts == b.hub.conflicts, "seed \(seed)")
        #expect(a.hub.state == b.hub.state, "seed \(seed)")
        // Replaying the same writes into a fresh hub gives the same decisions too.
        var fresh = Reconciler(workspace: .default, directory: Directory(users: Workload.users))
        let replayed = a.submissions.map { fresh.submit($0.write, actor: $0.actor) }
        #expect(replayed == a.submissions.map(\.decision), "seed \(seed)")
    }

    // (b) I7: applying the log in pages of any size, even twice, reaches the hub's state.
    @Test(arguments: seeds)
    func replayInPagesReachesTheHubState(seed: UInt64) {
        let w = Self.runs[seed]!
        var rng = SeededGenerator(seed: seed &* 31)
        for _ in 0..<3 {
            var replica = RecordSet()
            var cursor: UInt64 = 0
            while cursor < w.hub.head {
                let page = w.hub.page(after: cursor, limit: 1 + Int(rng.next() % 64))
                for e in page { replica.apply(e) }
                // A page applied a second time (a crash before the cursor moved) changes nothing.
                if rng.next() % 4 == 0 { for e in page { replica.apply(e) } }
                cursor = page.last!.sequence
            }
            #expect(replica == w.hub.state, "seed \(seed)")
            #expect(StateChecksum(of: replica.records.values, workspace: .default) == StateChecksum(of: w.hub.state.records.values, workspace: .default), "seed \(seed)")
        }
        // Every model replica that quiesced holds exactly the hub's state.
        for r in w.replicas { #expect(r.view == w.hub.state, "seed \(seed) replica \(r.actor.user)") }
    }

    // (c) I5 + I6: every write ends in one outcome, and is in the log or a conflict record.
    @Test(arguments: seeds)
    func everyWriteIsAccountedFor(seed: UInt64) {
        let w = Self.runs[seed]!
        let logged = Set(w.hub.log.filter { $0.field.isEmpty || $0.kind == .set }.map { LoggedKey(stamp: $0.stamp, field: $0.field) })
        let lost = Set(w.hub.conflicts.map { LoggedKey(stamp: $0.loser.stamp, field: $0.field) })
        var counts = [Outcome: Int]()
        for s in w.submissions {
            counts[s.decision.outcome, default: 0] += 1
            let key = LoggedKey(stamp: s.write.stamp, field: s.write.field)
            switch s.decision.outcome {
            case .applied, .won: #expect(logged.contains(key), "seed \(seed): held write missing from the log")
            case .lost, .rejected, .proposal: #expect(lost.contains(key), "seed \(seed): refused write has no conflict record")
            case .duplicate: Issue.record("seed \(seed): a write was submitted once but decided duplicate")
            }
            if s.decision.outcome == .won, let displaced = s.currentBefore {
                // The value a won write displaced is kept too, for its author.
                #expect(w.hub.conflicts.contains { $0.loser == displaced && $0.outcome == .lost }, "seed \(seed): displaced value lost")
            }
        }
        #expect(counts.values.reduce(0, +) == w.submissions.count)
        let refused = (counts[.lost] ?? 0) + (counts[.rejected] ?? 0) + (counts[.proposal] ?? 0) + (counts[.won] ?? 0)
        #expect(w.hub.conflicts.count == refused, "seed \(seed)")
    }

    // (d) I1: a permitted write on top of the current value always applies.
    @Test(arguments: seeds)
    func permittedWriteOnTopOfCurrentApplies(seed: UInt64) {
        let w = Self.runs[seed]!
        var onTop = 0
        for s in w.submissions where s.write.kind == .set && s.write.base.matches(s.currentBefore) {
            onTop += 1
            switch s.decision.outcome {
            case .rejected, .proposal: continue  // not permitted: a different rule
            default: #expect(s.decision.outcome == .applied, "seed \(seed): \(s.decision.rule.rawValue)")
            }
        }
        #expect(onTop > 0, "seed \(seed): no write was made on top of the current value")
        // And directly: for every field of every record, a write with the current base by a
        // user the matrix permits is applied.
        let fresh = w.hub
        var checked = 0
        for record in w.hub.state.records.values.sorted(by: { $0.id < $1.id }) where !record.isDeleted {
            guard let entity = fresh.workspace.entity(record.entity) else { continue }
            for field in entity.fields where field.name != entity.stageField {
                for user in Workload.users {
                    let actor = Actor(user: user.name, role: user.role)
                    let ctx = fresh.context(for: actor, record: record.id)
                    let access = fresh.workspace.permission(actor: actor, relations: ctx.relations, record: ctx.record, entity: record.entity, field: field.name)
                    guard access.mayWrite else { continue }
                    let current = ctx.record?.fields[field.name]
                    let write = FieldWrite(
                        record: record.id, entity: record.entity, field: field.name, value: .null,
                        base: current.map { .sequence($0.sequence) } ?? .none, author: user.name,
                        stamp: Stamp(hlc: HLC(rawValue: 1), replica: ReplicaID(UUID128(high: 9, low: 9))))
                    let d = resolve(current: current, incoming: write, context: ctx)
                    if d.outcome == .rejected && (d.rule == .appendOnly || d.rule == .approvalPending || d.rule == .writeOnce) { continue }
                    #expect(d.outcome == .applied, "seed \(seed): \(user.role) \(record.entity).\(field.name): \(d.rule.rawValue)")
                    checked += 1
                }
            }
            if checked > 2000 { break }
        }
        #expect(checked > 0)
    }

    // (e) I3: two concurrent writes to different fields of one record never conflict.
    @Test(arguments: seeds)
    func differentFieldsNeverConflict(seed: UInt64) {
        let w = Self.runs[seed]!
        var rng = SeededGenerator(seed: seed ^ 0xE)
        // Fields whose value changes what others may write are excluded: the stage (gates,
        // access by stage), the owner (relations) and the approval state (locks).
        let control: Set<String> = ["stage", "owner", "approval_state"]
        var pairs = 0
        for record in w.hub.state.records.values.sorted(by: { $0.id < $1.id }) where !record.isDeleted && record.entity == "opportunity" {
            let entity = w.workspace.entity(record.entity)!
            let fields = entity.fields.filter { !control.contains($0.name) }
            for _ in 0..<40 {
                let f1 = fields[Int(rng.next() % UInt64(fields.count))], f2 = fields[Int(rng.next() % UInt64(fields.count))]
                guard f1.name != f2.name else { continue }
                let u1 = Workload.users[Int(rng.next() % UInt64(Workload.users.count))]
                let u2 = Workload.users[Int(rng.next() % UInt64(Workload.users.count))]
                var hub = w.hub
                let w1 = write(hub, record, f1, u1, hlc: 10, replica: 1, rng: &rng)
                let w2 = write(hub, record, f2, u2, hlc: 5, replica: 2, rng: &rng)
                let alone2: Decision = {
                    var h = w.hub
                    return h.submit(w2, actor: Actor(user: u2.name, role: u2.role))
                }()
                let d1 = hub.submit(w1, actor: Actor(user: u1.name, role: u1.role))
                let d2 = hub.submit(w2, actor: Actor(user: u2.name, role: u2.role))
                // w2's fate does not depend on w1 having landed first.
                #expect(d2.outcome == alone2.outcome && d2.rule == alone2.rule, "seed \(seed): \(f1.name) then \(f2.name)")
                if d1.outcome.holds && d2.outcome.holds { pairs += 1 }
                #expect(d1.outcome != .lost && d2.outcome != .lost, "seed \(seed): a write to another field made one lose")
            }
        }
        #expect(pairs > 0, "seed \(seed): no pair of permitted writes was tried")
    }

    func write(_ hub: Reconciler, _ record: Record, _ field: Field, _ user: Directory.User, hlc: UInt64, replica: UInt64, rng: inout SeededGenerator) -> FieldWrite {
        let current = hub.state[record.id]?.fields[field.name]
        let value: Value =
            switch field.type {
            case .text: .text("x\(rng.next() % 100)")
            case let .decimal(scale): .decimal(ExactDecimal(units: Int64(rng.next() % 500), scale: scale))
            case let .enumeration(m): .member(m[Int(rng.next() % UInt64(m.count))])
            case .boolean: .boolean(true)
            case .integer: .integer(1)
            case .date: .date(CivilDate(daysSinceEpoch: 20_500))
            case .timestamp: .timestamp(Timestamp(milliseconds: 1))
            case .reference: .reference(RecordID(high: 1, low: rng.next()))
            case .user: .text("sam")
            }
        return FieldWrite(
            record: record.id, entity: record.entity, field: field.name, value: value,
            base: current.map { .sequence($0.sequence) } ?? .none, author: user.name,
            stamp: Stamp(hlc: HLC(rawValue: 1 << 62 + hlc), replica: ReplicaID(UUID128(high: 0, low: replica))))
    }
}

struct LoggedKey: Hashable {
    var stamp: Stamp
    var field: String
}
