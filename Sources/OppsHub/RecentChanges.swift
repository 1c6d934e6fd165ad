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
///
/// Who an entry may concern (`concerning`). Walking every entry since a user's last sync costs
/// each pull O(the fleet's changes): at 1,000 reps syncing every 10 s, ~1,000 entries a pull, 8 %
/// of the hub's CPU, growing with the company. So each entry is also filed, in sequence order,
/// under the keys its row names — its owner, its creator, its stage, its parent — and a user's
/// advance reads only the keys that can make a record theirs. Invariant, for every head H in
/// [`indexedFrom`, `head`] and every record r whose last entry is after H: r's last entry is
/// filed under each key of r's row at `head` (a later entry re-files r under its new row; an
/// older filing under a key r no longer has only adds a candidate the caller filters out), and
/// r's row is cached. `indexedFrom` moves up to the head whenever the cache is cleared; asked
/// for an older head, `concerning` answers nil and the caller walks.
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
    /// Entries filed by who they may concern (see the type's comment), each list in sequence order.
    private var byName: [UserName: [Filed]] = [:]
    private var byStage: [String: [Filed]] = [:]
    private var byParent: [RecordID: [Filed]] = [:]
    /// Entries whose row is of a kind the visibility rule does not name (kept for everyone).
    private var unfiled: [Filed] = []
    /// The lowest head `concerning` answers for.
    private(set) var indexedFrom: UInt64 = 0
    /// Entries (or candidates) the last `lastTouches` looked at, for tests.
    private(set) var lastExamined = 0
    /// Filings held (tests: they are dropped with their entries).
    var filings: Int {
        byName.values.reduce(0) { $0 + $1.count } + byStage.values.reduce(0) { $0 + $1.count } + byParent.values.reduce(0) { $0 + $1.count } + unfiled.count
    }

    struct Filed {
        let sequence: UInt64
        let record: RecordID
    }

    /// Store reads it made, answers it gave from memory, and asks for entries it did not hold
    /// (each sends an advance to the store), for tests.
    private(set) var rowsRead = 0
    private(set) var rowsFromMemory = 0
    private(set) var misses = 0

    /// Reads the index whenever it answers, even when walking would cost less (tests and the
    /// simulator, which check every advance against a full build, so the index is what they check).
    let indexWhenAnswering: Bool

    init(capacity: Int = 20_000, indexWhenAnswering: Bool = false) {
        self.capacity = capacity
        self.indexWhenAnswering = indexWhenAnswering
    }

    /// Forgets everything; the next `extend` starts an empty window at its head.
    func clear() {
        primed = false
        entries = []
        start = 0
        lastTouch = [:]
        cached = [:]
        byName = [:]
        byStage = [:]
        byParent = [:]
        unfiled = []
        indexedFrom = 0
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
        let before = head
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
            if cached.count + rows.count > capacity {
                // Records touched up to `before` lose their rows: the index answers from here on.
                cached = [:]
                indexedFrom = before
            }
            for (id, row) in rows { cached[id] = row }
            // Filed under the row at the head (the same for every entry of a record this read),
            // once per record: its last entry, the one `lastTouches` looks at.
            for (id, row) in rows { if let row, let sequence = lastTouch[id] { file(Filed(sequence: sequence, record: id), row) } }
        }
        trim()
    }

    private func file(_ f: Filed, _ row: RecordColumns) {
        switch row.kind {
        case 0, 1, 2:
            byName[row.creator, default: []].append(f)
            if let owner = row.owner, owner != row.creator { byName[owner, default: []].append(f) }
            if let stage = row.stage { byStage[stage, default: []].append(f) }
            if let parent = row.parent { byParent[parent, default: []].append(f) }
        default:
            unfiled.append(f)
        }
    }

    private func restart(at target: UInt64) {
        clear()
        primed = true
        from = target
        head = target
        indexedFrom = target
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
    ///
    /// With `concern`, only the records it may name are looked at, when the index answers for
    /// `after` and that is fewer than the entries: records in `held` touched since, and those
    /// filed since under one of its names or stages, or under a parent among `parents`, `held`'s
    /// or the others found. Every record `keep` accepts is among them, save a kind-1 record whose
    /// parent is neither top for the user nor accepted itself: hidden before and after, such a
    /// record changes nothing in the user's snapshot.
    func lastTouches(
        after: UInt64, through: UInt64, concern: Concern? = nil, keep: (RecordID, RecordColumns?) -> Bool
    ) -> [RecordID]? {
        guard through == head, let slice = touches(after: after, through: through) else { return nil }
        var out = [RecordID]()
        // Kept when `keep` says so given its cached row; a record whose row is not cached, unasked.
        func consider(_ id: RecordID) {
            if let row = cached[id] {
                if keep(id, row) { out.append(id) }
                rowsFromMemory += 1
            } else {
                out.append(id)
            }
        }
        if let concern, let candidates = concerning(concern, after: after, entries: slice.count) {
            lastExamined = candidates.count
            for id in candidates { consider(id) }
            return out
        }
        lastExamined = slice.count
        // Each record at its last entry: every record touched in the slice has its last one
        // there (the slice ends at the head), so each is looked at once.
        for t in slice where lastTouch[t.record] == t.sequence { consider(t.record) }
        return out
    }

    /// What can make a record one user's concern (see `lastTouches`).
    struct Concern {
        /// Owners or creators that make a record theirs (the user, whom they manage).
        var names: [UserName]
        /// Stages the user sees every record in.
        var stages: [String]
        /// Records the user holds a relation to now (visible, top, referenced, on their teams):
        /// each is looked at when touched since.
        var held: [Set<RecordID>]
        /// Records referenced by a top one (their counts), looked at the same way.
        var referenced: [RecordID: Int]
        /// Records whose children may concern the user (top ones, teams that moved).
        var parents: Set<RecordID>
    }

    /// The records `concern` may name among those last touched after `after` (once each), or
    /// nil when the index does not answer for `after` or reading it would cost more than
    /// walking the `entries` since.
    private func concerning(_ concern: Concern, after: UInt64, entries: Int) -> Set<RecordID>? {
        guard after >= indexedFrom else { return nil }
        // Lists are in sequence order: what was filed after `after` is a suffix.
        func since(_ list: [Filed]?) -> ArraySlice<Filed> {
            guard let list, let last = list.last, last.sequence > after else { return [] }
            var lo = 0, hi = list.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if list[mid].sequence > after { hi = mid } else { lo = mid + 1 }
            }
            return list[lo...]
        }
        let filed = concern.names.map { since(byName[$0]) } + concern.stages.map { since(byStage[$0]) } + [since(unfiled)]
        let heldCount = concern.held.reduce(0) { $0 + $1.count } + concern.referenced.count
        guard indexWhenAnswering || heldCount + filed.reduce(0, { $0 + $1.count }) < entries else { return nil }
        // Only an entry that is its record's last counts (an older one was filed under the row
        // of its time).
        var out = Set<RecordID>()
        for list in filed { for f in list where lastTouch[f.record] == f.sequence { out.insert(f.record) } }
        for set in concern.held { for id in set where (lastTouch[id] ?? 0) > after { out.insert(id) } }
        for id in concern.referenced.keys where (lastTouch[id] ?? 0) > after { out.insert(id) }
        for parent in concern.parents.union(out) {
            for f in since(byParent[parent]) where lastTouch[f.record] == f.sequence { out.insert(f.record) }
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
        if keep, cached.count + missing.count > capacity {
            cached = [:]
            indexedFrom = head
        }
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
            // The filings of entries gone with them (every `capacity` entries: O(1) an entry).
            let from = self.from
            func prune<K>(_ index: inout [K: [Filed]]) {
                index = index.compactMapValues { list in
                    let kept = list.filter { $0.sequence > from }
                    return kept.isEmpty ? nil : kept
                }
            }
            prune(&byName)
            prune(&byStage)
            prune(&byParent)
            unfiled.removeAll { $0.sequence <= from }
        }
    }
}
