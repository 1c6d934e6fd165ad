import Synchronization

/// The workspace: everything about the business that is data, not code — entity types and
/// their fields, stages, roles, field groups and the ownership matrix, visibility, the
/// hand-off checklist, approval thresholds and the assignment rule. The operator edits it as
/// a JSON document (Protocol/spec/workspace-format.md); `Workspace.decode` validates it with
/// line-accurate errors. The same value drives the laptop's checks and the hub's decisions.
public struct Workspace: Sendable, Hashable {
    /// Format tag of the document; a newer format is refused.
    public static let format = "oppsync-workspace/1"

    /// The definition, in one shared box (copy on write, as `Entity` keeps its own): a rule
    /// context, a decider and every request handler hold the workspace, and copying fifteen
    /// arrays, sets and strings each time — a retain and a release of each — was a fifth of
    /// deciding a write (BENCHMARKS.md, twenty-first session). Changing a copy copies the box first.
    struct Parts: Hashable {
        var version: UInt64
        var name: String
        var roles: [Role]
        var stages: [Stage]
        var entities: [Entity]
        var handoff: Handoff?
        var approvals: Approvals?
        var assignment: Assignment?
        var overrideRoles: Set<String>
        var staleDays: Int
        var forecast: ForecastCategories?
        var checkinSkewMinutes: Int = 10
        var stageHistory: String?
        var locale: String?
        var teamRule: TeamRule?
    }

    /// Mutated only while uniquely referenced (`parts` below), so a box other values share is
    /// never changed: as safe to send as the value types it holds.
    final class Box: @unchecked Sendable {
        var parts: Parts {
            didSet {
                numbering = WireNumbering(entities: parts.entities)
                assigneeFields = Self.assigneeFields(of: parts.entities)
                strands.withLock { $0.removeAll() }
                readsOwners.withLock { $0.removeAll() }
            }
        }
        /// `stageMoveMayStrand`'s answers, per entity and stage pair, found once per definition.
        let strands = Mutex<[String: Bool]>([:])
        /// `mayEverReadOwners`'s answers, per role, found once per definition.
        let readsOwners = Mutex<[String: Bool]>([:])
        /// The wire's numbers, built once per definition: a replica's sync asked for them three
        /// times (its push's trail, the page reader, the page's application) and built them each
        /// time, a twentieth of a one-field round trip.
        private(set) var numbering: WireNumbering
        /// Each entity's `assigned_to` field, by entity name: the hub asks for every write it
        /// decides whether the record is assigned to its writer (the relation `assignee`).
        private(set) var assigneeFields: [String: String]
        init(_ parts: Parts) {
            self.parts = parts
            numbering = WireNumbering(entities: parts.entities)
            assigneeFields = Self.assigneeFields(of: parts.entities)
        }
        static func assigneeFields(of entities: [Entity]) -> [String: String] {
            Dictionary(entities.compactMap { e in e.assignedTo.map { (e.name, $0) } }, uniquingKeysWith: { a, _ in a })
        }
    }

    private var box: Box

    /// Whether moving a record of `entity` from stage `from` to `to` may leave a pending request
    /// no one can carry out (merge-semantics.md §7.1): some role may write or propose one of its
    /// fields at `from` (for some set of relations) and may only read it, or not see it, at
    /// `to`; or a role that sees records at given stages sees them at `from` and not at `to`.
    /// False means no request can be stranded by that move, so the hub need not look for one. A
    /// deal's stage changes on the hub's hot path: each pair is found once per definition.
    public func stageMoveMayStrand(entity: Entity, from: String, to: String) -> Bool {
        let key = entity.name + "\u{0}" + from + "\u{0}" + to
        if let known = box.strands.withLock({ $0[key] }) { return known }
        let answer = findStageMoveMayStrand(entity: entity, from: from, to: to)
        box.strands.withLock { $0[key] = answer }
        return answer
    }

    private func findStageMoveMayStrand(entity: Entity, from: String, to: String) -> Bool {
        for role in roles {
            if role.sees.contains(.stage(from)), !role.sees.contains(.stage(to)), !role.sees.contains(.all) { return true }
            let actor = Actor(user: "", role: role.name)
            for field in entity.fields {
                for relations in Relation.everySet
                where permission(actor: actor, relations: relations, stage: from, entity: entity, field: field) >= .propose
                    && permission(actor: actor, relations: relations, stage: to, entity: entity, field: field) < .propose
                {
                    return true
                }
            }
        }
        return false
    }

