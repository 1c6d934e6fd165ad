import Foundation
import OppsCore
import OppsStore
import OppsWire

/// One pull page (sync-protocol.md §6), built inside the pull's bookkeeping transaction, one
/// method per step: what the replica holds (`init`), records that left or entered its user's
/// view, changes to records it holds, conflicts concerning the user, the checkpoint, and the
/// bookkeeping of what it now holds (`finish`).
struct PullPage {
    let engine: HubEngine
    let store: any HubStorage
    let user: HubUser
    let actor: Actor
    let request: PullRequest
    var replica: ReplicaRow
    let workspace: Workspace
    let head: UInt64
    let maxChanges: Int
    let maxBytes: Int
    let hubTime: Int64
    /// A restart from nothing (cursor 0) the hub honours.
    let restart: Bool
    let token: UInt64
    /// What the replica holds, as of the last pull: put back in the cache only when this pull commits.
    var known: KnownState
    /// A pipelined request: the records of the page the replica is applying.
    var inFlight = [RecordID: UInt64?]()
    let snapshot: VisibilitySnapshot
    var writer: PageWriter
    /// Fields hidden from this user, per (entity, stage, relations) — what a signature names.
    var hiddenBySignature = [UInt64: Set<String>]()
    /// What this page tells the replica it now holds (nil: no longer).
    var staged = [(RecordID, UInt64?)]()
    var bytes = 0
    var more = false
    var enteredNow = Set<RecordID>()
    /// Deletes of records the replica held, merged into the changes in sequence order (step 3).
    var pendingDeletions = [WireChange]()
    var cursor: UInt64
    /// The newest conflict id when the page began (read with the head).
    let conflictHead: UInt64
    /// The request echoes the last page issued (not a restart, nothing forgotten): if this page
    /// stages nothing, it keeps that token.
    let echoesLastPage: Bool

    /// `bounds`: the log's, read in this page's transaction with the replica's row.
    init(engine: HubEngine, user: HubUser, request: PullRequest, replica: ReplicaRow, bounds: LogBounds) throws {
        self.engine = engine
        store = engine.store
        self.user = user
        actor = Actor(user: user.name, role: user.role)
        self.request = request
        self.replica = replica
        workspace = engine.workspace  // one copy, not one per field (it is a struct of arrays)
        let configuration = engine.configuration
        maxChanges = request.maxChanges == 0 ? configuration.maxPageChanges : min(Int(request.maxChanges), configuration.maxPageChanges)
        maxBytes = request.maxBytes == 0 ? configuration.maxPageBytes : min(Int(request.maxBytes), configuration.maxPageBytes)
        hubTime = engine.now
        conflictHead = bounds.conflictHead
        head = bounds.head
        let compacted = bounds.compactedThrough
        guard request.cursor <= head else {
            throw WireError(.cursorAhead, "cursor \(request.cursor) is beyond the hub's head \(head): re-sync from 0")
        }
        if request.cursor > 0, request.cursor < compacted {
            throw WireError(.cursorExpired, "the log before \(compacted) was compacted: re-sync from 0")
        }
        // What the replica holds: pages up to the echoed token were received. A restart from
        // nothing (cursor 0) echoes the last token the replica received; one echoing a token
        // older than the answer to the last honoured restart is a late copy and must not wipe
        // what the replica has acknowledged since (sync-protocol.md §6.1).
        restart = request.cursor == 0 && request.token >= replica.resetToken
        var cached = engine.knownCache.removeValue(forKey: replica.id)
        // Another hub on the same store may have answered this replica since this one did: the
        // cache is this hub's own only while the store's page token is the one it issued last.
        // Nor after the database crashed: a pull's acknowledgement this hub committed without
        // waiting for the disk (and cached) may be lost (§2.6).
        if let c = cached, c.lastPage?.token != replica.pullToken || c.floor != store.pageTokenFloor { cached = nil }
        // The echoed page is the last one issued and staged nothing, or was acknowledged
        // already, as this hub's own record of its pages says: acknowledging it changes nothing
        // in the store (a page that delivers no records keeps its token, sync-protocol.md §6.2).
        echoesLastPage = !restart && request.token > 0 && request.token == replica.pullToken && request.forget.isEmpty
        let nothingToAcknowledge =
            echoesLastPage && cached.map { request.token >= $0.trackedFrom && ($0.pending[request.token]?.isEmpty ?? true) } == true
        if restart {
            try store.resetKnown(replica: replica.id)
        } else if nothingToAcknowledge {
            // Nothing staged under that token: nothing to move.
        } else if request.token > 0 && request.token <= replica.pullToken {
            try store.acknowledge(replica: replica.id, token: request.token)
        } else {
            try store.acknowledge(replica: replica.id, token: 0)
        }
        let forget = request.forget.compactMap { RecordID(bytes: $0) }
        if !forget.isEmpty { try store.forget(replica: replica.id, records: forget) }
        // Never a number a page lost to a crash of the database may have had (§2.6).
        token = max(replica.pullToken + 1, store.pageTokenFloor)
        if cached?.advance(restart: restart, token: request.token, pullToken: replica.pullToken, forget: forget) == false { cached = nil }
        known = try cached ?? KnownState(records: store.known(replica: replica.id), trackedFrom: token)
        known.floor = store.pageTokenFloor
        if engine.configuration.verifySnapshots, try known.records != store.known(replica: replica.id) {
            throw WireError(.internal, "the known-records cache of a replica of \(user.name) differs from the store")
        }
        // A pipelined request (sync-protocol.md §6.1): the replica is applying the page this
        // hub answered last; build this one as if it held that page's records. Anything else
        // named as received (a late copy, a page from before a restart) is ignored.
        if request.received > request.token, !restart, let page = known.lastPage, page.token == request.received {
            for (id, signature) in page.own { inFlight[id] = signature }
        }
        // What the user may see, kept per user and brought forward over the log since.
        snapshot = try engine.snapshot(for: user, head: head, compactedThrough: compacted)
        writer = PageWriter(
            numbering: engine.numbering, compactEntered: replica.protocolVersion >= 2, reader: user.name, workspace: engine.workspace)
        cursor = request.cursor == 0 ? head : request.cursor
    }

