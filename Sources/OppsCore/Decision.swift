/// What became of one write (merge-semantics.md §5).
public enum Outcome: String, Sendable, Hashable, CaseIterable {
    /// Made on top of the current value and permitted: it holds.
    case applied
    /// Concurrent with the current value and stronger (more authority, or equal and later): it
    /// holds, and the displaced value becomes a conflict record.
    case won
    /// Concurrent and weaker: the current value holds; this one becomes a conflict record.
    case lost
    /// Not permitted, or not valid (a rule says which): becomes a conflict record.
    case rejected
    /// The writer may only propose: kept as a proposal the owner or a manager decides.
    case proposal
    /// The very same write (same stamp) was already decided: nothing changes.
    case duplicate

    /// True when the incoming value now holds.
    public var holds: Bool { self == .applied || self == .won }
}

/// The stable id of the rule that decided a write (merge-semantics.md §6). These strings are
/// part of the protocol: clients show them and match on them.
public enum RuleID: String, Sendable, Hashable, CaseIterable {
    // Applied
    case baseCurrent = "base-current"
    case noCompetingValue = "no-competing-value"
    case create = "create"
    case delete = "delete"
    /// An operator's manager re-applied a value that had lost (the displaced one is kept too).
    case restored = "restored"
    // Concurrent
    case authority = "authority"
    case laterClock = "later-clock"
    case replicaTieBreak = "replica-tie-break"
    /// A write an older copy of a replica sent again (sync-protocol.md §5.5) whose base is not
    /// current: it never displaces a value it did not see.
    case olderCopy = "older-copy"
    case duplicate = "duplicate"
    // Rejected
    case unknownEntity = "unknown-entity"
    case unknownField = "unknown-field"
    case unknownRole = "unknown-role"
    /// A user field names nobody the hub knows (checked at the hub: laptops have no directory).
    case unknownUser = "unknown-user"
    case forgedAuthor = "forged-author"
    case typeMismatch = "type-mismatch"
    case notVisible = "not-visible"
    case readOnly = "read-only"
    case appendOnly = "append-only"
    /// A write-once field already holds a value (I14): a change is a new record.
    case writeOnce = "write-once"
    /// The write's clock is further ahead of the hub's than the workspace allows (I15).
    case clockAhead = "clock-ahead"
    /// A time in an append-only record (an activity's `at`) after the moment it was written:
    /// activities record what happened, and reports date follow-ups by them.
    case futureTime = "future-time"
    case recordMissing = "record-missing"
    case recordExists = "record-exists"
    case recordDeleted = "record-deleted"
    case createNotPermitted = "create-not-permitted"
    case deleteNotPermitted = "delete-not-permitted"
    case stageGate = "stage-gate"
    case handoffChecklist = "handoff-checklist"
    case stickyClosed = "sticky-closed"
    case backwardMove = "backward-move"
    case reasonRequired = "reason-required"
    case approvalPending = "approval-pending"
    /// An approval request another approver already decided: the first decision to reach the
    /// hub stands, later ones are refused (and their authors told).
    case alreadyDecided = "already-decided"
    /// The requested value of an approval an approver rejected (kept as the requester's conflict).
    case approvalRejected = "approval-rejected"
    /// An approval whose request can no longer be written as asked (the target, the requester's
    /// or the approver's rights changed): rejected, the approver's decision kept as a conflict.
    case requestInvalid = "request-invalid"
    /// A write (or an approved request) that would leave a deal seen by no enabled user: out of
    /// everyone's reach, no one could give it an owner or move it on (I17; checked at the hub,
    /// which alone holds the org chart).
    case orphaned = "orphaned"
    // Proposal
    case proposeOnly = "propose-only"
    case approvalRequired = "approval-required"
    case needsConfirmation = "needs-confirmation"
}

/// The decision on one write: what became of it, which rule decided, what holds now, and —
/// so nothing is ever dropped (merge-semantics.md I6) — the value that did not hold.
public struct Decision: Sendable, Hashable {
    public var outcome: Outcome
    public var rule: RuleID
    /// Human-readable detail: names fields and stages, never values.
    public var detail: String
    /// The access the writer had over the field; stored with the value when it holds.
    public var authority: Access
    /// The field state that holds after the decision (nil: the field is still unset).
    public var winner: FieldState?
    /// The state that did not hold: the incoming write when it lost, was rejected or became a
    /// proposal; the displaced current value when the incoming write won.
    public var loser: FieldState?
    /// Fields a stage gate found missing, in workspace order.
    public var missing: [String]

    public init(
        outcome: Outcome, rule: RuleID, detail: String = "", authority: Access = .hidden, winner: FieldState? = nil,
        loser: FieldState? = nil, missing: [String] = []
    ) {
        self.outcome = outcome
        self.rule = rule
        self.detail = detail
        self.authority = authority
        self.winner = winner
        self.loser = loser
        self.missing = missing
    }
}