    /// Whether a user of `role` may read the owner of some staged record, at some stage, with
    /// some relations: if not, the names on every free record are withheld from them
    /// (visibility.md §6; a free record hangs off no one deal whose owner could decide it).
    /// Asked of every free record a page sends: found once per role and definition.
    public func mayEverReadOwners(role: String) -> Bool {
        if let known = box.readsOwners.withLock({ $0[role] }) { return known }
        let answer = entities.contains { e in
            guard e.stageField != nil, let f = e.field("owner"), let rule = e.group(f.group)?.access[role] else { return false }
            let stages: [String?] = [nil] + (e.stageField.flatMap { sf -> [String]? in if case let .enumeration(v)? = e.field(sf)?.type { v } else { nil } } ?? [])
            return stages.contains { stage in Relation.everySet.contains { rule.access(stage: stage, relations: $0) != .hidden } }
        }
        box.readsOwners.withLock { $0[role] = answer }
        return answer
    }

    /// The parts, the box copied first when another value shares it.
    private var parts: Parts {
        get { box.parts }
        _modify {
            if !isKnownUniquelyReferenced(&box) { box = Box(box.parts) }
            yield &box.parts
        }
    }

    public var version: UInt64 {
        get { box.parts.version }
        set { parts.version = newValue }
    }
    public var name: String {
        get { box.parts.name }
        set { parts.name = newValue }
    }
    public var roles: [Role] {
        get { box.parts.roles }
        set { parts.roles = newValue }
    }
    public var stages: [Stage] {
        get { box.parts.stages }
        set { parts.stages = newValue }
    }
    public var entities: [Entity] {
        get { box.parts.entities }
        set { parts.entities = newValue }
    }
    public var handoff: Handoff? {
        get { box.parts.handoff }
        set { parts.handoff = newValue }
    }
    public var approvals: Approvals? {
        get { box.parts.approvals }
        set { parts.approvals = newValue }
    }
    public var assignment: Assignment? {
        get { box.parts.assignment }
        set { parts.assignment = newValue }
    }
    /// Roles that may reopen a closed deal and move a deal backwards more than one stage.
    public var overrideRoles: Set<String> {
        get { box.parts.overrideRoles }
        set { parts.overrideRoles = newValue }
    }
    /// Days without an activity after which a deal counts as stale (`opps today`).
    public var staleDays: Int {
        get { box.parts.staleDays }
        set { parts.staleDays = newValue }
    }
    /// Forecast categories (`opps forecast`): open deals at or after `bestCaseFrom` are best
    /// case, at or after `commitFrom` commit.
    public var forecast: ForecastCategories? {
        get { box.parts.forecast }
        set { parts.forecast = newValue }
    }
    /// A check-in is flagged when the device clock and the hub's differ by more than this at sync.
    public var checkinSkewMinutes: Int {
        get { box.parts.checkinSkewMinutes }
        set { parts.checkinSkewMinutes = newValue }
    }
    /// A text field of the staged entity the hub appends one line to per stage change (device
    /// time, stage, who; see `StageLog`): the history time-in-stage, funnel and follow-up reports
    /// are computed from.
    public var stageHistory: String? {
        get { box.parts.stageHistory }
        set { parts.stageHistory = newValue }
    }
    /// The language the workspace reads in when its reader's own is not among its labels
    /// (`opps-hub init --locale zh-CN`); nil: names.
    public var locale: String? {
        get { box.parts.locale }
        set { parts.locale = newValue }
    }
    /// What makes a team (`TeamRule`): from the document's `team`, or the conventional
    /// `membership` entity when it names none.
    public var teamRule: TeamRule? {
        get { box.parts.teamRule }
        set { parts.teamRule = newValue }
    }

    public init(
        version: UInt64, name: String, roles: [Role], stages: [Stage], entities: [Entity], handoff: Handoff? = nil,
        approvals: Approvals? = nil, assignment: Assignment? = nil, overrideRoles: Set<String> = [], staleDays: Int = 14
    ) {
        box = Box(
            Parts(
                version: version, name: name, roles: roles, stages: stages, entities: entities, handoff: handoff, approvals: approvals,
                assignment: assignment, overrideRoles: overrideRoles, staleDays: staleDays, teamRule: Self.conventionalTeam(in: entities)))
    }

