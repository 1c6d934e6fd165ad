import Foundation
import OppsCore
import OppsStore
import OppsWire

/// What a push or pull did, for metrics.
public struct HubActivity: Sendable {
    public var outcomes: [Outcome: Int] = [:]
    public var replayed = false
    public var pages = 0
    public var changes = 0

    public init() {}
}

/// The hub's decision loop over its store: authentication, handshake, push (decide with the
/// core `resolve`, apply atomically, keep losers), assignment, and pull (visibility, pages,
/// checkpoints). Not thread-safe: the `Hub` actor owns one and serialises calls to it.
public final class HubEngine {
    public let store: any HubStorage
    public let configuration: HubConfiguration
    public private(set) var workspace: Workspace
    private(set) var directory = Directory(users: [])
    private var clock = HybridLogicalClock()
    private let hubReplica: ReplicaID
    public let hubID: UUID128

    /// What a user may see as of a head, kept across the pages of a sync.
    /// Per user: what they may see at some head, brought forward by later pulls (VisibilitySnapshot.swift).
    var visibilityCache: [UserName: VisibilitySnapshot] = [:]
    /// Snapshot builds so far (VisibilitySnapshot.generation).
    var snapshotGenerations: UInt64 = 0
    /// Per replica: what it holds and the pages it has not acknowledged yet, mirroring the
    /// store's tables so a pull does not read them back (VisibilitySnapshot.swift).
    var knownCache: [ReplicaID: KnownState] = [:]

    /// The author of writes the hub makes itself (assignments). Not a valid user name.
    public static let systemAuthor = "hub"

    public init(store: any HubStorage, configuration: HubConfiguration) throws {
        self.store = store
        self.configuration = configuration
        guard let id = try store.hubID(), let (_, document) = try store.workspace() else {
            throw HubError.notInitialised
        }
        hubID = id
        hubReplica = ReplicaID(id)
        do { workspace = try Workspace.decode(document) } catch { throw HubError.badWorkspace(error.description) }
        let head = try store.head()
        if head > 0, let last = try store.log(after: head - 1, limit: 1).first {
            clock = HybridLogicalClock(last: last.entry.stamp.hlc)
        }
    }

    /// Creates a new hub in `store`.
    public static func initialise(store: any HubStorage, workspace document: String, now: Int64, rng: inout some RandomNumberGenerator) throws -> UUID128 {
        let ws: Workspace
        do { ws = try Workspace.decode(document) } catch { throw HubError.badWorkspace(error.description) }
        let id = UUID128.version7(milliseconds: now, using: &rng)
        try store.transaction { try store.initialize(hub: id, workspace: document, version: ws.version, now: now) }
        return id
    }

    var now: Int64 { configuration.clock.nowMilliseconds() }

    /// The store's external-change marker when the directory and workspace were last read;
    /// nil after this engine changed them itself.
    private var directoryMarker: Int64?

    /// Re-reads users and the workspace when someone else committed since the last read (an
    /// operator command in another process) or this engine changed them: not on every request.
    func refreshDirectory() throws {
        let marker = try store.externalChanges()
        guard marker != directoryMarker else { return }
        defer { directoryMarker = marker }
        directory = Directory(users: try store.users().map(\.directoryEntry))
        // A workspace applied by the operator takes effect at the next request.
        if try store.workspaceVersion() != workspace.version, let (_, document) = try store.workspace(), let ws = try? Workspace.decode(document) {
            workspace = ws
        }
    }

    /// Checks that `next` can replace `current` without breaking replicas or stored data:
    /// a higher version, every entity and field kept with its number and kind of type.
    public static func compatibility(from current: Workspace, to next: Workspace) -> [String] {
        var problems = [String]()
        if next.version <= current.version { problems.append("version must be above \(current.version) (it is \(next.version))") }
        for e in current.entities {
            guard let n = next.entity(e.name) else { problems.append("entity \(e.name) was removed (entities are never removed)"); continue }
            if n.number != e.number { problems.append("entity \(e.name) changed its number \(e.number) → \(n.number)") }
            for f in e.fields {
                guard let nf = n.field(f.name) else { problems.append("field \(e.name).\(f.name) was removed (hide it with access rules instead)"); continue }
                if nf.number != f.number { problems.append("field \(e.name).\(f.name) changed its number \(f.number) → \(nf.number)") }
                if !Self.sameKind(f.type, nf.type) { problems.append("field \(e.name).\(f.name) changed its type \(f.type) → \(nf.type)") }
            }
        }
        return problems
    }

    static func sameKind(_ a: FieldType, _ b: FieldType) -> Bool {
        switch (a, b) {
        case (.text, .text), (.integer, .integer), (.date, .date), (.timestamp, .timestamp), (.boolean, .boolean), (.user, .user): return true
        case let (.decimal(x), .decimal(y)): return x == y
        case let (.enumeration(x), .enumeration(y)): return Set(x).isSubset(of: Set(y))  // members may be added, not removed
        case let (.reference(x), .reference(y)): return x == y
        default: return false
        }
    }

    /// Makes `document` the hub's workspace (a new version), after validation and the
    /// compatibility check. Replicas receive it at their next sync.
    public func apply(workspace document: String) throws -> Workspace {
        let next: Workspace
        do { next = try Workspace.decode(document) } catch { throw HubError.badWorkspace(error.description) }
        let problems = Self.compatibility(from: workspace, to: next)
        guard problems.isEmpty else { throw HubError.invalid("the workspace cannot replace version \(workspace.version):\n" + problems.joined(separator: "\n")) }
        try store.transaction {
            try store.addWorkspace(version: next.version, document: document, now: now)
            try store.audit(action: "workspace", subject: "workspace", detail: "version \(workspace.version) → \(next.version)", now: now)
        }
        workspace = next
        directoryMarker = nil
        return next
    }

    // MARK: Users

    /// Adds a user and returns their token (shown once; only its hash is stored).
    public func addUser(_ user: HubUser, rng: inout some RandomNumberGenerator) throws -> String {
        guard user.name != Self.systemAuthor, !user.name.isEmpty, user.name.count <= 64,
              user.name.unicodeScalars.allSatisfy({ !$0.properties.isWhitespace && $0.value > 0x20 }) else {
            throw HubError.invalid("user names are 1–64 characters without spaces, and \"hub\" is reserved")
        }
        guard workspace.role(user.role) != nil else {
            throw HubError.invalid("unknown role \"\(user.role)\" (\(workspace.roles.map(\.name).joined(separator: ", ")))")
        }
        if let m = user.manager, try store.user(named: m) == nil { throw HubError.invalid("unknown manager \"\(m)\"") }
        if let c = user.capacity, c < 0 { throw HubError.invalid("capacity must be 0 or more") }
        let token = Token.generate(using: &rng)
        try store.transaction {
            if try store.user(named: user.name) != nil { throw HubError.invalid("user \"\(user.name)\" already exists") }
            try store.addUser(user, now: now)
            try store.addToken(hash: Token.hash(token), user: user.name, now: now)
            try store.audit(action: "user", subject: user.name, detail: "added as \(user.role)", now: now)
        }
        directoryMarker = nil
        return token
    }

    /// Changes a user's directory entry (role, team, territory, manager, capacity, disabled).
    /// The change is audited; replicas see its effect on visibility at their next pull.
    public func updateUser(_ name: UserName, _ change: (inout HubUser) -> Void) throws -> HubUser {
        defer { directoryMarker = nil }
        return try store.transaction {
            guard var user = try store.user(named: name) else { throw HubError.invalid("no user \"\(name)\"") }
            let before = user
            change(&user)
            guard workspace.role(user.role) != nil else {
                throw HubError.invalid("unknown role \"\(user.role)\" (\(workspace.roles.map(\.name).joined(separator: ", ")))")
            }
            if let m = user.manager {
                guard m != name else { throw HubError.invalid("a user cannot manage themselves") }
                guard try store.user(named: m) != nil else { throw HubError.invalid("unknown manager \"\(m)\"") }
            }
            if let c = user.capacity, c < 0 { throw HubError.invalid("capacity must be 0 or more") }
            try store.updateUser(user)
            var changes = [String]()
            if before.role != user.role { changes.append("role \(before.role) → \(user.role)") }
            if before.team != user.team { changes.append("team \(before.team ?? "-") → \(user.team ?? "-")") }
            if before.territory != user.territory { changes.append("territory \(before.territory ?? "-") → \(user.territory ?? "-")") }
            if before.manager != user.manager { changes.append("manager \(before.manager ?? "-") → \(user.manager ?? "-")") }
            if before.capacity != user.capacity { changes.append("capacity \(before.capacity.map(String.init) ?? "-") → \(user.capacity.map(String.init) ?? "-")") }
            if before.disabled != user.disabled { changes.append(user.disabled ? "disabled" : "enabled") }
            try store.audit(action: "user", subject: name, detail: changes.joined(separator: ", "), now: now)
            return user
        }
    }