    func relations(_ id: RecordID, _ c: RecordColumns) -> Set<Relation> {
        engine.relations(id, c, user: user.name, in: snapshot)
    }

    mutating func hidden(_ id: RecordID, _ c: RecordColumns) -> Set<String> {
        let snapshot = self.snapshot, engine = self.engine, user = self.user.name
        return engine.hiddenFields(
            id, c, signature: snapshot.signatures[id], actor: actor,
            relations: { engine.relations($0, $1, user: user, in: snapshot) }, cache: &hiddenBySignature)
    }

    /// Whether the names on a record are withheld from this user (visibility.md §6): a staged
    /// record's when its owner is hidden from them, a child's when its parent's is, a free
    /// record's when their role may read no deal's owner.
    mutating func withheld(_ id: RecordID, _ c: RecordColumns) -> Bool {
        // The deal the names follow: the record itself when staged, else the one it hangs off.
        var dealHidden: Set<String>?
        if c.kind == 0 {
            dealHidden = hidden(id, c)
        } else if c.kind == 1, let p = c.parent, let pc = snapshot.columns[p] {
            dealHidden = hidden(p, pc)
        }
        return workspace.withholdsNames(free: c.kind == 2, role: user.role, dealHidden: { dealHidden })
    }

    /// The same for a record this page may no longer hold the columns of (a delete's, a
    /// conflict's on a record out of sight): by the role alone.
    func withheldByRole() -> Bool { !workspace.mayEverReadOwners(role: user.role) }

