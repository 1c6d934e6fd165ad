/// Who receives which record (merge-semantics.md §4.1, "The visibility rule"). This is the
/// rule's one home: the hub's decisions (`BatchDecider`), its pull (whose SQL is the fast path
/// of the same rule, checked against it by `VisibilityRuleTests`), the replica and the
/// simulator's model all ask it.
///
/// 1. A record of a staged entity (a deal) is visible by the role's `sees` conditions, with the
///    user's relations to it (owner, creator, team, managed) and its stage.
/// 2. A record hanging off another (`visible_via`: activities, tasks, approvals, team members)
///    is visible with that record; while its parent field is unset, only to its creator.
/// 3. Any other record (accounts, contacts) is visible to its creator, and to whoever sees a
///    live staged record that references it.
/// 4. Which fields of a visible record a user receives is the access matrix
///    (`Workspace.hiddenFields`): a field the user's access is `hidden` to is left out.
public enum VisibilityPath: Sendable, Hashable {
    /// Rule 1: the role's conditions decide.
    case byRole
    /// Rule 2: visible exactly when this record is.
    case withParent(RecordID)
    /// Rules 2 and 3: the user created it.
    case own
    /// Rule 2: its parent is unset and the user did not create it.
    case hidden
    /// Rule 3: visible when a live staged record the user sees references it.
    case whenReferenced
}

/// The team of a staged record, as data (workspace-format.md "team"): the records of `entity`
/// hanging off it (through the entity's `visible_via` field) whose `state` field holds
/// `active` make `user` a team member.
public struct TeamRule: Sendable, Hashable {
    public var entity: String
    /// The reference to the staged record (the entity's `visible_via`).
    public var parent: String
    public var user: String
    public var state: String
    public var active: String

    public init(entity: String, parent: String, user: String, state: String, active: String) {
        self.entity = entity
        self.parent = parent
        self.user = user
        self.state = state
        self.active = active
    }

    /// The member a record of the team entity makes, and of which record: nil when it makes
    /// none (deleted, not active, or not complete).
    public func member(_ record: Record) -> (of: RecordID, user: UserName)? {
        guard record.entity == entity, !record.isDeleted, record[state] == .member(active),
            case let .reference(of) = record[parent], case let .text(user) = record[user]
        else { return nil }
        return (of, user)
    }

    /// The active team of `record` among `records`.
    public func team(of record: RecordID, among records: some Sequence<Record>) -> Set<UserName> {
        var team = Set<UserName>()
        for r in records { if let m = member(r), m.of == record { team.insert(m.user) } }
        return team
    }
}

extension Workspace {
    /// Which rule makes `record` visible to `user` (see `VisibilityPath`).
    public func visibility(of record: Record, entity: Entity, user: UserName) -> VisibilityPath {
        if entity.stageField != nil { return .byRole }
        if let via = entity.visibleVia, case let .reference(parent) = record[via] { return .withParent(parent) }
        if record.creator == user { return .own }
        if entity.visibleVia != nil { return .hidden }
        return .whenReferenced
    }

    /// The conventional team rule of a workspace that names none: a `membership` entity with
    /// `user` and `state` fields, `active` among the states (workspace-format.md "team").
    static func conventionalTeam(in entities: [Entity]) -> TeamRule? {
        guard let e = entities.first(where: { $0.name == "membership" }), let via = e.visibleVia, e.field("user")?.type == .user,
            case let .enumeration(states)? = e.field("state")?.type, states.contains("active")
        else { return nil }
        return TeamRule(entity: e.name, parent: via, user: "user", state: "state", active: "active")
    }
}

extension Workspace {
    /// Whether any enabled user of `directory` sees a record of the staged `entity` (rule 1) in
    /// `stage`, owned by `owner`, created by `creator`, with `team` its active team (none yet for
    /// a new record). `opps-hub import` asks it of every deal it would create, and `user disable`
    /// of the deals the disabled user owns: a deal no one sees is out of everyone's reach, for no
    /// one could give it an owner or move it on.
    ///
    /// The candidates are the owner, the creator, the team, the managers above whoever the record
    /// is managed through, and one enabled user of each role (for a role that sees a stage, or
    /// everything, with no relation to the record); each is asked the visibility rule itself.
    public func anyoneSees(
        recordOf entity: Entity, stage: Value, owner: UserName?, creator: UserName, team: Set<UserName> = [], directory: Directory
    ) -> Bool {
        guard let sf = entity.stageField else { return true }
        let stamp = Stamp(hlc: .zero, replica: ReplicaID(UUID128(high: 0, low: 0)))
        var record = Record(id: UUID128(high: 0, low: 0), entity: entity.name, created: FieldState(value: stage, stamp: stamp, author: creator, authority: .own))
        record.fields[sf] = FieldState(value: stage, stamp: stamp, author: creator, authority: .own)
        if let owner { record.fields["owner"] = FieldState(value: .text(owner), stamp: stamp, author: creator, authority: .own) }
        return anyoneSees(record, entity: entity, team: team, directory: directory)
    }

