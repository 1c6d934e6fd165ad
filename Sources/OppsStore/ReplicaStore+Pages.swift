import OppsCore

/// Page application and the pull's repair paths (sync-protocol.md §6), on the replica's own
/// tables: what a received page does to the confirmed state, the views, the trail, the kept
/// conflicts and the running checksum. The sync engine (OppsReplica) decides when; this says how.
extension ReplicaStore {
    /// Applies one decoded page (call inside a transaction) for the replica `replica` of `user`;
    /// returns how many records and changes it received. The cursor, page token and conflict
    /// cursor move to the page's.
    public func apply(_ page: ReceivedPage, replica: ReplicaID, user: UserName, workspace: Workspace) throws -> Int {
        try applied(page, replica: replica, user: user, workspace: workspace).received
    }

    /// What applying a page brought: everything it carried (`received`), and of that what is
    /// news to this laptop (`news`): a record it did not hold, a held record some field of which
    /// another replica changed, a change another replica made. This replica's own writes coming
    /// back confirmed are received but not news.
    public struct Applied: Sendable, Equatable {
        public var received = 0
        public var news = 0
        /// Of the news, the records another user made, new to this laptop (a deal, an activity
        /// logged on one, an account): the first `newRecordsKept` of them, and how many in all.
        public var newRecords: [RecordID] = []
        public var newRecordCount = 0
        public static let newRecordsKept = 20
        /// Conflict records new here about this user's own writes (a write that held at first
        /// and lost later to one with more say, or one made on another laptop of theirs).
        public var ownConflicts: [OwnWrite] = []
        /// Conflict records new here about others' writes that lost to this user's (made at the
        /// same time, with less say; not those a rule refused): who wrote each, in the order they came.
        public var heldOver: [UserName] = []
        /// Deals (records of an entity with stages) this laptop held that left its user's sight
        /// (`left`: given to someone else, their team changed): the first `newRecordsKept`, with
        /// the name they had here, and every one of them by id (`noteTakenOff`). Their ids name
        /// nothing here any more.
        public var gone: [Gone] = []
        public var goneIDs: [RecordID] = []
    }

    public struct Gone: Sendable, Equatable {
        public var name: String
        public var reason = Reason.left
        public init(name: String, reason: Reason = .left) {
            self.name = name
            self.reason = reason
        }

        /// Kept by number in `taken_off` (never renumbered).
        public enum Reason: Int64, Sendable, Equatable {
            /// It left this user's sight (`left`: given to someone else, their team changed).
            case left = 0
            /// Made on this laptop and never confirmed: the hub keeps it from this replica
            /// (deleted before this replica held it, or not its user's to see).
            case madeHere = 1
            /// Held before a pull from nothing that did not bring it back: deleted, or left,
            /// while the replica was away.
            case away = 2
        }
    }

    /// What the hub writes because of a sync's own writes — a request made pending, an
    /// approval's values written in the approver's name and who decided, a handed-off lead's
    /// owner — is that user's doing, not news from others: a write the hub stamped (`hub`: the
    /// hub's id), in its own name or this user's, to a record the sync pushed to or the deal
    /// such a record hangs off (`records`). Its trail line says it followed (`HistoryLine.following`).
    /// A change the hub logged before the sync's first pushed write (`after`, its sequence) did
    /// not follow from it (an approval decided while this laptop was offline). (A hub write of
    /// the same kind caused by another's write to the same record in the same moment, or one in
    /// a record that comes whole — it carries no sequence — reads as following too: the other's
    /// own write is still news.)
    public struct Following: Sendable {
        public var hub: ReplicaID
        public var records: Set<RecordID>
        public var after: UInt64
        public init(hub: ReplicaID, records: Set<RecordID>, after: UInt64 = 0) {
            self.hub = hub
            self.records = records
            self.after = after
        }

        /// `sequence`: the change's, nil for a field of a record that came whole.
        func covers(_ record: RecordID, _ stamp: Stamp, author: UserName, user: UserName, sequence: UInt64?) -> Bool {
            stamp.replica == hub && records.contains(record) && (author == BatchDecider.systemAuthor || author == user)
                && (sequence.map { $0 > after } ?? true)
        }
    }

