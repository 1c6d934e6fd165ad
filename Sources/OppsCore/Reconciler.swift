/// One accepted write in the hub's change log, in hub order (merge-semantics.md §7). Replaying
/// the log in sequence order rebuilds the hub's state exactly (I7).
public struct LogEntry: Sendable, Hashable {
    public var sequence: UInt64
    public var record: RecordID
    public var entity: String
    /// Empty for create and delete.
    public var field: String
    public var kind: WriteKind
    public var value: Value
    public var stamp: Stamp
    public var author: UserName
    public var authority: Access

    public init(
        sequence: UInt64, record: RecordID, entity: String, field: String, kind: WriteKind, value: Value, stamp: Stamp,
        author: UserName, authority: Access
    ) {
        self.sequence = sequence
        self.record = record
        self.entity = entity
        self.field = field
        self.kind = kind
        self.value = value
        self.stamp = stamp
        self.author = author
        self.authority = authority
    }

    public var state: FieldState {
        FieldState(value: value, stamp: stamp, author: author, authority: authority, sequence: sequence)
    }
}

/// A write that did not hold, kept so nothing is lost (merge-semantics.md I6): who, when, the
/// rule that decided and the value that held instead.
public struct ConflictRecord: Sendable, Hashable {
    public var id: UInt64
    public var record: RecordID
    public var entity: String
    public var field: String
    /// `lost`, `rejected` or `proposal` (a displaced value of a `won` write is `lost`).
    public var outcome: Outcome
    public var rule: RuleID
    public var loser: FieldState
    public var winner: FieldState?

    public init(id: UInt64, record: RecordID, entity: String, field: String, outcome: Outcome, rule: RuleID, loser: FieldState, winner: FieldState?) {
        self.id = id
        self.record = record
        self.entity = entity
        self.field = field
        self.outcome = outcome
        self.rule = rule
        self.loser = loser
        self.winner = winner
    }
}

/// A conflict record as a replica receives it in a pull page and keeps it (sync-protocol.md
/// §6.2): the values are what the hub let this user see (I16).
public struct LocalConflict: Sendable, Hashable {
    public var id: UInt64
    public var record: RecordID
    public var entity: String
    public var field: String
    public var outcome: String
    public var rule: String
    public var value: Value
    public var author: UserName
    public var hlc: HLC
    public var winner: Value?
    public var winnerAuthor: UserName?
    public var hubMilliseconds: Int64

    public init(
        id: UInt64, record: RecordID, entity: String, field: String, outcome: String, rule: String, value: Value, author: UserName, hlc: HLC,
        winner: Value?, winnerAuthor: UserName?, hubMilliseconds: Int64
    ) {
        self.id = id
        self.record = record
        self.entity = entity
        self.field = field
        self.outcome = outcome
        self.rule = rule
        self.value = value
        self.author = author
        self.hlc = hlc
        self.winner = winner
        self.winnerAuthor = winnerAuthor
        self.hubMilliseconds = hubMilliseconds
    }
}

extension Record {
    /// Applies one accepted change to this record: a set or a delete (a creation is the record
    /// itself — `RecordSet.apply` makes it). Monotonic: a change older than what the field holds
    /// (a whole record delivered as of a later sequence, then an older change of it again) is
    /// skipped.
    public mutating func apply(_ entry: LogEntry) {
        switch entry.kind {
        case .create: return
        case .set:
            if let held = fields[entry.field], held.sequence != 0, entry.sequence != 0, held.sequence >= entry.sequence { return }
            fields[entry.field] = entry.state
        case .delete:
            deleted = entry.state
        }
    }
}

/// Records keyed by id, changed only by applying log entries. Hub and replica hold the same
/// kind of state; this is the pure form both are tested against.
public struct RecordSet: Sendable, Hashable {
    public private(set) var records: [RecordID: Record] = [:]

    public init() {}

    public subscript(id: RecordID) -> Record? { records[id] }

    /// Applies one accepted change. Changes arrive in sequence order; applying one twice is
    /// harmless (I7: idempotent replay).
    public mutating func apply(_ entry: LogEntry) {
        if entry.kind == .create {
            if records[entry.record] == nil {
                records[entry.record] = Record(id: entry.record, entity: entry.entity, created: entry.state)
            }
        } else {
            records[entry.record]?.apply(entry)
        }
    }