    /// The same of a record as it stands (or would stand after a write): the hub's decider asks
    /// it of every write that changes a deal's owner or stage (`orphaned`, merge-semantics.md I17).
    public func anyoneSees(_ record: Record, entity: Entity, team: Set<UserName>, directory: Directory) -> Bool {
        guard entity.stageField != nil, !record.isDeleted else { return true }
        let owner = record.owner
        var candidates = [record.creator] + (owner.map { [$0] } ?? []) + team.sorted()
        var seen = Set(candidates)
        var above = directory.users[owner ?? record.creator]?.manager
        while let m = above, seen.insert(m).inserted {
            candidates.append(m)
            above = directory.users[m]?.manager
        }
        func sees(_ name: UserName) -> Bool {
            guard let u = directory.users[name], !u.disabled else { return false }
            let relations = self.relations(of: name, to: record, team: team, manages: { directory.manages(name, $0) })
            return isVisible(record: record, entity: entity, role: u.role, relations: relations)
        }
        if candidates.contains(where: sees) { return true }
        // Only then one user of each role (a deal with an owner rarely gets this far).
        var roles = Set<String>()
        return directory.users.values.contains { !$0.disabled && roles.insert($0.role).inserted && sees($0.name) }
    }
}

extension Entity {
    /// Whether a write to `field` can change who sees a record of this entity by rule 1: its
    /// owner or its stage, on a staged entity. What I17 asks about (merge-semantics.md).
    public func movesAudience(_ field: String) -> Bool { stageField != nil && (field == "owner" || field == stageField) }
}

extension Workspace {
    /// Exactly what `actor` receives of `records` after a complete sync (rules 1–4 above): the
    /// records they may see, each without the fields the matrix hides from them. The hub's pull
    /// computes the same with indexed SQL (`HubStorage.records(visibleTo:)`); the simulator and
    /// `VisibilityRuleTests` hold that fast path to this definition over random states.
    ///
    /// A record hanging off another whose parent is not set yet is its creator's to keep
    /// writing (`visibility(of:entity:user:)` says `.own`) but is not sent: the creator's own
    /// replica holds it already.
    public func view(of records: RecordSet, for actor: Actor, directory: Directory) -> [RecordID: Record] {
        var teams = [RecordID: Set<UserName>]()
        if let rule = teamRule {
            for r in records.records.values { if let m = rule.member(r) { teams[m.of, default: []].insert(m.user) } }
        }
        func relations(_ r: Record, staged: Bool) -> Set<Relation> {
            self.relations(of: actor.user, to: r, team: staged ? teams[r.id] ?? [] : [], manages: { directory.manages(actor.user, $0) })
        }
        // Rule 1: the staged records the role's conditions give.
        var top = Set<RecordID>()
        for r in records.records.values where !r.isDeleted {
            guard let e = entity(r.entity), e.stageField != nil else { continue }
            if isVisible(record: r, entity: e, role: actor.role, relations: relations(r, staged: true)) { top.insert(r.id) }
        }
        var visible = top
        for r in records.records.values where !r.isDeleted {
            guard let e = entity(r.entity), e.stageField == nil else { continue }
            switch visibility(of: r, entity: e, user: actor.user) {
            case let .withParent(parent): if top.contains(parent) { visible.insert(r.id) }  // rule 2
            case .own: if e.visibleVia == nil { visible.insert(r.id) }  // rule 3, its creator
            case .byRole, .hidden, .whenReferenced: break
            }
        }
        // Rule 3: what a visible staged record references.
        for id in top {
            guard let r = records[id], let e = entity(r.entity) else { continue }
            for f in e.fields {
                if case .reference = f.type, case let .reference(target) = r[f.name], let t = records[target], !t.isDeleted { visible.insert(target) }
            }
        }
        // Rule 4: the fields the matrix leaves them; and the names (§6): a staged record's are
        // withheld by `filtered`, a child's with its parent's, a free record's by the role.
        var out = [RecordID: Record]()
        for id in visible {
            guard let r = records[id], let e = entity(r.entity) else { continue }
            var seen = filtered(r, actor: actor, relations: relations(r, staged: e.stageField != nil))
            let withheld = withholdsNames(free: e.visibleVia == nil, role: actor.role) { () -> Set<String>? in
                guard let via = e.visibleVia, case let .reference(p) = r[via], let parent = records[p], let pe = entity(parent.entity) else { return nil }
                return hiddenFields(entity: parent.entity, stage: stage(of: parent, in: pe), actor: actor, relations: relations(parent, staged: true))
            }
            if e.stageField == nil, withheld { seen = withholdingNames(seen, from: actor.user) }
            out[id] = seen
        }
        return out
    }

