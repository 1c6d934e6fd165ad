/// What the batch decider reads of the hub's state: the hub's store, or the in-memory state of
/// `Reconciler`. Every read sees the effects the caller has applied so far (merge-semantics.md §7).
public protocol HubStateReader {
    func record(_ id: RecordID) throws -> Record?
    /// Several records in one read; those absent are left out.
    func records(_ ids: [RecordID]) throws -> [RecordID: Record]
    /// Several records and the teams of those that have one, in one read: teams has an entry
    /// (empty when nobody is on it) for every id asked; nil when this reader does not read them
    /// together (each team is then read when needed).
    func recordsAndTeams(_ ids: [RecordID]) throws -> (records: [RecordID: Record], teams: [RecordID: Set<UserName>]?)
    /// Of `ids` (records absent from the state), those compaction removed as tombstones: deleted
    /// records whose ids stay taken (merge-semantics.md §7.2).
    func compacted(_ ids: [RecordID]) throws -> Set<RecordID>
    /// The active team of a staged record (`Workspace.teamRule`).
    func team(of record: RecordID) throws -> Set<UserName>
    /// The highest sequence in the log (0 when empty).
    func head() throws -> UInt64
    /// The highest conflict id (0 when there is none).
    func conflictHead() throws -> UInt64
    func meta(_ key: String) throws -> String?
    /// Open (not closed, not deleted) staged records a user owns: the assignment rule's capacity.
    func openRecords(owner: UserName, closedStages: Set<String>) throws -> Int
    /// Whether a live staged record `actor` sees references `target`: what makes an account or
    /// a contact visible to them (`Workspace.isVisible` applied to every such record).
    func referencedByVisible(_ target: RecordID, actor: Actor, directory: Directory) throws -> Bool
    /// The live staged records that reference `target` in some field.
    func referencing(_ target: RecordID) throws -> [RecordID]
    /// The live records of an entity.
    func liveRecords(entity: String) throws -> [RecordID]
    /// The records hanging off a staged record (its `visible_via` names it).
    func children(of parent: RecordID, entity: String) throws -> [RecordID]
}

extension HubStateReader {
    /// One read per record, for readers in memory.
    public func records(_ ids: [RecordID]) throws -> [RecordID: Record] {
        var out = [RecordID: Record]()
        for id in ids { if let r = try record(id) { out[id] = r } }
        return out
    }

    public func recordsAndTeams(_ ids: [RecordID]) throws -> (records: [RecordID: Record], teams: [RecordID: Set<UserName>]?) {
        (try records(ids), nil)
    }

    /// A state that never compacts (`Reconciler`) keeps every tombstone.
    public func compacted(_ ids: [RecordID]) throws -> Set<RecordID> { [] }
}

/// What the hub does because of a decision, in order: the caller applies them inside its
/// transaction before the next write is decided.
public enum HubEffect: Sendable, Hashable {
    /// An accepted write, with its sequence.
    case append(LogEntry)
    /// A value that did not hold (I6), with its id and the record's owner at that moment.
    case conflict(ConflictRecord, owner: UserName?)
    /// A record as it now stands.
    case save(Record)
    /// The hub's own bookkeeping (the assignment rule's last choice).
    case meta(key: String, value: String)
}

/// What became of one write, as the pushing user may learn it.
public struct Verdict: Sendable, Hashable {
    /// The decision after the hub's own refusals (clock ahead, not visible, unknown user, merge).
    public var decision: Decision
    /// The write's sequence when it holds (0 otherwise).
    public var sequence: UInt64 = 0
    /// The conflict record it made (0: none).
    public var conflict: UInt64 = 0
    /// The value that holds now, as the answer may show it (an empty value when nothing holds);
    /// nil when withheld from this writer (I16).
    public var shown: Value?
}

/// The hub's decision loop for one batch, pure: it decides each write with `resolve` and the
/// hub's own refusals, and returns what follows as effects — log entries, conflict records,
/// saved records, bookkeeping — with the effects the hub derives (§7.1: stage history, the
/// hand-off assignment, approvals; §7.3: merges). It reads through `HubStateReader` and never
/// writes: the hub applies the effects inside its transaction, `Reconciler` to memory.
/// Sequences and conflict ids follow the reader's heads, gapless.
/// Not generic over the reader: a generic struct used from another module runs unspecialised,
/// every field access through runtime metadata; one existential call per read is cheaper.
public struct BatchDecider {
    /// The author of writes the hub makes itself (stage history, assignments). Not a valid user name.
    public static var systemAuthor: UserName { "hub" }

    public let reader: any HubStateReader
    public let workspace: Workspace
    public let directory: Directory
    /// The hub's clock: the caller keeps it across batches.
    public private(set) var clock: HybridLogicalClock
    let hubReplica: ReplicaID
    let hubTime: Int64
    let maxClockAhead: Int64
    /// The replica an older copy of which made this batch's writes (`recovered_from`,
    /// sync-protocol.md §5.5): each holds only on top of the current value.
    public var olderCopy: ReplicaID?

    /// The entity whose records make teams (`Workspace.teamRule`), looked up once.
    let teamEntity: String?
    /// Records read or written in this batch (nil: known not to exist).
    var records: [RecordID: Record?] = [:]
    /// Of the records read absent, those whose tombstone compaction removed (`HubStateReader.compacted`).
    var compacted = Set<RecordID>()
    var dirty: [RecordID] = []
    var dirtySet = Set<RecordID>()
    /// The last sequence this batch took (nil: none yet).
    public internal(set) var head: UInt64?
    /// The last conflict id this batch took (nil: none yet).
    public internal(set) var conflictHead: UInt64?
    var meta: [String: String] = [:]
    var effects: [HubEffect] = []
    /// Teams looked up once per record per batch (a batch usually edits few deals many times).
    var teams: [RecordID: Set<UserName>] = [:]
    /// Team records changed by the write being decided, as the store still holds them (`before`,
    /// nil: new) and as they are now: the store's teams lag them until the write's effects are
    /// drained, and `activeTeam` reads through them.
    var undrainedTeam: [RecordID: (before: Record?, after: Record)] = [:]
    var relationCache: [RecordID: (user: UserName, owner: UserName?, assigneeField: String?, relations: Set<Relation>)] = [:]
    /// Accounts and contacts found visible (or not) through the deals referencing them, per batch.
    var referencedVisible: [RecordID: (user: UserName, visible: Bool)] = [:]

