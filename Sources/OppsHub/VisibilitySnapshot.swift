import OppsCore
import OppsStore
import OppsWire

/// What one user may see at one head of the log: the visible records with their columns, the
/// signature of the fields the user sees of each (which changes when that set changes), and each
/// record's contribution to the checkpoint checksum. Rebuilding it from the store whenever the
/// head moves costs O(visible records) per sync (BENCHMARKS.md), so a snapshot is kept per user
/// and brought forward by the log entries since
/// its head: only records those entries touch (and what follows from them: the team relation, the
/// records a deal references, the records hanging off a deal) are looked at again.
///
/// The visibility rule mirrors `SQLiteHubStore.records(visibleTo:)` (which a full build uses):
/// a staged record (kind 0) is visible when it matches the role's conditions ("top"); a record
/// hanging off one (kind 1) when its parent is top; any record referenced by a top record; a
/// kind-2 record (account, contact) its user created. Deleted records never are.
/// `HubConfiguration.verifySnapshots` (tests, the simulator) checks every step against a full build.
final class VisibilitySnapshot {
    var head: UInt64
    let directory: Directory
    let role: String
    let workspaceVersion: UInt64
    let query: VisibilityQuery
    var visible: Set<RecordID> = []
    var myTeams: Set<RecordID> = []
    /// The memberships that put the user on those teams (the relation `member` holds on them).
    var myMemberships: Set<RecordID> = []
    var columns: [RecordID: RecordColumns] = [:]
    var signatures: [RecordID: UInt64] = [:]
    /// Checksum contribution of each visible record (its stored term, or the term of the
    /// filtered record when the user's view hides a field group).
    var contributions: [RecordID: UInt64] = [:]
    var sum: UInt64 = 0
    /// Top records and what each references; how many top records reference each record.
    var top: Set<RecordID> = []
    /// Visible top records whose names are withheld from the user (visibility.md §6).
    var withheldTops: Set<RecordID> = []
    var targets: [RecordID: [RecordID]] = [:]
    var refCount: [RecordID: Int] = [:]

    var checksum: (value: UInt64, records: UInt64) { (sum, UInt64(contributions.count)) }

    /// Which build this snapshot was brought forward from.
    var generation: UInt64 = 0
    /// The records each advance found visible before or after it (so whatever changed about
    /// them — visibility, signature, contents — may concern the user), newest last, complete
    /// after `recentFrom`. A record hidden on both sides of a step cannot differ because of it:
    /// it is not in `visible`, and a replica holding it already differed before.
    var recent: [(head: UInt64, ids: [RecordID])] = []
    var recentFrom: UInt64 = 0

    /// Records whose visibility, signature or contents may have changed since `head`; nil when
    /// that is no longer known (the snapshot was rebuilt or forgot that far back).
    func changes(since head: UInt64) -> Set<RecordID>? {
        guard head >= recentFrom, head <= self.head else { return nil }
        var out = Set<RecordID>()
        for step in recent where step.head > head { out.formUnion(step.ids) }
        return out
    }

    /// The user's active memberships (membership → deal) as the store holds them now; returns
    /// the deals and memberships that moved in or out since the last.
    @discardableResult
    func take(memberships: [RecordID: RecordID]) -> (teams: Set<RecordID>, memberships: Set<RecordID>) {
        let teams = Set(memberships.values), mine = Set(memberships.keys)
        defer { (myTeams, myMemberships) = (teams, mine) }
        return (teams.symmetricDifference(myTeams), mine.symmetricDifference(myMemberships))
    }

    /// A class, changed in place: a value copy of these tables (it happened while one was
    /// brought forward) costs more than the whole incremental step.
    init(head: UInt64, directory: Directory, role: String, workspaceVersion: UInt64, query: VisibilityQuery) {
        self.head = head
        self.directory = directory
        self.role = role
        self.workspaceVersion = workspaceVersion
        self.query = query
    }