    /// `record` as `actor` receives it (rule 4): without the fields the matrix hides from them,
    /// for every entity (an approval's requested value is hidden from a role that may not read it).
    ///
    /// A staged record whose owner is hidden from `actor` comes with its names withheld too
    /// (visibility.md §6, `withholdingNames`); a record hanging off it, or a free record, is the
    /// caller's to decide (`view` does), for it depends on more than the record itself.
    public func filtered(_ record: Record, actor: Actor, relations: Set<Relation>) -> Record {
        guard let e = entity(record.entity) else { return record }
        let hidden = hiddenFields(entity: record.entity, stage: stage(of: record, in: e), actor: actor, relations: relations)
        if hidden.isEmpty { return record }
        var r = record
        for name in hidden { r.fields[name] = nil }
        if e.stageField != nil, Self.withholdsNames(hidden: hidden) { r = withholdingNames(r, from: actor.user) }
        return r
    }
}

// MARK: Names in a record's trail (visibility.md §6)

extension Workspace {
    /// What a page carries in place of a name its reader may not learn.
    public static let withheldName: UserName = ""

    /// Whether the names on a staged record are withheld from a reader the matrix hides these
    /// fields of it from: its owner is one of them.
    public static func withholdsNames(hidden: Set<String>) -> Bool { hidden.contains("owner") }

    /// Whether the names on a record are withheld from a reader of `role` (visibility.md §6): a
    /// free record's by the role alone; a staged record's, or one hanging off a deal, by the
    /// fields hidden from the reader on that deal (`dealHidden`; nil: the deal is out of their
    /// sight, and so is what hangs off it — withheld).
    public func withholdsNames(free: Bool, role: String, dealHidden: () throws -> Set<String>?) rethrows -> Bool {
        if free { return !mayEverReadOwners(role: role) }
        return try dealHidden().map(Self.withholdsNames(hidden:)) ?? true
    }

    /// `name` as `reader` receives it on a record whose names are withheld from them: their own
    /// and the hub's as they are, anyone else's as the empty name.
    @inline(__always)
    public static func shown(_ name: UserName, to reader: UserName) -> UserName {
        name == reader || name == BatchDecider.systemAuthor || name.isEmpty ? name : withheldName
    }

    /// `record` with its names withheld from `reader`: every author but theirs and the hub's
    /// (the creation's, each field's, a delete's), the user of each line of its stage history,
    /// and the name a `user` field holds (a task's assignee, a request's approver).
    public func withholdingNames(_ record: Record, from reader: UserName) -> Record {
        var r = record
        r.created.author = Self.shown(r.created.author, to: reader)
        if var d = r.deleted {
            d.author = Self.shown(d.author, to: reader)
            r.deleted = d
        }
        let naming = NamingFields(self, entity: record.entity)
        for (name, var state) in r.fields {
            state.value = naming.withholding(state.value, field: name, by: state.author, from: reader)
            state.author = Self.shown(state.author, to: reader)
            r.fields[name] = state
        }
        return r
    }

    /// A field's value, written by `author`, as a reader from whom its record's names are
    /// withheld receives it.
    public func withholdingNames(in value: Value, entity: String, field: String, by author: UserName, from reader: UserName) -> Value {
        NamingFields(self, entity: entity).withholding(value, field: field, by: author, from: reader)
    }

    /// Whether a reader who receives a record of `entity` without the `hidden` fields can read a
    /// name in a `user` field of it: if so, withholding its names rewrites values, not only
    /// authors and the stage log.
    public func namesInValues(of entity: String, hidden: Set<String>) -> Bool {
        !(numbering.entity(entity)?.userFields ?? []).subtracting(hidden).isEmpty
    }
}

/// The fields of one entity whose values carry names (visibility.md §6): its `user` fields, and
/// the stage history of a staged entity.
public struct NamingFields: Sendable {
    let users: Set<String>
    let history: String?

    public init(_ workspace: Workspace, entity: String) {
        users = workspace.numbering.entity(entity)?.userFields ?? []
        history = workspace.entity(entity)?.stageField != nil ? workspace.stageHistory : nil
    }

    /// `value` of `field`, written by `author`, with every name in it but the reader's and the
    /// hub's emptied — unless the reader wrote it: a task she gave sam reads as she wrote it.
    @inline(__always)
    public func withholding(_ value: Value, field: String, by author: UserName, from reader: UserName) -> Value {
        if author == reader { return value }
        if field == history { return StageLog.withholdingNames(value, from: reader) }
        if case let .text(name) = value, users.contains(field) { return .text(Workspace.shown(name, to: reader)) }
        return value
    }
}
