import OppsCore
import OppsHub
import OppsStore

// What the operator's `--json` prints, one type per answer: the schema is declared here, in one
// place (`JSONValueEncoder`: declaration order, exact values, absent values as null).

/// `opps-hub status --json`.
struct StatusJSON: Encodable {
    struct Replica: Encodable {
        var id, user, last_seen: String
        var lag: UInt64
        var open_conflicts: Int
        /// Seen within the retention window (`status` lists it without --all; compaction waits for it).
        var within_retention: Bool
    }
    var head: UInt64
    var log_entries, records: Int
    var workspace_version: UInt64
    var database_bytes: Int64
    var database_free_bytes: Int64
    var open_conflicts: Int
    var compaction_watermark: UInt64
    var compactable_entries: Int
    var replicas: [Replica]

    init(_ s: HubEngine.Status) {
        (head, log_entries, records, workspace_version, database_bytes) = (s.head, s.logEntries, s.records, s.workspaceVersion, s.databaseBytes)
        (open_conflicts, compaction_watermark, compactable_entries) = (s.openConflicts, s.compactionWatermark, s.compactableEntries)
        database_free_bytes = s.freeBytes
        replicas = s.replicas.map {
            Replica(
                id: $0.id.description, user: $0.user, last_seen: Timestamp(milliseconds: $0.lastSeen).description, lag: $0.lag, open_conflicts: $0.openConflicts,
                within_retention: $0.withinRetention)
        }
    }
}

/// An accepted write in `opps-hub audit --json`.
struct AuditWriteJSON: Encodable {
    var kind = "write"
    var sequence: UInt64
    var field, op: String
    var value: Value
    var author, device_time, hub_time, authority: String

    init(_ e: StoredLogEntry) {
        let x = e.entry
        (sequence, field, op, value, author) = (x.sequence, x.field, x.kind.rawValue, x.value, x.author)
        device_time = x.stamp.hlc.timestamp.description
        hub_time = Timestamp(milliseconds: e.hubMilliseconds).description
        authority = x.authority.name
    }
}

/// A conflict in `opps-hub audit --json`.
struct AuditConflictJSON: Encodable {
    var kind = "conflict"
    var id: UInt64
    var field, outcome, rule: String
    var value: Value
    var author, device_time, hub_time: String
    var winner: Value?

    init(_ c: StoredConflict) {
        let x = c.conflict
        (id, field, outcome, rule, value, author) = (x.id, x.field, x.outcome.rawValue, x.rule.rawValue, x.loser.value, x.loser.author)
        device_time = x.loser.stamp.hlc.timestamp.description
        hub_time = Timestamp(milliseconds: c.hubMilliseconds).description
        winner = x.winner?.value
    }
}

/// `opps-hub conflicts list --json`.
struct HubConflictJSON: Encodable {
    var id: UInt64
    var record, field, outcome, rule: String
    var value: Value
    var author: String
    var winner: Value?
    var owner: String?

    init(_ c: StoredConflict) {
        let x = c.conflict
        (id, record, field, outcome, rule) = (x.id, x.record.description, x.field, x.outcome.rawValue, x.rule.rawValue)
        (value, author, winner, owner) = (x.loser.value, x.loser.author, x.winner?.value, c.owner)
    }
}

/// `opps-hub compact --json`.
struct CompactJSON: Encodable {
    var watermark: UInt64
    var entries, tombstones: Int
}

/// A record in `opps-hub duplicates --json`.
struct DuplicateJSON: Encodable {
    var id: String
    var name: Value
    var creator: String
}

/// `opps-hub import --json`.
struct ImportJSON: Encodable {
    struct Problem: Encodable {
        var row: Int
        var column, message: String
    }
    var imported, valid_rows, invalid_rows: Int
    var problems: [Problem]

    init(_ r: HubEngine.ImportResult) {
        (imported, valid_rows, invalid_rows) = (r.imported, r.validRows, r.invalidRows)
        problems = r.problems.map { Problem(row: $0.row, column: $0.column, message: $0.message) }
    }
}

/// `opps-hub workspace check --json`.
struct WorkspaceCheckJSON: Encodable {
    struct Issue: Encodable {
        var line, column: Int
        var path, message: String
    }
    var file: String
    var valid: Bool
    var version: UInt64?
    var issues: [Issue]
}

/// `opps-hub init --json`.
/// `opps-hub migrate --json`.
struct MigrateJSON: Encodable {
    struct Table: Encodable {
        var table: String
        var rows: Int
    }
    var hub, to: String
    var tables: [Table]
}

struct HubInitJSON: Encodable {
    var hub, data, workspace: String
    var workspace_version: UInt64
}

/// A user (`opps-hub user list/show --json`); `user add` adds the token, shown once.
struct UserJSON: Encodable {
    var name, role: String
    var team, territory, manager: String?
    var capacity: Int?
    var disabled: Bool

    init(_ u: HubUser) {
        (name, role, team, territory, manager, capacity, disabled) = (u.name, u.role, u.team, u.territory, u.manager, u.capacity, u.disabled)
    }
}

/// `opps-hub user add --json`.
struct UserAddedJSON: Encodable {
    var name, role, token: String
    var team, territory, manager: String?
    var capacity: Int?
}

/// `opps-hub user import --json`: one of the users added.
struct UserTokenJSON: Encodable {
    var name, role, token: String
}

/// `opps-hub token rotate --json`.
struct TokenJSON: Encodable {
    var name, token: String
}