    /// About how much memory it holds: its tables' entries at what a hashed entry of each costs
    /// (measured roughly: a set of ids ~40 bytes an entry, a dictionary to a number ~56, to
    /// columns ~150) — what the cache's budget counts.
    var bytes: Int {
        1024 + (visible.count + myTeams.count + top.count) * 40 + (signatures.count + contributions.count + refCount.count) * 56
            + columns.count * 150 + targets.count * 80 + recent.reduce(0) { $0 + $1.ids.count * 16 }
    }

    func remember(_ ids: [RecordID], at head: UInt64) {
        recent.append((head, ids))
        if recent.count > 64 { recentFrom = recent.removeFirst().head }
    }
}

/// Entries of the log a snapshot may be brought forward over; beyond, it is rebuilt.
let snapshotAdvanceLimit: UInt64 = 20_000

extension HubEngine {
    /// The user's snapshot at `head`: the cached one brought forward, or a full build.
    /// `compactedThrough`: where the log starts, read with `head` (`HubStorage.logBounds`).
    func snapshot(for user: HubUser, head: UInt64, compactedThrough: UInt64) throws -> VisibilitySnapshot {
        // Taken out of the cache while brought forward: an advance that fails half-way must not
        // leave a half-changed snapshot behind (it is changed in place).
        if let s = visibilityCache.removeValue(forKey: user.name), s.directory == directory, s.role == user.role,
            s.workspaceVersion == workspace.version, s.head <= head
        {
            if s.head == head { visibilityCache.set(user.name, s, cost: s.bytes); return s }
            if try advance(s, to: head, user: user, compactedThrough: compactedThrough) {
                if configuration.verifySnapshots { try verify(s, user: user) }
                visibilityCache.set(user.name, s, cost: s.bytes)
                return s
            }
        }
        let s = try build(for: user, head: head)
        visibilityCache.set(user.name, s, cost: s.bytes)
        return s
    }

    /// A snapshot computed from the store alone.
    func build(for user: HubUser, head: UInt64) throws -> VisibilitySnapshot {
        let query = VisibilityQuery.make(user: user.name, role: user.role, workspace: workspace, directory: directory)
        let s = VisibilitySnapshot(head: head, directory: directory, role: user.role, workspaceVersion: workspace.version, query: query)
        // The shared window starts no later than the first snapshot, so that snapshot's first
        // advance finds the entries since its head in memory.
        try recent.extend(to: head, store: store)
        snapshotGenerations &+= 1
        s.generation = snapshotGenerations  // per engine: a replica's last diff names the build it was made against
        s.recentFrom = head
        s.visible = try store.records(visibleTo: query)
        s.take(memberships: try store.memberships(of: user.name))
        s.columns = try store.columns(of: Array(s.visible))
        s.top = Set(s.visible.filter { id in s.columns[id].map { isTop(id, $0, s) } ?? false })
        s.targets = try store.references(from: Array(s.top))
        for ts in s.targets.values { for t in ts { s.refCount[t, default: 0] += 1 } }
        try refresh(Array(s.visible), in: s, user: user)
        return s
    }

    /// Whether a record matches the role's conditions (the store's `topConditions`).
    func isTop(_ id: RecordID, _ c: RecordColumns, _ s: VisibilitySnapshot) -> Bool {
        let q = s.query
        guard c.kind == 0, c.live else { return false }
        if q.all { return true }
        if q.owner, c.owner == q.user { return true }
        if q.creator, c.creator == q.user { return true }
        if q.team, s.myTeams.contains(id) { return true }
        if !q.managed.isEmpty {
            if let owner = c.owner { if q.managed.contains(owner) { return true } } else if q.managed.contains(c.creator) { return true }
        }
        if let stage = c.stage, q.stages.contains(stage) { return true }
        return false
    }

