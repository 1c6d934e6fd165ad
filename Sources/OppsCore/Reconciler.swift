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

    public init(sequence: UInt64, record: RecordID, entity: String, field: String, kind: WriteKind, value: Value, stamp: Stamp,
                author: UserName, authority: Access) {
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

    /// The active team of a record: users of active `membership` records pointing at it.
    public func team(of record: RecordID) -> Set<UserName> {
        var team = Set<UserName>()
        for r in records.values where r.entity == "membership" && !r.isDeleted && r["opportunity"] == .reference(record) {
            if case let .text(user) = r["user"], r["state"] == .member("active") { team.insert(user) }
        }
        return team
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

        public init(name: UserName, role: String, manager: UserName? = nil, territory: String? = nil, capacity: Int? = nil) {
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

/// The hub's decision loop in its pure form: it sequences writes, decides each with
/// `resolve`, applies the winners, logs them, and keeps every loser as a conflict record.
/// The SQLite hub implements the same steps inside one transaction per batch; this value is
/// the reference the property tests and the simulator hold it to.
public struct Reconciler: Sendable {
    public let workspace: Workspace
    public var directory: Directory
    public private(set) var state = RecordSet()
    public private(set) var log: [LogEntry] = []
    public private(set) var conflicts: [ConflictRecord] = []

    public init(workspace: Workspace, directory: Directory) {
        self.workspace = workspace
        self.directory = directory
    }

    public var head: UInt64 { log.last?.sequence ?? 0 }

    /// The active team of a record: users of active membership records pointing at it.
    public func team(of record: RecordID) -> Set<UserName> { state.team(of: record) }

    public func relations(of user: UserName, to record: Record) -> Set<Relation> {
        Workspace.relations(of: user, to: record, team: team(of: record.id), manages: { directory.manages(user, $0) })
    }

    public func context(for actor: Actor, record: RecordID) -> RuleContext {
        let r = state[record]
        return RuleContext(workspace: workspace, actor: actor, relations: r.map { relations(of: actor.user, to: $0) } ?? [], record: r)
    }

    /// Decides one write and applies the outcome.
    @discardableResult
    public mutating func submit(_ write: FieldWrite, actor: Actor) -> Decision {
        let ctx = context(for: actor, record: write.record)
        let current: FieldState?
        switch write.kind {
        case .set: current = ctx.record?.fields[write.field]
        case .create: current = ctx.record?.created
        case .delete: current = ctx.record?.deleted
        }
        var decision = resolve(current: current, incoming: write, context: ctx)
        switch decision.outcome {
        case .applied, .won:
            let value = decision.winner?.value ?? write.value
            let entry = append(write.record, write.entity, write.field, write.kind, value, write.stamp, write.author, decision.authority)
            decision.winner?.sequence = entry.sequence
            if write.kind == .create {
                for (field, v) in workspace.initialFields(of: write, role: actor.role) {
                    append(write.record, write.entity, field, .set, v, write.stamp, write.author, .own)
                }
            }
            if decision.outcome == .won, let displaced = decision.loser {
                addConflict(write, outcome: .lost, rule: decision.rule, loser: displaced, winner: decision.winner)
            }
        case .lost, .rejected, .proposal:
            if let loser = decision.loser {
                addConflict(write, outcome: decision.outcome, rule: decision.rule, loser: loser, winner: decision.winner)
            }
        case .duplicate:
            break
        }
        return decision
    }

    @discardableResult
    private mutating func append(_ record: RecordID, _ entity: String, _ field: String, _ kind: WriteKind, _ value: Value,
                                 _ stamp: Stamp, _ author: UserName, _ authority: Access) -> LogEntry {
        let entry = LogEntry(sequence: head + 1, record: record, entity: entity, field: field, kind: kind, value: value,
                             stamp: stamp, author: author, authority: authority)
        log.append(entry)
        state.apply(entry)
        return entry
    }

    private mutating func addConflict(_ write: FieldWrite, outcome: Outcome, rule: RuleID, loser: FieldState, winner: FieldState?) {
        conflicts.append(ConflictRecord(id: UInt64(conflicts.count + 1), record: write.record, entity: write.entity, field: write.field,
                                        outcome: outcome, rule: rule, loser: loser, winner: winner))
    }

    /// The log entries after `cursor`, at most `limit` of them: one pull page.
    public func page(after cursor: UInt64, limit: Int) -> ArraySlice<LogEntry> {
        // Sequences are gapless from 1, so entry n sits at index n - 1.
        let start = Int(min(cursor, UInt64(log.count)))
        return log[start..<min(log.endIndex, start + max(1, limit))]
    }
}
