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
    /// The checksum term (`StateChecksum.term(of:)`) of entered records, as received, where
    /// reading them gave it along the way (each field's number at hand): the store need not
    /// look every field's number up again. A record entered twice on a page has none.
    public var enteredTerms: [RecordID: UInt64] = [:]
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
    public var recordIDs: [RecordID] { left + entered.map(\.id) + changes.map(\.record) }
}