    public init(
        reader: any HubStateReader, workspace: Workspace, directory: Directory, clock: HybridLogicalClock, hubReplica: ReplicaID, hubTime: Int64,
        maxClockAhead: Int64
    ) {
        self.reader = reader
        self.workspace = workspace
        self.directory = directory
        self.clock = clock
        self.hubReplica = hubReplica
        self.hubTime = hubTime
        self.maxClockAhead = maxClockAhead
        teamEntity = workspace.teamRule?.entity
    }

    // MARK: Reading through the batch

    /// Reads the records a batch names and their teams in one go (one round trip on a networked
    /// store, not two per record); those already read or written in this batch are kept as they
    /// are. A team read here is the store's as of now: a team change later in the batch is saved
    /// at once and clears `teams`, so the next read sees it.
    /// An array, not any sequence: called from the hub's module, a generic here ran unspecialised,
    /// most of its time in metadata lookups per id.
    public mutating func prefetch(_ ids: [RecordID]) throws {
        var missing = [RecordID]()
        var seen = Set<RecordID>()
        for id in ids where records[id] == nil && seen.insert(id).inserted { missing.append(id) }
        guard !missing.isEmpty else { return }
        let (found, foundTeams) = try reader.recordsAndTeams(missing)
        var absent = [RecordID]()
        for id in missing {
            records[id] = .some(found[id])
            if found[id] == nil { absent.append(id) }
            if let foundTeams, teams[id] == nil { teams[id] = foundTeams[id] ?? [] }
        }
        // New records, mostly: one more read for all of them (none when every one exists).
        if !absent.isEmpty { compacted.formUnion(try reader.compacted(absent)) }
    }

    mutating func record(_ id: RecordID) throws -> Record? {
        if let cached = records[id] { return cached }
        let r = try reader.record(id)
        records[id] = r
        if r == nil { compacted.formUnion(try reader.compacted([id])) }
        return r
    }

    mutating func nextSequence() throws -> UInt64 {
        let next = try (head ?? reader.head()) + 1
        head = next
        return next
    }

    mutating func put(_ record: Record) {
        if teamEntity == record.entity { undrainedTeam[record.id] = (undrainedTeam[record.id].map(\.before) ?? records[record.id] ?? nil, record) }
        records[record.id] = record
        if dirtySet.insert(record.id).inserted { dirty.append(record.id) }
        // A team change is saved at once, so the next write's reads see the new team.
        if teamEntity == record.entity {
            teams.removeAll()
            relationCache.removeAll()
            effects.append(.save(record))
        }
        // Which accounts a user sees follows the deals and teams: found again after a change.
        if !referencedVisible.isEmpty, teamEntity == record.entity || workspace.entity(record.entity)?.stageField != nil {
            referencedVisible.removeAll()
        }
    }

    mutating func relations(of user: UserName, to record: Record) throws -> Set<Relation> {
        // A batch writes many fields of few records: the relations hold until the owner or a
        // team changes (a team write clears `teams` and this cache together). Whether the record
        // is assigned to the user is read each time: a batch may give it away, then write it.
        if let cached = relationCache[record.id], cached.owner == record.owner, cached.user == user {
            guard let field = cached.assigneeField, (record[field] == .text(user)) != cached.relations.contains(.assignee) else { return cached.relations }
            var relations = cached.relations
            if relations.contains(.assignee) { relations.remove(.assignee) } else { relations.insert(.assignee) }
            return relations
        }
        let team = workspace.entity(record.entity)?.stageField != nil ? try activeTeam(of: record.id) : []
        let directory = self.directory
        let relations = workspace.relations(of: user, to: record, team: team, manages: { directory.manages(user, $0) })
        relationCache[record.id] = (user, record.owner, workspace.assigneeField(of: record.entity), relations)
        return relations
    }

    /// The active team of a staged record, read once per batch.
    mutating func activeTeam(of id: RecordID) throws -> Set<UserName> {
        if let cached = teams[id] { return cached }
        var team = try reader.team(of: id)
        // The store's team, with what this batch changed and it does not hold yet: read again
        // from the deal's memberships as the batch leaves them, when the batch changed one of
        // them (a user with two memberships, one taken off, stays on). A membership's deal is
        // write-once (I14): the store's children and the batch's new ones are all of them.
        if let rule = workspace.teamRule,
            undrainedTeam.values.contains(where: { $0.after[rule.parent] == .reference(id) || $0.before?[rule.parent] == .reference(id) })
        {
            var ids = Set(try reader.children(of: id, entity: rule.entity))
            for (rid, change) in undrainedTeam where change.after[rule.parent] == .reference(id) { ids.insert(rid) }
            team = []
            for rid in ids {
                if let r = try record(rid), let m = rule.member(r), m.of == id { team.insert(m.user) }
            }
        }
        teams[id] = team
        return team
    }

    /// Whether any enabled user would see `record` as it stands here (I17): a deal's owner or
    /// stage may not change so that it is out of everyone's reach.
    mutating func seenByAnyone(_ record: Record, entity: Entity) throws -> Bool {
        workspace.anyoneSees(record, entity: entity, team: try activeTeam(of: record.id), directory: directory)
    }

    /// Whether the deal would be seen once the hand-off gave it its rep (a lead moved into the
    /// hand-off stage without an owner gets one in the same batch, §7.1).
    func seenOnceHandedOff(_ record: Record, entity: Entity) throws -> Bool {
        guard let (rep, _) = try handOffRep(for: record) else { return false }
        var assigned = record
        assigned.fields["owner"] = FieldState(value: .text(rep.name), stamp: record.created.stamp, author: Self.systemAuthor, authority: .own)
        return workspace.anyoneSees(assigned, entity: entity, team: teams[record.id] ?? [], directory: directory)
    }

