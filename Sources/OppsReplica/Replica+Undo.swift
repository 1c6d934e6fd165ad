import OppsCore
import OppsStore

/// Taking back the last edit made here (`opps undo`). An edit is one transaction of writes —
/// one command, one form sent — and it can be taken back whole while none of its writes has
/// left this laptop: the hub never saw it, so nothing anywhere else changes (sync-protocol.md
/// §5.3). Once a batch holds one of its writes, it stays until the hub answers; after that it is
/// changed back like any value, by a new edit.
extension Replica {
    /// The last edit made here, as the outbox holds it.
    public struct LastEdit: Sendable {
        public var entries: [OutboxEntry]
        /// The records it wrote, in the order it first wrote them.
        public var records: [RecordID]
        /// Of those, the ones it made: taking it back removes them.
        public var made: Set<RecordID>
        /// The records it deleted: taking it back shows them again.
        public var deleted: Set<RecordID>
        /// This laptop's trail lines of its writes (what each field shown changed held before).
        public var lines: [HistoryLine]
        /// Its writes that went out as proposals (no line: nothing changed here).
        public var proposals: [FieldWrite]
        /// The conflicts it closed by writing their value again (`conflicts restore`): open again after.
        public var reopens: [LocalConflict] = []
    }

    /// The last edit made here that the hub has not answered; nil when every edit has reached it.
    public func lastEdit() throws -> LastEdit? {
        let entries = try store.lastEdit(replica: id, author: user)
        guard !entries.isEmpty else { return nil }
        var records = [RecordID](), seen = Set<RecordID>()
        for e in entries where seen.insert(e.write.record).inserted { records.append(e.write.record) }
        let lines = try store.trail(of: entries)
        let shown = Set(lines.map { "\($0.record) \($0.field) \($0.hlc.rawValue)" })
        return LastEdit(
            entries: entries, records: records, made: Set(entries.filter { $0.write.kind == .create }.map(\.write.record)),
            deleted: Set(entries.filter { $0.write.kind == .delete }.map(\.write.record)), lines: lines,
            proposals: entries.map(\.write).filter { $0.kind == .set && !shown.contains("\($0.record) \($0.field) \($0.stamp.hlc.rawValue)") },
            reopens: try reopened(by: entries[0].edit))
    }

    /// `view` as it was before `edit`: each field the edit wrote holds what the edit's first
    /// trail line of it says it held (an empty value: not set); a record it deleted is not.
    func before(_ edit: LastEdit, on view: Record) throws -> Record {
        var base = view
        var restored = Set<String>()
        for line in edit.lines where line.record == view.id && restored.insert(line.field).inserted {
            if line.old.isNull {
                base.fields[line.field] = nil
            } else if let state = base.fields[line.field] {
                base.fields[line.field] = FieldState(value: line.old, stamp: state.stamp, author: state.author, authority: state.authority)
            }
        }
        for e in edit.entries where e.write.record == view.id && e.write.kind == .set && !restored.contains(e.write.field) {
            throw ReplicaError.invalid("the last edit wrote a record this laptop cannot rebuild (\(view.id)): nothing was undone; change it back with a new edit")
        }
        if edit.deleted.contains(view.id) { base.deleted = nil }
        return base
    }

    /// The conflicts the edit `edit` closed (`conflicts restore`), as they are kept here.
    func reopened(by edit: Int64) throws -> [LocalConflict] {
        let closed = Set(try store.conflicts(closedBy: edit))
        return closed.isEmpty ? [] : try store.conflicts(includeResolved: true).filter { closed.contains($0.id) }
    }

    /// Takes `edit` back: its writes leave the outbox with their trail lines, the records it made
    /// are removed, a conflict it closed is open again, and every other record it wrote shows
    /// again what it showed before it (what the hub confirmed, or what was made here, with the
    /// writes still waiting on top). Refused when it is no longer the last edit or a batch holds
    /// one of its writes (a sync started meanwhile). Returns how many edits still wait to be sent,
    /// and how many of those none of whose writes is being sent (each could be taken back in turn).
    @discardableResult
    public func undo(_ edit: LastEdit) throws -> (waiting: Int, unsent: Int) {
        try store.transaction {
            let now = try store.lastEdit(replica: id, author: user)
            guard now.map(\.position) == edit.entries.map(\.position), !now.contains(where: { $0.batch != 0 }) else {
                throw ReplicaError.invalid(
                    "your last edit is being sent to the hub: it cannot be taken back now; after opps sync, change it back with a new edit",
                    chinese: "你的上一项修改正在发送到服务器，现在不能撤销；opps sync 之后，再修改一次把它改回来")
            }
            // What each record made here but not in this edit starts from: its own creation.
            var bases = [RecordID: Record]()
            for record in edit.records where !edit.made.contains(record) {
                // Held and confirmed: rebuilt from what the hub confirmed. No longer here (a
                // sync took it away since): nothing to rebuild.
                guard try store.confirmed(record, workspace: workspace) == nil, let view = try store.view(record, workspace: workspace) else { continue }
                if let create = try store.outbox(replica: id, author: user, record: record).first(where: { $0.write.kind == .create }),
                    let entity = workspace.entity(create.write.entity)
                {
                    bases[record] = try made(by: create.write, entity: entity)
                } else {
                    // Made here and sent, and the hub's copy not pulled yet (the pull after the
                    // push failed): the view as it was before this edit, each field it wrote set
                    // back to what its first trail line says it held.
                    bases[record] = try before(edit, on: view)
                }
            }
            try store.dropUnsent(now)
            try store.reopenConflicts(closedBy: now[0].edit)
            for record in edit.records {
                if edit.made.contains(record) {
                    try store.remove(record)
                } else if try store.view(record, workspace: workspace) != nil {
                    try store.rebuildView(record, replica: id, author: user, workspace: workspace, made: bases[record])
                }
            }
            return (try store.editCount(), try store.unsentEditCount())
        }
    }
}
