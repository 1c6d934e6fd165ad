import OppsCore
import OppsReplica
import OppsStore

// What `--json` prints, one type per answer: the schema a script reads is declared here, in one
// place. `JSONValueEncoder` keeps the members in declaration order, values exact (amounts never
// pass through floating point) and every key present (an absent value is null).

/// `opps sync --json`.
struct SyncJSON: Encodable {
    var pushed, applied, conflicts, pulled: Int
    /// Of `pulled`, what others did (this laptop's own writes come back confirmed too).
    var from_others: Int
    /// Own writes that did not hold after all, told by conflict records pulled (SyncReport.overruled).
    var overruled: Int
    /// Others' writes that lost to this user's, told by conflict records pulled (SyncReport.heldOver).
    var held_over: Int
    var repaired: Bool
    /// Of a repair: the hub had compacted past this laptop's cursor (away longer than it keeps
    /// changes), so it synced in full again; nothing differed (SyncReport.diverged is false).
    var cursor_expired: Bool
    /// This folder was an older copy of its replica and syncs under a new id now (SyncReport.tookNewID).
    var new_replica: Bool
    var cursor: UInt64
    var clock_skew_ms: Int64
    var flagged_checkins: Int
    /// Deals taken off this laptop (no longer this user's to see), and the first names of them.
    var removed: Int
    var removed_deals: [String]

    init(_ r: SyncReport) {
        (removed, removed_deals) = (r.goneCount, r.gone.map(\.name))
        (pushed, applied, conflicts, pulled, from_others, overruled) = (r.pushed, r.applied, r.conflicts, r.pulled, r.news, r.overruled)
        held_over = r.heldOver.count
        new_replica = r.tookNewID
        cursor_expired = r.repaired && !r.diverged
        (repaired, cursor, clock_skew_ms, flagged_checkins) = (r.repaired, r.cursor, r.clockSkewMilliseconds, r.flaggedCheckins)
    }
}

/// `opps init --json`.
struct InitJSON: Encodable {
    var user, role, home: String
    var pulled: Int
}

/// `opps status --json`.
struct StatusJSON: Encodable {
    var user, role, hub, replica: String
    var last_sync: String?
    /// Writes waiting to be sent, and the edits they make up (one command's writes: `opps undo`
    /// takes back the last).
    var pending, pending_edits, conflicts: Int
    /// Requests waiting for this user's decision (an approver's; 0 for others).
    var awaiting_decision: Int
    var records: Int
    var workspace_version: UInt64
}

/// `opps connect --json`.
struct ConnectJSON: Encodable {
    var user, hub: String
    var pending: Int
}

/// A record with every field of its entity, in the workspace's order (`show`, lists, duplicates).
struct RecordJSON: Encodable {
    var id: String
    var type: String
    var fields: JSON

    init(_ r: Replica, _ record: Record) {
        id = record.id.description
        type = record.entity
        fields = .object((r.workspace.entity(record.entity)?.fields ?? []).map { ($0.name, record[$0.name].plainJSON) })
    }
}

/// What an edit did (`edit`, `stage`, `restore`, team changes …).
struct EditJSON: Encodable {
    struct Proposed: Encodable {
        var field, rule: String
        /// The approval request made for it; null for a bare proposal.
        var request: String?
    }
    var id: String
    var applied: [String]
    var proposed: [Proposed]
    /// Fields that already held the value asked for: nothing written.
    var unchanged: [String]

    init(_ result: EditResult) {
        id = result.record.description
        applied = result.applied
        unchanged = result.unchanged
        proposed = result.proposed.enumerated().map { i, p in
            Proposed(field: p.field, rule: p.rule.rawValue, request: i < result.requests.count ? result.requests[i].description : nil)
        }
    }
}

/// One line of a record's trail (`opps history --json`).
struct HistoryJSON: Encodable {
    var field: String
    var old, new: Value
    var author, at, source, rule: String

    init(_ h: HistoryLine) {
        (field, old, new, author) = (h.field, h.old, h.new, h.author)
        (at, source, rule) = (h.hlc.timestamp.description, h.source, h.rule)
    }
}

/// An open conflict (`opps conflicts --json`).
struct ConflictJSON: Encodable {
    var id: UInt64
    var record, field: String
    var mine: Value
    var author: String
    var winner: Value?
    var winner_author: String?
    var rule, outcome, at: String

    init(_ c: LocalConflict) {
        (id, record, field, mine, author) = (c.id, c.record.description, c.field, c.value, c.author)
        (winner, winner_author, rule, outcome) = (c.winner, c.winnerAuthor, c.rule, c.outcome)
        at = Timestamp(milliseconds: c.hubMilliseconds).description
    }
}