    /// Whether `actor` may see `record` (`Workspace.visibility`): a staged record by the role's
    /// conditions; a record hanging off another with it; an account or contact when the user
    /// created it or sees a deal that references it.
    mutating func visible(_ record: Record, to actor: Actor) throws -> Bool {
        guard let entity = workspace.entity(record.entity) else { return false }
        switch workspace.visibility(of: record, entity: entity, user: actor.user) {
        case .byRole:
            return workspace.isVisible(record: record, role: actor.role, relations: try relations(of: actor.user, to: record))
        case let .withParent(parentID):
            guard let parent = try self.record(parentID) else { return false }
            return try visible(parent, to: actor)
        case .own: return true
        case .hidden: return false
        case .whenReferenced:
            if let known = referencedVisible[record.id], known.user == actor.user { return known.visible }
            // The deals written in this batch are saved at its end; the reader has the rest.
            var seen = try records.values.contains { r in
                guard let r, workspace.entity(r.entity)?.stageField != nil, r.fields.values.contains(where: { $0.value == .reference(record.id) }) else { return false }
                return try visible(r, to: actor)
            }
            if !seen { seen = try reader.referencedByVisible(record.id, actor: actor, directory: directory) }
            referencedVisible[record.id] = (actor.user, seen)
            return seen
        }
    }

    /// The access `actor` has now to a field of `record` (or, with no field, `.read` when they
    /// see it): hidden for a record they do not see.
    mutating func access(_ actor: Actor, to record: Record, field: String?) throws -> Access {
        guard try visible(record, to: actor) else { return .hidden }
        guard let field, !field.isEmpty else { return .read }
        let rel = try relations(of: actor.user, to: record)
        return workspace.permission(actor: actor, relations: rel, record: record, entity: record.entity, field: field)
    }

    /// Whether `actor` may read what a field (or, with no field, the record) of `record`
    /// holds now: what an answer or a conflict may show them (merge-semantics.md I16).
    mutating func mayRead(_ record: Record?, field: String?, actor: Actor) throws -> Bool {
        guard let record else { return true }
        return try access(actor, to: record, field: field) != .hidden
    }

    // MARK: Effects

    /// Whose conflicts a write that did not hold on `record` also is (besides its writer's), for
    /// them and their managers: the record's owner; a record hanging off another (a task, a
    /// membership), its parent's — the deal's owner arbitrates what happens on the deal.
    mutating func conflictOwner(of record: Record?) throws -> UserName? {
        guard let record else { return nil }
        if let owner = record.owner { return owner }
        guard let via = workspace.entity(record.entity)?.visibleVia, case let .reference(parent) = record[via] else { return nil }
        return try self.record(parent)?.owner
    }

    mutating func conflict(
        _ record: RecordID, _ entity: String, _ field: String, outcome: Outcome, rule: RuleID, loser: FieldState,
        winner: FieldState?, owner: UserName?
    ) throws -> UInt64 {
        let id = try (conflictHead ?? reader.conflictHead()) + 1
        conflictHead = id
        effects.append(
            .conflict(
                ConflictRecord(id: id, record: record, entity: entity, field: field, outcome: outcome, rule: rule, loser: loser, winner: winner),
                owner: owner))
        return id
    }

    mutating func log(_ record: inout Record, field: String, kind: WriteKind, state: FieldState) throws -> UInt64 {
        let seq = try nextSequence()
        var s = state
        s.sequence = seq
        effects.append(
            .append(
                LogEntry(
                    sequence: seq, record: record.id, entity: record.entity, field: field, kind: kind, value: s.value,
                    stamp: s.stamp, author: s.author, authority: s.authority)))
        switch kind {
        case .create: record.created = s
        case .set: record.fields[field] = s
        case .delete: record.deleted = s
        }
        return seq
    }

    /// Hands the effects so far to `body`, in order, and forgets them (the hub's path: no
    /// array per write).
    public mutating func drain(_ body: (HubEffect) throws -> Void) rethrows {
        for effect in effects { try body(effect) }
        effects.removeAll(keepingCapacity: true)
        undrainedTeam.removeAll()
    }

    /// The effects so far, handed to the caller to apply.
    public mutating func takeEffects() -> [HubEffect] {
        defer {
            effects.removeAll(keepingCapacity: true)
            undrainedTeam.removeAll()
        }
        return effects
    }

    /// The records changed so far, but `keep` (the one the last write changed: the next may
    /// change it again), each handed out once to be saved before the batch ends; a record changed
    /// again is handed out again, or saved by `finish`. A large push saves them beside its
    /// decisions (the hub's `RowWriter`). Team records are not among them: they are saved at once.
    public mutating func takeChanged(except keep: RecordID?) -> [Record] {
        var out = [Record]()
        var kept = [RecordID]()
        for id in dirty {
            if id == keep {
                kept.append(id)
            } else if let r = records[id] ?? nil, teamEntity != r.entity {
                out.append(r)
            }
        }
        dirty = kept
        dirtySet = Set(kept)
        return out
    }

    /// The end of the batch: every record it changed, saved once.
    public mutating func finish() -> [HubEffect] {
        for id in dirty where teamEntity != records[id]??.entity {
            if let r = records[id] ?? nil { effects.append(.save(r)) }
        }
        dirty.removeAll()
        dirtySet.removeAll()
        records.removeAll()
        return takeEffects()
    }

    /// An imported row (`opps-hub import`): created in `stage` as `createdBy` (at `createdAt`,
    /// device time, when the file says; `row` orders rows of one millisecond), each value
    /// written as `writer` with the hub's stamps. No rule is asked: the operator imports.
    public mutating func imported(
        id: RecordID, entity: String, stage: Value, createdAt: Int64?, row: Int, createdBy: UserName, writer: UserName,
        values: [(String, Value)]
    ) throws {
        var stamp = systemStamp()
        if let createdAt { stamp = Stamp(hlc: HLC(milliseconds: createdAt, counter: UInt16(truncatingIfNeeded: row)), replica: stamp.replica) }
        var record = Record(id: id, entity: entity, created: FieldState(value: stage, stamp: stamp, author: createdBy, authority: .own))
        _ = try log(&record, field: "", kind: .create, state: record.created)
        for (field, value) in values { try write(&record, field, value, author: writer) }
        put(record)
    }

    // MARK: Deciding

    /// `24 hours`, `90 minutes`: a limit as a person reads it.
    static func duration(_ ms: Int64) -> String {
        ms % 3_600_000 == 0 ? "\(ms / 3_600_000) hours" : "\(ms / 60_000) minutes"
    }

