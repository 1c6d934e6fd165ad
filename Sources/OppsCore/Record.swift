/// The identity of one write: its clock value and the replica that made it. Stamps are
/// totally ordered by (hlc, replica) — merge-semantics.md §2.
public struct Stamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var hlc: HLC
    public var replica: ReplicaID

    public init(hlc: HLC, replica: ReplicaID) {
        self.hlc = hlc
        self.replica = replica
    }

    public static func < (a: Stamp, b: Stamp) -> Bool {
        a.hlc != b.hlc ? a.hlc < b.hlc : a.replica < b.replica
    }

    public var description: String { "\(hlc)@\(replica)" }
}

/// How much say a user has over a field at a stage (DOMAIN.md ownership matrix), in
/// increasing order. Only `write`, `own` and `override` may change a value; their order is
/// the authority order of merge-semantics.md I4.
public enum Access: Int, Sendable, Hashable, Comparable, CaseIterable, CustomStringConvertible {
    /// Not visible at all ("—").
    case hidden = 0
    /// Read only ("R").
    case read = 1
    /// May only propose; the owner or a manager decides ("P").
    case propose = 2
    /// May write, loses a concurrent conflict to the owner ("W").
    case write = 3
    /// The field's owner at this stage ("O").
    case own = 4
    /// Manager override: wins over the owner, always on the record.
    case override = 5

    public static func < (a: Access, b: Access) -> Bool { a.rawValue < b.rawValue }

    public var name: String {
        switch self {
        case .hidden: "hidden"
        case .read: "read"
        case .propose: "propose"
        case .write: "write"
        case .own: "own"
        case .override: "override"
        }
    }

    public init?(name: String) {
        guard let a = Access.allCases.first(where: { $0.name == name }) else { return nil }
        self = a
    }

    public var description: String { name }
    public var mayWrite: Bool { self >= .write }
    public var mayRead: Bool { self >= .read }
}

/// The current state of one field: its value and who put it there, when, with what authority,
/// and the hub sequence that accepted it (0 while only local).
public struct FieldState: Sendable, Hashable {
    public var value: Value
    public var stamp: Stamp
    public var author: UserName
    /// The authority the value was written with; decides later concurrent conflicts (I4).
    public var authority: Access
    /// The hub sequence number, once the hub accepted the write; 0 before.
    public var sequence: UInt64

    public init(value: Value, stamp: Stamp, author: UserName, authority: Access, sequence: UInt64 = 0) {
        self.value = value
        self.stamp = stamp
        self.author = author
        self.authority = authority
        self.sequence = sequence
    }
}

/// One record: its type, its fields, and its life (created, possibly deleted).
public struct Record: Sendable, Hashable {
    public var id: RecordID
    public var entity: String
    /// The creation write: its author is the record's creator.
    public var created: FieldState
    public var fields: [String: FieldState]
    /// The deletion write, when the record is a tombstone (merge-semantics.md I9).
    public var deleted: FieldState?

    public init(id: RecordID, entity: String, created: FieldState, fields: [String: FieldState] = [:], deleted: FieldState? = nil) {
        self.id = id
        self.entity = entity
        self.created = created
        self.fields = fields
        self.deleted = deleted
    }

    public var creator: UserName { created.author }
    public var isDeleted: Bool { deleted != nil }

    /// The value of a field, null when never set.
    public subscript(field: String) -> Value { fields[field]?.value ?? .null }

    /// The owner's user name, when the entity has an `owner` field that is set.
    public var owner: UserName? {
        if case let .text(name) = self["owner"] { return name }
        return nil
    }
}

/// What a write is made on top of (merge-semantics.md §3).
public enum Base: Sendable, Hashable, CustomStringConvertible {
    /// The field had no value when the writer wrote.
    case none
    /// The value the hub sequenced with this number.
    case sequence(UInt64)
    /// A value identified by its stamp — a write of the writer's own replica the hub had not
    /// acknowledged yet when the writer wrote on top of it.
    case stamp(Stamp)

    /// True when the write was made on top of exactly `current`.
    public func matches(_ current: FieldState?) -> Bool {
        switch self {
        case .none: return current == nil
        case let .sequence(s): return current.map { $0.sequence != 0 && $0.sequence == s } ?? false
        case let .stamp(st): return current?.stamp == st
        }
    }

    public var description: String {
        switch self {
        case .none: "none"
        case let .sequence(s): "seq:\(s)"
        case let .stamp(st): "stamp:\(st)"
        }
    }
}

/// What a write does to its record.
public enum WriteKind: String, Sendable, Hashable, CaseIterable {
    /// Sets one field.
    case set
    /// Creates the record; the value is its initial stage for staged entities, else null.
    case create
    /// Makes the record a tombstone.
    case delete
}

/// One versioned write, as made on a device: the unit of sync.
public struct FieldWrite: Sendable, Hashable {
    public var record: RecordID
    public var entity: String
    /// The field name; empty for create and delete.
    public var field: String
    public var kind: WriteKind
    public var value: Value
    public var base: Base
    public var author: UserName
    public var stamp: Stamp

    public init(
        record: RecordID, entity: String, field: String = "", kind: WriteKind = .set, value: Value = .null,
        base: Base = .none, author: UserName, stamp: Stamp
    ) {
        self.record = record
        self.entity = entity
        self.field = field
        self.kind = kind
        self.value = value
        self.base = base
        self.author = author
        self.stamp = stamp
    }
}