    /// The entity approval requests are records of, without copying the approval rules (the
    /// hub asks it for every write it applies).
    public var approvalRequests: String? { box.parts.approvals?.requests }
    /// Entity and field numbers by name and names by number (`WireNumbering`).
    public var numbering: WireNumbering { box.numbering }
    /// The `assigned_to` field of `entity`, if it names one.
    public func assigneeField(of entity: String) -> String? { box.assigneeFields.isEmpty ? nil : box.assigneeFields[entity] }

    // Equal when every part is.
    public static func == (a: Workspace, b: Workspace) -> Bool { a.box === b.box || a.box.parts == b.box.parts }
    public func hash(into hasher: inout Hasher) { hasher.combine(box.parts) }

    public func role(_ name: String) -> Role? { box.parts.roles.first { $0.name == name } }
    public func entity(_ name: String) -> Entity? { box.parts.entities.first { $0.name == name } }
    public func entity(number: UInt32) -> Entity? { box.parts.entities.first { $0.number == number } }
    public func stageIndex(_ name: String) -> Int? { box.parts.stages.firstIndex { $0.name == name } }
    public func stage(_ name: String) -> Stage? { box.parts.stages.first { $0.name == name } }
}

/// A role and what records it sees.
public struct Role: Sendable, Hashable {
    public var name: String
    public var title: String
    /// Display labels per language (Labels.swift).
    public var labels: Labels = [:]
    /// A record of a staged entity is visible to a user of this role when any of these holds.
    public var sees: [VisibilityCondition]

    public init(name: String, title: String = "", sees: [VisibilityCondition]) {
        self.name = name
        self.title = title
        self.sees = sees
    }
}

/// One way a user can be related to a record.
public enum Relation: String, Sendable, Hashable, CaseIterable {
    /// Every set of relations (the empty one too): what a question "for some relations" ranges over.
    public static let everySet: [Set<Relation>] = (0..<(1 << allCases.count)).map { bits in
        Set(allCases.enumerated().filter { bits & (1 << $0.offset) != 0 }.map(\.element))
    }

    /// The user is the record's `owner`.
    case owner
    /// The user is an active member of the record's team.
    case team
    /// The user created the record.
    case creator
    /// The user manages the record's owner (or its creator, while it has no owner).
    case managed
    /// The record is the user's own place on a team: a live membership (the team rule's entity)
    /// whose state is active and whose user is them (visibility.md §3). Holds on nothing else.
    case member
    /// The record is assigned to the user: its entity's `assigned_to` field names them (a task's
    /// `assignee`). It decides what they may write, never what they see (visibility.md §3): the
    /// hub's visibility index holds no assignees, so a workspace whose reading depends on it is
    /// refused.
    case assignee
}

/// A condition under which a role sees a record.
public enum VisibilityCondition: Sendable, Hashable, CustomStringConvertible {
    case relation(Relation)
    /// Every record currently in this stage.
    case stage(String)
    /// Every record.
    case all

    public var description: String {
        switch self {
        case let .relation(r): r.rawValue
        case let .stage(s): "stage:" + s
        case .all: "all"
        }
    }
}

/// A pipeline stage.
/// Where forecast categories start in the pipeline (`opps forecast`).
public struct ForecastCategories: Sendable, Hashable {
    public var bestCaseFrom: String
    public var commitFrom: String
    public init(bestCaseFrom: String, commitFrom: String) {
        self.bestCaseFrom = bestCaseFrom
        self.commitFrom = commitFrom
    }
}

public struct Stage: Sendable, Hashable {
    public var name: String
    public var title: String
    /// Display labels per language (Labels.swift).
    public var labels: Labels = [:]
    /// Fields that must be set (booleans: true) to move forward out of this stage.
    public var leaveRequires: [String]
    /// Fields that must be set to enter this stage.
    public var enterRequires: [String]
    /// Won and lost: sticky; only an override role reopens.
    public var closed: Bool
    /// Reachable from any open stage (lost), not only by moving forward.
    public var fromAnyOpen: Bool
    /// When set, only these roles may move a deal into this stage; others propose it.
    public var confirmBy: Set<String>
    /// The chance (0–100) a deal in this stage closes won, for the forecast; a deal's own
    /// `probability` field wins when set.
    public var probability: Int?