    /// A write naming an entity or field number this workspace does not know: kept as its
    /// author's conflict, like any refusal.
    public mutating func rejectUnknown(record: RecordID, entityNumber: UInt32, fieldNumber: UInt32, rule: RuleID, stamp: Stamp, actor: Actor) throws -> Verdict {
        let loser = FieldState(value: .null, stamp: stamp, author: actor.user, authority: .hidden)
        let detail = rule == .unknownEntity ? "unknown entity number \(entityNumber)" : "unknown field number \(fieldNumber)"
        var verdict = Verdict(decision: Decision(outcome: .rejected, rule: rule, detail: detail, loser: loser))
        verdict.conflict = try conflict(record, "#\(entityNumber)", "#\(fieldNumber)", outcome: .rejected, rule: rule, loser: loser, winner: nil, owner: nil)
        return verdict
    }

    public mutating func decide(_ w: FieldWrite, actor: Actor) throws -> Verdict {
        // A device clock far ahead must not drag the hub's own clock (its assignment and
        // restore stamps) into the future: only clocks within a minute of the hub's count.
        if w.stamp.hlc.milliseconds <= hubTime + 60_000 { clock.receive(w.stamp.hlc, physical: hubTime) }
        var record = try self.record(w.record)
        let current: FieldState? =
            switch w.kind {
            case .set: record?.fields[w.field]
            case .create: record?.created
            case .delete: record?.deleted
            }
        let entity = workspace.entity(w.entity)
        // The record's entity is the write's unless the write is refused for naming another
        // (an entity is a struct of arrays: each lookup copies it).
        let recordEntity = record.map { $0.entity == w.entity ? entity : workspace.entity($0.entity) } ?? nil
        let previousStage: Value = entity?.stageField.map { record?[$0] ?? .null } ?? .null
        let refused = FieldState(value: w.value, stamp: w.stamp, author: w.author, authority: .hidden)
        var decision: Decision
        // I15: a stamp far ahead of the hub's clock would win every equal-authority conflict
        // for good and falsify the stage history; it is refused (the author sees why).
        if w.stamp.hlc.milliseconds > hubTime + maxClockAhead {
            decision = Decision(
                outcome: .rejected, rule: .clockAhead,
                detail: "this device's clock is more than \(Self.duration(maxClockAhead)) ahead of the hub's: set it right, then sync again",
                winner: current, loser: refused)
            // Records that hang off another (activities, tasks) are writable only with it visible.
        } else if let r = record, recordEntity?.stageField == nil, !(try visible(r, to: actor)) {
            decision = Decision(outcome: .rejected, rule: .notVisible, detail: "the record it belongs to is not visible to this user", winner: current, loser: refused)
        } else if record != nil, w.kind == .set, case let .reference(targetEntity)? = recordEntity?.fieldType(w.field),
            case let .reference(target) = w.value,
            !(try self.record(target).map { $0.entity == targetEntity && !$0.isDeleted ? try visible($0, to: actor) : false } ?? false)
        {
            // A reference makes its target visible to whoever sees the record (an account with
            // its deals), so it may only name a live record of the field's entity the writer
            // already sees: pointing a deal at someone else's account would reveal it.
            decision = Decision(outcome: .rejected, rule: .notVisible, detail: "\(w.field) must name a visible \(targetEntity) record", winner: current, loser: refused)
        } else if w.kind == .set, UserNames.namesUnknownUser(entity?.fieldType(w.field), w.value, known: { directory.users[$0] != nil }) {
            decision = Decision(outcome: .rejected, rule: .unknownUser, detail: "\(w.field) names no user of this hub", winner: current, loser: refused)
        } else {
            let rel = try record.map { try self.relations(of: actor.user, to: $0) } ?? []
            var context = RuleContext(workspace: workspace, actor: actor, relations: rel, record: record)
            context.olderCopy = olderCopy
            context.compacted = record == nil && compacted.contains(w.record)
            decision = resolve(current: current, incoming: w, context: context)
            // A delete naming a survivor is a merge (merge-semantics.md §7.3).
            if decision.outcome == .applied, w.kind == .delete, !w.value.isNull, let (rule, detail) = try mergeProblem(w, actor: actor) {
                decision = Decision(outcome: .rejected, rule: rule, detail: detail, winner: current, loser: refused)
            }
            // I17: a deal's owner or stage may not change so that no enabled user sees it (no
            // one could then give it an owner or move it on).
            if decision.outcome.holds, w.kind == .set, let e = recordEntity, e.movesAudience(w.field), var after = record, let winner = decision.winner {
                after.fields[w.field] = winner
                if try !seenByAnyone(after, entity: e), try !seenOnceHandedOff(after, entity: e) {
                    decision = Decision(outcome: .rejected, rule: .orphaned, detail: Self.orphanedDetail(e.name), winner: current, loser: refused)
                }
            }
        }
        // I16: the answer carries the value that holds only to a writer who may read it: a
        // refused write to a hidden field or an unseen record learns the rule, not the value.
        let readable = try decision.outcome.holds || mayRead(record, field: w.kind == .set ? w.field : nil, actor: actor)
        if !readable {
            decision.winner = nil
            if try !mayRead(record, field: nil, actor: actor) { decision.detail = "the record is not visible to this user" }
        }
        var verdict = Verdict(decision: decision)
        switch decision.outcome {
        case .applied, .won:
            guard let winner = decision.winner else { break }
            if w.kind == .create {
                var fresh = Record(id: w.record, entity: w.entity, created: winner)
                verdict.sequence = try log(&fresh, field: "", kind: .create, state: winner)
                for (field, value) in workspace.initialFields(of: w, role: actor.role) {
                    _ = try log(&fresh, field: field, kind: .set, state: FieldState(value: value, stamp: w.stamp, author: w.author, authority: .own))
                }
                record = fresh
            } else if var r = record {
                // The only copy while it is logged into: the batch's own (and `record`) shared
                // its fields, so writing one field copied them all.
                record = nil
                // A team record's version the store holds, before this write (`activeTeam`).
                if teamEntity == r.entity, undrainedTeam[r.id] == nil { undrainedTeam[r.id] = (r, r) }
                records[w.record] = nil
                verdict.sequence = try log(&r, field: w.field, kind: w.kind, state: winner)
                record = r
            }
            if let r = record { put(r) }
            verdict.shown = winner.value
            if decision.outcome == .won, let displaced = decision.loser {
                verdict.conflict = try conflict(
                    w.record, w.entity, w.field, outcome: .lost, rule: decision.rule, loser: displaced, winner: winner, owner: try conflictOwner(of: record))
            }
            if var r = record {
                // Applied or won only through `resolve`, which refuses a write naming another entity than its record's.
                try derive(after: w, on: &r, entity: entity, previousStage: previousStage, actor: actor)
            }
        case .lost, .rejected, .proposal:
            // Present (an empty Value when nothing holds) to a reader who may read it; absent
            // only when withheld (I16), so a client can tell "not shown" from "empty".
            if readable { verdict.shown = decision.winner?.value ?? .null }
            if let loser = decision.loser {
                // A write to what its writer may not see is theirs alone: whoever may write what
                // they like to any id does not reach the record's owner with it.
                verdict.conflict = try conflict(
                    w.record, w.entity, w.field, outcome: decision.outcome, rule: decision.rule, loser: loser,
                    winner: decision.winner, owner: decision.rule == .notVisible ? nil : try conflictOwner(of: record))
            }
        case .duplicate:
            if readable { verdict.shown = decision.winner?.value ?? .null }
        }
        // A value that names people (the stage log's movers, a user field) is not answered with
        // them to a writer from whom the record's names are withheld (visibility.md §6), as a
        // page would not; their own value comes back as they wrote it.
        if let shown = verdict.shown, w.kind == .set, let r = record, try withholdsNames(from: actor, on: r) {
            verdict.shown = workspace.withholdingNames(in: shown, entity: r.entity, field: w.field, by: decision.winner?.author ?? "", from: actor.user)
        }
        return verdict
    }