    /// Revokes every token of a user and issues a new one (shown once).
    public func rotateToken(_ name: UserName, rng: inout some RandomNumberGenerator) throws -> String {
        let token = Token.generate(using: &rng)
        try store.transaction {
            guard try store.user(named: name) != nil else { throw HubError.invalid("no user \"\(name)\"") }
            try store.revokeTokens(user: name)
            try store.addToken(hash: Token.hash(token), user: name, now: now)
            try store.audit(action: "token", subject: name, detail: "rotated", now: now)
        }
        return token
    }

    // MARK: Operating

    /// One replica as `opps-hub status` shows it.
    public struct ReplicaStatus: Sendable {
        public var id: ReplicaID
        public var user: UserName
        public var lastSeen: Int64
        /// Changes to records its user may see that the replica has not acknowledged yet.
        public var lag: UInt64
        public var openConflicts: Int
    }

    public struct Status: Sendable {
        public var head: UInt64
        public var logEntries: Int
        public var records: Int
        public var workspaceVersion: UInt64
        public var databaseBytes: Int64
        public var replicas: [ReplicaStatus]
        public var openConflicts: Int
        /// What `compact` would remove now: log entries at or below this watermark.
        public var compactionWatermark: UInt64
        public var compactableEntries: Int
    }

    /// The lowest sequence every replica seen within `retention` ms has acknowledged.
    public func watermark(retention: Int64) throws -> UInt64 {
        let cutoff = now - retention
        let live = try store.replicas().filter { $0.lastSeenMilliseconds >= cutoff }
        return try live.map(\.ack).min() ?? store.head()
    }

    public func status(retention: Int64) throws -> Status {
        let head = try store.head()
        let conflicts = try store.openConflicts(user: nil)
        try refreshDirectory()
        // Lag (issue 15 item 8): the changes after a replica's acknowledged cursor to records its
        // user may see now — what it has yet to receive — not every change since (a marketer who
        // sees one lead is not 270,000 behind). One pass over the log since the oldest cursor.
        let rows = try store.replicas()
        var visible = [UserName: Set<RecordID>]()
        for user in Set(rows.map(\.user)) {
            guard let u = try store.user(named: user) else { continue }
            visible[user] = try store.records(visibleTo: VisibilityQuery.make(user: u.name, role: u.role, workspace: workspace, directory: directory))
        }
        var lag = [ReplicaID: UInt64]()
        // Since what it was last sent (its acknowledged cursor trails by one pull).
        func from(_ r: ReplicaRow) -> UInt64 { max(r.ack, r.sentCursor) }
        var at = rows.map(from).min() ?? head
        while at < head {
            let touches = try store.touches(after: at, limit: 10_000)
            guard let last = touches.last else { break }
            for t in touches {
                for r in rows where t.sequence > from(r) && visible[r.user]?.contains(t.record) == true { lag[r.id, default: 0] += 1 }
            }
            at = last.sequence
        }
        var replicas = [ReplicaStatus]()
        for r in rows {
            replicas.append(ReplicaStatus(id: r.id, user: r.user, lastSeen: r.lastSeenMilliseconds, lag: lag[r.id] ?? 0,
                                          openConflicts: conflicts.filter { $0.conflict.loser.author == r.user }.count))
        }
        let mark = try watermark(retention: retention)
        var bytes: Int64 = 0
        for suffix in ["", "-wal"] {
            let attrs = try? FileManager.default.attributesOfItem(atPath: configuration.databasePath + suffix)
            bytes += (attrs?[.size] as? NSNumber)?.int64Value ?? 0
        }
        return Status(head: head, logEntries: try store.logCount(below: head), records: try store.recordCount(), workspaceVersion: workspace.version,
                      databaseBytes: bytes, replicas: replicas, openConflicts: conflicts.count, compactionWatermark: mark,
                      compactableEntries: try store.logCount(below: mark))
    }

    /// Prunes the log and tombstones below the watermark of replicas seen within `retention`.
    /// A replica older than that is told `cursor-expired` and re-syncs from nothing, keeping
    /// its pending writes.
    public func compact(retention: Int64) throws -> (watermark: UInt64, entries: Int, tombstones: Int) {
        try store.transaction {
            let mark = try watermark(retention: retention)
            let (entries, tombstones) = try store.compact(below: mark)
            try store.audit(action: "compact", subject: "log", detail: "through \(mark): \(entries) entries, \(tombstones) tombstones", now: now)
            return (mark, entries, tombstones)
        }
    }

    /// Every accepted write and every conflict on a record, in order: the audit trail.
    public func audit(record id: RecordID) throws -> (entries: [StoredLogEntry], conflicts: [StoredConflict]) {
        (try store.log(record: id), try store.conflicts(record: id))
    }

    /// A manager re-applies a value that did not hold. It is written as the manager's override,
    /// on the record; the value it displaces becomes a conflict record itself (nothing is lost).
    public func restore(conflict id: UInt64, by managerName: UserName) throws -> (sequence: UInt64, displaced: UInt64) {
        try refreshDirectory()
        return try store.transaction {
            guard let stored = try store.conflict(id) else { throw HubError.invalid("no conflict \(id)") }
            let c = stored.conflict
            guard let manager = try store.user(named: managerName), !workspace.overrideRoles.isEmpty, workspace.overrideRoles.contains(manager.role) else {
                throw HubError.invalid("\(managerName) is not a user with an override role (\(workspace.overrideRoles.sorted().joined(separator: ", ")))")
            }
            guard var record = try store.record(c.record, workspace: workspace), !record.isDeleted else { throw HubError.invalid("the record is gone") }
            guard workspace.entity(c.entity)?.field(c.field) != nil else { throw HubError.invalid("the conflict is not about a field that exists") }
            let hubTime = now
            let current = record.fields[c.field]
            let state = FieldState(value: c.loser.value, stamp: Stamp(hlc: clock.tick(physical: hubTime), replica: hubReplica),
                                   author: managerName, authority: .override, sequence: try store.head() + 1)
            try store.append(LogEntry(sequence: state.sequence, record: c.record, entity: c.entity, field: c.field, kind: .set, value: state.value,
                                      stamp: state.stamp, author: state.author, authority: state.authority), hubMilliseconds: hubTime)
            record.fields[c.field] = state
            try store.saveRecord(record, workspace: workspace)
            var displaced: UInt64 = 0
            if let current {
                displaced = try store.addConflict(ConflictRecord(id: 0, record: c.record, entity: c.entity, field: c.field, outcome: .lost, rule: .restored,
                                                                 loser: current, winner: state), owner: record.owner, hubMilliseconds: hubTime)
            }
            try store.resolveConflict(id)
            try store.audit(action: "restore", subject: c.record.description, detail: "conflict \(id) \(c.field) restored by \(managerName) at sequence \(state.sequence)", now: hubTime)
            return (state.sequence, displaced)
        }
    }

    // MARK: Authentication

    public func authenticate(authorization: String?) throws -> HubUser {
        guard let token = Bearer.token(authorization) else {
            throw WireError(.unauthenticated, "send Authorization: Bearer <token>")
        }
        guard let user = try store.user(tokenHash: Token.hash(token)) else { throw WireError(.unauthenticated, "unknown or revoked token") }
        guard !user.disabled else { throw WireError(.userDisabled, "this user is disabled") }
        return user
    }

    // MARK: Handshake