    /// The relations the user holds to a staged record, from its columns.
    func relations(_ id: RecordID, _ c: RecordColumns, user: UserName, in s: VisibilitySnapshot) -> Set<Relation> {
        let directory = self.directory
        return Workspace.relations(
            of: user, owner: c.owner, creator: c.creator, onTeam: s.myTeams.contains(id), member: s.myMemberships.contains(id),
            manages: { directory.manages(user, $0) })
    }

    /// Brings `s` forward to `head` over the log; false when it cannot (compacted, too far).
    func advance(_ s: VisibilitySnapshot, to head: UInt64, user: HubUser, compactedThrough: UInt64) throws -> Bool {
        guard head - s.head <= snapshotAdvanceLimit, compactedThrough <= s.head else { return false }
        var touched = Set<RecordID>()
        var teamsChanged = false
        let teamEntity = workspace.teamRule?.entity
        // Which records the entries touched (their values are not needed here): from the window
        // every snapshot shares, or from the store when it does not reach back this far.
        try recent.extend(to: head, store: store)
        let window = recent.touches(after: s.head, through: head)
        if let entries = window {
            if let teamEntity { teamsChanged = entries.contains { $0.entity == teamEntity } }
        } else {
            var cursor = s.head
            while cursor < head {
                let entries = try store.touches(after: cursor, limit: 5_000)
                guard let last = entries.last else { return false }
                for t in entries where t.sequence <= head {
                    touched.insert(t.record)
                    if t.entity == teamEntity { teamsChanged = true }
                }
                cursor = last.sequence
            }
        }
        var teamsMoved = Set<RecordID>()
        if teamsChanged {
            let moved = s.take(memberships: try store.memberships(of: user.name))
            teamsMoved = moved.teams
            // (A membership that started or stopped putting the user on a team changes its relations.)
            touched.formUnion(moved.teams.union(moved.memberships))
        }
        if window != nil {
            // Of the records touched, only those that may concern this user (issue 20: each pull
            // looked at every record anyone changed since the user's last sync — O(fleet) a pull).
            // A record that was not visible, not top and not referenced concerns them only if it
            // is top now, hangs off a record that is or may have become top, or is theirs by the
            // kind-2 rule; anything else is hidden before and after and changes nothing here.
            // Whatever becomes referenced by a top record comes in through the top record's
            // targets below, whatever hangs off a record whose top status moved through
            // `children`, both whether or not it was touched.
            let from = s.head
            // Who can make a record this user's (the cases of `keep` below): the records they
            // hold now, the owners and creators they see by, the stages they see whole, and the
            // parents of what hangs off a top record. Seeing everything, they are the whole log.
            let q = s.query
            let concern =
                q.all
                ? nil
                : RecentChanges.Concern(
                    names: [q.user] + q.managed.sorted(), stages: q.stages.sorted(), held: [s.visible, s.top, s.myTeams], referenced: s.refCount,
                    parents: s.top.union(teamsMoved))
            let kept = recent.lastTouches(after: from, through: head, concern: concern) { id, row in
                if s.visible.contains(id) || s.top.contains(id) || s.refCount[id] != nil { return true }
                guard let c = row else { return false }
                switch c.kind {
                case 0: return isTop(id, c, s)
                case 1:
                    guard let parent = c.parent else { return false }
                    return s.top.contains(parent) || teamsMoved.contains(parent) || recent.touched(parent, after: from)
                case 2: return c.creator == user.name
                default: return true
                }
            }
            if let kept {
                touched.formUnion(kept)
            } else if let entries = window {
                for t in entries { touched.insert(t.record) }
            }
        }
        advanceExamined += touched.count
        var columns = try recent.columns(of: touched, at: head, store: store)
        // Top records: their status, and what they reference.
        var affected = touched
        var topChanged = [RecordID]()
        let candidates = touched.filter { columns[$0]?.kind == 0 || s.top.contains($0) }
        let references = try store.references(from: candidates.filter { id in columns[id].map { isTop(id, $0, s) } ?? false })
        for id in candidates {
            let was = s.top.contains(id)
            let now = columns[id].map { isTop(id, $0, s) } ?? false
            if was {
                for t in s.targets.removeValue(forKey: id) ?? [] {
                    s.refCount[t, default: 0] -= 1
                    if s.refCount[t] == 0 { s.refCount[t] = nil }
                    affected.insert(t)
                }
                s.top.remove(id)
            }
            if now {
                let ts = references[id] ?? []
                s.targets[id] = ts
                for t in ts { s.refCount[t, default: 0] += 1; affected.insert(t) }
                s.top.insert(id)
            }
            if was != now { topChanged.append(id) }
        }
        affected.formUnion(try store.children(of: topChanged))
        let unread = affected.filter { columns[$0] == nil }
        if !unread.isEmpty { columns.merge(try recent.columns(of: unread, at: head, store: store)) { a, _ in a } }
        // Visibility of everything affected; then signatures and contributions of what is visible.
        var changed = [RecordID](), hidden = [RecordID]()
        for id in affected {
            let visible: Bool
            if let c = columns[id], c.live {
                visible =
                    s.top.contains(id) || (c.kind == 1 && c.parent.map(s.top.contains) == true) || s.refCount[id, default: 0] > 0
                    || (c.kind == 2 && c.creator == user.name)
            } else {
                visible = false
            }
            if visible {
                s.visible.insert(id)
                s.columns[id] = columns[id]
                changed.append(id)
            } else if s.visible.remove(id) != nil {
                hidden.append(id)
                s.columns[id] = nil
                s.signatures[id] = nil
                s.withheldTops.remove(id)
                if let old = s.contributions.removeValue(forKey: id) { s.sum &-= old }
            }
        }
        // (What hangs off a deal whose names became withheld or shown was refreshed too.)
        let followed = try refresh(changed, in: s, user: user)
        s.head = head
        // What a record hidden before and after this step is does not concern the user: only
        // what was visible on either side is remembered (for a rep, their own few deals, not
        // the ~1,000 records everyone else's pushes touched since their last sync).
        s.remember(changed + hidden + followed, at: head)
        return true
    }