    /// One of the user's writes, as a conflict record and a push's answer both name it.
    public struct OwnWrite: Sendable, Hashable {
        public var record: RecordID
        public var hlc: UInt64
        public init(record: RecordID, hlc: UInt64) {
            self.record = record
            self.hlc = hlc
        }
    }

    /// `apply`, saying also what of the page is news (`Applied`).
    public func applied(_ page: ReceivedPage, replica: ReplicaID, user: UserName, workspace: Workspace, following: Following? = nil) throws -> Applied {
        let numbering = WireNumbering(workspace)
        // The checksum of the confirmed state is kept up to date incrementally: each touched
        // record's old term goes out and its new term comes in (merge-semantics.md §8).
        var sum = try confirmedChecksum(workspace: workspace)
        let allIDs = page.recordIDs
        let held = try withConfirmed(allIDs)
        var oldTerms = [RecordID: UInt64]()
        for id in allIDs where oldTerms[id] == nil {
            oldTerms[id] = held.contains(id) ? try confirmed(id, workspace: workspace).map { StateChecksum.term(of: $0, numbering: numbering) } ?? 0 : 0
        }
        var received = 0, news = 0
        var newRecords: [RecordID] = [], newRecordCount = 0
        func arrived(_ id: RecordID, creator: UserName) {
            guard creator != user else { return }
            newRecordCount += 1
            if newRecords.count < Applied.newRecordsKept { newRecords.append(id) }
        }
        func follows(_ id: RecordID, _ stamp: Stamp, _ author: UserName, sequence: UInt64? = nil) -> Bool {
            following?.covers(id, stamp, author: author, user: user, sequence: sequence) ?? false
        }
        // A record this replica made, every field of it as it wrote them (or the hub after
        // them), is its own coming back.
        func madeHere(_ id: RecordID, _ created: FieldState, _ states: some Sequence<FieldState>) -> Bool {
            created.stamp.replica == replica && states.allSatisfy { $0.stamp.replica == replica || follows(id, $0.stamp, $0.author) }
        }
        var touched = Set<RecordID>()
        var records = [RecordID: Record]()
        // The changes counted as news, so that one a conflict of the same page settles (a write
        // of another's that held when it reached the hub and lost later) is not news after all.
        struct Change: Hashable {
            var record: RecordID
            var field: String
            var hlc: HLC
        }
        var newsChanges = Set<Change>()
        // (Kept only when the page carries a conflict of another's write: most pages carry none.)
        let settling = page.conflicts.contains { $0.author != user }
        func load(_ id: RecordID) throws -> RecordSet {
            var set = RecordSet()
            if let r = records[id] { set.put(r) } else if let r = try confirmed(id, workspace: workspace) { set.put(r) }
            return set
        }
        // During a pull from nothing: which of the records the page brings this replica held
        // before it (each told against what it was, not as new).
        let before = try resyncUnderWay() ? try heldBeforeResync(page.entered.map(\.id) + page.whole.map(\.id)) : []
        var gone = [Gone](), goneIDs = [RecordID]()
        for id in page.left {
            if held.contains(id), let old = try confirmed(id, workspace: workspace), workspace.entity(old.entity)?.stageField != nil, !old.isDeleted {
                goneIDs.append(id)
                if gone.count < Applied.newRecordsKept { gone.append(Gone(name: old["name"].isNull ? "" : old["name"].canonicalText)) }
            }
            try remove(id)
            records[id] = nil
            touched.insert(id)
        }
        // The records with writes still in the outbox (their views are rebuilt at the end).
        let pendingRecords = try recordsWithPendingWrites()
        // A record this laptop held that comes whole again (its visible fields changed): each
        // field whose value moved goes on the trail, as a change would; news if another moved one.
        func tell(_ id: RecordID, old: Record, new r: Record) throws {
            var changed = false
            for (name, state) in r.fields.sorted(by: { $0.value.sequence < $1.value.sequence }) where old[name] != state.value && state.stamp.replica != replica {
                let followed = follows(id, state.stamp, state.author)
                // The hub's log of a stage move is not a change of its own (the move is).
                if name != workspace.stageHistory, !followed { changed = true }
                try addHistory(
                    HistoryLine(
                        record: id, field: name, old: old[name], new: state.value, author: state.author, hlc: state.stamp.hlc,
                        source: "hub", rule: followed ? HistoryLine.following : ""))
            }
            if changed { news += 1 }
        }
        func enter(_ id: RecordID, _ record: Record?) throws {
            if let r = record {
                if let old = held.contains(id)
                    ? try confirmed(id, workspace: workspace) : before.contains(id) ? try recordBeforeResync(id, workspace: workspace) : nil
                {
                    try tell(id, old: old, new: r)
                } else if !madeHere(id, r.created, r.fields.values) {
                    news += 1
                    if !held.contains(id) { arrived(id, creator: r.created.author) }
                }
                records[id] = r
            }
            touched.insert(id)
            received += 1
        }
        for (id, record) in page.entered { try enter(id, record) }
        // Whole records as read: one this laptop does not hold, with no write of its own
        // waiting and no change of the page to apply, is stored as it came (a cold sync's
        // every record); any other is entered as a `Record`. Either way its term is the one
        // reading it gave, unless a change of the page moves it.
        var given = [RecordID: UInt64](), stored = [WholeRecord]()
        // Of those stored as they came, the ones held before a pull from nothing: told against
        // what they were once stored (`tell`), those whose rows changed only.
        var storedHeldBefore = [RecordID]()
        // (A page that also names it among `entered`, which the page reader never makes, enters it too.)
        let named = page.changes.isEmpty && page.entered.isEmpty ? [] : Set(page.changes.map(\.record) + page.entered.map(\.id))
        for w in page.whole {
            if held.contains(w.id) || pendingRecords.contains(w.id) || named.contains(w.id) {
                try enter(w.id, w.record)
                given[w.id] = w.term
            } else {
                stored.append(w)
                touched.insert(w.id)
                received += 1
                if before.contains(w.id) {
                    storedHeldBefore.append(w.id)
                } else if !madeHere(w.id, w.created, w.fields.lazy.map(\.state)) {
                    news += 1
                    arrived(w.id, creator: w.created.author)
                }
            }
        }
        for le in page.changes {
            var set = try load(le.record)
            let before = set[le.record]?.fields[le.field]?.value ?? .null
            set.apply(le)
            if let r = set[le.record] { records[le.record] = r }
            touched.insert(le.record)
            // The hub's line in the stage log, written for a stage move (this laptop's own, as
            // often as not), is not news: the move is, when another made it.
            let followed = le.stamp.replica != replica && follows(le.record, le.stamp, le.author, sequence: le.sequence)
            if le.stamp.replica != replica, le.field != workspace.stageHistory, !followed {
                news += 1
                if settling { newsChanges.insert(Change(record: le.record, field: le.field, hlc: le.stamp.hlc)) }
            }
            // This laptop's own writes have their line already (settled when the push was answered).
            if le.kind == .set, le.stamp.replica != replica, le.author != user || before != le.value {
                try addHistory(
                    HistoryLine(
                        record: le.record, field: le.field, old: before, new: le.value, author: le.author, hlc: le.stamp.hlc,
                        source: "hub", rule: followed ? HistoryLine.following : ""))
            } else if le.kind == .delete {
                // A delete reaches only a replica that held the record (§7.2): its trail says so.
                try addHistory(
                    HistoryLine(
                        record: le.record, field: "", old: .null, new: .null, author: le.author, hlc: le.stamp.hlc,
                        source: "hub", rule: RuleID.delete.rawValue))
            }
            received += 1
        }
        for record in records.values {
            try save(confirmed: record, view: record, workspace: workspace)
        }
        var columns = [String: (Entity, ColumnFields)]()
        for w in stored {
            guard let (entity, fields) = columns[w.entity] ?? workspace.entity(w.entity).map({ ($0, ColumnFields($0)) }) else {
                throw StoreError(code: -3, message: "unknown entity \(w.entity)")
            }
            columns[w.entity] = (entity, fields)
            try save(whole: w, entity: entity, columns: fields)
        }
        for (id, old) in try changedSinceResync(storedHeldBefore, workspace: workspace) {
            if let now = try confirmed(id, workspace: workspace) { try tell(id, old: old, new: now) }
        }
        if !given.isEmpty { for le in page.changes { given[le.record] = nil } }
        for (id, old) in oldTerms {
            sum &-= old
            if let now = records[id] { sum &+= given[id] ?? StateChecksum.term(of: now, numbering: numbering) }
        }
        for w in stored { sum &+= w.term }
        try setChecksum(sum)
        // Only records with writes still in the outbox need their view rebuilt (rebase); the
        // others' view is the confirmed state just saved.
        for id in touched where records[id] != nil && pendingRecords.contains(id) {
            try rebuildView(id, replica: replica, author: user, workspace: workspace)
        }
        var ownConflicts = [OwnWrite]()
        var heldOver = [UserName]()
        for conflict in page.conflicts {
            if try addConflict(conflict) {
                if conflict.author == user {
                    ownConflicts.append(OwnWrite(record: conflict.record, hlc: conflict.hlc.rawValue))
                } else {
                    if newsChanges.remove(Change(record: conflict.record, field: conflict.field, hlc: conflict.hlc)) != nil { news -= 1 }
                    // Lost to this user's write made at the same time (not refused by a rule).
                    if conflict.winnerAuthor == user, conflict.outcome == Outcome.lost.rawValue { heldOver.append(conflict.author) }
                }
            }
            try addHistory(
                HistoryLine(
                    record: conflict.record, field: conflict.field, old: conflict.value, new: conflict.winner ?? .null, author: conflict.author,
                    hlc: conflict.hlc, source: "conflict", rule: conflict.rule))
        }
        try setSync(.cursor, page.cursor)
        try setSync(.pullToken, page.token)
        try setSync(.conflictCursor, page.conflictCursor)
        return Applied(
            received: received, news: news, newRecords: newRecords, newRecordCount: newRecordCount, ownConflicts: ownConflicts, heldOver: heldOver, gone: gone,
            goneIDs: goneIDs)
    }