    public func handshake(user: HubUser, request: HandshakeRequest) throws -> HandshakeResponse {
        try refreshDirectory()
        guard let version = ProtocolVersion.negotiate(clientMin: request.minVersion, clientMax: request.maxVersion) else {
            throw WireError(.protocolVersionUnsupported, "this hub speaks protocol \(ProtocolVersion.minimum)–\(ProtocolVersion.current)")
        }
        guard let replicaID = ReplicaID(bytes: request.replica) else { throw WireError(.invalidId, "replica id is 16 bytes") }
        // The hub stamps its own writes with its id: a replica claiming it would break the
        // uniqueness of stamps (merge-semantics.md §2).
        guard replicaID != hubReplica else { throw WireError(.replicaNotYours, "this replica id is the hub's own") }
        // Registration and last-seen are bookkeeping: a push saves the row durably with its batch.
        try store.bookkeeping {
            if var row = try store.replica(replicaID) {
                guard row.user == user.name else { throw WireError(.replicaNotYours, "this replica belongs to another user") }
                row.lastSeenMilliseconds = now
                row.protocolVersion = version
                try store.saveReplica(row)
            } else {
                try store.saveReplica(ReplicaRow(id: replicaID, user: user.name, lastBatch: 0, ack: 0, lastSeenMilliseconds: now, pullToken: 0,
                                                 protocolVersion: version))
            }
        }
        var response = HandshakeResponse()
        response.version = version
        response.workspaceVersion = workspace.version
        response.user = user.name
        response.role = user.role
        response.hub = Data(hubID.bytes)
        response.hubTime = now
        response.head = try store.head()
        response.lastBatch = try store.replica(replicaID)?.lastBatch ?? 0
        if request.workspaceVersion < workspace.version, let (_, document) = try store.workspace() {
            response.workspace = Data(document.utf8)
        }
        return response
    }

    private func ownReplica(_ bytes: Data, user: HubUser) throws -> ReplicaRow {
        guard let id = ReplicaID(bytes: bytes) else { throw WireError(.invalidId, "replica id is 16 bytes") }
        guard let row = try store.replica(id) else { throw WireError(.handshakeRequired, "handshake before pushing or pulling") }
        guard row.user == user.name else { throw WireError(.replicaNotYours, "this replica belongs to another user") }
        return row
    }

    // MARK: Push

    /// `received`: the request's protobuf bytes as they came (nil when it came as JSON, or from
    /// a caller that has only the message); its idempotency digest is taken over them.
    public func push(user: HubUser, request: PushRequest, received: [UInt8]? = nil, activity: inout HubActivity) throws -> PushResponse {
        try store.transaction { try applyPush(user: user, request: request, received: received, activity: &activity) }
    }

    /// Group commit: the pushes that queued up while the last commit waited for the disk, in one
    /// transaction and one fsync. Each push runs in its own savepoint, in order, seeing the ones
    /// before it; one that fails is undone alone and fails alone. If the commit itself fails,
    /// every push fails and nothing of any is kept.
    public func push(group: [(user: HubUser, request: PushRequest, received: [UInt8]?)]) -> [Result<(PushResponse, HubActivity), any Error>] {
        var results = [Result<(PushResponse, HubActivity), any Error>]()
        do {
            try store.transaction {
                for (user, request, received) in group {
                    var activity = HubActivity()
                    do {
                        let response = try store.savepoint { try applyPush(user: user, request: request, received: received, activity: &activity) }
                        results.append(.success((response, activity)))
                    } catch let lost as SavepointLost {
                        throw lost  // part of a failed push would commit with the others: none may
                    } catch {
                        results.append(.failure(error))
                    }
                }
            }
        } catch {
            return group.map { _ in .failure(error) }
        }
        return results
    }

    /// One push's checks and decisions, inside the caller's transaction.
    func applyPush(user: HubUser, request: PushRequest, received: [UInt8]?, activity: inout HubActivity) throws -> PushResponse {
        guard request.writes.count <= configuration.maxBatchWrites else {
            throw WireError(.batchTooLarge, "at most \(configuration.maxBatchWrites) writes per batch")
        }
        var replica = try ownReplica(request.replica, user: user)
        if request.workspaceVersion > workspace.version {
            throw WireError(.workspaceOutdated, "the batch names workspace \(request.workspaceVersion); the hub has \(workspace.version)")
        }
        // Over the bytes as received when it came as protobuf (sync-protocol.md §5.2): encoding
        // the decoded message again for its digest was 8 % of a push.
        let digest = SHA256.hash(received ?? BodyCodec.encode(request, as: .protobuf))
        if request.batch <= replica.lastBatch {
            guard let stored = try store.batch(replica: replica.id, number: request.batch), stored.digest == digest else {
                throw WireError(.batchMismatch, "batch \(request.batch) was already applied with different writes")
            }
            var response = try BodyCodec.decode(PushResponse.self, from: stored.response, as: .protobuf)
            response.replayed = true
            activity.replayed = true
            return response
        }
        guard request.batch == replica.lastBatch + 1 else {
            throw WireError(.batchOutOfOrder, "expected batch \(replica.lastBatch + 1), got \(request.batch)")
        }
        let items = try BatchCoding.decode(request, author: user.name, workspace: workspace).items
        try refreshDirectory()
        let actor = Actor(user: user.name, role: user.role)
        let hubTime = now
        var apply = BatchApplication(engine: self, hubTime: hubTime)
        var results = [WriteResult]()
        results.reserveCapacity(items.count)
        for item in items {
            let result = try apply.decide(item, actor: actor)
            activity.outcomes[result.outcome.coreOutcome ?? .rejected, default: 0] += 1
            results.append(result)
        }
        try apply.flush()
        var response = PushResponse()
        response.batch = request.batch
        response.results = results
        response.head = try store.head()
        try store.saveBatch(replica: replica.id, number: request.batch, digest: digest, response: BodyCodec.encode(response, as: .protobuf))
        replica.lastBatch = request.batch
        replica.lastSeenMilliseconds = hubTime
        try store.saveReplica(replica)
        return response
    }

    /// The decisions of one batch, inside its transaction: records are cached and written once.
    struct BatchApplication {
        let engine: HubEngine
        let hubTime: Int64
        var records: [RecordID: Record?] = [:]
        var dirty: [RecordID] = []
        var head: UInt64 = 0

        init(engine: HubEngine, hubTime: Int64) {
            self.engine = engine
            self.hubTime = hubTime
            workspace = engine.workspace
        }

        var store: any HubStorage { engine.store }
        /// One copy per batch: read through the engine, every use copied the whole struct.
        let workspace: Workspace

        mutating func record(_ id: RecordID) throws -> Record? {
            if let cached = records[id] { return cached }
            let r = try store.record(id, workspace: workspace)
            records[id] = r
            return r
        }

        mutating func nextSequence() throws -> UInt64 {
            if head == 0 { head = try store.head() }
            head += 1
            return head
        }

        mutating func put(_ record: Record) throws {
            records[record.id] = record
            if dirtySet.insert(record.id).inserted { dirty.append(record.id) }
            // A membership change changes a team; memberships are written through to the store
            // at once so later writes of the batch see the new team.
            if record.entity == "membership" {
                teams.removeAll()
                relationCache.removeAll()
                try store.saveRecord(record, workspace: workspace)
            }
            // Which accounts a user sees follows the deals and teams: found again after a change.
            if !referencedVisible.isEmpty, record.entity == "membership" || workspace.entity(record.entity)?.stageField != nil {
                referencedVisible.removeAll()
            }
        }

        var dirtySet = Set<RecordID>()

        mutating func flush() throws {
            for id in dirty { if let r = records[id] ?? nil { try store.saveRecord(r, workspace: workspace) } }
        }

        /// Teams looked up once per record per batch (a batch usually edits few deals many times).
        var teams: [RecordID: Set<UserName>] = [:]

        mutating func relations(of user: UserName, to record: Record) throws -> Set<Relation> {
            // A batch writes many fields of few records: the relations hold until the owner or a
            // team changes (a membership write clears `teams` and this cache together).
            if let cached = relationCache[record.id], cached.owner == record.owner, cached.user == user { return cached.relations }
            var team = Set<UserName>()
            if workspace.entity(record.entity)?.stageField != nil {
                if let cached = teams[record.id] { team = cached } else {
                    team = try store.team(of: record.id)
                    teams[record.id] = team
                }
            }
            let directory = engine.directory
            let relations = Workspace.relations(of: user, to: record, team: team, manages: { directory.manages(user, $0) })
            relationCache[record.id] = (user, record.owner, relations)
            return relations
        }
        var relationCache: [RecordID: (user: UserName, owner: UserName?, relations: Set<Relation>)] = [:]

