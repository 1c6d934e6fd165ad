/// One pull page as a replica applies it (sync-protocol.md §6), decoded: the records that left
/// the user's view, the whole records that entered it, the changes in sequence order, the
/// user's conflicts, and where the pull stands after it. The wire's `PageReader` makes it; the
/// replica store applies it.
public struct ReceivedPage: Sendable {
    /// Records the user no longer sees: dropped here.
    public var left: [RecordID] = []
    /// Whole records, sent because they entered the view or their visible fields changed; a
    /// record is nil when the page lacks its creation (counted as received, not kept).
    public var entered: [(id: RecordID, record: Record?)] = []
    /// Whole records read straight from the page's bytes, each field numbered, in the order the
    /// page gave them, with the record's checksum term: what a store keeps without building a
    /// `Record` (a cold sync's records, issue 18). Only a live record entered once on the page,
    /// each field of its own entity once; any other comes in `entered`. Their ids are not in
    /// `entered`.
    public var whole: [WholeRecord] = []
    /// Changes to records held, in sequence order (malformed ones already left out).
    public var changes: [LogEntry] = []
    /// Conflicts the user sees, with what the hub let them see of the values (I16).
    public var conflicts: [LocalConflict] = []
    /// The cursor, the page token and the conflict cursor the next request carries.
    public var cursor: UInt64 = 0
    public var token: UInt64 = 0
    public var conflictCursor: UInt64 = 0

    public init() {}

    /// Every record the page names, in page order (a record may appear more than once).
    public var recordIDs: [RecordID] { left + entered.map(\.id) + whole.map(\.id) + changes.map(\.record) }

    /// Every whole record of the page, `entered` and `whole` alike, the last of each id.
    public var everyEntered: [RecordID: Record?] {
        var all = [RecordID: Record?]()
        for (id, record) in entered { all[id] = .some(record) }
        for w in whole { all[w.id] = w.record }
        return all
    }
}

/// A field numbered as the workspace numbers it (0: a name it does not know), with its name
/// and state: a record's fields as an array, without a table keyed by names to build.
public struct NumberedField: Sendable, Hashable {
    public var number: UInt32
    public var name: String
    public var state: FieldState

    public init(number: UInt32, name: String, state: FieldState) {
        self.number = number
        self.name = name
        self.state = state
    }
}

/// A live whole record as a page gave it (`ReceivedPage.whole`): its creation, its fields
/// numbered (each once), in the page's order — the hub sends them by sequence — and its
/// checksum term (`StateChecksum.term(of:)`), summed as it was read.
public struct WholeRecord: Sendable, Hashable {
    public var id: RecordID
    public var entity: String
    public var created: FieldState
    public var fields: [NumberedField]
    public var term: UInt64

    public init(id: RecordID, entity: String, created: FieldState, fields: [NumberedField] = [], term: UInt64) {
        self.id = id
        self.entity = entity
        self.created = created
        self.fields = fields
        self.term = term
    }

    /// The same record keyed by field names.
    public var record: Record { Record(id: id, entity: entity, created: created, numbered: fields) }
}

/// A record as the hub's store hands it to a page writer (issue 18): its fields numbered, in
/// the order stored, without the table keyed by names a `Record` builds (and the page writer
/// looked each name's number up in again).
public struct NumberedRecord: Sendable, Hashable {
    public var id: RecordID
    public var entity: String
    public var created: FieldState
    public var fields: [NumberedField]
    public var deleted: FieldState?

    public init(id: RecordID, entity: String, created: FieldState, fields: [NumberedField] = [], deleted: FieldState? = nil) {
        self.id = id
        self.entity = entity
        self.created = created
        self.fields = fields
        self.deleted = deleted
    }

    /// `record`'s fields numbered by `number` (0 for a name it does not know), in no particular order.
    public init(_ record: Record, number: (String) -> UInt32?) {
        self.init(
            id: record.id, entity: record.entity, created: record.created,
            fields: record.fields.map { NumberedField(number: number($0.key) ?? 0, name: $0.key, state: $0.value) }, deleted: record.deleted)
    }

    /// The same record keyed by field names.
    public var record: Record {
        var r = Record(id: id, entity: entity, created: created, numbered: fields)
        r.deleted = deleted
        return r
    }
}

extension Record {
    /// A record whose fields are `numbered`'s (the last of a name holds).
    public init(id: RecordID, entity: String, created: FieldState, numbered: [NumberedField]) {
        self.init(id: id, entity: entity, created: created)
        fields.reserveCapacity(numbered.count)
        for f in numbered { fields[f.name] = f.state }
    }
}
