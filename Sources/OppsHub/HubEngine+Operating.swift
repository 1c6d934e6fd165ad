import Foundation
import OppsCore
import OppsStore
import OppsWire

/// What the operator runs: status, compaction, the audit trail, restoring a conflict.
extension HubEngine {
    // MARK: Operating

    /// One replica as `opps-hub status` shows it.
    public struct ReplicaStatus: Sendable {
        public var id: ReplicaID
        public var user: UserName
        public var lastSeen: Int64
        /// Changes to records its user may see that the replica has not acknowledged yet.
        public var lag: UInt64
        public var openConflicts: Int
        /// Seen within the retention window: compaction waits for it (`watermark`).
        public var withinRetention: Bool
    }

    public struct Status: Sendable {
        public var head: UInt64
        public var logEntries: Int
        public var records: Int
        public var workspaceVersion: UInt64
        public var databaseBytes: Int64
        /// Of those, what holds nothing now (free pages, used again as the hub grows).
        public var freeBytes: Int64
        public var replicas: [ReplicaStatus]
        public var openConflicts: Int
        /// What `compact` would remove now: log entries at or below this watermark.
        public var compactionWatermark: UInt64
        public var compactableEntries: Int
    }

    /// The lowest sequence every replica seen within `retention` ms has acknowledged.
    /// Log sequences a compaction prunes per transaction (about 0.1 s on the project's machine:
    /// BENCHMARKS.md, sixty-fourth session).
    public static let compactionSlice = 20_000

    public func watermark(retention: Int64) throws -> UInt64 {
        let live = try store.replicas().filter { seen($0, within: retention) }
        return try live.map(\.ack).min() ?? store.head()
    }

    /// Whether `replica` was seen within `retention` of now: compaction waits only for those.
    func seen(_ replica: ReplicaRow, within retention: Int64) -> Bool { replica.lastSeenMilliseconds >= now - retention }

    /// `user`: only that user's replicas are listed (and their lag worked out); the rest of the
    /// report is the hub's.
    public func status(retention: Int64, user: UserName? = nil) throws -> Status {
        let head = try store.head()
        let conflicts = try store.openConflicts(user: nil)
        try refreshDirectory()
        // Lag (issue 15 item 8): the changes after a replica's acknowledged cursor to records its
        // user may see now — what it has yet to receive — not every change since (a marketer who
        // sees one lead is not 270,000 behind). One pass over the log since the oldest cursor.
        let rows = try store.replicas().filter { user == nil || $0.user == user }
        // Who may see each record now: every user's visible set, turned around, so a change is
        // looked up once, not once per replica (a fleet of 2,000 replicas over 16,000 entries
        // took 4 s; 20,000 over a million would have taken hours).
        let users = Set(rows.map(\.user)).sorted()
        var watchers = [RecordID: [Int]]()
        for (i, user) in users.enumerated() {
            guard let u = try store.user(named: user) else { continue }
            for id in try store.records(visibleTo: VisibilityQuery.make(user: u.name, role: u.role, workspace: workspace, directory: directory)) {
                watchers[id, default: []].append(i)
            }
        }
        // Since what it was last sent (its acknowledged cursor trails by one pull).
        func from(_ r: ReplicaRow) -> UInt64 { max(r.ack, r.sentCursor) }
        // Per user, the sequences of the changes to records they may see, ascending: one pass over
        // the log since the oldest cursor.
        var changes = [[UInt64]](repeating: [], count: users.count)
        var at = rows.map(from).min() ?? head
        while at < head {
            let touches = try store.touches(after: at, limit: 10_000)
            guard let last = touches.last else { break }
            for t in touches { for u in watchers[t.record] ?? [] { changes[u].append(t.sequence) } }
            at = last.sequence
        }
        let index = Dictionary(uniqueKeysWithValues: users.enumerated().map { ($1, $0) })
        let conflictsOf = Dictionary(grouping: conflicts, by: \.conflict.loser.author).mapValues(\.count)
        var replicas = [ReplicaStatus]()
        for r in rows {
            // The changes after its cursor: those past the first sequence above it (the list
            // ascends: a binary search).
            let theirs = index[r.user].map { changes[$0] } ?? []
            var (low, high) = (0, theirs.count)
            while low < high {
                let mid = (low + high) / 2
                if theirs[mid] > from(r) { high = mid } else { low = mid + 1 }
            }
            replicas.append(
                ReplicaStatus(
                    id: r.id, user: r.user, lastSeen: r.lastSeenMilliseconds, lag: UInt64(theirs.count - low), openConflicts: conflictsOf[r.user] ?? 0,
                    withinRetention: seen(r, within: retention)))
        }
        let mark = try watermark(retention: retention)
        let bytes = try store.databaseBytes()
        return Status(
            head: head, logEntries: try store.logCount(below: head), records: try store.recordCount(), workspaceVersion: workspace.version,
            databaseBytes: bytes, freeBytes: try store.freeBytes(), replicas: replicas, openConflicts: conflicts.count, compactionWatermark: mark,
            compactableEntries: try store.logCount(below: mark))
    }