    /// Puts a whole record in place (a record entering the user's visibility).
    public mutating func put(_ record: Record) { records[record.id] = record }

    /// Removes a record (it left the user's visibility).
    public mutating func remove(_ id: RecordID) { records[id] = nil }

    /// The active team of a record under `rule` (nil: the workspace has no teams).
    public func team(of record: RecordID, rule: TeamRule?) -> Set<UserName> {
        rule?.team(of: record, among: records.values) ?? []
    }
}

/// Who the users are, as the hub knows them: role, manager, team, territory.
public struct Directory: Sendable, Hashable {
    public struct User: Sendable, Hashable {
        public var name: UserName
        public var role: String
        public var manager: UserName?
        public var territory: String?
        public var capacity: Int?
        /// A disabled user keeps their name (their records and writes stay theirs) but is
        /// assigned nothing.
        public var disabled: Bool

        public init(name: UserName, role: String, manager: UserName? = nil, territory: String? = nil, capacity: Int? = nil, disabled: Bool = false) {
            self.disabled = disabled
            self.name = name
            self.role = role
            self.manager = manager
            self.territory = territory
            self.capacity = capacity
        }
    }

    public var users: [UserName: User]

    public init(users: [User]) {
        self.users = Dictionary(users.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// True when `manager` manages `user`, directly or further up the chain.
    public func manages(_ manager: UserName, _ user: UserName) -> Bool {
        var seen = Set<UserName>()
        var current = users[user]?.manager
        while let m = current, seen.insert(m).inserted {
            if m == manager { return true }
            current = users[m]?.manager
        }
        return false
    }
}

/// The hub's state in memory: what `Reconciler` decides over, read by `BatchDecider` as the
/// hub's store is.
public struct HubMemory: Sendable, Hashable, HubStateReader {
    public let workspace: Workspace
    public var state = RecordSet()
    public var log: [LogEntry] = []
    public var conflicts: [ConflictRecord] = []
    public var meta: [String: String] = [:]

    public init(workspace: Workspace) { self.workspace = workspace }

    public func record(_ id: RecordID) -> Record? { state[id] }
    public func team(of record: RecordID) -> Set<UserName> { state.team(of: record, rule: workspace.teamRule) }
    public func head() -> UInt64 { log.last?.sequence ?? 0 }
    public func conflictHead() -> UInt64 { conflicts.last?.id ?? 0 }
    public func meta(_ key: String) -> String? { meta[key] }

    func staged(_ r: Record) -> Bool { !r.isDeleted && workspace.entity(r.entity)?.stageField != nil }

    public func openRecords(owner: UserName, closedStages: Set<String>) -> Int {
        state.records.values.count { r in
            guard staged(r), r.owner == owner, let e = workspace.entity(r.entity), let stage = workspace.stage(of: r, in: e) else { return false }
            return !closedStages.contains(stage)
        }
    }

    public func referencing(_ target: RecordID) -> [RecordID] {
        state.records.values.filter { staged($0) && $0.fields.values.contains { $0.value == .reference(target) } }.map(\.id).sorted()
    }

    public func referencedByVisible(_ target: RecordID, actor: Actor, directory: Directory) -> Bool {
        referencing(target).contains { id in
            guard let r = state[id] else { return false }
            let relations = workspace.relations(of: actor.user, to: r, team: team(of: id), manages: { directory.manages(actor.user, $0) })
            return workspace.isVisible(record: r, role: actor.role, relations: relations)
        }
    }

    public func liveRecords(entity: String) -> [RecordID] {
        state.records.values.filter { $0.entity == entity && !$0.isDeleted }.map(\.id).sorted()
    }

    public func children(of parent: RecordID, entity: String) -> [RecordID] {
        guard let via = workspace.entity(entity)?.visibleVia else { return [] }
        return state.records.values.filter { $0.entity == entity && $0[via] == .reference(parent) }.map(\.id).sorted()
    }

    /// Applies what the decider returned, in order.
    public mutating func apply(_ effects: [HubEffect]) {
        for effect in effects {
            switch effect {
            case let .append(entry): log.append(entry)
            case let .conflict(c, _): conflicts.append(c)
            case let .save(record): state.put(record)
            case let .meta(key, value): meta[key] = value
            }
        }
    }
}

/// The hub in its pure form: every write decided by the same `BatchDecider` the hub runs —
/// `resolve`, the hub's refusals, and the effects it derives (stage history, assignment,
/// approvals, merges) — over `HubMemory` instead of a store, one write per batch. The property
/// tests and the simulator's model hold the SQLite hub to it.
public struct Reconciler: Sendable {
    public var workspace: Workspace { memory.workspace }
    public var directory: Directory
    public private(set) var memory: HubMemory
    var clock = HybridLogicalClock()
    /// The id the hub stamps its own writes with.
    public static let hubReplica = ReplicaID(UUID128(high: 0x0000_0000_0000_7000, low: 0x8000_0000_0000_0000))
    /// How far ahead of the hub's time a device clock may be (`HubConfiguration`'s default).
    public var maxClockAhead: Int64 = 86_400_000

    public init(workspace: Workspace, directory: Directory) {
        memory = HubMemory(workspace: workspace)
        self.directory = directory
    }

    public var state: RecordSet { memory.state }
    public var log: [LogEntry] { memory.log }
    public var conflicts: [ConflictRecord] { memory.conflicts }
    public var head: UInt64 { memory.head() }

    /// The active team of a record (`Workspace.teamRule`).
    public func team(of record: RecordID) -> Set<UserName> { memory.team(of: record) }

    public func relations(of user: UserName, to record: Record) -> Set<Relation> {
        workspace.relations(of: user, to: record, team: team(of: record.id), manages: { directory.manages(user, $0) })
    }

    public func context(for actor: Actor, record: RecordID) -> RuleContext {
        let r = state[record]
        return RuleContext(workspace: workspace, actor: actor, relations: r.map { relations(of: actor.user, to: $0) } ?? [], record: r)
    }

    /// Decides one write as the hub would at `hubTime` (default: the write's own device time)
    /// and applies what follows. The returned decision's winner carries its sequence.
    @discardableResult
    public mutating func submit(_ write: FieldWrite, actor: Actor, at hubTime: Int64? = nil) -> Decision {
        var verdict = self.verdict(write, actor: actor, at: hubTime)
        if verdict.decision.outcome.holds { verdict.decision.winner?.sequence = verdict.sequence }
        return verdict.decision
    }

    /// A record as `opps-hub import` makes it at `hubTime`: created as `createdBy`, its values
    /// written as `writer`, no rule asked (the operator imports).
    public mutating func imported(
        id: RecordID, entity: String, stage: Value, createdBy: UserName, writer: UserName, values: [(String, Value)], at hubTime: Int64
    ) {
        var decider = BatchDecider(
            reader: memory, workspace: workspace, directory: directory, clock: clock, hubReplica: Self.hubReplica, hubTime: hubTime,
            maxClockAhead: maxClockAhead)
        // Reading memory cannot fail.
        try! decider.imported(id: id, entity: entity, stage: stage, createdAt: nil, row: 0, createdBy: createdBy, writer: writer, values: values)
        let effects = decider.takeEffects() + decider.finish()
        clock = decider.clock
        memory.apply(effects)
    }

    /// The same, with the whole verdict (sequence, conflict id, what the answer shows).
    public mutating func verdict(_ write: FieldWrite, actor: Actor, at hubTime: Int64? = nil) -> Verdict {
        // The decider's copy of the state is released before the effects are applied, so they
        // change it in place.
        let (verdict, effects, ticked) = { () -> (Verdict, [HubEffect], HybridLogicalClock) in
            var decider = BatchDecider(
                reader: memory, workspace: workspace, directory: directory, clock: self.clock, hubReplica: Self.hubReplica,
                hubTime: hubTime ?? write.stamp.hlc.milliseconds, maxClockAhead: maxClockAhead)
            // Reading memory cannot fail.
            let verdict = try! decider.decide(write, actor: actor)
            return (verdict, decider.takeEffects() + decider.finish(), decider.clock)
        }()
        clock = ticked
        memory.apply(effects)
        return verdict
    }

    /// The log entries after `cursor`, at most `limit` of them: one pull page.
    public func page(after cursor: UInt64, limit: Int) -> ArraySlice<LogEntry> {
        // Sequences are gapless from 1, so entry n sits at index n - 1.
        let start = Int(min(cursor, UInt64(log.count)))
        return log[start..<min(log.endIndex, start + max(1, limit))]
    }
}