    public init(
        name: String, title: String = "", leaveRequires: [String] = [], enterRequires: [String] = [], closed: Bool = false,
        fromAnyOpen: Bool = false, confirmBy: Set<String> = []
    ) {
        self.name = name
        self.title = title
        self.leaveRequires = leaveRequires
        self.enterRequires = enterRequires
        self.closed = closed
        self.fromAnyOpen = fromAnyOpen
        self.confirmBy = confirmBy
    }
}

/// An entity type: `opportunity`, `account`, `activity`…
///
/// A value with its definition in one shared box (copy on write, as `Array` does): the rules
/// look an entity up for every write they decide and every record they read, and copying ten
/// strings, sets and dictionaries each time (a retain and a release of each) was a tenth of a
/// push's CPU (BENCHMARKS.md, fourteenth session). Changing a copy copies the box first.
public struct Entity: Sendable, Hashable {
    /// Mutated only while uniquely referenced (`storage` below), so a box other values share is
    /// never changed: as safe to send as the value types it holds.
    final class Storage: @unchecked Sendable {
        var name: String
        var number: UInt32
        var labels: Labels = [:]
        var stageField: String?
        var appendOnly: Bool
        var visibleVia: String?
        var create: [String: [String]]
        var ownerOnCreate: Set<String>
        var delete: Set<String>
        var assignedTo: String?
        var groups: [FieldGroup]
        var fields: [Field] { didSet { (positions, numberPositions) = (Entity.positions(of: fields, by: \.name), Entity.positions(of: fields, by: \.number)) } }
        /// Where each field is in `fields`, by name: the hub looks a field up several times per
        /// write it decides (a linear scan of ~30 names was a twentieth of a push).
        var positions: [String: Int]
        /// The same by number: a replica reading a stored record looks up each of its fields so.
        var numberPositions: [UInt32: Int]

        init(
            name: String, number: UInt32, labels: Labels, stageField: String?, appendOnly: Bool, visibleVia: String?, create: [String: [String]],
            ownerOnCreate: Set<String>, delete: Set<String>, groups: [FieldGroup], fields: [Field]
        ) {
            self.name = name
            self.number = number
            self.labels = labels
            self.stageField = stageField
            self.appendOnly = appendOnly
            self.visibleVia = visibleVia
            self.create = create
            self.ownerOnCreate = ownerOnCreate
            self.delete = delete
            self.groups = groups
            self.fields = fields
            positions = Entity.positions(of: fields, by: \.name)
            numberPositions = Entity.positions(of: fields, by: \.number)
        }

        func copy() -> Storage {
            let c = Storage(
                name: name, number: number, labels: labels, stageField: stageField, appendOnly: appendOnly, visibleVia: visibleVia, create: create,
                ownerOnCreate: ownerOnCreate, delete: delete, groups: groups, fields: fields)
            c.assignedTo = assignedTo
            return c
        }
    }

    private var storage: Storage

    /// The box, copied first when another value shares it.
    private var unique: Storage {
        mutating get {
            if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
            return storage
        }
    }

    public var name: String {
        get { storage.name }
        set { unique.name = newValue }
    }
    /// The number that names the entity on the wire; never reused.
    public var number: UInt32 {
        get { storage.number }
        set { unique.number = newValue }
    }
    /// Display labels per language (Labels.swift).
    public var labels: Labels {
        get { storage.labels }
        set { unique.labels = newValue }
    }
    /// The field holding the pipeline stage, for staged entities.
    public var stageField: String? {
        get { storage.stageField }
        set { unique.stageField = newValue }
    }
    /// Activities, notes, check-ins: fields are written once, by their creator, never changed.
    public var appendOnly: Bool {
        get { storage.appendOnly }
        set { unique.appendOnly = newValue }
    }
    /// For entities that hang off another record (an activity off its opportunity): the
    /// reference field whose target decides visibility.
    public var visibleVia: String? {
        get { storage.visibleVia }
        set { unique.visibleVia = newValue }
    }
    /// Role → initial stages it may create the record in (any, for an unstaged entity: empty).
    public var create: [String: [String]] {
        get { storage.create }
        set { unique.create = newValue }
    }
    /// Roles whose creator becomes the record's owner.
    public var ownerOnCreate: Set<String> {
        get { storage.ownerOnCreate }
        set { unique.ownerOnCreate = newValue }
    }
    /// The `user` field naming whom a record is for (a task's `assignee`): the relation
    /// `assignee` holds for that user.
    public var assignedTo: String? {
        get { storage.assignedTo }
        set { unique.assignedTo = newValue }
    }
    /// Roles that may delete a record.
    public var delete: Set<String> {
        get { storage.delete }
        set { unique.delete = newValue }
    }
    public var groups: [FieldGroup] {
        get { storage.groups }
        set { unique.groups = newValue }
    }
    public var fields: [Field] {
        get { storage.fields }
        set { unique.fields = newValue }
    }