    /// The view of a record: its confirmed state with the writes still in the outbox on top.
    /// `refusedCreate`: the hub refused to create this record made here — it is removed (a
    /// conflict says why).
    /// `made`: a record the hub has not confirmed as it was made here, before any write (the
    /// stored view holds every write so far: taking one back starts from this instead).
    public func rebuildView(
        _ id: RecordID, replica: ReplicaID, author: UserName, workspace: Workspace, refusedCreate: Bool = false, made: Record? = nil
    )
        throws
    {
        let confirmed = try self.confirmed(id, workspace: workspace)
        let pending = try outbox(replica: replica, author: author, record: id)
        // The stored view is read only for a record the hub has not confirmed (made here).
        guard var view = try confirmed ?? made ?? self.view(id, workspace: workspace) else { return }
        if confirmed == nil && refusedCreate {
            try remove(id)
            return
        }
        for e in pending {
            switch e.write.kind {
            case .set: view.fields[e.write.field] = FieldState(value: e.write.value, stamp: e.write.stamp, author: author, authority: .write)
            case .delete: view.deleted = FieldState(value: .null, stamp: e.write.stamp, author: author, authority: .own)
            case .create: break
            }
        }
        try save(confirmed: confirmed, view: view, workspace: workspace)
    }

    /// The checksum of the confirmed state, as kept by `apply` (computed in full once if absent).
    public func confirmedChecksum(workspace: Workspace) throws -> UInt64 {
        if let v = try checksum() { return v }
        let full = StateChecksum(of: try allConfirmed(workspace: workspace), workspace: workspace)
        try setChecksum(full.value)
        return full.value
    }