    /// Recomputes the signature and checksum contribution of visible records; returns the
    /// records it refreshed besides `ids`: those hanging off a deal among them whose names
    /// became withheld or shown (their signatures follow the deal's).
    @discardableResult
    func refresh(_ ids: [RecordID], in s: VisibilitySnapshot, user: HubUser) throws -> [RecordID] {
        let actor = Actor(user: user.name, role: user.role)
        // Each record's term came with its columns (read at this head): no read of its own.
        // A record's relations, signature and hidden fields follow from its shape alone (owner,
        // creator, team membership, stage, entity): worked out once per shape — most records of
        // a snapshot share one with many others (a full build's 100,000 took 0.16 s one by one).
        // Whether the names on it are withheld (visibility.md §6) is part of a record's shape: a
        // child's follows its parent's, a free record's the role.
        struct Shape: Hashable {
            let owner: UserName?, creator: UserName, onTeam: Bool, member: Bool, stage: String?, entity: String, parentWithholds: Bool
        }
        let freeWithheld = !workspace.mayEverReadOwners(role: user.role)
        func parentWithholds(_ c: RecordColumns) -> Bool {
            guard c.kind == 1 else { return false }
            guard let p = c.parent, let pc = s.columns[p] else { return true }  // (out of sight: not visible either)
            let rel = relations(p, pc, user: user.name, in: s)
            return Workspace.withholdsNames(hidden: hiddenFields(entity: pc.entity, stage: pc.stage, actor: actor, relations: rel))
        }
        // Deals whose names became withheld or shown while visible: what hangs off them follows.
        var flipped = [RecordID]()
        var shapes = [Shape: (relations: Set<Relation>, signature: UInt64, hides: Bool, withheld: Bool, rewrites: Bool)]()
        for id in ids {
            guard let c = s.columns[id] else { continue }
            let shape = Shape(
                owner: c.owner, creator: c.creator, onTeam: s.myTeams.contains(id), member: s.myMemberships.contains(id), stage: c.stage,
                entity: c.entity, parentWithholds: parentWithholds(c))
            var known = shapes[shape]
            if known == nil {
                let rel = relations(id, c, user: user.name, in: s)
                let hidden = hiddenFields(entity: c.entity, stage: c.stage, actor: actor, relations: rel)
                let withheld =
                    switch c.kind {
                    case 0: Workspace.withholdsNames(hidden: hidden)
                    case 1: shape.parentWithholds
                    default: freeWithheld
                    }
                // Withheld names in its user fields change what it counts (the stage log's, on a
                // staged record, are in `filtered`: its owner is hidden, so it `hides`).
                let inValues = withheld && workspace.namesInValues(of: c.entity, hidden: hidden)
                let sig = signature(
                    role: user.role, relations: rel, stage: c.stage, entity: c.entity, hidden: hidden, namesWithheld: withheld, valuesWithheld: inValues)
                known = (rel, sig, !hidden.isEmpty, withheld, inValues)
                shapes[shape] = known
            }
            guard let (rel, sig, hides, withheld, rewrites) = known else { continue }
            let had = s.signatures.updateValue(sig, forKey: id)
            if c.kind == 0 {
                let moved = withheld ? s.withheldTops.insert(id).inserted : s.withheldTops.remove(id) != nil
                if moved, had != nil { flipped.append(id) }
            }
            var contribution: UInt64 = 0
            if hides || rewrites {
                guard let record = try store.record(id, workspace: workspace) else { continue }
                var one = StateChecksum()
                var seen = filtered(record, actor: actor, relations: rel)
                if withheld, c.kind != 0 { seen = workspace.withholdingNames(seen, from: user.name) }  // (a staged record's: filtered did)
                one.add(seen, workspace: workspace)
                contribution = one.value
            } else {
                contribution = c.term
            }
            if let old = s.contributions.updateValue(contribution, forKey: id) { s.sum &-= old }
            s.sum &+= contribution
        }
        guard !flipped.isEmpty else { return [] }
        let children = try store.children(of: flipped).filter { s.visible.contains($0) }
        return children.isEmpty ? [] : try children + refresh(children, in: s, user: user)
    }