    /// 1–2. Records that left the user's view, and records that entered it (or whose visible
    /// fields changed) — those whole, as of now — in id order until the page is full.
    mutating func leftAndEntered() throws {
        var deletions = [WireChange]()
        var lefts = 0
        let enteredLimit = min(engine.configuration.maxEnteredPerPage, maxChanges)
        // The records the walk is about to take, read 500 to a statement rather than one each;
        // the next 500 asked for before these are encoded (PostgreSQL reads them meanwhile).
        var read = [RecordID: NumberedRecord](), asked = Set<RecordID>()
        var next: (ids: [RecordID], records: () throws -> [RecordID: NumberedRecord])?
        let store = self.store, workspace = self.workspace
        func record(_ id: RecordID) throws -> NumberedRecord? { asked.contains(id) ? read[id] : try store.numberedRecords([id], workspace: workspace)[id] }
        let ahead = { (ids: [RecordID], then: [RecordID]) throws in
            if let n = next, n.ids == ids { read = try n.records() } else { read = try store.numberedRecords(ids, workspace: workspace) }
            asked = Set(ids)
            next = then.isEmpty ? nil : (then, try store.prefetchRecords(then, workspace: workspace))
        }
        // How many more of each kind the page may take: entered records by count and by the
        // bytes the ones so far took on average.
        // (Kept here: the walk's closures cannot read `self` while `take` changes it.)
        var entered = enteredNow.count, enteredBytes = 0, pageBytes = bytes
        let maxBytes = self.maxBytes, maxChanges = self.maxChanges
        let room = { () -> (entering: Int, left: Int) in
            var room = enteredLimit - entered
            if entered > 0, enteredBytes > 0 { room = min(room, (maxBytes - pageBytes) / max(1, enteredBytes / entered) + 1) }
            return (room, maxChanges - lefts - deletions.count)
        }
        let walk = try engine.walkDifferences(known: known, inFlight: inFlight, snapshot: snapshot, user: user, ahead: ahead, room: room) {
            id, difference in
            switch difference {
            case .left:
                guard lefts + deletions.count < maxChanges else { return false }
                // Deletion is not leaving (merge-semantics.md §7.2): a replica that held a
                // deleted record gets the delete itself, so it can tell the two apart.
                if let record = try record(id), let d = record.deleted {
                    deletions.append(writer.deletion(of: id, entity: record.entity, deleted: d, withheld: withheldByRole()))
                    bytes += 40
                    pageBytes += 40
                } else {
                    writer.left(id)
                    lefts += 1
                    bytes += 18
                    pageBytes += 18
                }
                staged.append((id, nil))
            case .entering:
                guard enteredNow.count < enteredLimit, bytes < maxBytes else { return false }
                guard let record = try record(id), let c = snapshot.columns[id] else { return true }
                let fields = writer.entered(record, hidden: hidden(id, c), withheld: withheld(id, c))
                bytes += 40 + fields * 24
                pageBytes += 40 + fields * 24
                enteredBytes += 40 + fields * 24
                entered += 1
                enteredNow.insert(id)
                staged.append((id, snapshot.signatures[id]))
            }
            return true
        }
        if walk.stopped { more = true }
        known.diffed = (snapshot.generation, snapshot.head)
        known.mismatch = walk.mismatch
        known.dirty = []
        pendingDeletions = deletions
    }

    /// Whether an entry goes to this replica: a record it holds as the user sees it now (not
    /// sent whole on this page), a field the matrix does not hide from the user.
    mutating func wanted(_ e: LogEntry) -> Bool {
        let held = inFlight[e.record] ?? known.records[e.record]
        guard snapshot.visible.contains(e.record), !enteredNow.contains(e.record), held == snapshot.signatures[e.record] else { return false }
        if e.kind == .set, let c = snapshot.columns[e.record], hidden(e.record, c).contains(e.field) { return false }
        return true
    }

    /// The wanted entries of `entries` (in sequence order) a page holding `count` changes and
    /// `size` bytes still takes: those, its size after them, the last entry looked at, and
    /// whether the page filled before the end.
    mutating func select(_ entries: [StoredLogEntry], count: Int, size: Int) -> (taken: [LogEntry], size: Int, last: UInt64?, filled: Bool) {
        var taken = [LogEntry](), size = size, last: UInt64?
        for stored in entries {
            let e = stored.entry
            if count + taken.count >= maxChanges || size >= maxBytes { return (taken, size, last, true) }
            last = e.sequence
            guard wanted(e) else { continue }
            taken.append(e)
            size += 24 + e.value.storedBytes.count
        }
        return (taken, size, last, false)
    }