        /// Whether `actor` may see `record`: the rule of the pull (VisibilitySnapshot.swift). A
        /// staged record by the role's conditions; a record hanging off a deal with that deal; an
        /// account or contact when the user created it or sees a deal that references it. A
        /// record whose parent is not set yet is its creator's alone.
        mutating func visible(_ record: Record, to actor: Actor) throws -> Bool {
            guard let entity = workspace.entity(record.entity) else { return false }
            if entity.stageField != nil {
                return workspace.isVisible(record: record, role: actor.role, relations: try relations(of: actor.user, to: record))
            }
            if let via = entity.visibleVia, case let .reference(parentID) = record[via] {
                guard let parent = try self.record(parentID) else { return false }
                return try visible(parent, to: actor)
            }
            if record.creator == actor.user { return true }
            if entity.visibleVia != nil { return false }
            if let known = referencedVisible[record.id], known.user == actor.user { return known.visible }
            // The deals written in this batch are saved at its end; the store's index has the rest.
            var seen = try records.values.contains { r in
                guard let r, workspace.entity(r.entity)?.stageField != nil, r.fields.values.contains(where: { $0.value == .reference(record.id) }) else { return false }
                return try visible(r, to: actor)
            }
            if !seen {
                let query = VisibilityQuery.make(user: actor.user, role: actor.role, workspace: workspace, directory: engine.directory)
                seen = try store.referencedByVisible(record.id, query: query)
            }
            referencedVisible[record.id] = (actor.user, seen)
            return seen
        }
        /// `24 hours`, `90 minutes`: a limit as a person reads it.
        static func duration(_ ms: Int64) -> String {
            ms % 3_600_000 == 0 ? "\(ms / 3_600_000) hours" : "\(ms / 60_000) minutes"
        }
        /// Accounts and contacts found visible (or not) through the deals referencing them, per batch.
        var referencedVisible: [RecordID: (user: UserName, visible: Bool)] = [:]

        /// The access `actor` has now to a field of `record` (or, with no field, `.read` when they
        /// see it): hidden for a record they do not see.
        mutating func access(_ actor: Actor, to record: Record, field: String?) throws -> Access {
            guard try visible(record, to: actor) else { return .hidden }
            guard let field, !field.isEmpty else { return .read }
            let rel = try relations(of: actor.user, to: record)
            return workspace.permission(actor: actor, relations: rel, record: record, entity: record.entity, field: field)
        }

        /// Whether `actor` may read what a field (or, with no field, the record) of `record`
        /// holds now: what an answer or a conflict may show them (merge-semantics.md I16).
        mutating func mayRead(_ record: Record?, field: String?, actor: Actor) throws -> Bool {
            guard let record else { return true }
            return try access(actor, to: record, field: field) != .hidden
        }

        mutating func conflict(_ record: RecordID, _ entity: String, _ field: String, outcome: Outcome, rule: RuleID, loser: FieldState,
                               winner: FieldState?, owner: UserName?) throws -> UInt64 {
            try store.addConflict(ConflictRecord(id: 0, record: record, entity: entity, field: field, outcome: outcome, rule: rule, loser: loser, winner: winner),
                                  owner: owner, hubMilliseconds: hubTime)
        }

        mutating func log(_ record: inout Record, field: String, kind: WriteKind, state: FieldState) throws -> UInt64 {
            let seq = try nextSequence()
            var s = state
            s.sequence = seq
            try store.append(LogEntry(sequence: seq, record: record.id, entity: record.entity, field: field, kind: kind, value: s.value,
                                      stamp: s.stamp, author: s.author, authority: s.authority), hubMilliseconds: hubTime)
            switch kind {
            case .create: record.created = s
            case .set: record.fields[field] = s
            case .delete: record.deleted = s
            }
            return seq
        }

        mutating func decide(_ item: BatchCoding.Item, actor: Actor) throws -> WriteResult {
            var result = WriteResult()
            switch item {
            case let .unknown(record, entity, field, rule, stamp):
                let loser = FieldState(value: .null, stamp: stamp, author: actor.user, authority: .hidden)
                result.outcome = .rejected
                result.rule = rule.rawValue
                result.detail = rule == .unknownEntity ? "unknown entity number \(entity)" : "unknown field number \(field)"
                result.conflict = try conflict(record, "#\(entity)", "#\(field)", outcome: .rejected, rule: rule, loser: loser, winner: nil, owner: nil)
                return result
            case let .write(w):
                return try decide(w, actor: actor)
            }
        }

        mutating func decide(_ w: FieldWrite, actor: Actor) throws -> WriteResult {
            // A device clock far ahead must not drag the hub's own clock (its assignment and
            // restore stamps) into the future: only clocks within a minute of the hub's count.
            if w.stamp.hlc.milliseconds <= hubTime + 60_000 { engine.clock.receive(w.stamp.hlc, physical: hubTime) }
            var record = try self.record(w.record)
            let rel = try record.map { try self.relations(of: actor.user, to: $0) } ?? []
            let context = RuleContext(workspace: workspace, actor: actor, relations: rel, record: record)
            let current: FieldState? = switch w.kind {
            case .set: record?.fields[w.field]
            case .create: record?.created
            case .delete: record?.deleted
            }
            let entity = workspace.entity(w.entity)
            // The record's entity is the write's unless the write is refused for naming another
            // (an entity is a struct of arrays: each lookup copies it).
            let recordEntity = record.map { $0.entity == w.entity ? entity : workspace.entity($0.entity) } ?? nil
            let previousStage: Value = entity?.stageField.map { record?[$0] ?? .null } ?? .null
            var decision: Decision
            // I15: a stamp far ahead of the hub's clock would win every equal-authority conflict
            // for good and falsify the stage history; it is refused (the author sees why).
            if w.stamp.hlc.milliseconds > hubTime + engine.configuration.maxClockAheadMilliseconds {
                decision = Decision(outcome: .rejected, rule: .clockAhead,
                                    detail: "this device's clock is more than \(Self.duration(engine.configuration.maxClockAheadMilliseconds)) ahead of the hub's: set it right, then sync again",
                                    winner: current, loser: FieldState(value: w.value, stamp: w.stamp, author: w.author, authority: .hidden))
            // Records that hang off another (activities, tasks) are writable only with it visible.
            } else if let r = record, recordEntity?.stageField == nil, !(try visible(r, to: actor)) {
                decision = Decision(outcome: .rejected, rule: .notVisible, detail: "the record it belongs to is not visible to this user",
                                    winner: current, loser: FieldState(value: w.value, stamp: w.stamp, author: w.author, authority: .hidden))
            } else if record != nil, w.kind == .set, case let .reference(targetEntity)? = recordEntity?.field(w.field)?.type,
                      case let .reference(target) = w.value,
                      !(try self.record(target).map { $0.entity == targetEntity && !$0.isDeleted ? try visible($0, to: actor) : false } ?? false) {
                // A reference makes its target visible to whoever sees the record (an account with
                // its deals), so it may only name a live record of the field's entity the writer
                // already sees: pointing a deal at someone else's account would reveal it.
                decision = Decision(outcome: .rejected, rule: .notVisible, detail: "\(w.field) must name a visible \(targetEntity) record",
                                    winner: current, loser: FieldState(value: w.value, stamp: w.stamp, author: w.author, authority: .hidden))
            } else if w.kind == .set, case .user? = entity?.field(w.field)?.type, case let .text(name) = w.value,
                      engine.directory.users[name] == nil {
                decision = Decision(outcome: .rejected, rule: .unknownUser, detail: "\(w.field) names no user of this hub",
                                    winner: current, loser: FieldState(value: w.value, stamp: w.stamp, author: w.author, authority: .hidden))
            } else {
                decision = resolve(current: current, incoming: w, context: context)
                // A delete naming a survivor is a merge (merge-semantics.md §7.3).
                if decision.outcome == .applied, w.kind == .delete, !w.value.isNull, let (rule, detail) = try mergeProblem(w, actor: actor) {
                    decision = Decision(outcome: .rejected, rule: rule, detail: detail, winner: current,
                                        loser: FieldState(value: w.value, stamp: w.stamp, author: w.author, authority: .hidden))
                }
            }
            // I16: the answer carries the value that holds only to a writer who may read it: a
            // refused write to a hidden field or an unseen record learns the rule, not the value.
            let readable = try decision.outcome.holds || mayRead(record, field: w.kind == .set ? w.field : nil, actor: actor)
            if !readable {
                decision.winner = nil
                if try !mayRead(record, field: nil, actor: actor) { decision.detail = "the record is not visible to this user" }
            }
            var result = WriteResult()
            result.outcome = WireOutcome(decision.outcome)
            result.rule = decision.rule.rawValue
            result.detail = decision.detail
            switch decision.outcome {
            case .applied, .won:
                guard let winner = decision.winner else { break }
                if w.kind == .create {
                    var fresh = Record(id: w.record, entity: w.entity, created: winner)
                    result.sequence = try log(&fresh, field: "", kind: .create, state: winner)
                    for (field, value) in workspace.initialFields(of: w, role: actor.role) {
                        _ = try log(&fresh, field: field, kind: .set, state: FieldState(value: value, stamp: w.stamp, author: w.author, authority: .own))
                    }
                    record = fresh
                } else if var r = record {
                    result.sequence = try log(&r, field: w.field, kind: w.kind, state: winner)
                    record = r
                }
                if let r = record { try put(r) }
                result.winner = WireValue(winner.value)
                if decision.outcome == .won, let displaced = decision.loser {
                    result.conflict = try conflict(w.record, w.entity, w.field, outcome: .lost, rule: decision.rule, loser: displaced, winner: winner, owner: record?.owner)
                }
                if var r = record {
                    // Applied or won only through `resolve`, which refuses a write naming another entity than its record's.
                    try derive(after: w, on: &r, entity: entity, previousStage: previousStage, sequence: result.sequence, actor: actor)
                }
            case .lost, .rejected, .proposal:
                // Present (an empty Value when nothing holds) to a reader who may read it; absent
                // only when withheld (I16), so a client can tell "not shown" from "empty".
                if readable { result.winner = WireValue(decision.winner?.value ?? .null) }
                if let loser = decision.loser {
                    result.conflict = try conflict(w.record, w.entity, w.field, outcome: decision.outcome, rule: decision.rule, loser: loser,
                                                   winner: decision.winner, owner: record?.owner)
                }
            case .duplicate:
                if readable { result.winner = WireValue(decision.winner?.value ?? .null) }
            }
            return result
        }