    /// Where each field is in `fields` by `key` (the first, if two share one).
    static func positions<K: Hashable>(of fields: [Field], by key: (Field) -> K) -> [K: Int] {
        var out = [K: Int](minimumCapacity: fields.count)
        for (i, f) in fields.enumerated() where out[key(f)] == nil { out[key(f)] = i }
        return out
    }

    public init(
        name: String, number: UInt32, stageField: String? = nil, appendOnly: Bool = false, visibleVia: String? = nil,
        create: [String: [String]], ownerOnCreate: Set<String> = [], delete: Set<String> = [], groups: [FieldGroup], fields: [Field]
    ) {
        storage = Storage(
            name: name, number: number, labels: [:], stageField: stageField, appendOnly: appendOnly, visibleVia: visibleVia, create: create,
            ownerOnCreate: ownerOnCreate, delete: delete, groups: groups, fields: fields)
    }

    public func field(_ name: String) -> Field? { storage.positions[name].map { storage.fields[$0] } }

    /// The fields the app's own views read a deal by (the board's amount, the forecast's close
    /// date, Today's next step): a deal's page never folds their groups, and opps show lists
    /// them among the fields a deal is being worked by.
    public static let workedBy: Set<String> = ["amount", "close_date", "next_step", "next_step_due"]

    /// Its field groups in workspace order: the declared ones, then any a field names that is
    /// not declared (the order a deal's page and opps show list them in).
    public var groupOrder: [String] {
        var names = groups.map(\.name)
        for f in fields where !names.contains(f.group) { names.append(f.group) }
        return names
    }
    public func field(number: UInt32) -> Field? { storage.numberPositions[number].map { storage.fields[$0] } }
    /// Where the field named `name` is in `fields` (its workspace order).
    public func position(of name: String) -> Int? { storage.positions[name] }
    /// The type of the field named `name`, without copying the rest of its definition.
    public func fieldType(_ name: String) -> FieldType? { storage.positions[name].map { storage.fields[$0].type } }
    /// The name of the field numbered `number`, without copying the rest of its definition.
    public func fieldName(number: UInt32) -> String? { storage.numberPositions[number].map { storage.fields[$0].name } }
    /// The number of the field at `position` in `fields`.
    public func fieldNumber(at position: Int) -> UInt32 { storage.fields[position].number }
    public func group(_ name: String) -> FieldGroup? { storage.groups.first { $0.name == name } }

    // Equal when every part of the definition is (the lookup tables follow from `fields`).
    public static func == (a: Entity, b: Entity) -> Bool {
        if a.storage === b.storage { return true }
        let x = a.storage, y = b.storage
        return x.name == y.name && x.number == y.number && x.labels == y.labels && x.stageField == y.stageField && x.appendOnly == y.appendOnly
            && x.visibleVia == y.visibleVia && x.create == y.create && x.ownerOnCreate == y.ownerOnCreate && x.delete == y.delete && x.groups == y.groups
            && x.fields == y.fields
    }

    public func hash(into hasher: inout Hasher) {
        let x = storage
        hasher.combine(x.name)
        hasher.combine(x.number)
        hasher.combine(x.labels)
        hasher.combine(x.stageField)
        hasher.combine(x.appendOnly)
        hasher.combine(x.visibleVia)
        hasher.combine(x.create)
        hasher.combine(x.ownerOnCreate)
        hasher.combine(x.delete)
        hasher.combine(x.groups)
        hasher.combine(x.fields)
    }
}