/// An approval request (`opps approvals --json`).
struct ApprovalJSON: Encodable {
    var id, state: String
    var kind, opportunity: Value
    var deal: Value?
    var requested, field, value: Value
    var requested_by: String
    var decided_by, note: Value
    var at: String
}

/// A member of a deal's team (`opps team list --json`).
struct TeamMemberJSON: Encodable {
    var id: String
    var user, role, state: Value
}

/// `opps board --json`.
struct BoardJSON: Encodable {
    struct Column: Encodable {
        var stage: String
        var deals: Int
        var amounts: JSON
        var items: [Item]
    }
    struct Item: Encodable {
        var id: String
        var name, owner, amount, currency, next_step, next_step_due: Value
        var overdue: Bool
    }
    var date: String
    var stages: [Column]
}

/// `opps today --json`.
struct TodayJSON: Encodable {
    struct Item: Encodable {
        var kind, id, deal, text: String
        var date: String?
        /// The deal's owner, for a team item.
        var owner: String?
        /// The fields a `to_fill` item waits on.
        var fields: [String]?
    }
    var date: String
    var due, overdue, stale: [Item]
    /// A manager's team's deals that slipped (empty for others).
    var team: [Item]
    var awaitingDecision: Int
    /// A success manager's: won deals no one has taken on, and their renewals coming up.
    var handOffs, renewals: [Item]
    /// A rep's leads handed to them, not yet accepted or sent back.
    var handedToYou: [Item]
    /// A success manager's customers whose health is red.
    var atRisk: [Item]
    /// Others' deals waiting on fields this user owns (an expert's solution).
    var toFill: [Item]

    enum CodingKeys: String, CodingKey {
        case date, due, overdue, stale, team, renewals
        case awaitingDecision = "awaiting_decision", handOffs = "hand_offs", handedToYou = "handed_to_you", atRisk = "at_risk", toFill = "to_fill"
    }
}

/// `opps task list --json`: one element a task.
struct TaskJSON: Encodable {
    var id: String
    var deal: String?
    var text: String
    var due: String?
    var assignee: String?
    var done: Bool
}

/// `opps funnel --json`.
struct FunnelJSON: Encodable {
    struct Stage: Encodable {
        var stage: String
        var now: Int
        var amounts: JSON
        var reached: Int
        var conversion_percent: JSON?
    }
    var stages: [Stage]
    var won, lost: Int
    var win_rate_percent: JSON?
}

/// `opps forecast --json`, one row per owner and month.
struct ForecastJSON: Encodable {
    var owner, month: String
    var deals: Int
    var pipeline, weighted, best_case, commit, won: JSON
}

/// `opps report stage-time --json`, one row per stage.
struct StageTimeJSON: Encodable {
    var stage: String
    var stays: Int
    var average_days, median_days: JSON?
}

/// `opps report follow-up --json`, one row per owner.
struct FollowUpJSON: Encodable {
    var owner: String
    var handed_off, followed_up: Int
    var first_activity_average_hours, first_activity_median_hours: JSON?
    var follow_ups: Int
    var follow_ups_per_deal: JSON
}

/// A command's failure under `--json` (exit status as well as the message).
struct FailureJSON: Encodable {
    var error: String
    var exit: Int
}

/// `opps undo --json`: each record the edit wrote, and how many edits still wait to be sent.
struct UndoJSON: Encodable {
    var undone: [UndoneJSON]
    var waiting: Int
}

struct UndoneJSON: Encodable {
    var id: String
    var type: String
    /// The edit made the record: it is gone.
    var removed: Bool
    /// The edit deleted the record: it shows again.
    var restored: Bool
    /// Each field shown changed: what it shows again (`old`) and what the edit had made it.
    var fields: [HistoryJSON]
    /// Writes that went out as proposals (nothing changed here): field and value.
    var proposals: [ProposalJSON]

    struct ProposalJSON: Encodable {
        var field: String
        var value: Value
    }

    init(_ id: RecordID, edit: Replica.LastEdit, lines: [HistoryLine], proposals: [FieldWrite]) {
        self.id = id.description
        type = edit.entries.first { $0.write.record == id }?.write.entity ?? ""
        removed = edit.made.contains(id)
        restored = edit.deleted.contains(id)
        fields = lines.map(HistoryJSON.init)
        self.proposals = proposals.map { ProposalJSON(field: $0.field, value: $0.value) }
    }
}