    /// Whether the names on `record` are withheld from `actor` (visibility.md §6): a staged
    /// record's when its owner is hidden from them, a child's when its parent's is (or its parent
    /// is not set: nothing of a deal to read it by), a free record's when their role may read no
    /// deal's owner.
    mutating func withholdsNames(from actor: Actor, on record: Record) throws -> Bool {
        guard let e = workspace.entity(record.entity) else { return false }
        if e.stageField != nil {
            guard e.field("owner") != nil else { return false }
            return try access(actor, to: record, field: "owner") == .hidden
        }
        if let via = e.visibleVia {
            guard case let .reference(p) = record[via], let parent = try self.record(p), workspace.entity(parent.entity)?.stageField != nil else { return true }
            return try withholdsNames(from: actor, on: parent)
        }
        return !workspace.mayEverReadOwners(role: actor.role)
    }

    /// Why a write or a request is `orphaned`, and how to mend it (a request's note carries it
    /// too, which `Vocabulary.chineseHubNote` reads).
    public static func orphanedDetail(_ entity: String) -> String {
        "no user would see this \(entity) afterwards: give it an owner who sees it"
    }

    // MARK: Effects the hub derives (merge-semantics.md §7)

    /// A stamp for a write the hub makes itself.
    mutating func systemStamp() -> Stamp {
        Stamp(hlc: clock.tick(physical: hubTime), replica: hubReplica)
    }

    /// Sets a field as the hub (or, for an approved request, as the approver) and logs it.
    mutating func write(_ record: inout Record, _ field: String, _ value: Value, author: UserName = systemAuthor, authority: Access = .own) throws {
        _ = try log(&record, field: field, kind: .set, state: FieldState(value: value, stamp: systemStamp(), author: author, authority: authority))
    }

    /// What follows from an applied write: the stage history, the hand-off assignment, an
    /// approval request becoming pending, an approval decision taking effect, a merge.
    mutating func derive(after w: FieldWrite, on record: inout Record, entity: Entity?, previousStage: Value, actor: Actor) throws {
        guard let entity else { return }
        // The creation records the initial stage itself (its stamp and value); later moves
        // go into the stage log.
        if let sf = entity.stageField, w.kind == .set, w.field == sf, record[sf] != previousStage {
            try recordStageChange(of: &record, at: w.stamp.hlc.milliseconds, by: w.author)
            try assignIfHandedOff(&record)
            put(record)
        }
        if w.kind == .set, workspace.approvalRequests == entity.name, let ap = workspace.approvals {
            try approvalEffects(&record, write: w, actor: actor, approvals: ap)
        }
        if w.kind == .delete, case let .reference(survivor) = w.value { try repoint(from: record.id, to: survivor, author: actor.user) }
        // Last: it reads the deal as the effects above left it. A new owner may leave a request
        // no one can carry out; so may a new stage, where what a role may write changes with it.
        if w.kind == .set, let sf = entity.stageField, let ap = workspace.approvals,
            w.field == Self.ownerField || (w.field == sf && stageMoveMayStrand(entity, from: previousStage, to: record[sf]))
        {
            try settleStranded(on: record.id, approvals: ap)
        }
        // A team changed: a member taken off (or moved) may have asked for something on the deal.
        if let rule = workspace.teamRule, entity.name == rule.entity, let ap = workspace.approvals {
            let before = undrainedTeam[record.id]?.before
            let deals = Set([before?[rule.parent], record[rule.parent]].compactMap { v -> RecordID? in if case let .reference(id)? = v { id } else { nil } })
            for deal in deals.sorted() { try settleStranded(on: deal, approvals: ap) }
        }
    }

    /// Whether a stage change from `before` to `after` (the stage field's values) may strand a
    /// request: never when the stage did not change.
    func stageMoveMayStrand(_ entity: Entity, from before: Value, to after: Value) -> Bool {
        guard before != after, case let .member(from) = before, case let .member(to) = after else { return false }
        return workspace.stageMoveMayStrand(entity: entity, from: from, to: to)
    }

    /// The field whose change hands a deal to someone else.
    static let ownerField = "owner"

