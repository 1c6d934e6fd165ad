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
              case let .reference(of) = record[parent], case let .text(user) = record[user] else { return nil }
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
              case let .enumeration(states)? = e.field("state")?.type, states.contains("active") else { return nil }
        return TeamRule(entity: e.name, parent: via, user: "user", state: "state", active: "active")
    }
}