/// A named set of fields that share one row of the ownership matrix.
public struct FieldGroup: Sendable, Hashable {
    public var name: String
    /// Role → the access rule of that role for this group. A role not listed: hidden.
    public var access: [String: AccessRule]
    /// Display labels per language (Labels.swift): how `opps rules` and the web app head the
    /// group's fields. Never typed, never decided on.
    public var labels: Labels = [:]

    public init(name: String, access: [String: AccessRule]) {
        self.name = name
        self.access = access
    }
}

/// One cell of the ownership matrix, refined by stage and relation: clauses are tried in
/// order; the first that matches gives the access. No clause matching: hidden.
///
/// Written `own in lead,qualified; read` or `own in solution..negotiation if team; read`.
public struct AccessRule: Sendable, Hashable, CustomStringConvertible {
    public struct Clause: Sendable, Hashable {
        public var access: Access
        /// nil: any stage.
        public var stages: Set<String>?
        /// Empty: any relation; otherwise the user must hold one of these.
        public var relations: Set<Relation>

        public init(access: Access, stages: Set<String>? = nil, relations: Set<Relation> = []) {
            self.access = access
            self.stages = stages
            self.relations = relations
        }
    }

    public var clauses: [Clause]
    /// The text the rule was written as, kept for `workspace show` and error messages.
    public var source: String

    public init(clauses: [Clause], source: String) {
        self.clauses = clauses
        self.source = source
    }

    public func access(stage: String?, relations: Set<Relation>) -> Access {
        for clause in clauses {
            if let stages = clause.stages {
                guard let stage, stages.contains(stage) else { continue }
            }
            if !clause.relations.isEmpty, clause.relations.isDisjoint(with: relations) { continue }
            return clause.access
        }
        return .hidden
    }

    public var description: String { source }
}

/// A field: its wire number, type and group.
public struct Field: Sendable, Hashable {
    public var name: String
    public var number: UInt32
    public var type: FieldType
    public var group: String
    /// Set once, never changed (merge-semantics.md I14): what an approval request asks for, which
    /// user a membership names. A change is a new record, so what an approver decided is what
    /// the record still says.
    public var writeOnce: Bool
    /// Display labels per language (Labels.swift).
    public var labels: Labels = [:]
    /// For an enum: member → its labels per language.
    public var memberLabels: [String: Labels] = [:]
    /// An integer or decimal field's inclusive bounds (workspace-format.md `min`, `max`): a
    /// probability of 300 % or a negative amount is refused as a value of the wrong kind is.
    public var minimum: ExactDecimal?
    public var maximum: ExactDecimal?
    /// What an integer or decimal field's number counts (workspace-format.md `unit`): a
    /// percentage is shown `40%` and may be typed so; its value is the number alone.
    public var unit: NumberUnit?

    /// A number of this field as a reader reads it: a percentage as `15%` / `12.5%` (no zeros
    /// after the point that say nothing), anything else with thousands separators
    /// (`120,000.00`). `opps set` and the web app's forms take either back.
    public func numberText(_ number: ExactDecimal) -> String {
        switch unit {
        case .percent?: number.trimmed.description + "%"
        case nil: groupedAmount(number.description)
        }
    }

    /// The bounds as a reader is told them: `0–100`, `≥ 0`, `≤ 100`; nil for a field without.
    /// A percentage's with its sign (`0–100%`); `≥ 0` held together (a no-break space) where a
    /// line wraps.
    public var boundsText: String? {
        let sign = unit == .percent ? "%" : ""
        switch (minimum, maximum) {
        case let (low?, high?): return "\(low)–\(high)" + sign
        case let (low?, nil): return "≥\u{00A0}\(low)" + sign
        case let (nil, high?): return "≤\u{00A0}\(high)" + sign
        case (nil, nil): return nil
        }
    }

    /// A bound as a refusal names it: `100`, a percentage's `100%`.
    func boundText(_ bound: ExactDecimal) -> String { unit == .percent ? "\(bound)%" : "\(bound)" }

    public init(name: String, number: UInt32, type: FieldType, group: String, writeOnce: Bool = false) {
        self.name = name
        self.number = number
        self.type = type
        self.group = group
        self.writeOnce = writeOnce
    }

    /// `value` checked and normalised for this field: its type (`FieldType.normalise`), then its
    /// bounds. What `resolve` decides a write by, and what a replica checks before making one.
    public func normalise(_ value: Value) -> Result<Value, ValueError> {
        bounded(type.normalise(value))
    }