    /// §7.1 "A request no one can carry out": once a deal's owner changed, or its stage moved where
    /// some role may write less (`Workspace.stageMoveMayStrand`), each request still
    /// pending on it is checked as its approval would check it (I13, the requester's side); one
    /// that fails — its requester no longer sees the deal, or may no longer write or propose the
    /// field — is settled at once: `rejected` with the hub's note, each value it asked for the
    /// requester's conflict record (`request-invalid`), the deal unlocked unless another request
    /// waits. No approver could approve it, and it kept the deal's locked fields from the new owner.
    @discardableResult
    mutating func settleStranded(on dealID: RecordID, approvals ap: Approvals) throws -> Int {
        guard let requests = ap.requests, let via = workspace.entity(requests)?.visibleVia else { return 0 }
        var settled = 0
        var ids = Set(try reader.children(of: dealID, entity: requests))
        for case let (id, r?) in records where r.entity == requests && r[via] == .reference(dealID) { ids.insert(id) }
        for id in ids.sorted() {
            guard var request = try record(id), !request.isDeleted, request["state"] == .member("pending"), var deal = try record(dealID),
                case let .failure(problem) = try requested(request, deal: deal, approver: nil)
            else { continue }
            try write(&request, "state", .member("rejected"))
            try write(&request, "note", .text("not applied: " + problem.message))
            put(request)
            // What it asked for, as its requester sees a rejection: a conflict a value.
            if case let .text(targetText) = request["target"], let targetID = RecordID(parsing: targetText), let target = try record(targetID),
                let e = workspace.entity(target.entity), case let .text(fieldName) = request["field"]
            {
                let lines = [(fieldName, Self.requestedText(request.fields["value"] ?? request.created) as String?)] + Self.withLines(request)
                for case let (name, text?) in lines {
                    guard let f = e.field(name), case let .success(v) = f.value(canonical: text) else { continue }
                    let loser = FieldState(value: v, stamp: request.fields["value"]?.stamp ?? request.created.stamp, author: request.creator, authority: .propose)
                    _ = try conflict(
                        target.id, target.entity, name, outcome: .rejected, rule: .requestInvalid, loser: loser, winner: target.fields[name], owner: deal.owner)
                }
            }
            try unlock(&deal, after: request, approvals: ap)
            settled += 1
        }
        return settled
    }

    /// The same, asked by the hub outside a push (`HubEngine.settlePendingRequests`: a user
    /// disabled, whose requests no approver may carry out any more). How many it settled.
    public mutating func settleStranded(onDeal dealID: RecordID) throws -> Int {
        guard let ap = workspace.approvals else { return 0 }
        return try settleStranded(on: dealID, approvals: ap)
    }

    /// Why a merge's survivor cannot take the deleted record's place, or nil (§7.3).
    mutating func mergeProblem(_ w: FieldWrite, actor: Actor) throws -> (RuleID, String)? {
        guard case let .reference(target) = w.value, target != w.record else { return (.typeMismatch, "a merge names another record to keep") }
        guard let survivor = try record(target), !survivor.isDeleted, survivor.entity == w.entity else {
            return (.typeMismatch, "a merge names a live \(w.entity) to keep")
        }
        guard try visible(survivor, to: actor) else { return (.notVisible, "the \(w.entity) to keep is not visible to this user") }
        return nil
    }

    /// A merge's effect (§7.3): every reference to the deleted record, in any record, now
    /// names the survivor — written by the merging user, so the trail says who.
    mutating func repoint(from deleted: RecordID, to survivor: RecordID, author: UserName) throws {
        // Deals through the refs index; other entities with a reference to the merged one's
        // entity (contacts of an account) by a scan: merges are rare.
        var sources = try Set(reader.referencing(deleted))
        if let merged = try record(deleted)?.entity {
            for e in workspace.entities where e.stageField == nil && e.fields.contains(where: { $0.type == .reference(entity: merged) }) {
                sources.formUnion(try reader.liveRecords(entity: e.name))
            }
        }
        for case let (id, r?) in records where r.fields.values.contains(where: { $0.value == .reference(deleted) }) { sources.insert(id) }
        for id in sources.sorted() {
            guard var source = try record(id), !source.isDeleted, let entity = workspace.entity(source.entity) else { continue }
            var changed = false
            for f in entity.fields where source[f.name] == .reference(deleted) {
                try write(&source, f.name, .reference(survivor), author: author)
                changed = true
            }
            if changed { put(source) }
        }
    }

    /// Appends the deal's stage change to its stage log (`StageLog`): the device time of the
    /// write that moved it and who. Reports compute time in stage, the funnel and follow-up
    /// speed from it, so offline work counts when it was done.
    mutating func recordStageChange(of deal: inout Record, at milliseconds: Int64, by author: UserName) throws {
        guard let field = workspace.stageHistory, let sf = workspace.entity(deal.entity)?.stageField, case let .member(stage) = deal[sf] else { return }
        try write(&deal, field, StageLog.appending(deal[field], at: milliseconds, stage: stage, by: author))
    }

    /// The requested value's canonical text (empty: clear the field), read the same way when
    /// the request is checked and when it is applied.
    static func requestedText(_ state: FieldState) -> String {
        if case let .text(t) = state.value { return t }
        return ""
    }

    /// A request's `with` lines as written — `FIELD=VALUE`, one a line — each as its field and
    /// value text; a line without `=` as itself with no value (which `requested` refuses).
    static func withLines(_ request: Record) -> [(field: String, text: String?)] {
        let withText = request.fields["with"].map(requestedText) ?? ""
        return withText.split(separator: "\n", omittingEmptySubsequences: true).map { line in
            guard let eq = line.firstIndex(of: "=") else { return (String(line), nil) }
            return (String(line[..<eq]), String(line[line.index(after: eq)...]))
        }
    }