    /// Puts the wanted entries of `entries` on this page until it is full; false when it
    /// filled before the end.
    mutating func take(_ entries: [StoredLogEntry]) -> Bool {
        let s = select(entries, count: writer.page.changes.count, size: bytes)
        // Each taken entry's record is visible, so its columns are known (`wanted`).
        var withheld = [Bool]()
        withheld.reserveCapacity(s.taken.count)
        for e in s.taken { withheld.append(snapshot.columns[e.record].map { self.withheld(e.record, $0) } ?? true) }
        writer.add(changes: s.taken, withheld: withheld)
        bytes = s.size
        if let last = s.last { cursor = last }
        return !s.filled
    }

    /// 3. Changes after the cursor to records the replica holds (and keeps holding). A replica
    /// starting from nothing holds nothing: every record it may see comes whole (entered) as of
    /// now, so there is no log to scan.
    mutating func changes() throws {
        // Only records the replica holds can have changes for it, and the snapshot knows which
        // records changed since the cursor: reading just their entries keeps a pull's cost to
        // what concerns the replica. When the snapshot cannot tell, or most of the log is
        // relevant, scan.
        let visible = snapshot.visible, enteredNow = self.enteredNow, known = self.known.records, inFlight = self.inFlight
        if cursor < head, let changed = snapshot.changes(since: cursor),
            case let relevant = changed.filter({ visible.contains($0) && !enteredNow.contains($0) && (known[$0] != nil || inFlight[$0] != nil) }),
            UInt64(relevant.count) * 4 < head - cursor
        {
            let from = cursor, bytesBefore = bytes
            let entries = relevant.isEmpty ? [] : try store.log(records: relevant.sorted(), after: cursor, limit: maxChanges + 1)
            // All of them read (the query's limit not reached) and taken: nothing is left before the head.
            if take(entries) && entries.count <= maxChanges { cursor = head } else { more = true }
            if engine.configuration.verifySnapshots { try verifyAgainstScan(from: from, bytesBefore: bytesBefore) }
        } else {
            while cursor < head {
                let entries = try store.log(after: cursor, limit: min(1000, maxChanges))
                if entries.isEmpty {
                    // Compacted away: whole records (entered) carry that state; nothing more to scan.
                    cursor = head
                    break
                }
                if !take(entries) { more = true; break }
            }
        }
        if cursor < head { more = true }
        writer.with { $0.cursor = cursor }
        writer.add(deletions: pendingDeletions)
    }

    /// A scan of the whole log must take the same entries as the snapshot's shortcut (this
    /// page may stop sooner): the check tests and the simulator run with.
    mutating func verifyAgainstScan(from: UInt64, bytesBefore: Int) throws {
        var taken = [UInt64]()
        var at = from, size = bytesBefore
        while at < head {
            let all = try store.log(after: at, limit: 1000)
            let s = select(all, count: taken.count, size: size)
            taken += s.taken.map(\.sequence)
            size = s.size
            guard let last = s.last, !s.filled else { break }
            at = last
        }
        let got = writer.page.changes.map(\.sequence)
        guard taken.starts(with: got), more || taken.count == got.count else {
            throw WireError(.internal, "the changes for a replica of \(user.name) differ from a scan of the log (\(got.count) vs \(taken.count))")
        }
    }

    /// 4. Conflicts concerning the user: their own writes', and those on records they or
    /// someone they manage own. Values only to whom may read them now (I16).
    mutating func conflicts() throws {
        let limit = 500
        var conflicts = [StoredConflict]()
        // Who concerns the user is a walk over the whole directory: only when there is a conflict to look at.
        if conflictHead > request.conflictCursor {
            let directory = engine.directory
            let concerning = Set(directory.users.keys.filter { directory.manages(user.name, $0) }).union([user.name])
            conflicts = try store.conflicts(after: request.conflictCursor, concerning: concerning, author: user.name, limit: limit)
        }
        var conflictCursor = request.conflictCursor
        for stored in conflicts {
            let c = stored.conflict
            let readable = snapshot.visible.contains(c.record) && (c.field.isEmpty || snapshot.columns[c.record].map { !hidden(c.record, $0).contains(c.field) } ?? false)
            let withheld = snapshot.columns[c.record].map { self.withheld(c.record, $0) } ?? withheldByRole()
            writer.conflict(c, hubMilliseconds: stored.hubMilliseconds, workspace: workspace, reader: user.name, readable: readable, withheld: withheld)
            conflictCursor = c.id
        }
        writer.with { $0.conflictCursor = conflictCursor }
        if conflicts.count >= limit { more = true }
    }