    /// Checks a brought-forward snapshot against a full build (tests and the simulator).
    func verify(_ s: VisibilitySnapshot, user: HubUser) throws {
        let full = try build(for: user, head: s.head)
        guard full.visible == s.visible, full.signatures == s.signatures, full.sum == s.sum, full.contributions.count == s.contributions.count,
            full.myTeams == s.myTeams, full.myMemberships == s.myMemberships, full.top == s.top, full.refCount == s.refCount, full.withheldTops == s.withheldTops
        else {
            let extra = s.visible.subtracting(full.visible).count, missing = full.visible.subtracting(s.visible).count
            throw WireError(
                .internal,
                "snapshot of \(user.name) at \(s.head) differs from a full build: \(extra) extra, \(missing) missing, sums \(s.sum) vs \(full.sum), top \(s.top.count) vs \(full.top.count), referenced \(s.refCount.count) vs \(full.refCount.count)"
            )
        }
    }
}

/// What a replica holds (record → signature of what it was sent) and the pages sent since that
/// it has not acknowledged: the same steps as the store's `resetKnown`, `acknowledge`, `forget`
/// and `stageKnown`, in memory. A page staged before the cache was loaded is not in `pending`;
/// acknowledging one makes the cache unusable (it is reloaded from the store).
struct KnownState {
    /// About how much memory it holds (what the cache's budget counts).
    var bytes: Int { 512 + records.count * 56 + pending.values.reduce(0) { $0 + $1.count * 40 } + dirty.count * 40 + mismatch.count * 16 }