    /// Approval requests (DOMAIN.md approvals). A request is complete once its target,
    /// field and value are written by its creator: the hub checks it names a field of the
    /// deal (or of a record hanging off it), marks it pending and, for threshold kinds,
    /// sets the deal's approval state to pending, which locks its commercial fields. An
    /// approver's decision is applied here: approved → the value is written as the
    /// approver; rejected → the requester gets a conflict record with the value.
    mutating func approvalEffects(_ request: inout Record, write w: FieldWrite, actor: Actor, approvals ap: Approvals) throws {
        guard case let .reference(dealID) = request["opportunity"], var deal = try self.record(dealID) else { return }
        let withdrawn = request[Approvals.withdrawnField] == .boolean(true)
        // Withdrawn while pending (§7.1 "Withdrawal"): the request's state says so, in its
        // creator's name, and the deal it locked is unlocked; a decision after it is refused.
        if w.field == Approvals.withdrawnField, w.author == request.creator, withdrawn, request["state"] == .member("pending") {
            try write(&request, "state", .member("withdrawn"), author: request.creator)
            put(request)
            try unlock(&deal, after: request, approvals: ap)
            return
        }
        if request["state"].isNull, w.field != "state", w.author == request.creator {
            guard case .text = request["target"], case .text = request["field"], request.fields["value"] != nil else { return }
            if withdrawn {
                // Taken back before it reached the hub: never pending, nothing locked.
                try write(&request, "state", .member("withdrawn"), author: request.creator)
            } else if case let .failure(problem) = try requested(request, deal: deal, approver: nil) {
                try write(&request, "state", .member("rejected"))
                try write(&request, "note", .text("invalid request: " + problem.message))
            } else {
                try write(&request, "state", .member("pending"))
                if ap.locks(kind: request["kind"]), workspace.entity(deal.entity)?.field(ap.stateField) != nil {
                    try write(&deal, ap.stateField, .member("pending"))
                    put(deal)
                }
            }
            put(request)
            return
        }
        guard w.field == "state", ap.approvers.contains(actor.role), case var .member(decision) = request["state"],
            decision == "approved" || decision == "rejected"
        else { return }
        try write(&request, "decided_by", .text(actor.user))
        var target: Record?
        var moved = false
        switch try requested(request, deal: deal, approver: actor) {
        case let .success(r):
            target = r.target
            if decision == "approved" {
                var t = r.target
                let targetEntity = workspace.entity(t.entity)
                let before = targetEntity?.stageField.map { t[$0] } ?? .null
                // What it carries alongside first: a stage move then finds its gate met.
                for (name, v) in r.also { try write(&t, name, v, author: actor.user, authority: .override) }
                try write(&t, r.field, r.value, author: actor.user, authority: .override)
                if r.field == targetEntity?.stageField, r.value != before {
                    try recordStageChange(of: &t, at: w.stamp.hlc.milliseconds, by: actor.user)
                    try assignIfHandedOff(&t)
                }
                put(t)
                target = t
                // Given to someone else, or moved to a stage where a role may write less: what
                // else waits on the deal may be stranded.
                if let e = targetEntity, let sf = e.stageField {
                    moved = ([r.field] + r.also.map(\.0)).contains(Self.ownerField) || stageMoveMayStrand(e, from: before, to: t[sf])
                }
            } else {
                let requester = request.creator
                for (name, v) in [(r.field, r.value)] + r.also {
                    let loser = FieldState(value: v, stamp: request.fields["value"]?.stamp ?? w.stamp, author: requester, authority: .propose)
                    _ = try conflict(
                        r.target.id, r.target.entity, name, outcome: .rejected, rule: .approvalRejected, loser: loser,
                        winner: r.target.fields[name], owner: deal.owner)
                }
            }
        case let .failure(problem):
            // What the approver approved can no longer be written as it was asked (I13): the
            // request is rejected on the record, and the approver's decision is kept as their
            // conflict, so neither is lost.
            if decision == "approved", let decided = request.fields["state"] {
                try write(&request, "state", .member("rejected"))
                _ = try conflict(
                    request.id, request.entity, "state", outcome: .rejected, rule: .requestInvalid, loser: decided,
                    winner: request.fields["state"], owner: deal.owner)
                decision = "rejected"
            }
            try write(&request, "note", .text("not applied: " + problem.message))
        }
        put(request)
        if ap.locks(kind: request["kind"]), workspace.entity(deal.entity)?.field(ap.stateField) != nil {
            if let target, target.id == deal.id { deal = target }
            // Still locked while another request waits on it; then its decision says.
            if try !anotherLockingRequestWaits(on: deal.id, besides: request.id, approvals: ap) {
                try write(&deal, ap.stateField, .member(decision))
                put(deal)
            }
        }
        // A transfer or a stage move approved: what else waits on the deal may be stranded.
        if moved, let t = target { try settleStranded(on: t.id, approvals: ap) }
    }

    /// Whether a request of a locking kind other than `request` still waits on the deal: its
    /// lock then stays when `request` is decided or withdrawn (DOMAIN.md approvals: commercial
    /// fields are locked while an approval is pending — any of them).
    mutating func anotherLockingRequestWaits(on deal: RecordID, besides request: RecordID, approvals ap: Approvals) throws -> Bool {
        guard let requests = ap.requests, let via = workspace.entity(requests)?.visibleVia else { return false }
        var ids = Set(try reader.children(of: deal, entity: requests))
        // Made in this batch, not yet in the store (hanging off the deal as the store's are).
        for case let (id, r?) in records where r.entity == requests && r[via] == .reference(deal) { ids.insert(id) }
        ids.remove(request)
        return try ids.sorted().contains { id in
            guard let r = try record(id) else { return false }
            return !r.isDeleted && r["state"] == .member("pending") && ap.locks(kind: r["kind"])
        }
    }

    /// A withdrawn request's deal, unlocked: for the threshold kinds its approval state goes
    /// back to `none` (empty when the workspace's state field has no such member) — unless
    /// another such request still waits on it.
    mutating func unlock(_ deal: inout Record, after request: Record, approvals ap: Approvals) throws {
        guard ap.locks(kind: request["kind"]), let field = workspace.entity(deal.entity)?.field(ap.stateField), deal[ap.stateField] == .member("pending"),
            try !anotherLockingRequestWaits(on: deal.id, besides: request.id, approvals: ap)
        else { return }
        let none: Value = if case let .enumeration(members) = field.type, members.contains("none") { .member("none") } else { .null }
        try write(&deal, ap.stateField, none)
        put(deal)
    }