    /// What a repair does first (sync-protocol.md §6.3): a hub restored from a backup is behind
    /// this replica. Keeps every confirmed record whose states the hub still has (all at or
    /// below `head`), drops the rest and names them in the forget list so they come whole again;
    /// beyond `maxForget` records, resets instead. Pending writes stay. Returns the records dropped
    /// (empty after a reset).
    @discardableResult
    public func reconcile(withHead head: UInt64, maxForget: Int, workspace: Workspace) throws -> [RecordID] {
        var dropped = [RecordID]()
        for record in try allConfirmed(workspace: workspace) {
            let states = [record.created] + Array(record.fields.values) + (record.deleted.map { [$0] } ?? [])
            if states.contains(where: { $0.sequence > head }) {
                try remove(record.id)
                dropped.append(record.id)
            }
        }
        if dropped.count > maxForget {
            try resetForRepair()
            return []
        }
        try setSync(.cursor, min(head, try sync(.cursor)))
        try setSync(.pullToken, 0)
        try setForgetList(dropped)
        try setChecksum(StateChecksum(of: try allConfirmed(workspace: workspace), workspace: workspace).value)
        return dropped
    }

    /// Forgets the confirmed state and starts the pull from nothing; records made here and
    /// pending writes stay (their records are rebuilt when the hub's state arrives). The page
    /// token stays: a restart echoes the last page received, so the hub can tell it from a late
    /// copy of an older restart (sync-protocol.md §6.1).
    public func resetForRepair() throws {
        // What it held, kept aside for the pull's news (the first such copy stands while a
        // re-sync is not complete: a restart in the middle of one keeps what was held before it).
        try database.execute(
            "INSERT OR IGNORE INTO resync_before (id, entity, created, confirmed, deleted) SELECT id, entity, created, confirmed, deleted FROM records WHERE local_only = 0 AND confirmed IS NOT NULL"
        )
        try setChecksum(0)
        try forgetConfirmed()
        try setSync(.cursor, 0)
    }