    /// The value canonical text denotes for this field (`FieldType.value(canonical:)`), within
    /// its bounds: what an import and an approval's requested value are checked by.
    public func value(canonical text: String) -> Result<Value, ValueError> {
        bounded(type.value(canonical: text))
    }

    /// The message names the bound, not the value: a rejected write's detail carries no user
    /// data beyond field names (oppsync.proto `WriteResult.detail`).
    private func bounded(_ normalised: Result<Value, ValueError>) -> Result<Value, ValueError> {
        guard minimum != nil || maximum != nil, case let .success(value) = normalised else { return normalised }
        let number: ExactDecimal
        switch value {
        case let .integer(i): number = ExactDecimal(units: i, scale: 0)
        case let .decimal(d): number = d
        default: return normalised
        }
        if let minimum, number < minimum {
            return .failure(ValueError("less than \(boundText(minimum)), the least allowed", chinese: "低于下限 \(boundText(minimum))"))
        }
        if let maximum, maximum < number {
            return .failure(ValueError("more than \(boundText(maximum)), the most allowed", chinese: "超过上限 \(boundText(maximum))"))
        }
        return normalised
    }
}

/// What a number counts (workspace-format.md `unit`).
public enum NumberUnit: String, Sendable, Hashable {
    /// Hundredths: a probability of 40 is 40 %, a discount of 15.00 is 15 %.
    case percent
}

/// The type of a field, and how a value is checked and normalised for it.
public enum FieldType: Sendable, Hashable, CustomStringConvertible {
    case text(maxLength: Int)
    case integer
    case decimal(scale: UInt8)
    case date
    case timestamp
    case enumeration([String])
    case boolean
    case reference(entity: String)
    /// A user name.
    case user

    public var description: String {
        switch self {
        case .text: "text"
        case .integer: "integer"
        case let .decimal(scale): "decimal(\(scale))"
        case .date: "date"
        case .timestamp: "timestamp"
        case let .enumeration(m): "enum(\(m.joined(separator: "|")))"
        case .boolean: "boolean"
        case let .reference(e): "reference(\(e))"
        case .user: "user"
        }
    }

    /// Reads a value of this type from its canonical text (`Value.canonicalText`; empty = null),
    /// normalised: approval requests carry values this way, and `opps-hub import` reads CSV cells.
    public func value(canonical text: String) -> Result<Value, ValueError> {
        if text.isEmpty { return .success(.null) }
        let kind: String =
            switch self {
            case .text, .user: "text"
            case .integer: "integer"
            case .decimal: "decimal"
            case .date: "date"
            case .timestamp: "timestamp"
            case .enumeration: "member"
            case .boolean: "boolean"
            case .reference: "reference"
            }
        do { return normalise(try Value.parse(kind: kind, text: text)) } catch { return .failure(error) }
    }

    /// The value normalised for this type (decimals to the field's scale), or why it does not fit.
    public func normalise(_ value: Value) -> Result<Value, ValueError> {
        switch (self, value) {
        case (_, .null): return .success(.null)
        case let (.text(max), .text(s)):
            // A scalar is 1–4 UTF-8 bytes: within `max` bytes is within `max` scalars, and the
            // byte count is O(1) where counting scalars walks the text (every text write).
            guard s.utf8.count <= max || s.unicodeScalars.count <= max else {
                return .failure(ValueError("text longer than \(max) characters", chinese: "文字超过 \(max) 个字"))
            }
            return Value.plainText(s).map { $0 == s ? value : .text($0) }
        case (.integer, .integer), (.date, .date), (.timestamp, .timestamp), (.boolean, .boolean), (.reference, .reference):
            return .success(value)
        case let (.decimal(scale), .decimal(d)):
            guard let r = d.rescaled(to: scale) else { return .failure(ValueError("more than \(scale) digits after the point")) }
            return .success(.decimal(r))
        case let (.decimal(scale), .integer(i)):
            guard let r = ExactDecimal(units: i, scale: 0).rescaled(to: scale) else { return .failure(ValueError("decimal out of range")) }
            return .success(.decimal(r))
        case let (.enumeration(members), .member(m)):
            return members.contains(m) ? .success(value) : .failure(ValueError("\"\(m)\" is not one of \(members.joined(separator: ", "))"))
        case let (.user, .text(s)):
            return s.isEmpty ? .failure(ValueError("empty user name")) : .success(value)
        default:
            return .failure(ValueError("a \(value.kindName) value does not fit a \(self) field"))
        }
    }
}