    /// What an approval request asks for, checked as when it was made and again when it is
    /// decided (DOMAIN.md approvals; merge-semantics.md I13): a live target that is the deal
    /// or hangs off it, with every write-once field set; a field of it; a value of that
    /// field's type; a requester — and, deciding, an approver — who may still act on that
    /// record and field (see it, and write or propose the field).
    mutating func requested(
        _ request: Record, deal: Record, approver: Actor?
    ) throws -> Result<(target: Record, field: String, value: Value, also: [(String, Value)]), ValueError> {
        guard case let .text(targetText) = request["target"], let id = RecordID(parsing: targetText),
            let target = id == deal.id ? deal : try self.record(id), !target.isDeleted, let e = workspace.entity(target.entity)
        else {
            return .failure(ValueError("no such target record"))
        }
        if target.id != deal.id, e.visibleVia.map({ target[$0] }) != .reference(deal.id) {
            return .failure(ValueError("the target does not belong to the opportunity"))
        }
        if let unset = e.fields.first(where: { $0.writeOnce && target[$0.name].isNull }) {
            return .failure(ValueError("the target's \(unset.name) is not set"))
        }
        guard case let .text(fieldName) = request["field"], let f = e.field(fieldName) else {
            return .failure(ValueError("\(e.name) has no such field"))
        }
        let value: Value
        switch f.value(
            canonical: Self.requestedText(request.fields["value"] ?? FieldState(value: .null, stamp: request.created.stamp, author: "", authority: .hidden)))
        {
        case let .failure(err): return .failure(ValueError("\(fieldName): \(err.message)"))
        case let .success(v): value = v
        }
        if case let .text(name) = value, f.type == .user, directory.users[name] == nil {
            return .failure(ValueError("\(fieldName) names no user of this hub"))
        }
        // One act, one request (DOMAIN.md: losing a deal is one request carrying its loss
        // reason): `with` holds more FIELD=VALUE lines of the same target, applied with it.
        var also = [(String, Value)]()
        for (name, text) in Self.withLines(request) {
            guard let text, let g = e.field(name), g.name != fieldName, g.name != e.stageField, !also.contains(where: { $0.0 == g.name }) else {
                let line = text.map { name + "=" + $0 } ?? name
                return .failure(ValueError("with: \"\(line.prefix(40))\" is not another field of the target"))
            }
            switch g.value(canonical: text) {
            case let .failure(err): return .failure(ValueError("\(g.name): \(err.message)"))
            case let .success(v):
                if case let .text(name) = v, g.type == .user, directory.users[name] == nil {
                    return .failure(ValueError("\(g.name) names no user of this hub"))
                }
                also.append((g.name, v))
            }
        }
        // Deciding: an approved stage move passes the stage gates as the approver would, with
        // what the request sets alongside it.
        if let approver, fieldName == e.stageField, case let .member(stage) = value {
            var after = target
            for (name, v) in also { after.fields[name] = FieldState(value: v, stamp: request.created.stamp, author: approver.user, authority: .override) }
            if let refusal = workspace.stageMoveRefusal(of: after, to: stage, role: approver.role) { return .failure(ValueError(refusal)) }
        }
        // I17: what it asks may not leave the deal out of everyone's reach.
        if ([fieldName] + also.map(\.0)).contains(where: e.movesAudience) {
            var after = target
            for (name, v) in [(fieldName, value)] + also {
                after.fields[name] = FieldState(value: v, stamp: request.created.stamp, author: approver?.user ?? request.creator, authority: .override)
            }
            if try !seenByAnyone(after, entity: e), try !seenOnceHandedOff(after, entity: e) { return .failure(ValueError(Self.orphanedDetail(e.name))) }
        }
        var deciders = [request.creator]
        if let approver { deciders.append(approver.user) }
        for user in deciders {
            guard let u = directory.users[user] else { return .failure(ValueError("\(user) is no longer a user of this hub")) }
            // A disabled user may no longer act (DOMAIN.md approvals): what they asked is not
            // written in their stead. Said as a right lost, not as the directory's fact: the
            // note is read by whoever sees the deal, and whether a user is disabled is not
            // theirs to learn (visibility.md §5).
            if u.disabled { return .failure(ValueError("\(user) may no longer change \(fieldName) of that record")) }
            for name in [fieldName] + also.map(\.0) {
                switch try access(Actor(user: user, role: u.role), to: target, field: name) {
                case .hidden, .read: return .failure(ValueError("\(user) may no longer change \(name) of that record"))
                default: break
                }
            }
        }
        return .success((target, fieldName, value, also))
    }

    /// The hand-off: a lead that reached the hand-off stage with no owner gets a rep by the
    /// workspace's assignment rule (round-robin within the territory, skipping reps at
    /// capacity). The hub writes the owner itself, on the record, as the system author.
    mutating func assignIfHandedOff(_ record: inout Record) throws {
        guard let (rep, key) = try handOffRep(for: record) else { return }
        meta[key] = rep.name
        effects.append(.meta(key: key, value: rep.name))
        _ = try log(&record, field: "owner", kind: .set, state: FieldState(value: .text(rep.name), stamp: systemStamp(), author: Self.systemAuthor, authority: .own))
    }

    /// The rep the hand-off would give `record` now, and the bookkeeping key of the choice: nil
    /// when it is not a lead in the hand-off stage without an owner, or when every rep is at
    /// capacity (the lead then waits, unassigned).
    func handOffRep(for record: Record) throws -> (rep: Directory.User, key: String)? {
        guard let handoff = workspace.handoff, let rule = workspace.assignment,
            let sf = workspace.entity(record.entity)?.stageField, record[sf] == .member(handoff.to), record.owner == nil
        else { return nil }
        let territory: String? = if case let .text(t) = record["territory"], !t.isEmpty { t } else { nil }
        var reps = directory.users.values.filter { $0.role == rule.role && !$0.disabled }
        if rule.within == "territory", let territory {
            let local = reps.filter { $0.territory == territory }
            if !local.isEmpty { reps = local }
        }
        reps.sort { $0.name < $1.name }
        let closed = Set(workspace.stages.filter(\.closed).map(\.name))
        let key = "assign.last." + (territory ?? "*")
        let last = try meta[key] ?? reader.meta(key)
        let start = reps.firstIndex { last != nil && $0.name > last! } ?? 0
        for i in 0..<reps.count {
            let rep = reps[(start + i) % reps.count]
            if rule.skipAtCapacity, let cap = rep.capacity, try reader.openRecords(owner: rep.name, closedStages: closed) >= cap { continue }
            return (rep, key)
        }
        return nil
    }
}