    var records: [RecordID: UInt64]
    var pending: [UInt64: [(RecordID, UInt64?)]] = [:]
    /// The store's page-token floor when this state was last used: another means the connection
    /// was opened again (the database crashed), and commits this state holds may be lost.
    var floor: UInt64 = 0
    /// Pages from this token on are tracked in `pending`.
    var trackedFrom: UInt64
    /// The snapshot (generation, head) the last diff was made against; a sorted superset of the
    /// records that differed then (those a page took, and those no page has looked at yet); and
    /// records whose entry here changed since.
    var diffed: (generation: UInt64, head: UInt64)?
    var mismatch: [RecordID] = []
    var dirty: Set<RecordID> = []
    /// The last page's own records (without those it carried from the page it was built on): a
    /// pipelined request naming it as received has them counted as held (sync-protocol.md §6.1).
    var lastPage: (token: UInt64, own: [(RecordID, UInt64?)])?

    /// Takes a pull's request into account; false when only the store knows the result (the
    /// acknowledged page was staged before this state was loaded). Changes `self` in place: a
    /// copy of `records` per page cost as much as the rest of a cold sync's page.
    mutating func advance(restart: Bool, token: UInt64, pullToken: UInt64, forget: [RecordID]) -> Bool {
        if restart {
            self = KnownState(records: [:], trackedFrom: 0)
        } else if token > 0 && token <= pullToken {
            guard token >= trackedFrom else { return false }
            for (id, signature) in pending[token] ?? [] { records[id] = signature; dirty.insert(id) }
            pending = pending.filter { $0.key > token }
        }
        for id in forget { records[id] = nil; dirty.insert(id) }
        return true
    }
}

/// How a record the replica may hold differs from what its user may see.
enum Difference {
    /// The replica holds it; the user may no longer see it.
    case left
    /// The user may see it; the replica does not hold it as it is now.
    case entering
}