        // MARK: Effects the hub derives (merge-semantics.md §7)

        /// A stamp for a write the hub makes itself.
        mutating func systemStamp() -> Stamp {
            Stamp(hlc: engine.clock.tick(physical: hubTime), replica: engine.hubReplica)
        }

        /// Sets a field as the hub (or, for an approved request, as the approver) and logs it.
        mutating func write(_ record: inout Record, _ field: String, _ value: Value, author: UserName = HubEngine.systemAuthor,
                            authority: Access = .own) throws {
            _ = try log(&record, field: field, kind: .set, state: FieldState(value: value, stamp: systemStamp(), author: author, authority: authority))
        }

        /// What follows from an applied write: the stage history, the hand-off assignment, an
        /// approval request becoming pending, an approval decision taking effect.
        mutating func derive(after w: FieldWrite, on record: inout Record, entity: Entity?, previousStage: Value, sequence: UInt64, actor: Actor) throws {
            guard let entity else { return }
            // The creation records the initial stage itself (its stamp and value); later moves
            // go into the stage log.
            if let sf = entity.stageField, w.kind == .set, w.field == sf, record[sf] != previousStage {
                try recordStageChange(of: &record, at: w.stamp.hlc.milliseconds, by: w.author)
                try assignIfHandedOff(&record)
                try put(record)
            }
            if let ap = workspace.approvals, ap.requests == entity.name, w.kind == .set {
                try approvalEffects(&record, write: w, actor: actor, approvals: ap)
            }
            if w.kind == .delete, case let .reference(survivor) = w.value { try repoint(from: record.id, to: survivor, author: actor.user) }
        }

        /// Why a merge's survivor cannot take the deleted record's place, or nil (§7.3).
        mutating func mergeProblem(_ w: FieldWrite, actor: Actor) throws -> (RuleID, String)? {
            guard case let .reference(target) = w.value, target != w.record else { return (.typeMismatch, "a merge names another record to keep") }
            guard let survivor = try record(target), !survivor.isDeleted, survivor.entity == w.entity else {
                return (.typeMismatch, "a merge names a live \(w.entity) to keep")
            }
            guard try visible(survivor, to: actor) else { return (.notVisible, "the \(w.entity) to keep is not visible to this user") }
            return nil
        }

        /// A merge's effect (§7.3): every reference to the deleted record, in any record, now
        /// names the survivor — written by the merging user, so the trail says who.
        mutating func repoint(from deleted: RecordID, to survivor: RecordID, author: UserName) throws {
            // Deals through the refs index; other entities with a reference to the merged one's
            // entity (contacts of an account) by a scan: merges are rare.
            var sources = try Set(store.referencing(deleted))
            if let merged = try record(deleted)?.entity {
                for e in workspace.entities where e.stageField == nil && e.fields.contains(where: { $0.type == .reference(entity: merged) }) {
                    sources.formUnion(try store.liveRecords(entity: e.name))
                }
            }
            for case let (id, r?) in records where r.fields.values.contains(where: { $0.value == .reference(deleted) }) { sources.insert(id) }
            for id in sources.sorted() {
                guard var source = try record(id), !source.isDeleted, let entity = workspace.entity(source.entity) else { continue }
                var changed = false
                for f in entity.fields where source[f.name] == .reference(deleted) {
                    try write(&source, f.name, .reference(survivor), author: author)
                    changed = true
                }
                if changed { try put(source) }
            }
        }

        /// Appends the deal's stage change to its stage log (`StageLog`): the device time of the
        /// write that moved it and who. Reports compute time in stage, the funnel and follow-up
        /// speed from it, so offline work counts when it was done.
        mutating func recordStageChange(of deal: inout Record, at milliseconds: Int64, by author: UserName) throws {
            guard let field = workspace.stageHistory, let sf = workspace.entity(deal.entity)?.stageField, case let .member(stage) = deal[sf] else { return }
            try write(&deal, field, StageLog.appending(deal[field], at: milliseconds, stage: stage, by: author))
        }

        /// The requested value's canonical text (empty: clear the field), read the same way when
        /// the request is checked and when it is applied.
        static func requestedText(_ state: FieldState) -> String {
            if case let .text(t) = state.value { return t }
            return ""
        }

        /// Approval requests (DOMAIN.md approvals). A request is complete once its target,
        /// field and value are written by its creator: the hub checks it names a field of the
        /// deal (or of a record hanging off it), marks it pending and, for threshold kinds,
        /// sets the deal's approval state to pending, which locks its commercial fields. An
        /// approver's decision is applied here: approved → the value is written as the
        /// approver; rejected → the requester gets a conflict record with the value.
        mutating func approvalEffects(_ request: inout Record, write w: FieldWrite, actor: Actor, approvals ap: Approvals) throws {
            guard case let .reference(dealID) = request["opportunity"], var deal = try self.record(dealID) else { return }
            if request["state"].isNull, w.field != "state", w.author == request.creator {
                guard case .text = request["target"], case .text = request["field"], request.fields["value"] != nil else { return }
                if case let .failure(problem) = try requested(request, deal: deal, approver: nil) {
                    try write(&request, "state", .member("rejected"))
                    try write(&request, "note", .text("invalid request: " + problem.message))
                } else {
                    try write(&request, "state", .member("pending"))
                    if ap.locks(kind: request["kind"]), workspace.entity(deal.entity)?.field(ap.stateField) != nil {
                        try write(&deal, ap.stateField, .member("pending"))
                        try put(deal)
                    }
                }
                try put(request)
                return
            }
            guard w.field == "state", ap.approvers.contains(actor.role), case var .member(decision) = request["state"],
                  decision == "approved" || decision == "rejected" else { return }
            try write(&request, "decided_by", .text(actor.user))
            var target: Record?
            switch try requested(request, deal: deal, approver: actor) {
            case let .success(r):
                target = r.target
                if decision == "approved" {
                    var t = r.target
                    let targetEntity = workspace.entity(t.entity)
                    let before = targetEntity?.stageField.map { t[$0] } ?? .null
                    // What it carries alongside first: a stage move then finds its gate met.
                    for (name, v) in r.also { try write(&t, name, v, author: actor.user, authority: .override) }
                    try write(&t, r.field, r.value, author: actor.user, authority: .override)
                    if r.field == targetEntity?.stageField, r.value != before {
                        try recordStageChange(of: &t, at: w.stamp.hlc.milliseconds, by: actor.user)
                        try assignIfHandedOff(&t)
                    }
                    try put(t)
                    target = t
                } else {
                    let requester = request.creator
                    for (name, v) in [(r.field, r.value)] + r.also {
                        let loser = FieldState(value: v, stamp: request.fields["value"]?.stamp ?? w.stamp, author: requester, authority: .propose)
                        _ = try conflict(r.target.id, r.target.entity, name, outcome: .rejected, rule: .approvalRejected, loser: loser,
                                         winner: r.target.fields[name], owner: deal.owner)
                    }
                }
            case let .failure(problem):
                // What the approver approved can no longer be written as it was asked (I13): the
                // request is rejected on the record, and the approver's decision is kept as their
                // conflict, so neither is lost.
                if decision == "approved", let decided = request.fields["state"] {
                    try write(&request, "state", .member("rejected"))
                    _ = try conflict(request.id, request.entity, "state", outcome: .rejected, rule: .requestInvalid, loser: decided,
                                     winner: request.fields["state"], owner: deal.owner)
                    decision = "rejected"
                }
                try write(&request, "note", .text("not applied: " + problem.message))
            }
            try put(request)
            if ap.locks(kind: request["kind"]), workspace.entity(deal.entity)?.field(ap.stateField) != nil {
                if let target, target.id == deal.id { deal = target }
                try write(&deal, ap.stateField, .member(decision))
                try put(deal)
            }
        }

