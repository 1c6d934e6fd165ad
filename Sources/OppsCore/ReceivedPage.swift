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

/// A live whole record as a page gave it (`ReceivedPage.whole`): its creation, its fields
/// numbered as the workspace numbers them (each once, named too), in the page's order — the hub
/// sends them by sequence — and its checksum term (`StateChecksum.term(of:)`), summed as it was read.
public struct WholeRecord: Sendable, Hashable {
    public struct Field: Sendable, Hashable {
        public var number: UInt32
        public var name: String
        public var state: FieldState

        public init(number: UInt32, name: String, state: FieldState) {
            self.number = number
            self.name = name
            self.state = state
        }
    }

    public var id: RecordID
    public var entity: String
    public var created: FieldState
    public var fields: [Field]
    public var term: UInt64

    public init(id: RecordID, entity: String, created: FieldState, fields: [Field] = [], term: UInt64) {
        self.id = id
        self.entity = entity
        self.created = created
        self.fields = fields
        self.term = term
    }

    /// The same record keyed by field names.
    public var record: Record {
        var r = Record(id: id, entity: entity, created: created)
        r.fields.reserveCapacity(fields.count)
        for f in fields { r.fields[f.name] = f.state }
        return r
    }
}