/// The marketing → sales hand-off.
public struct Handoff: Sendable, Hashable {
    public var from: String
    public var to: String
    /// Boolean fields that must all be true to hand a lead off.
    public var checklist: [String]
    /// The field a rep fills when rejecting a hand-off back to `from`.
    public var rejectReason: String?

    public init(from: String, to: String, checklist: [String], rejectReason: String? = nil) {
        self.from = from
        self.to = to
        self.checklist = checklist
        self.rejectReason = rejectReason
    }
}

/// Approval thresholds (DOMAIN.md: a discount over the threshold, final terms above it).
public struct Approvals: Sendable, Hashable {
    public struct Rule: Sendable, Hashable {
        /// The decimal field compared with the threshold.
        public var field: String
        public var above: ExactDecimal
        /// nil: any write of `field` above the threshold needs approval. Set: moving the
        /// stage forward out of this stage while `field` is above the threshold does.
        public var leaving: String?

        public init(field: String, above: ExactDecimal, leaving: String? = nil) {
            self.field = field
            self.above = above
            self.leaving = leaving
        }
    }

    /// Roles that decide approvals and are not bound by the thresholds.
    public var approvers: Set<String>
    /// The enum field holding `none|pending|approved|rejected`.
    public var stateField: String
    public var rules: [Rule]
    /// Field groups locked for non-approvers while the state is `pending`.
    public var lockGroups: Set<String>
    /// The entity holding approval requests (opportunity, kind, target, field, value, state,
    /// decided_by, note): a proposal made on a laptop becomes one, an approver decides it, and
    /// the hub applies the decision. nil: proposals stay conflict records only.
    public var requests: String?

    public init(approvers: Set<String>, stateField: String, rules: [Rule], lockGroups: Set<String>, requests: String? = nil) {
        self.requests = requests
        self.approvers = approvers
        self.stateField = stateField
        self.rules = rules
        self.lockGroups = lockGroups
    }
}

/// How the hub assigns a handed-off lead to a rep.
public struct Assignment: Sendable, Hashable {
    public var role: String
    /// `round-robin` is the only strategy of format 1.
    public var strategy: String
    /// `territory`: among reps of the lead's territory (all reps when it has none).
    public var within: String?
    public var skipAtCapacity: Bool

    public init(role: String, strategy: String = "round-robin", within: String? = "territory", skipAtCapacity: Bool = true) {
        self.role = role
        self.strategy = strategy
        self.within = within
        self.skipAtCapacity = skipAtCapacity
    }
}

/// Entity and field numbers by name and names by number, built once from a workspace. A pull
/// page names ~11 fields per record; finding each by a linear scan of the entity's fields (and
/// copying the entity out of the workspace to do it) was a measurable share of a cold sync on
/// both sides.
public struct WireNumbering: Sendable {
    public struct EntityNumbers: Sendable {
        public let name: String
        public let number: UInt32
        public let fieldNumbers: [String: UInt32]
        public let fieldNames: [UInt32: String]
        /// The fields whose values name users (type `user`): withheld with the record's names.
        public let userFields: Set<String>
    }
    let byName: [String: EntityNumbers]
    let byNumber: [UInt32: EntityNumbers]

    /// The workspace's numbering (built once with its definition).
    public init(_ workspace: Workspace) { self = workspace.numbering }

    init(entities: [Entity]) {
        var byName = [String: EntityNumbers]()
        var byNumber = [UInt32: EntityNumbers]()
        for e in entities {
            var numbers = [String: UInt32](), names = [UInt32: String]()
            for f in e.fields { numbers[f.name] = f.number; names[f.number] = f.name }
            let n = EntityNumbers(
                name: e.name, number: e.number, fieldNumbers: numbers, fieldNames: names, userFields: Set(e.fields.filter { $0.type == .user }.map(\.name)))
            byName[e.name] = n
            byNumber[e.number] = n
        }
        self.byName = byName
        self.byNumber = byNumber
    }

    public func entity(_ name: String) -> EntityNumbers? { byName[name] }
    public func entity(number: UInt32) -> EntityNumbers? { byNumber[number] }
}