        /// What an approval request asks for, checked as when it was made and again when it is
        /// decided (DOMAIN.md approvals; merge-semantics.md I13): a live target that is the deal
        /// or hangs off it, with every write-once field set; a field of it; a value of that
        /// field's type; a requester — and, deciding, an approver — who may still act on that
        /// record and field (see it, and write or propose the field).
        mutating func requested(_ request: Record, deal: Record, approver: Actor?) throws -> Result<(target: Record, field: String, value: Value, also: [(String, Value)]), ValueError> {
            guard case let .text(targetText) = request["target"], let id = RecordID(parsing: targetText),
                  let target = id == deal.id ? deal : try self.record(id), !target.isDeleted, let e = workspace.entity(target.entity) else {
                return .failure(ValueError("no such target record"))
            }
            if target.id != deal.id, e.visibleVia.map({ target[$0] }) != .reference(deal.id) {
                return .failure(ValueError("the target does not belong to the opportunity"))
            }
            if let unset = e.fields.first(where: { $0.writeOnce && target[$0.name].isNull }) {
                return .failure(ValueError("the target's \(unset.name) is not set"))
            }
            guard case let .text(fieldName) = request["field"], let f = e.field(fieldName) else {
                return .failure(ValueError("\(e.name) has no such field"))
            }
            let value: Value
            switch f.type.value(canonical: Self.requestedText(request.fields["value"] ?? FieldState(value: .null, stamp: request.created.stamp, author: "", authority: .hidden))) {
            case let .failure(err): return .failure(ValueError("\(fieldName): \(err.message)"))
            case let .success(v): value = v
            }
            if case let .text(name) = value, f.type == .user, engine.directory.users[name] == nil {
                return .failure(ValueError("\(fieldName) names no user of this hub"))
            }
            // One act, one request (DOMAIN.md: losing a deal is one request carrying its loss
            // reason): `with` holds more FIELD=VALUE lines of the same target, applied with it.
            var also = [(String, Value)]()
            let withText = request.fields["with"].map(Self.requestedText) ?? ""
            for line in withText.split(separator: "\n", omittingEmptySubsequences: true) {
                guard let eq = line.firstIndex(of: "="), let g = e.field(String(line[..<eq])), g.name != fieldName, g.name != e.stageField,
                      !also.contains(where: { $0.0 == g.name }) else {
                    return .failure(ValueError("with: \"\(line.prefix(40))\" is not another field of the target"))
                }
                switch g.type.value(canonical: String(line[line.index(after: eq)...])) {
                case let .failure(err): return .failure(ValueError("\(g.name): \(err.message)"))
                case let .success(v):
                    if case let .text(name) = v, g.type == .user, engine.directory.users[name] == nil {
                        return .failure(ValueError("\(g.name) names no user of this hub"))
                    }
                    also.append((g.name, v))
                }
            }
            // Deciding: an approved stage move passes the stage gates as the approver would, with
            // what the request sets alongside it.
            if let approver, fieldName == e.stageField, case let .member(stage) = value {
                var after = target
                for (name, v) in also { after.fields[name] = FieldState(value: v, stamp: request.created.stamp, author: approver.user, authority: .override) }
                if let refusal = workspace.stageMoveRefusal(of: after, to: stage, role: approver.role) { return .failure(ValueError(refusal)) }
            }
            var deciders = [request.creator]
            if let approver { deciders.append(approver.user) }
            for user in deciders {
                guard let u = engine.directory.users[user] else { return .failure(ValueError("\(user) is no longer a user of this hub")) }
                for name in [fieldName] + also.map(\.0) {
                    switch try access(Actor(user: user, role: u.role), to: target, field: name) {
                    case .hidden, .read: return .failure(ValueError("\(user) may no longer change \(name) of that record"))
                    default: break
                    }
                }
            }
            return .success((target, fieldName, value, also))
        }

        /// The hand-off: a lead that reached the hand-off stage with no owner gets a rep by the
        /// workspace's assignment rule (round-robin within the territory, skipping reps at
        /// capacity). The hub writes the owner itself, on the record, as the system author.
        mutating func assignIfHandedOff(_ record: inout Record) throws {
            guard let handoff = workspace.handoff, let rule = workspace.assignment,
                  let sf = workspace.entity(record.entity)?.stageField, record[sf] == .member(handoff.to), record.owner == nil else { return }
            let territory: String? = if case let .text(t) = record["territory"], !t.isEmpty { t } else { nil }
            var reps = try store.users().filter { $0.role == rule.role && !$0.disabled }
            if rule.within == "territory", let territory {
                let local = reps.filter { $0.territory == territory }
                if !local.isEmpty { reps = local }
            }
            reps.sort { $0.name < $1.name }
            let closed = Set(workspace.stages.filter(\.closed).map(\.name))
            let key = "assign.last." + (territory ?? "*")
            let last = try store.meta(key)
            let start = reps.firstIndex { last != nil && $0.name > last! } ?? 0
            var chosen: HubUser?
            for i in 0..<reps.count {
                let rep = reps[(start + i) % reps.count]
                if rule.skipAtCapacity, let cap = rep.capacity, try store.openRecords(owner: rep.name, closedStages: closed) >= cap { continue }
                chosen = rep
                break
            }
            guard let rep = chosen else { return }  // everyone at capacity: the lead waits, unassigned
            try store.setMeta(key, rep.name)
            let stamp = Stamp(hlc: engine.clock.tick(physical: hubTime), replica: engine.hubReplica)
            _ = try log(&record, field: "owner", kind: .set, state: FieldState(value: .text(rep.name), stamp: stamp, author: HubEngine.systemAuthor, authority: .own))
        }
    }

    // MARK: Pull

