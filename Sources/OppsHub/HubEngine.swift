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
    var clock = HybridLogicalClock()
    let hubReplica: ReplicaID
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
    public static var systemAuthor: UserName { BatchDecider<StoreReader>.systemAuthor }

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
        let workspace = self.workspace
        var decider = BatchDecider(reader: StoreReader(store: store, workspace: workspace), workspace: workspace, directory: directory, clock: clock,
                                   hubReplica: hubReplica, hubTime: hubTime, maxClockAhead: configuration.maxClockAheadMilliseconds)
        var results = [WriteResult]()
        results.reserveCapacity(items.count)
        for item in items {
            let verdict = switch item {
            case let .unknown(record, entity, field, rule, stamp):
                try decider.rejectUnknown(record: record, entityNumber: entity, fieldNumber: field, rule: rule, stamp: stamp, actor: actor)
            case let .write(w):
                try decider.decide(w, actor: actor)
            }
            try apply(decider.takeEffects(), hubTime: hubTime)
            activity.outcomes[verdict.decision.outcome, default: 0] += 1
            results.append(WriteResult(verdict))
        }
        try apply(decider.finish(), hubTime: hubTime)
        clock = decider.clock
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

    /// Applies a decider's effects to the store, in order, inside the caller's transaction.
    func apply(_ effects: [HubEffect], hubTime: Int64) throws {
        for effect in effects {
            switch effect {
            case let .append(entry): try store.append(entry, hubMilliseconds: hubTime)
            case let .conflict(c, owner):
                let id = try store.addConflict(c, owner: owner, hubMilliseconds: hubTime)
                guard id == c.id else { throw WireError(.internal, "conflict \(c.id) was stored as \(id)") }
            case let .save(record): try store.saveRecord(record, workspace: workspace)
            case let .meta(key, value): try store.setMeta(key, value)
            }
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

    func filtered(_ record: Record, actor: Actor, relations: Set<Relation>) -> Record {
        workspace.filtered(record, actor: actor, relations: relations)
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