extension HubEngine {
    /// Walks the records that may differ between what a replica holds and what its user may see,
    /// in id order, handing each that does to `take` until `take` says the page is full (false).
    /// Returns the sorted superset of differing records to remember (those taken, and those not
    /// looked at) and whether it stopped early. After the first walk against a snapshot, only
    /// records that differed then, changed in the snapshot since, or changed in what the replica
    /// holds can differ: a page costs O(those), not O(visible), and a cold sync O(N) in all rather
    /// than O(N²/page).
    ///
    /// `inFlight` is the page a pipelined request says the replica is applying (sync-protocol.md
    /// §6.1): its records count as held for this walk, but a record that matches only because of
    /// it stays remembered — if the replica never applies that page, the next walk must find it.
    func walkDifferences(
        known k: KnownState, inFlight: [RecordID: UInt64?] = [:], snapshot s: VisibilitySnapshot, user: HubUser,
        ahead: (_ now: [RecordID], _ then: [RecordID]) throws -> Void = { _, _ in }, room: () -> (entering: Int, left: Int) = { (.max, .max) },
        take: (RecordID, Difference) throws -> Bool
    ) throws -> (mismatch: [RecordID], stopped: Bool) {
        func held(_ id: RecordID, overlaid: Bool) -> UInt64? {
            if overlaid, !inFlight.isEmpty, let page = inFlight[id] { return page }
            return k.records[id]
        }
        func classify(_ id: RecordID, overlaid: Bool = true) -> Difference? {
            let h = held(id, overlaid: overlaid)
            // A visible record has a signature: one lookup for both on the common path.
            if let signature = s.signatures[id] { return h != signature ? .entering : nil }
            if !s.visible.contains(id) { return h != nil ? .left : nil }
            return h != nil ? .entering : nil
        }
        func full(overlaid: Bool = true) -> [RecordID] {
            var all = Set(k.records.keys).union(overlaid ? Set(inFlight.keys) : []).filter { !s.visible.contains($0) && held($0, overlaid: overlaid) != nil }
            for id in s.visible where held(id, overlaid: overlaid) != s.signatures[id] { all.insert(id) }
            return all.sorted()
        }
        let candidates: [RecordID]
        if let d = k.diffed, d.generation == s.generation, let since = s.changes(since: d.head) {
            let extra = since.union(k.dirty).sorted()
            candidates = extra.isEmpty ? k.mismatch : merge(k.mismatch, extra)
        } else {
            candidates = inFlight.isEmpty ? full() : Set(full()).union(full(overlaid: false)).sorted()
        }
        var keep = [RecordID]()
        var taken = [(RecordID, Difference)]()
        var stopped = false
        // Each candidate classified once, when `chunk` looks ahead at it (nil: not yet): the
        // walk then takes its answer from here.
        var classes = [Difference??](repeating: nil, count: candidates.count)
        func classified(_ i: Int) -> Difference? {
            if let known = classes[i] { return known }
            let d = classify(candidates[i])
            classes[i] = .some(d)
            return d
        }
        var i = 0
        var offered = 0  // candidates before this one were looked at for `ahead`
        var boundary = 0  // candidates before this one were offered to `ahead` as `now`
        typealias Chunk = (ids: [RecordID], entering: Int, leaving: Int, end: Int)
        var following: Chunk?  // the chunk `ahead` was told comes next
        /// The next ≤ 500 differences from `offered` on, no more of each kind than the room given.
        func chunk(room: (entering: Int, left: Int)) -> Chunk {
            var ids = [RecordID](), entering = 0, leaving = 0
            while offered < candidates.count, ids.count < 500, entering < max(room.entering, 1), leaving < max(room.left, 1) {
                switch classified(offered) {
                case .entering?: entering += 1; ids.append(candidates[offered])
                case .left?: leaving += 1; ids.append(candidates[offered])
                case nil: break
                }
                offered += 1
            }
            return (ids, entering, leaving, offered)
        }
        while i < candidates.count {
            if i >= boundary {
                // The next ≤ 500 differences, so the caller can read their records in one go, and
                // the ≤ 500 after them, so it can ask for those before it encodes these — no more
                // of each kind than `room` says the page may still take (a cold sync's page read
                // 2,500 records to take 2,000).
                let r = room()
                let now = following ?? chunk(room: r)
                let then = chunk(room: (r.entering - now.entering, r.left - now.leaving))
                boundary = now.end
                following = then.ids.isEmpty ? nil : then
                try ahead(now.ids, then.ids)
            }
            let id = candidates[i]
            if let d = classified(i) {
                guard try take(id, d) else { stopped = true; break }
                keep.append(id)
                taken.append((id, d))
            } else if inFlight[id] != nil, classify(id, overlaid: false) != nil {
                keep.append(id)
            }
            i += 1
        }
        keep.append(contentsOf: candidates[i...])
        if configuration.verifySnapshots {
            // What a full diff yields before the stopping point must be exactly what was taken,
            // and what is remembered must cover every differing record.
            let all = full()
            let expected = stopped ? all.filter { $0 < candidates[i] } : all
            guard expected == taken.map(\.0), Set(keep).isSuperset(of: all), Set(keep).isSuperset(of: full(overlaid: false)) else {
                throw WireError(.internal, "the incremental diff for a replica of \(user.name) differs from a full one (\(taken.count)/\(expected.count) taken)")
            }
        }
        return (keep, stopped)
    }

    /// Two sorted, duplicate-free id lists as one.
    func merge(_ a: [RecordID], _ b: [RecordID]) -> [RecordID] {
        var out = [RecordID]()
        out.reserveCapacity(a.count + b.count)
        var i = 0, j = 0
        while i < a.count && j < b.count {
            if a[i] < b[j] { out.append(a[i]); i += 1 } else if b[j] < a[i] { out.append(b[j]); j += 1 } else { out.append(a[i]); i += 1; j += 1 }
        }
        out.append(contentsOf: a[i...])
        out.append(contentsOf: b[j...])
        return out
    }
}