    /// Which fields of a record a user sees, as a number that changes when that set changes.
    func signature(role: String, relations: Set<Relation>, stage: String?, entity: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        func mix(_ s: String) { for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 } ; h = (h ^ 0xFF) &* 0x0000_0100_0000_01B3 }
        mix(entity)
        mix(role)
        mix(stage ?? "")
        for r in Relation.allCases where relations.contains(r) { mix(r.rawValue) }
        return h
    }

    /// The record as `actor` may see it: fields the matrix hides are left out. The record is
    /// known to be visible; access is worked out once per field group, not per field.
    func filtered(_ record: Record, actor: Actor, relations: Set<Relation>) -> Record {
        let hidden = hiddenFields(of: record, actor: actor, relations: relations)
        if hidden.isEmpty { return record }
        var r = record
        for name in hidden { r.fields[name] = nil }
        return r
    }

    /// The fields of `record` the matrix hides from `actor`, for every entity: a record hanging
    /// off a deal or an account has field groups too (an approval's requested value is hidden
    /// from a role that may not read it).
    func hiddenFields(of record: Record, actor: Actor, relations: Set<Relation>) -> Set<String> {
        guard let entity = workspace.entity(record.entity) else { return [] }
        var stage: String?
        if let sf = entity.stageField, case let .member(st) = record[sf] { stage = st }
        return workspace.hiddenFields(entity: record.entity, stage: stage, actor: actor, relations: relations)
    }

    /// The same from a record's indexed columns, once per visibility signature (which names the
    /// entity, role, stage and relations it depends on).
    func hiddenFields(_ id: RecordID, _ c: RecordColumns, signature: UInt64?, actor: Actor, relations: (RecordID, RecordColumns) -> Set<Relation>,
                      cache: inout [UInt64: Set<String>]) -> Set<String> {
        if let signature, let known = cache[signature] { return known }
        let hidden = workspace.hiddenFields(entity: c.entity, stage: c.stage, actor: actor, relations: relations(id, c))
        if let signature { cache[signature] = hidden }
        return hidden
    }

    /// Exactly what a replica of `user` must hold after a complete sync: the records the user
    /// may see, without the fields the matrix hides. The simulator and operators check replicas
    /// against it.
    public func visibleState(for user: HubUser) throws -> [Record] {
        try refreshDirectory()
        let actor = Actor(user: user.name, role: user.role)
        let query = VisibilityQuery.make(user: user.name, role: user.role, workspace: workspace, directory: directory)
        var out = [Record]()
        for id in try store.records(visibleTo: query) {
            guard let record = try store.record(id, workspace: workspace) else { continue }
            let staged = workspace.entity(record.entity)?.stageField != nil
            let relations = Workspace.relations(of: user.name, to: record, team: staged ? try store.team(of: id) : [], manages: { directory.manages(user.name, $0) })
            out.append(filtered(record, actor: actor, relations: relations))
        }
        return out
    }

    public func pull(user: HubUser, request: PullRequest, activity: inout HubActivity) throws -> PullResponse {
        // One pull must not stall everyone's syncs: 400,000 ids to forget took 4.6 s.
        guard request.forget.count <= ProtocolLimits.maxForget else {
            throw WireError(.batchTooLarge, "at most \(ProtocolLimits.maxForget) records to forget per pull: re-sync from 0 instead")
        }
        var replica = try ownReplica(request.replica, user: user)
        try refreshDirectory()
        // Protocol 3 (sync-protocol.md §6.1): a replica on an older workspace would get fields
        // and rules it does not know; it handshakes (and migrates) first. 0: a version-1/2 client.
        if request.workspaceVersion != 0, request.workspaceVersion < workspace.version {
            throw WireError(.workspaceOutdated, "the pull names workspace \(request.workspaceVersion); the hub has \(workspace.version): handshake again")
        }
        let actor = Actor(user: user.name, role: user.role)
        let maxChanges = request.maxChanges == 0 ? configuration.maxPageChanges : min(Int(request.maxChanges), configuration.maxPageChanges)
        let maxBytes = request.maxBytes == 0 ? configuration.maxPageBytes : min(Int(request.maxBytes), configuration.maxPageBytes)
        let hubTime = now
        var newKnown: KnownState?
        // A pull writes only bookkeeping a replica can rebuild: no fsync per pull.
        let response = try store.bookkeeping {
            let head = try store.head()
            guard request.cursor <= head else {
                throw WireError(.cursorAhead, "cursor \(request.cursor) is beyond the hub's head \(head): re-sync from 0")
            }
            if request.cursor > 0, let compacted = try store.meta("compacted_through").flatMap(UInt64.init), request.cursor < compacted {
                throw WireError(.cursorExpired, "the log before \(compacted) was compacted: re-sync from 0")
            }
            // What the replica holds: pages up to the echoed token were received. A restart from
            // nothing (cursor 0) echoes the last token the replica received; one echoing a token
            // older than the answer to the last honoured restart is a late copy and must not wipe
            // what the replica has acknowledged since (sync-protocol.md §6.1).
            let restart = request.cursor == 0 && request.token >= replica.resetToken
            if restart {
                try store.resetKnown(replica: replica.id)
            } else if request.token > 0 && request.token <= replica.pullToken {
                try store.acknowledge(replica: replica.id, token: request.token)
            } else {
                try store.acknowledge(replica: replica.id, token: 0)
            }
            let forget = request.forget.compactMap { RecordID(bytes: $0) }
            if !forget.isEmpty { try store.forget(replica: replica.id, records: forget) }
            let token = replica.pullToken + 1
            // What the replica holds, as of the last pull: taken out of the cache and put back only
            // when this pull commits.
            var knownState = knownCache.removeValue(forKey: replica.id)
            if knownState?.advance(restart: restart, token: request.token, pullToken: replica.pullToken, forget: forget) == false { knownState = nil }
            if knownState == nil { knownState = KnownState(records: try store.known(replica: replica.id), trackedFrom: token) }
            if configuration.verifySnapshots, try knownState!.records != store.known(replica: replica.id) {
                throw WireError(.internal, "the known-records cache of a replica of \(user.name) differs from the store")
            }
            // A pipelined request (sync-protocol.md §6.1): the replica is applying the page this
            // hub answered last; build this one as if it held that page's records. Anything else
            // named as received (a late copy, a page from before a restart) is ignored.
            var inFlight = [RecordID: UInt64?]()
            if request.received > request.token, !restart, let page = knownState!.lastPage, page.token == request.received {
                for (id, signature) in page.own { inFlight[id] = signature }
            }
            // What the user may see, kept per user and brought forward over the log since.
            let snapshot = try self.snapshot(for: user, head: head)
            let visible = snapshot.visible
            let known = knownState!.records
            let myTeams = snapshot.myTeams
            let columns = snapshot.columns
            let signatures = snapshot.signatures
            func relations(_ id: RecordID, _ c: RecordColumns) -> Set<Relation> {
                self.relations(id, c, user: user.name, myTeams: myTeams)
            }
            let workspace = self.workspace  // one copy, not one per field (it is a struct of arrays)
            let compactEntered = replica.protocolVersion >= 2
            let numbering = WireNumbering(workspace)
            var response = PullResponse()
            var authors = [String: UInt32]()
            var replicas = [ReplicaID: UInt32]()
            func authorIndex(_ a: String) -> UInt32 {
                if let i = authors[a] { return i }
                let i = UInt32(authors.count)
                authors[a] = i
                response.authors.append(a)
                return i
            }
            func replicaIndex(_ r: ReplicaID) -> UInt32 {
                if let i = replicas[r] { return i }
                let i = UInt32(replicas.count)
                replicas[r] = i
                response.replicas.append(Data(r.bytes))
                return i
            }
            // `record` empty and `named` false: a whole record's field (protocol 2 leaves out the
            // record and entity its state names, sync-protocol.md §6.2).
            func change(record: Data, entity: WireNumbering.EntityNumbers?, named: Bool = true, field: String, kind: WriteKind, sequence: UInt64,
                        value: Value, stamp: Stamp, author: String, authority: Access) -> WireChange {
                var c = WireChange()
                c.sequence = sequence
                c.record = record
                c.entity = named ? entity?.number ?? 0 : 0
                c.field = kind == .create ? 0 : entity?.fieldNumbers[field] ?? 0
                c.kind = WireWriteKind(kind)
                if !value.isNull { c.value = WireValue(value) }
                c.hlc = stamp.hlc.rawValue
                c.replica = replicaIndex(stamp.replica)
                c.author = authorIndex(author)
                c.authority = UInt32(authority.rawValue)
                return c
            }
            func change(_ e: LogEntry) -> WireChange {
                change(record: Data(e.record.bytes), entity: numbering.entity(e.entity), field: e.field, kind: e.kind, sequence: e.sequence,
                       value: e.value, stamp: e.stamp, author: e.author, authority: e.authority)
            }
            // Fields hidden from this user, per (entity, stage, relations) — what a signature names.
            var hiddenBySignature = [UInt64: Set<String>]()
            var staged = [(RecordID, UInt64?)]()
            var bytes = 0
            var more = false

            // 1–2. Records that left the user's visibility, and records that entered it (or whose
            // visible fields changed) — those whole, as of now — in id order until the page is full.
            var enteredNow = Set<RecordID>()
            var deletions = [WireChange]()
            let enteredLimit = min(configuration.maxEnteredPerPage, maxChanges)
            let walk = try walkDifferences(known: knownState!, inFlight: inFlight, snapshot: snapshot, user: user) { id, difference in
                switch difference {
                case .left:
                    guard response.left.count + deletions.count < maxChanges else { return false }
                    // Deletion is not leaving (merge-semantics.md §7.2): a replica that held a
                    // deleted record gets the delete itself, so it can tell the two apart.
                    if let record = try store.record(id, workspace: workspace), let d = record.deleted {
                        deletions.append(change(record: Data(id.bytes), entity: numbering.entity(record.entity), field: "", kind: .delete,
                                                sequence: d.sequence, value: .null, stamp: d.stamp, author: d.author, authority: d.authority))
                        bytes += 40
                    } else {
                        response.left.append(Data(id.bytes))
                        bytes += 18
                    }
                    staged.append((id, nil))
                case .entering:
                    guard enteredNow.count < enteredLimit, bytes < maxBytes else { return false }
                    guard let record = try store.record(id, workspace: workspace), let c = columns[id] else { return true }
                    let hidden = hiddenFields(id, c, signature: signatures[id], actor: actor, relations: relations, cache: &hiddenBySignature)
                    let data = Data(id.bytes)
                    let numbers = numbering.entity(record.entity)
                    var state = WireRecordState()
                    state.record = data
                    state.entity = numbers?.number ?? 0
                    let created = record.created
                    state.fields.reserveCapacity(record.fields.count + 1)
                    // Protocol 2: about a third of a field's bytes are the record and entity again.
                    let fieldRecord = compactEntered ? Data() : data
                    state.fields.append(change(record: fieldRecord, entity: numbers, named: !compactEntered, field: "", kind: .create, sequence: created.sequence,
                                               value: created.value, stamp: created.stamp, author: created.author, authority: created.authority))
                    for (name, s) in record.fields.sorted(by: { $0.value.sequence < $1.value.sequence }) where !hidden.contains(name) {
                        state.fields.append(change(record: fieldRecord, entity: numbers, named: !compactEntered, field: name, kind: .set, sequence: s.sequence,
                                                   value: s.value, stamp: s.stamp, author: s.author, authority: s.authority))
                    }
                    bytes += 40 + state.fields.count * 24
                    response.entered.append(state)
                    enteredNow.insert(id)
                    staged.append((id, signatures[id]))
                }
                return true
            }
            if walk.stopped { more = true }
            knownState!.diffed = (snapshot.generation, snapshot.head)
            knownState!.mismatch = walk.mismatch
            knownState!.dirty = []

            // 3. Changes after the cursor to records the replica holds (and keeps holding).
            // A replica starting from nothing holds nothing: every record it may see comes whole
            // (entered) as of now, so there is no log to scan (a cold sync would otherwise read
            // the whole log on its first page).
            var cursor = request.cursor == 0 ? head : request.cursor
            /// Whether an entry goes to this replica: a record it holds as the user sees it now
            /// (not sent whole on this page), a field the matrix does not hide from the user.
            func wanted(_ e: LogEntry) -> Bool {
                let held = inFlight[e.record] ?? known[e.record]
                guard visible.contains(e.record), !enteredNow.contains(e.record), held == signatures[e.record] else { return false }
                if e.kind == .set, let c = columns[e.record],
                   hiddenFields(e.record, c, signature: signatures[e.record], actor: actor, relations: relations, cache: &hiddenBySignature).contains(e.field) {
                    return false
                }
                return true
            }
            /// The wanted entries of `entries` (in sequence order) a page holding `count` changes
            /// and `size` bytes still takes: those, its size after them, the last entry looked at,
            /// and whether the page filled before the end.
            func select(_ entries: [StoredLogEntry], count: Int, size: Int) -> (taken: [LogEntry], size: Int, last: UInt64?, filled: Bool) {
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
            func take(_ entries: [StoredLogEntry]) -> Bool {
                let s = select(entries, count: response.changes.count, size: bytes)
                response.changes += s.taken.map(change)
                bytes = s.size
                if let last = s.last { cursor = last }
                return !s.filled
            }
            // Only records the replica holds can have changes for it, and the snapshot knows
            // which records changed since the cursor: reading just their entries keeps a pull's
            // cost to what concerns the replica (a scan of the whole log since the cursor is
            // O(the team's writes) per pull: 1,000 replicas syncing every 10 s read 1,000
            // entries each). When the snapshot cannot tell, or most of the log is relevant, scan.
            if cursor < head, let changed = snapshot.changes(since: cursor),
               case let relevant = changed.filter({ visible.contains($0) && !enteredNow.contains($0) && (known[$0] != nil || inFlight[$0] != nil) }),
               UInt64(relevant.count) * 4 < head - cursor {
                let from = cursor, bytesBefore = bytes
                let entries = relevant.isEmpty ? [] : try store.log(records: relevant.sorted(), after: cursor, limit: maxChanges + 1)
                // All of them read (the query's limit not reached) and taken: nothing is left before the head.
                if take(entries) && entries.count <= maxChanges { cursor = head } else { more = true }
                if configuration.verifySnapshots {
                    // A scan of the whole log must take the same entries (this page may stop sooner).
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
                    let got = response.changes.map(\.sequence)
                    guard taken.starts(with: got), more || taken.count == got.count else {
                        throw WireError(.internal, "the changes for a replica of \(user.name) differ from a scan of the log (\(got.count) vs \(taken.count))")
                    }
                }
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
            response.cursor = cursor
            // A deleted record has no entries after its delete (I9), so a delete never comes
            // between entries of its own record: merged in, the changes stay in sequence order.
            if !deletions.isEmpty { response.changes = (deletions + response.changes).sorted { $0.sequence < $1.sequence } }

            // 4. Conflicts concerning the user.
            // Who concerns the user is a walk over the whole directory: only when there is a conflict to look at.
            let conflicts: [StoredConflict]
            if try store.conflictHead() > request.conflictCursor {
                let concerning = Set(directory.users.keys.filter { directory.manages(user.name, $0) }).union([user.name])
                conflicts = try store.conflicts(after: request.conflictCursor, concerning: concerning, author: user.name, limit: 500)
            } else {
                conflicts = []
            }
            response.conflictCursor = request.conflictCursor
            for stored in conflicts {
                let c = stored.conflict
                var w = WireConflict()
                w.id = c.id
                w.record = Data(c.record.bytes)
                w.entity = workspace.entity(c.entity)?.number ?? 0
                w.field = workspace.entity(c.entity)?.field(c.field)?.number ?? 0
                w.outcome = WireOutcome(c.outcome)
                w.rule = c.rule.rawValue
                // I16: values only to whom may read them now — the loser its own value, anyone
                // else (the winner, a manager) a field of a record they see that is not hidden.
                let readable = visible.contains(c.record) && (c.field.isEmpty || columns[c.record].map {
                    !hiddenFields(c.record, $0, signature: signatures[c.record], actor: actor, relations: relations, cache: &hiddenBySignature).contains(c.field)
                } ?? false)
                if !c.loser.value.isNull, readable || c.loser.author == user.name { w.value = WireValue(c.loser.value) }
                w.author = authorIndex(c.loser.author)
                w.hlc = c.loser.stamp.hlc.rawValue
                // Present (empty when nothing holds) to a reader who may read it; absent when withheld.
                if readable { w.winner = WireValue(c.winner?.value ?? .null) }
                if let winner = c.winner { w.winnerAuthor = authorIndex(winner.author) }
                w.hubTime = stored.hubMilliseconds
                response.conflicts.append(w)
                response.conflictCursor = c.id
            }
            if conflicts.count >= 500 { more = true }

            // 5. The checkpoint, on the last page: what the replica must now hold.
            response.more = more
            response.visible = snapshot.checksum.records  // progress: what a cold sync will hold
            if !more {
                // The snapshot keeps each visible record's contribution (its stored term, or the
                // filtered record's when the user's view hides a field group).
                var checkpoint = WireCheckpoint()
                checkpoint.sequence = cursor
                checkpoint.checksum = snapshot.checksum.value
                checkpoint.records = snapshot.checksum.records
                response.checkpoint = checkpoint
            }
            // A page built on an in-flight one carries that page's own records too: the replica
            // applies pages in order, so echoing this token means it holds both (a pipelined
            // pull's last page is often the only one whose token comes back). Only the own
            // records: the page before the in-flight one was applied and echoed before this
            // request was sent, so the chain never grows.
            knownState!.lastPage = (token, staged)
            if !inFlight.isEmpty {
                let own = Set(staged.map(\.0))
                staged = inFlight.filter { !own.contains($0.key) }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } + staged
            }
            try store.stageKnown(replica: replica.id, token: token, changes: staged)
            knownState!.pending[token] = staged
            newKnown = knownState
            response.token = token
            replica.pullToken = token
            if restart { replica.resetToken = token }
            replica.ack = max(replica.ack, min(request.ack, head))
            replica.sentCursor = cursor
            replica.lastSeenMilliseconds = hubTime
            try store.saveReplica(replica)
            activity.pages += 1
            activity.changes += response.changes.count + response.entered.count
            return response
        }
        if let newKnown {
            if knownCache.count > 4096 { knownCache.removeAll() }
            knownCache[replica.id] = newKnown
        }
        return response
    }
}

/// Failures of the hub outside the protocol (setup, operator input).
public enum HubError: Error, CustomStringConvertible {
    case notInitialised
    case badWorkspace(String)
    case invalid(String)

    public var description: String {
        switch self {
        case .notInitialised: "this directory holds no hub: run opps-hub init --data DIR first"
        case let .badWorkspace(why): "the workspace is invalid:\n\(why)"
        case let .invalid(why): why
        }
    }
}