    /// Prunes the log and tombstones below the watermark of replicas seen within `retention`.
    /// A replica older than that is told `cursor-expired` and re-syncs from nothing, keeping
    /// its pending writes.
    ///
    /// The log goes a `slice` of sequences per transaction, after the mark below which a replica
    /// re-syncs is set: a serving hub's commits go between the slices (one transaction over a
    /// million entries held its writes for seconds), and a compaction cut short leaves a log a
    /// later one prunes further. `progress` gets (entries pruned, entries to prune) after each.
    public func compact(
        retention: Int64, slice: Int = HubEngine.compactionSlice, progress: (Int, Int) -> Void = { _, _ in }
    ) throws -> (watermark: UInt64, entries: Int, tombstones: Int) {
        let (mark, total, tombstones) = try store.transaction {
            let mark = try watermark(retention: retention)
            let total = try store.logCount(below: mark)
            let tombstones = try store.compactTombstones(below: mark)
            try store.markCompacted(through: mark)
            try store.audit(action: "compact", subject: "log", detail: "through \(mark): \(total) entries, \(tombstones) tombstones", now: now)
            return (mark, total, tombstones)
        }
        var entries = 0
        while case let n = try store.transaction({ try store.pruneLog(through: mark, limit: slice) }), n > 0 {
            entries += n
            progress(entries, total)
        }
        return (mark, entries, tombstones)
    }

    /// Every accepted write and every conflict on a record, in order: the audit trail.
    public func audit(record id: RecordID) throws -> (entries: [StoredLogEntry], conflicts: [StoredConflict]) {
        (try store.log(record: id), try store.conflicts(record: id))
    }

    /// The live records whose short id (the code `opps` prints) begins with `typed`, normalised
    /// as a person types it: what an operator is quoted by a rep. A walk over every live record's
    /// id, for an operator's command, not a request.
    public func records(withShortID typed: String) throws -> [RecordID] {
        guard let code = ShortID.normalise(typed), code.count >= 4 else { return [] }
        return try workspace.entities.flatMap { try store.liveRecords(entity: $0.name) }.filter { ShortID.code(of: $0, startsWith: code) }
    }

    /// A manager re-applies a value that did not hold. It is written as the manager's override,
    /// on the record; the value it displaces becomes a conflict record itself (nothing is lost).
    public func restore(conflict id: UInt64, by managerName: UserName) throws -> (sequence: UInt64, displaced: UInt64) {
        try refreshDirectory()
        return try store.transaction {
            try onSharedClock {
                guard let stored = try store.conflict(id) else { throw HubError.invalid("no conflict \(id)", chinese: "没有编号为 \(id) 的冲突（opps-hub conflicts 列出未处理的冲突）") }
                let c = stored.conflict
                guard let manager = try store.user(named: managerName), !workspace.overrideRoles.isEmpty, workspace.overrideRoles.contains(manager.role) else {
                    throw HubError.invalid(
                        "\(managerName) is not a user with an override role (\(workspace.overrideRoles.sorted().joined(separator: ", ")))",
                        chinese: "\(managerName) 不是有覆盖权的用户（有覆盖权的角色：\(workspace.overrideRoles.sorted().joined(separator: "、"))）")
                }
                guard var record = try store.record(c.record, workspace: workspace), !record.isDeleted else {
                    throw HubError.invalid("the record is gone", chinese: "这条记录已经不在了")
                }
                guard workspace.entity(c.entity)?.field(c.field) != nil else {
                    throw HubError.invalid("the conflict is not about a field that exists", chinese: "这个冲突涉及的字段已经不存在")
                }
                let hubTime = now
                let current = record.fields[c.field]
                let state = FieldState(
                    value: c.loser.value, stamp: Stamp(hlc: clock.tick(physical: hubTime), replica: hubReplica),
                    author: managerName, authority: .override, sequence: try store.head() + 1)
                record.fields[c.field] = state
                // I17: not a value that leaves the deal out of everyone's reach.
                if let e = workspace.entity(c.entity), e.movesAudience(c.field),
                    !workspace.anyoneSees(record, entity: e, team: try store.team(of: record.id), directory: directory)
                {
                    throw HubError.invalid(
                        "no user would see this \(c.entity) after the restore: give it an owner who sees it instead",
                        chinese: "恢复后没有用户能看到这条记录：请改为给它指定一个能看到它的负责人")
                }
                try store.append(
                    LogEntry(
                        sequence: state.sequence, record: c.record, entity: c.entity, field: c.field, kind: .set, value: state.value,
                        stamp: state.stamp, author: state.author, authority: state.authority), hubMilliseconds: hubTime)
                try store.saveRecord(record, workspace: workspace)
                var displaced: UInt64 = 0
                if let current {
                    displaced = try store.addConflict(
                        ConflictRecord(
                            id: 0, record: c.record, entity: c.entity, field: c.field, outcome: .lost, rule: .restored,
                            loser: current, winner: state), owner: record.owner, hubMilliseconds: hubTime)
                }
                try store.resolveConflict(id)
                try store.audit(
                    action: "restore", subject: c.record.description, detail: "conflict \(id) \(c.field) restored by \(managerName) at sequence \(state.sequence)",
                    now: hubTime)
                return (state.sequence, displaced)
            }
        }
    }
}