    /// 5. The checkpoint, on the last page: what the replica must now hold; and, when the
    /// replica's list of users' names is not the hub's, the list (protocol 6, sync-protocol.md
    /// §6.2 `users`).
    mutating func checkpoint() {
        let more = self.more, cursor = self.cursor, checksum = snapshot.checksum
        let names = !more && replica.protocolVersion >= 6 && request.directory != engine.userNames.digest ? engine.userNames : nil
        writer.with { page in
            page.more = more
            page.visible = checksum.records  // progress: what a cold sync will hold
            guard !more else { return }
            var checkpoint = WireCheckpoint()
            checkpoint.sequence = cursor
            checkpoint.checksum = checksum.value
            checkpoint.records = checksum.records
            page.checkpoint = checkpoint
            if let names {
                page.users = names.names
                page.directory = names.digest
            }
        }
    }

    /// What the replica will hold once it echoes this page's token, and its row.
    mutating func finish(activity: inout HubActivity) throws -> (PullResponse, KnownState) {
        // What a handshake would say (protocol 4): a sync may open with its pull.
        let role = user.role, hubTime = self.hubTime
        writer.with {
            $0.role = role
            $0.hubTime = hubTime
        }
        activity.pages += 1
        activity.changes += writer.page.changes.count + writer.enteredCount
        if echoesLastPage && staged.isEmpty && inFlight.isEmpty {
            // This page delivers no records: it keeps the token the replica echoed (acknowledged
            // above), and nothing is staged (sync-protocol.md §6.2). The row is written when what it says
            // moved; its last-seen time, at most once a minute (a quiet laptop syncing every few
            // seconds wrote it on every sync).
            let echoed = replica.pullToken
            writer.with { $0.token = echoed }
            let ack = max(replica.ack, min(request.ack, head))
            if ack != replica.ack || cursor != replica.sentCursor || hubTime - replica.lastSeenMilliseconds >= Self.lastSeenResolution {
                replica.ack = ack
                replica.sentCursor = cursor
                replica.lastSeenMilliseconds = hubTime
                try store.saveReplica(replica)
            }
            return (try writer.finished(), known)
        }
        // A page built on an in-flight one carries that page's own records too: the replica
        // applies pages in order, so echoing this token means it holds both (a pipelined
        // pull's last page is often the only one whose token comes back). Only the own
        // records: the page before the in-flight one was applied and echoed before this
        // request was sent, so the chain never grows. The store keeps the carried page's
        // records once, under their own token (a cold sync staged every record twice).
        known.lastPage = (token, staged)
        let carrying = inFlight.isEmpty ? nil : request.received, ownStaged = staged
        if !inFlight.isEmpty {
            let own = Set(staged.map(\.0))
            staged = inFlight.filter { !own.contains($0.key) }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } + staged
        }
        known.pending[token] = staged
        let token = self.token
        writer.with { $0.token = token }
        replica.pullToken = token
        if restart { replica.resetToken = token }
        replica.ack = max(replica.ack, min(request.ack, head))
        replica.sentCursor = cursor
        replica.lastSeenMilliseconds = hubTime
        // The replica will echo this token: it must outlive a crash of the database (§2.6).
        if engine.syncsBeside { activity.syncBeforeAnswer = true } else { try store.commitDurably() }
        // What the page staged and the replica's row: on PostgreSQL one statement.
        try store.together {
            try store.stageKnown(replica: replica.id, token: token, changes: ownStaged, carrying: carrying)
            try store.saveReplica(replica)
        }
        return (try writer.finished(), known)
    }

    /// How stale a replica's stored last-seen time may be after a quiet pull (ms).
    static let lastSeenResolution: Int64 = 60_000
}
