import OppsCore
import OppsStore

/// The log's recent entries and the indexed columns of the records they touched, shared by
/// every user's snapshot. Bringing a snapshot forward (`HubEngine.advance`) needs the records
/// the log touched since that snapshot's head and their columns at the new head; read from the
/// store per user, each sync re-read every change every other replica made since its own last
/// sync — at 1,000 replicas syncing every 10 s, ~1,000 records per pull, 30 % of the hub's CPU
/// (BENCHMARKS.md, issue 20). Here each entry and each record's columns are read once.
///
/// Invariant, for the engine's store:
/// - `entries` are exactly the log's entries in (`from`, `head`], in order;
/// - `lastTouch[r]` is the sequence of r's last entry among them (absent: none);
/// - `cached[r]` is r's row of the record index at `head` (nil inside: no row).
///
/// The rows of the records an `extend` reads entries of come with those entries, read in the
/// caller's transaction (whose head is the new `head`): a sync's advance needs no second read.
///
/// A record's row at any head H in [`from`, `head`] is its row at `head` when r has no entry
/// after H, so `cached[r]` answers for H exactly when `lastTouch[r] ?? 0 <= H`. Rows are read
/// into the cache only by a transaction whose head is `head` (the state it reads is the state
/// at `head`). Every entry the log gains moves `head` on and drops the rows of what it touched.
/// The log's entries up to a head never change (sequence numbers are commit-ordered and
/// gapless, also across hubs on one database), and a record's row changes only with an entry,
/// so nothing else invalidates it — except what the engine clears the window for: the
/// directory or workspace changing (a row's `kind` follows the workspace), a store changed
/// underneath (another process, a restore).
final class RecentChanges {
    /// Entries kept, and rows cached, at most (about 8 MB at both bounds).
    let capacity: Int
    private(set) var from: UInt64 = 0
    private(set) var head: UInt64 = 0
    /// False until the first pull sets where the window starts.
    private(set) var primed = false
    private var entries: [LogTouch] = []
    /// Index of the first entry still in the window (older ones are dropped in bulk).
    private var start = 0
    private var lastTouch: [RecordID: UInt64] = [:]
    private var cached: [RecordID: RecordColumns?] = [:]

    /// Store reads it made, answers it gave from memory, and asks for entries it did not hold
    /// (each sends an advance to the store), for tests.
    private(set) var rowsRead = 0
    private(set) var rowsFromMemory = 0
    private(set) var misses = 0

    init(capacity: Int = 20_000) {
        self.capacity = capacity
    }

    /// Forgets everything; the next `extend` starts an empty window at its head.
    func clear() {
        primed = false
        entries = []
        start = 0
        lastTouch = [:]
        cached = [:]
    }

    /// Brings the window up to `target`, the head of the caller's transaction (which must see
    /// the store at that head). A window that would have to read more than `capacity` entries
    /// starts again, empty, at `target`.
    func extend(to target: UInt64, store: any HubStorage) throws {
        // Not started, too far behind, or the store went back (a restore under a running
        // engine, where nothing here holds): start again at `target`.
        guard primed, target >= head, target - head <= UInt64(capacity) else {
            restart(at: target)
            return
        }
        // The touched records' rows come with the entries (one statement, not two): read in the
        // caller's transaction, whose head is `target`, they are the rows at `target`.
        var rows = [RecordID: RecordColumns?]()
        while head < target {
            let page = try store.touchesWithColumns(after: head, limit: 5_000)
            // The log is gapless above what compaction removed: entries that do not follow on
            // (compacted past this window, fewer than the head says) are a store this window
            // cannot describe.
            guard let last = page.last, page.first?.touch.sequence == head + 1, last.touch.sequence - head == UInt64(page.count) else {
                restart(at: target)
                return
            }
            for (t, row) in page where t.sequence <= target {
                entries.append(t)
                lastTouch[t.record] = t.sequence
                cached[t.record] = nil
                rows[t.record] = .some(row)
            }
            head = min(last.touch.sequence, target)
        }
        if head == target, !rows.isEmpty {
            rowsRead += rows.count
            if cached.count + rows.count > capacity { cached = [:] }
            for (id, row) in rows { cached[id] = row }
        }
        trim()
    }

    private func restart(at target: UInt64) {
        clear()
        primed = true
        from = target
        head = target
    }

    /// The entries in (`after`, `through`], or nil when the window does not hold them all.
    func touches(after: UInt64, through: UInt64) -> ArraySlice<LogTouch>? {
        guard primed, after >= from, through <= head, after <= through, start + Int(through - from) <= entries.count else {
            misses += 1
            return nil
        }
        // Sequences in the window are consecutive (the log is gapless): index by arithmetic.
        return entries[(start + Int(after - from))..<(start + Int(through - from))]
    }

    /// Each record touched in (`after`, `through`] once, kept when `keep` says so given its row
    /// at `through` (nil inside: it has no row); a record whose row is not cached is kept
    /// without asking. Nil when the window does not hold those entries or `through` is not its
    /// head (the rows it caches are the rows at its head). What `HubEngine.advance` looks at
    /// for one user: a sync's pull no longer builds a set and a dictionary of columns for every
    /// record anyone changed since the user's last sync, only for those that may concern them.
    func lastTouches(after: UInt64, through: UInt64, keep: (RecordID, RecordColumns?) -> Bool) -> [RecordID]? {
        guard through == head, let slice = touches(after: after, through: through) else { return nil }
        var out = [RecordID]()
        for t in slice where lastTouch[t.record] == t.sequence {
            // Its last entry: every record touched in the slice has its last one there (the
            // slice ends at the head), so each is looked at once.
            if let row = cached[t.record] {
                if keep(t.record, row) { out.append(t.record) }
                rowsFromMemory += 1
            } else {
                out.append(t.record)
            }
        }
        return out
    }

    /// Whether the window holds an entry of `id` after `after`.
    func touched(_ id: RecordID, after: UInt64) -> Bool { (lastTouch[id] ?? 0) > after }

    /// The index rows of `ids` at `at` (a head no newer than the caller's transaction sees):
    /// from memory where the window answers for that head, the rest from the store — cached
    /// when `at` is the window's head. Records without a row are left out, as the store does.
    func columns(of ids: some Collection<RecordID>, at: UInt64, store: any HubStorage) throws -> [RecordID: RecordColumns] {
        var out = [RecordID: RecordColumns]()
        out.reserveCapacity(ids.count)
        var missing = [RecordID]()
        let answers = primed && at >= from && at <= head
        for id in ids {
            if answers, (lastTouch[id] ?? 0) <= at, let row = cached[id] {
                if let row { out[id] = row }
                rowsFromMemory += 1
            } else {
                missing.append(id)
            }
        }
        guard !missing.isEmpty else { return out }
        let read = try store.columns(of: missing)
        rowsRead += missing.count
        let keep = primed && at == head
        if keep, cached.count + missing.count > capacity { cached = [:] }
        for id in missing {
            let row = read[id]
            if let row { out[id] = row }
            if keep { cached[id] = .some(row) }
        }
        return out
    }

    /// Drops the oldest entries beyond `capacity`, in bulk.
    private func trim() {
        let count = entries.count - start
        guard count > capacity else { return }
        let drop = count - capacity
        for t in entries[start..<(start + drop)] where lastTouch[t.record] == t.sequence {
            // Its last entry leaves the window: its row holds for every head from `from` on.
            lastTouch[t.record] = nil
        }
        start += drop
        from += UInt64(drop)
        if start > capacity {
            entries.removeFirst(start)
            start = 0
        }
    }
}