    /// Whether a pull from nothing is under way that began with records held (`resetForRepair`).
    func resyncUnderWay() throws -> Bool { !(try database.query("SELECT 1 FROM resync_before LIMIT 1").isEmpty) }

    /// Of `ids`, those this replica held before the pull from nothing under way (`resetForRepair`).
    func heldBeforeResync(_ ids: [RecordID]) throws -> Set<RecordID> {
        guard !ids.isEmpty else { return [] }
        return Set(
            try database.query(chunking: ids.map { .blob($0.bytes) }, { "SELECT id FROM resync_before WHERE id IN (\($0))" })
                .compactMap { $0[0].bytes.flatMap(RecordID.init(bytes:)) })
    }

    /// A record as this replica held it before the pull from nothing under way.
    func recordBeforeResync(_ id: RecordID, workspace: Workspace) throws -> Record? {
        try database.query("SELECT id, entity, created, confirmed, deleted FROM resync_before WHERE id = ?", [.blob(id.bytes)]).first
            .flatMap { try confirmedRecord($0, workspace: workspace) }
    }

    /// Of `ids` (records held before the pull from nothing under way, stored again as they came),
    /// those whose stored state is not, byte for byte, the one held before, as held before: only
    /// they are read and compared field by field (the others did not change).
    func changedSinceResync(_ ids: [RecordID], workspace: Workspace) throws -> [(RecordID, Record)] {
        guard !ids.isEmpty else { return [] }
        return try database.query(chunking: ids.map { .blob($0.bytes) }) {
            """
            SELECT b.id, b.entity, b.created, b.confirmed, b.deleted FROM resync_before b JOIN records r ON r.id = b.id
                WHERE b.id IN (\($0)) AND (r.created IS NOT b.created OR r.confirmed IS NOT b.confirmed OR r.deleted IS NOT b.deleted)
            """
        }.compactMap { row in try confirmedRecord(row, workspace: workspace).map { ($0.id, $0) } }
    }

    /// At the end of a pull from nothing: the deals held before it that it did not bring back
    /// (deleted, or no longer this user's to see, while the replica was away), by name; the
    /// records held before are forgotten.
    public func endResync(workspace: Workspace) throws -> [(RecordID, Gone)] {
        guard try resyncUnderWay() else { return [] }
        var gone = [(RecordID, Gone)]()
        for row in try database.query(
            "SELECT b.id, b.entity, b.created, b.confirmed, b.deleted FROM resync_before b WHERE b.deleted IS NULL AND NOT EXISTS (SELECT 1 FROM records r WHERE r.id = b.id AND r.local_only = 0)"
        ) {
            guard let r = try confirmedRecord(row, workspace: workspace), workspace.entity(r.entity)?.stageField != nil else { continue }
            gone.append((r.id, Gone(name: r["name"].isNull ? "" : r["name"].canonicalText, reason: .away)))
        }
        try database.execute("DELETE FROM resync_before")
        return gone
    }
}
