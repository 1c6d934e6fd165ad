import Foundation
import OppsCore
import OppsStore
import OppsWire

/// Why a local operation was refused.
public enum ReplicaError: Error, Sendable, CustomStringConvertible {
    /// The replica home holds no replica.
    case notInitialised(String)
    /// Bad input: unknown record, field, value of the wrong type.
    case invalid(String)
    /// An ownership rule refused the write (checked locally with the hub's workspace).
    case refused(field: String, rule: RuleID, detail: String)
    /// Authentication failed at the hub.
    case authentication(String)
    /// The hub could not be reached; local work is kept.
    case unreachable(String)
    /// Something about the hub's answers this replica cannot go on with (said in words).
    case hub(String)
    /// The hub refused a request: its HTTP status and error (errors.md); callers match the code.
    case hubRefused(status: Int, WireError)
    /// The hub's TLS certificate is not trusted (or names another host).
    case certificate(String)
    /// The operator disabled this user; local work stays.
    case disabled(String)
    /// `opps init` could not reach the hub: no replica was made.
    case unreachableAtInit(String)

    public var description: String {
        switch self {
        case let .notInitialised(home): "no replica in \(home): run opps init --hub URL --token TOKEN"
        case let .invalid(why): why
        case let .refused(field, rule, detail): "refused: \(field): \(detail) (rule \(rule.rawValue))"
        case let .authentication(why): "the hub did not accept the token (\(why)): ask the operator for a new one and run opps connect --token NEW (your pending work is kept)"
        case .disabled: "the operator has disabled your user on this hub: ask them to enable it (opps-hub user enable); your local work is kept"
        case let .unreachableAtInit(why): "the hub cannot be reached (\(why)); no replica was made: check the --hub URL and that the hub runs, then try again"
        case let .certificate(why): "the hub's certificate is not trusted (\(why)): get the hub's CA certificate from the operator and run opps connect --ca FILE"
        case let .unreachable(why): "the hub cannot be reached (\(why)); your work is kept and will sync later"
        case let .hub(why): why
        case let .hubRefused(status, e): "the hub refused (\(status) \(e.code.rawValue)): \(e.message)"
        }
    }
}

/// What one local edit did to each field.
public struct EditResult: Sendable {
    public var record: RecordID
    /// Fields written (pending until the next sync).
    public var applied: [String]
    /// Fields the user may only propose: they become approval requests (or, where the
    /// workspace has none, bare proposals) the owner or a manager decides.
    public var proposed: [(field: String, rule: RuleID, detail: String)]
    /// The approval requests made for them, in the same order.
    public var requests: [RecordID] = []
}

/// What one sync did.
public struct SyncReport: Sendable {
    public var pushed = 0
    /// The records the pushed writes touched.
    public var pushedRecords: Int { pushedIDs.count }
    var pushedIDs = Set<RecordID>()
    public var applied = 0
    /// Writes of mine that lost, were rejected or became proposals in this sync.
    public var conflicts = 0
    public var pulled = 0
    public var pages = 0
    public var repaired = false
    public var cursor: UInt64 = 0
    /// Hub clock minus this device's clock at the handshake.
    public var clockSkewMilliseconds: Int64 = 0
    /// Check-ins flagged because the clocks disagreed by more than the workspace allows.
    public var flaggedCheckins = 0
}

/// Progress of a long pull.
public struct SyncProgress: Sendable {
    /// Records and changes applied so far in this sync.
    public var received: Int
    public var pages: Int
    public var cursor: UInt64
    public var head: UInt64
    /// How many records the user may see (the hub's `visible`; 0 when the hub does not say).
    public var total: UInt64 = 0
    /// The cursor the pull started from: 0 for a first sync or a repair (whole records come).
    public var start: UInt64 = 0

    public init(received: Int, pages: Int, cursor: UInt64, head: UInt64, total: UInt64 = 0, start: UInt64 = 0) {
        self.received = received
        self.pages = pages
        self.cursor = cursor
        self.head = head
        self.total = total
        self.start = start
    }

    /// The share done: records received of those visible when starting from nothing, else how
    /// far the cursor moved towards the head.
    public var done: Double {
        if start == 0, total > 0 { return min(1, Double(received) / Double(total)) }
        guard head > start else { return 1 }
        return min(1, Double(cursor > start ? cursor - start : 0) / Double(head - start))
    }
}

/// A rep's replica: the SQLite store in the replica home, local edits checked with the core
/// rules, and the sync engine (push the outbox, pull pages, verify the checkpoint).
public final class Replica {
    public let home: String
    public let store: ReplicaStore
    public private(set) var workspace: Workspace
    public let id: ReplicaID
    public let user: UserName
    public private(set) var role: String
    public private(set) var hubURL: String
    var token: String
    /// A PEM file of certificates to trust for the hub besides the system's (`--ca`).
    public private(set) var caFile: String?
    var clock: HybridLogicalClock
    let physical: any PhysicalClock
    /// Writes per push batch.
    public var batchSize = 500
    /// Changes per pull page asked for.
    public var pageSize: UInt32 = 2000

    public static func databasePath(home: String) -> String { home + "/replica.sqlite" }

    /// Opens the replica in `home`.
    public init(home: String, clock: any PhysicalClock) throws {
        self.home = home
        guard FileManager.default.fileExists(atPath: Self.databasePath(home: home)) else { throw ReplicaError.notInitialised(home) }
        store = try ReplicaStore(path: Self.databasePath(home: home))
        guard let idText = try store.meta("replica"), let id = ReplicaID(parsing: idText), let user = try store.meta("user"),
              let role = try store.meta("role"), let hub = try store.meta("hub_url"), let token = try store.meta("token"),
              let document = try store.meta("workspace") else { throw ReplicaError.notInitialised(home) }
        self.id = id
        self.user = user
        self.role = role
        self.hubURL = hub
        self.token = token
        self.caFile = try store.meta("ca_file").flatMap { $0.isEmpty ? nil : $0 }
        do { workspace = try Workspace.decode(document) } catch { throw ReplicaError.invalid("the stored workspace is invalid") }
        try store.indexParents(workspace: workspace)
        self.clock = HybridLogicalClock(last: HLC(rawValue: try store.metaInt("hlc")))
        physical = clock
    }

    /// Creates a replica in `home`: handshake with the hub (which names the user and sends the
    /// workspace); nothing is written when the hub refuses.
    public static func create(home: String, hubURL: String, token: String, caFile: String? = nil, transport: any Transport, clock: any PhysicalClock,
                              id given: ReplicaID? = nil) async throws -> Replica {
        let path = databasePath(home: home)
        if FileManager.default.fileExists(atPath: path) { throw ReplicaError.invalid("\(home) already holds a replica") }
        var rng = SystemRandomNumberGenerator()
        let id = given ?? ReplicaID.random(using: &rng)
        let response = try await handshake(transport: transport, token: token, replica: id, workspaceVersion: 0)
        guard let document = String(data: response.workspace, encoding: .utf8), (try? Workspace.decode(document)) != nil else {
            throw ReplicaError.hub("the hub sent no usable workspace")
        }
        do {
            try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let store = try ReplicaStore(path: path)
            try store.transaction {
                for (k, v) in [("replica", id.description), ("user", response.user), ("role", response.role), ("hub_url", hubURL), ("token", token),
                               ("workspace", document), ("hub", UUID128(bytes: response.hub)?.description ?? ""), ("batch", "0"), ("cursor", "0"),
                               ("ca_file", caFile ?? "")] {
                    try store.setMeta(k, v)
                }
            }
            // The token is a secret: only the user may read the database.
            chmod(path, 0o600)
        } catch {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            throw error
        }
        return try Replica(home: home, clock: clock)
    }

    /// Points this replica at a new hub URL, token or CA file, keeping everything it holds and
    /// every pending write (a rotated token, a hub that moved, a private CA). The new settings
    /// are checked first: the hub must accept the token for this replica's own user and be the
    /// same hub; nothing changes when it does not.
    public func connect(hubURL newURL: String?, token newToken: String?, caFile newCA: String?, transport: any Transport) async throws {
        let token = newToken ?? self.token
        let response = try await Self.handshake(transport: transport, token: token, replica: id, workspaceVersion: workspace.version)
        guard response.user == user else {
            throw ReplicaError.invalid("that token is \(response.user)'s; this replica holds \(user)'s work: use \(user)'s token")
        }
        if let known = try store.meta("hub"), !known.isEmpty, let hub = UUID128(bytes: response.hub), hub.description != known {
            throw ReplicaError.invalid("that URL is another hub (\(hub)); this replica syncs with \(known)")
        }
        try store.transaction {
            if let newURL { try store.setMeta("hub_url", newURL) }
            if let newToken { try store.setMeta("token", newToken) }
            if let newCA { try store.setMeta("ca_file", newCA) }
        }
        if let newURL { hubURL = newURL }
        self.token = token
        if let newCA { caFile = newCA.isEmpty ? nil : newCA }
    }

    static func handshake(transport: any Transport, token: String, replica: ReplicaID, workspaceVersion: UInt64) async throws -> HandshakeResponse {
        var h = HandshakeRequest()
        h.minVersion = ProtocolVersion.minimum
        h.maxVersion = ProtocolVersion.current
        h.replica = Data(replica.bytes)
        h.client = "opps/0.1.0"
        h.workspaceVersion = workspaceVersion
        return try await call(transport, Endpoint.handshake, h, token: token, as: HandshakeResponse.self)
    }

    static func call<In: SwiftProtobuf.Message, Out: SwiftProtobuf.Message>(_ t: any Transport, _ endpoint: String, _ m: In, token: String, as: Out.Type) async throws -> Out {
        let body: [UInt8]
        do { body = try BodyCodec.encode(m, as: .protobuf) } catch { throw ReplicaError.hub("this laptop could not write its request: \(error.message)") }
        return try await send(t, endpoint, body: body, token: token, as: Out.self)
    }

    /// Sends a request's bytes as they are; the transport's failures as the replica's errors.
    static func send<Out: SwiftProtobuf.Message>(_ t: any Transport, _ endpoint: String, body: [UInt8], token: String, as: Out.Type) async throws -> Out {
        do {
            return try await t.send(endpoint, body: body, token: token, as: Out.self)
        } catch {
            switch error {
            case let .unreachable(why): throw ReplicaError.unreachable(why)
            case let .certificate(why): throw ReplicaError.certificate(why)
            case let .refused(_, e) where e.code == .userDisabled: throw ReplicaError.disabled(e.message)
            case let .refused(_, e) where e.code == .unauthenticated: throw ReplicaError.authentication(e.message)
            case let .refused(_, e) where e.code == .replicaNotYours:
                throw ReplicaError.invalid("the hub says this replica belongs to another user: that token is someone else's")
            case let .refused(status, e): throw ReplicaError.hubRefused(status: status, e)
            case let .unsendable(e): throw ReplicaError.hub("this laptop could not write its request: \(e.message)")
            }
        }
    }

    // MARK: Reading

    /// Resolves an id or a unique prefix of one.
    /// The short ids of everything this laptop holds (`ShortIDs`): what commands print.
    public func shortIDs() throws -> ShortIDs { ShortIDs(try store.allIDs()) }

    /// The record a person means (issue 15): a full id; the short id commands print, or 4+ of
    /// its first characters (`7kq2m9xd`, `7KQ2`; look-alikes i, l, o are read as 1, 1, 0); the
    /// exact name of a deal, account or contact (any case); or 8+ hex digits of the full id
    /// (what older versions printed). Ambiguous input names the candidates.
    public func resolveID(_ text: String) throws -> RecordID {
        if let id = RecordID(parsing: text) { return id }
        let typed = text.trimmingCharacters(in: .whitespaces)
        let short = try shortIDs()
        func candidates(_ ids: [RecordID]) throws -> String {
            try ids.prefix(5).map { id in
                let r = try record(id)
                let name = r.map { $0["name"].isNull ? $0.entity : "\($0.entity) \"\($0["name"].canonicalText)\"" } ?? "?"
                return "\(short(id)) \(name)"
            }.joined(separator: ", ") + (ids.count > 5 ? ", …" : "")
        }
        if let code = ShortID.normalise(typed), code.count >= 4 {
            let matches = short.matching(code)
            if matches.count == 1 { return matches[0] }
            if matches.count > 1 { throw ReplicaError.invalid("\(typed) matches \(matches.count) records (\(try candidates(matches))): give more characters") }
        }
        let folded = typed.lowercased()
        var named = [RecordID]()
        for entity in ["opportunity", "account", "contact"] where workspace.entity(entity)?.field("name") != nil {
            for r in try store.list(entity: entity, workspace: workspace) where r["name"].canonicalText.lowercased() == folded { named.append(r.id) }
        }
        if named.count == 1 { return named[0] }
        if named.count > 1 { throw ReplicaError.invalid("\"\(typed)\" names \(named.count) records (\(try candidates(named))): use the id") }
        let hex = folded.filter { $0 != "-" }
        if hex.count >= 8, hex.allSatisfy(\.isHexDigit) {
            let matches = try store.ids(prefix: hex)
            if matches.count == 1 { return matches[0] }
            if matches.count > 1 { throw ReplicaError.invalid("\(typed) matches \(matches.count) records (\(try candidates(matches))): use the id") }
        }
        throw ReplicaError.invalid("no record here has the id or name \"\(typed)\": ids are the 8 characters opps list prints")
    }

    public func record(_ id: RecordID) throws -> Record? { try store.view(id, workspace: workspace) }

    /// Fields of mine waiting to sync, per record.
    public func pendingFields(_ id: RecordID) throws -> Set<String> {
        Set(try store.outbox(replica: self.id, author: user, record: id).map(\.write.field))
    }

    // MARK: Local edits

    func relations(to record: Record) throws -> Set<Relation> {
        var team = Set<UserName>()
        if let rule = workspace.teamRule {
            team = rule.team(of: record.id, among: try store.children(of: record.id, entity: rule.entity, workspace: workspace))
        }
        var r = Workspace.relations(of: user, to: record, team: team, manages: { _ in false })
        // The hub only sends a manager records they manage: one that came from the hub is managed.
        if workspace.role(role)?.sees.contains(.relation(.managed)) == true, try store.confirmed(record.id, workspace: workspace) != nil,
           record.owner != user { r.insert(.managed) }
        return r
    }

    func tick() throws -> Stamp {
        let stamp = Stamp(hlc: clock.tick(physical: physical.nowMilliseconds()), replica: id)
        try store.setMeta("hlc", String(clock.last.rawValue))
        return stamp
    }

    /// Parses a value typed by a user for a field: decimals `12000.00`, dates `YYYY-MM-DD`,
    /// users by name, records by id or prefix, enum members by name or label, `true`/`false`,
    /// empty = null.
    public func parse(_ text: String, for field: Field) throws -> Value {
        if text.isEmpty || text == "null" { return .null }
        do {
            switch field.type {
            case .text, .user: return .text(text)
            case .integer:
                guard let i = Int64(text) else { throw ValueError("not a whole number: \(text)") }
                return .integer(i)
            case .decimal: return .decimal(try ExactDecimal(parsing: text))
            case .date: return .date(try CivilDate(parsing: text))
            case .timestamp: return .timestamp(try Timestamp(parsing: text))
            case .enumeration: return .member(field.member(input: text) ?? text)
            case .boolean: return try Value.parse(kind: "boolean", text: text)
            case .reference: return .reference(try resolveID(text))
            }
        } catch let e as ValueError {
            throw ReplicaError.invalid("\(field.name): \(e.message)")
        }
    }

    /// One atomic local edit: every field is checked with the core rules against what this
    /// replica holds; if any is refused nothing is written. Fields the user may only propose go
    /// out as proposals and do not change the local view.
    @discardableResult
    public func edit(_ id: RecordID, _ changes: [(String, Value)]) throws -> EditResult {
        try store.transaction {
            guard var view = try store.view(id, workspace: workspace) else { throw ReplicaError.invalid("no record \(id)") }
            guard let entity = workspace.entity(view.entity) else { throw ReplicaError.invalid("unknown entity \(view.entity)") }
            let pending = try store.outbox(replica: self.id, author: user, record: id)
            let before = view  // what each field held before this edit: the trail's "old"
            var result = EditResult(record: id, applied: [], proposed: [])
            var writes = [(FieldWrite, Bool)]()
            var requests = [(FieldWrite, RuleID)]()
            let locked = try pendingLockingRequest(for: view)
            for (name, value) in changes {
                guard entity.field(name) != nil else {
                    throw ReplicaError.invalid("\(entity.name) has no field \"\(name)\" (fields: \(entity.fields.map(\.name).joined(separator: ", ")))")
                }
                let current = view.fields[name]
                let base: Base
                if let current {
                    base = current.sequence != 0 && !pending.contains(where: { $0.write.field == name }) ? .sequence(current.sequence) : .stamp(current.stamp)
                } else {
                    base = .none
                }
                let write = FieldWrite(record: id, entity: view.entity, field: name, value: value, base: base, author: user, stamp: try tick())
                // I10: the same rule as the hub, on what this replica holds.
                var seen = view
                // A request of mine not yet decided locks as the hub's pending state will.
                if locked, let ap = workspace.approvals, entity.field(ap.stateField) != nil { seen.fields[ap.stateField] = FieldState(value: .member("pending"), stamp: Stamp(hlc: HLC(rawValue: 0), replica: self.id), author: user, authority: .own) }
                let context = RuleContext(workspace: workspace, actor: Actor(user: user, role: role), relations: try relations(to: view), record: seen)
                let decision = resolve(current: current, incoming: write, context: context)
                switch decision.outcome {
                case .applied, .won, .duplicate:
                    var normalised = write
                    normalised.value = decision.winner?.value ?? value
                    writes.append((normalised, true))
                    view.fields[name] = FieldState(value: normalised.value, stamp: write.stamp, author: user, authority: decision.authority)
                    result.applied.append(name)
                case .proposal:
                    if canRequestApproval { requests.append((write, decision.rule)) } else { writes.append((write, false)) }
                    result.proposed.append((name, decision.rule, decision.detail))
                case .rejected where decision.rule == .typeMismatch || decision.rule == .unknownField || decision.rule == .futureTime:
                    throw ReplicaError.invalid(decision.detail)
                case .rejected, .lost:
                    throw ReplicaError.refused(field: name, rule: decision.rule, detail: decision.detail)
                }
            }
            let confirmed = try store.confirmed(id, workspace: workspace)
            for (w, shown) in writes {
                try store.enqueue(w)
                if shown {
                    try store.addHistory(HistoryLine(record: id, field: w.field, old: before.fields[w.field]?.value ?? .null, new: w.value,
                                                     author: user, hlc: w.stamp.hlc, source: "local", rule: "pending"))
                }
            }
            try store.save(confirmed: confirmed, view: view, workspace: workspace)
            // One act, one request (DOMAIN.md: losing a deal is one request carrying its loss
            // reason): what a proposed stage move needs to enter its stage goes in the same request.
            // (Only where the request entity has `with`; a value with a line feed gets its own.)
            let move = requests.first { $0.0.field == entity.stageField }?.0
            var gate = Set<String>()
            if let move, case let .member(to) = move.value, let name = workspace.approvals?.requests, workspace.entity(name)?.field("with") != nil {
                gate = Set(workspace.stage(to)?.enterRequires ?? [])
            }
            let carried = requests.map(\.0).filter { gate.contains($0.field) && !$0.value.canonicalText.contains("\n") }
            var made = [FieldWrite: RecordID]()
            for (w, rule) in requests where !carried.contains(w) {
                made[w] = try requestApproval(for: w, rule: rule, on: view, with: w == move ? carried : [])
            }
            // A carried field's request is the stage move's (a gate is only non-empty with one).
            for (w, _) in requests { if let id = made[w] ?? move.flatMap({ made[$0] }) { result.requests.append(id) } }
            return result
        }
    }

    /// Deletes a record (merge-semantics.md §7.2): checked with the core rule on what this
    /// replica holds (the default workspace lets managers delete), kept as a local tombstone and
    /// pushed like any write. Other replicas that held the record learn of it at their next sync.
    /// Deletes a record (merge-semantics.md §7.2); with `survivor`, the delete is a merge into it
    /// (§7.3): the hub re-points every reference to the deleted record.
    public func delete(_ id: RecordID, survivor: RecordID? = nil) throws {
        try store.transaction {
            guard var view = try store.view(id, workspace: workspace) else { throw ReplicaError.invalid("no record \(id)") }
            let write = FieldWrite(record: id, entity: view.entity, kind: .delete, value: survivor.map(Value.reference) ?? .null, author: user, stamp: try tick())
            let context = RuleContext(workspace: workspace, actor: Actor(user: user, role: role), relations: try relations(to: view), record: view)
            let decision = resolve(current: view.deleted, incoming: write, context: context)
            guard decision.outcome == .applied, let state = decision.winner else {
                throw ReplicaError.refused(field: view.entity, rule: decision.rule, detail: decision.detail)
            }
            view.deleted = state
            try store.enqueue(write)
            try store.addHistory(HistoryLine(record: id, field: "", old: .null, new: .null, author: user, hlc: write.stamp.hlc, source: "local", rule: "pending"))
            try store.save(confirmed: try store.confirmed(id, workspace: workspace), view: view, workspace: workspace)
        }
    }

    /// Merges `duplicate` into `keep` (two records of one entity made on two laptops), in one
    /// local transaction (merge-semantics.md §7.3): `keep`'s empty fields take `duplicate`'s
    /// values where this user may write them; every record here that references `duplicate`
    /// is re-pointed to `keep` where this user may write the field (the hub re-points the rest,
    /// and those this laptop does not hold); then `duplicate` is deleted naming `keep`. Refused
    /// whole (nothing written) when this user may not delete `duplicate`.
    @discardableResult
    public func merge(_ duplicate: RecordID, into keep: RecordID) throws -> MergeResult {
        try store.transaction {
            guard duplicate != keep else { throw ReplicaError.invalid("a record cannot be merged into itself") }
            guard let dup = try store.view(duplicate, workspace: workspace), !dup.isDeleted,
                  let kept = try store.view(keep, workspace: workspace), !kept.isDeleted else { throw ReplicaError.invalid("both records must be here and not deleted") }
            guard dup.entity == kept.entity, let entity = workspace.entity(kept.entity) else {
                throw ReplicaError.invalid("a \(dup.entity) cannot be merged into a \(kept.entity)")
            }
            let actor = Actor(user: user, role: role)
            // Who may merge is who may delete: the delete at the end decides (Resolver), and a
            // refusal there rolls back the fills and re-points made before it.
            var result = MergeResult()
            let keptRelations = try relations(to: kept)
            let fill = entity.fields.filter { f in
                kept[f.name].isNull && !dup[f.name].isNull && !f.writeOnce && f.name != entity.stageField
                    && workspace.permission(actor: actor, relations: keptRelations, record: kept, entity: entity.name, field: f.name).mayWrite
            }.map { ($0.name, dup[$0.name]) }
            if !fill.isEmpty {
                try edit(keep, fill)
                result.filled = fill.map(\.0)
            }
            for e in workspace.entities {
                let fields = e.fields.filter { if case .reference(entity.name) = $0.type { true } else { false } }
                guard !fields.isEmpty else { continue }
                for r in try store.list(entity: e.name, workspace: workspace) where !r.isDeleted {
                    let changes = fields.filter { r[$0.name] == .reference(duplicate) }.map { ($0.name, Value.reference(keep)) }
                    guard !changes.isEmpty else { continue }
                    let rel = try relations(to: r)
                    guard changes.allSatisfy({ workspace.permission(actor: actor, relations: rel, record: r, entity: e.name, field: $0.0).mayWrite }) else {
                        result.leftToHub += 1
                        continue
                    }
                    let outcome = try edit(r.id, changes)
                    if outcome.applied.isEmpty { result.leftToHub += 1 } else { result.repointed += 1 }
                }
            }
            try delete(duplicate, survivor: keep)
            return result
        }
    }

    /// Whether proposals of this user become approval requests (the workspace names a request
    /// entity this role may create); otherwise they go out as bare proposals.
    var canRequestApproval: Bool {
        guard let name = workspace.approvals?.requests, let e = workspace.entity(name) else { return false }
        return e.create[role] != nil
    }

    /// Whether a request of mine for this deal waits for a decision and locks its fields.
    func pendingLockingRequest(for record: Record) throws -> Bool {
        guard let ap = workspace.approvals, let name = ap.requests, let deal = workspace.deal(of: record) else { return false }
        return try store.children(of: deal, entity: name, workspace: workspace).contains { r in
            r["opportunity"] == .reference(deal) && r.creator == user && (r["state"].isNull || r["state"] == .member("pending")) && ap.locks(kind: r["kind"])
        }
    }

    /// A proposal made here becomes an approval request record, in the same transaction: an
    /// approver decides it (offline too) and the hub applies the decision. Its id comes from
    /// the proposal's stamp, so the same edit always makes the same request.
    func requestApproval(for w: FieldWrite, rule: RuleID, on record: Record, with carried: [FieldWrite] = []) throws -> RecordID {
        guard let name = workspace.approvals?.requests, let deal = workspace.deal(of: record) else { throw ReplicaError.invalid("no approval requests in this workspace") }
        var rng = SeededGenerator(seed: w.stamp.hlc.rawValue ^ id.uuid.low ^ id.uuid.high)
        let kind = workspace.approvalKind(of: w, rule: rule)
        let requested = ([w] + carried).map { "\($0.field) → \($0.value.isNull ? "(empty)" : $0.value.canonicalText)" }.joined(separator: ", ")
        // `with` before `value`: the hub marks a request pending when its value arrives, and a
        // request is immutable from then on.
        let with: [(String, Value)] = carried.isEmpty ? [] : [("with", .text(carried.map { "\($0.field)=\($0.value.canonicalText)" }.joined(separator: "\n")))]
        return try create(entity: name, stage: nil, fields: [
            ("opportunity", .reference(deal)), ("kind", .member(kind)), ("requested", .text(requested)),
            ("target", .text(w.record.description)), ("field", .text(w.field))] + with + [("value", .text(w.value.isNull ? "" : w.value.canonicalText)),
        ], using: &rng).record
    }

    /// Creates a record locally (pending until synced) with initial fields, atomically.
    public func create(entity name: String, stage: String?, fields: [(String, Value)], using rng: inout some RandomNumberGenerator) throws -> EditResult {
        guard let entity = workspace.entity(name) else { throw ReplicaError.invalid("unknown entity \(name)") }
        let stamp = try tick()
        let id = UUID128.version7(milliseconds: stamp.hlc.milliseconds, using: &rng)
        let write = FieldWrite(record: id, entity: name, kind: .create, value: stage.map { .member($0) } ?? .null, author: user, stamp: stamp)
        let decision = resolve(current: nil, incoming: write, context: RuleContext(workspace: workspace, actor: Actor(user: user, role: role), relations: [], record: nil))
        guard decision.outcome == .applied, let created = decision.winner else {
            throw ReplicaError.refused(field: entity.stageField ?? name, rule: decision.rule, detail: decision.detail)
        }
        return try store.transaction {
            var record = Record(id: id, entity: name, created: created)
            for (f, v) in workspace.initialFields(of: write, role: role) {
                record.fields[f] = FieldState(value: v, stamp: stamp, author: user, authority: .own)
            }
            try store.enqueue(write)
            try store.save(confirmed: nil, view: record, workspace: workspace)
            // The initial fields are edits on top of the new record, in the same transaction.
            return try edit(id, fields)
        }
    }

    // MARK: Sync

    /// Push the outbox, then pull until up to date, then verify the checkpoint.
    public func sync(transport: any Transport, progress: (SyncProgress) -> Void = { _ in }) async throws -> SyncReport {
        var report = SyncReport()
        let hello = try await Self.handshake(transport: transport, token: token, replica: id, workspaceVersion: workspace.version)
        try adopt(hello)
        try flagCheckins(hubTime: hello.hubTime, report: &report)
        if hello.role != role {
            // The operator changed this user's role: local checks follow at once.
            try store.setMeta("role", hello.role)
            role = hello.role
        }
        try alignBatches(hubLastBatch: hello.lastBatch)
        try await push(transport: transport, report: &report)
        try await pull(transport: transport, report: &report, head: hello.head, pipelined: hello.version >= 2, progress: progress)
        try store.setMeta("last_sync", String(physical.nowMilliseconds()))
        return report
    }

    /// Takes the newer workspace a handshake carries (field numbers never change, so what this
    /// replica holds stays valid; records whose visible fields change come whole at the next pull).
    func adopt(_ hello: HandshakeResponse) throws {
        if !hello.workspace.isEmpty, let document = String(data: hello.workspace, encoding: .utf8), let ws = try? Workspace.decode(document), ws.version > workspace.version {
            try store.setMeta("workspace", document)
            workspace = ws
        }
    }

    /// Check-ins are evidence of where a rep was and when: when this device's clock disagrees
    /// with the hub's by more than the workspace's skew, the check-ins waiting to sync get the
    /// difference written on them (`clock_skew_s`, seconds, hub minus device) before they go out.
    func flagCheckins(hubTime: Int64, report: inout SyncReport) throws {
        let skew = hubTime - physical.nowMilliseconds()
        report.clockSkewMilliseconds = skew
        guard abs(skew) > Int64(workspace.checkinSkewMinutes) * 60_000, workspace.entity("activity")?.field("clock_skew_s") != nil else { return }
        let creates = try store.outbox(replica: id, author: user).filter { $0.write.kind == .create && $0.write.entity == "activity" && $0.batch == 0 }
        for e in creates {
            guard let a = try store.view(e.write.record, workspace: workspace), a["kind"] == .member("checkin"), a.fields["clock_skew_s"] == nil else { continue }
            try edit(a.id, [("clock_skew_s", .integer(skew / 1000))])
            report.flaggedCheckins += 1
        }
    }

    /// After a hub restore the hub may have applied fewer of our batches than we sent: continue
    /// numbering after its last one, renumbering an unanswered batch (sync-protocol.md §3).
    func alignBatches(hubLastBatch: UInt64) throws {
        try store.transaction {
            let counter = try store.metaInt("batch")
            let pending = try store.pendingBatch()
            if let (number, bytes) = pending, number > hubLastBatch + 1 {
                var request = try BodyCodec.decode(PushRequest.self, from: bytes, as: .protobuf)
                request.batch = hubLastBatch + 1
                try store.renumber(batch: number, to: request.batch, request: try BodyCodec.encode(request, as: .protobuf))
                try store.setMeta("batch", String(request.batch))
            } else if pending == nil, counter > hubLastBatch {
                try store.setMeta("batch", String(hubLastBatch))
            }
        }
    }

    func push(transport: any Transport, report: inout SyncReport) async throws {
        while true {
            // Resend the batch that was sent but not answered, byte for byte; else make the next.
            var pending = try store.pendingBatch()
            if pending == nil {
                let entries = try store.outbox(replica: id, author: user, limit: batchSize).filter { $0.batch == 0 }
                if entries.isEmpty { return }
                let number = try store.metaInt("batch") + 1
                let request = try BatchCoding.encode(entries.map(\.write), replica: id, batch: number, workspace: workspace)
                let bytes = try BodyCodec.encode(request, as: .protobuf)
                try store.transaction {
                    try store.assign(batch: number, positions: entries.map(\.position), request: bytes)
                    try store.setMeta("batch", String(number))
                }
                pending = (number, bytes)
            }
            guard let (number, bytes) = pending else { return }
            // Read to match the answers to the writes; sent as stored.
            let request = try BodyCodec.decode(PushRequest.self, from: bytes, as: .protobuf)
            let response: PushResponse
            do {
                response = try await Self.send(transport, Endpoint.push, body: bytes, token: token, as: PushResponse.self)
            } catch ReplicaError.hubRefused(_, let e) where e.code == .batchMismatch {
                throw ReplicaError.hub("the hub already has batch \(number) with other writes: this replica's outbox is inconsistent; keep the home directory and report it")
            }
            try store.transaction {
                let touched = try store.records(inBatch: number)
                var refusedCreates = Set<RecordID>()
                for (i, result) in response.results.enumerated() {
                    report.pushed += 1
                    if i < request.writes.count, let id = RecordID(bytes: request.writes[i].record) { report.pushedIDs.insert(id) }
                    switch result.outcome {
                    case .applied, .won: report.applied += 1
                    case .lost, .rejected, .proposal: report.conflicts += 1
                    default: break
                    }
                    if i < request.writes.count, request.writes[i].kind == .create, result.outcome == .rejected,
                       let id = RecordID(bytes: request.writes[i].record) { refusedCreates.insert(id) }
                }
                // The trail: each of this laptop's lines says what the hub decided, not "pending".
                let numbering = WireNumbering(workspace)
                for (i, result) in response.results.enumerated() where i < request.writes.count {
                    let w = request.writes[i]
                    guard let record = RecordID(bytes: w.record), let outcome = result.outcome.coreOutcome else { continue }
                    let field = w.kind == .delete ? "" : numbering.entity(number: w.entity)?.fieldNames[w.field] ?? ""
                    let rule = outcome == .applied || outcome == .won || outcome == .duplicate ? "synced" : "\(outcome.rawValue) \(result.rule)"
                    try store.settleHistory(record: record, field: field, hlc: HLC(rawValue: request.hlcBase &+ w.hlcDelta), rule: rule)
                }
                try store.complete(batch: number)
                for id in touched { try rebuildView(id, refusedCreate: refusedCreates.contains(id)) }
            }
        }
    }

    /// The view of a record: its confirmed state with the writes still in the outbox on top.
    func rebuildView(_ id: RecordID, refusedCreate: Bool = false) throws {
        let confirmed = try store.confirmed(id, workspace: workspace)
        let pending = try store.outbox(replica: self.id, author: user, record: id)
        let stored = try store.view(id, workspace: workspace)
        guard var view = confirmed ?? stored else { return }
        if confirmed == nil && refusedCreate {
            // A record made here that the hub refused to create: it is gone (a conflict says why).
            try store.remove(id)
            return
        }
        for e in pending {
            switch e.write.kind {
            case .set: view.fields[e.write.field] = FieldState(value: e.write.value, stamp: e.write.stamp, author: user, authority: .write)
            case .delete: view.deleted = FieldState(value: .null, stamp: e.write.stamp, author: user, authority: .own)
            case .create: break
            }
        }
        try store.save(confirmed: confirmed, view: view, workspace: workspace)
    }

    func pull(transport: any Transport, report: inout SyncReport, head: UInt64, pipelined: Bool, progress: (SyncProgress) -> Void) async throws {
        // The next page, asked for while this one is applied (sync-protocol.md §6.1 pipelining):
        // the hub builds page n + 1 while page n is written here. Never left running: a failure
        // waits for it (its answer is discarded; the pages built on an unapplied page are
        // superseded at the hub like any page never acknowledged).
        var ahead: Task<PullResponse, any Error>?
        do {
            try await pullPages(transport: transport, report: &report, head: head, pipelined: pipelined, ahead: &ahead, progress: progress)
        } catch {
            if let ahead { ahead.cancel(); _ = try? await ahead.value }
            throw error
        }
    }

    private func pullPages(transport: any Transport, report: inout SyncReport, head: UInt64, pipelined: Bool, ahead: inout Task<PullResponse, any Error>?,
                           progress: (SyncProgress) -> Void) async throws {
        var repairing = false
        var migrations = 0
        var start = try store.metaInt("cursor")
        let token = self.token
        while true {
            var request = PullRequest()
            request.workspaceVersion = workspace.version
            request.replica = Data(id.bytes)
            request.cursor = try store.metaInt("cursor")
            request.token = try store.metaInt("pull_token")
            request.conflictCursor = try store.metaInt("conflict_cursor")
            request.maxChanges = pageSize
            request.ack = request.cursor
            request.forget = (try store.meta("forget") ?? "").split(separator: ",").compactMap { RecordID(parsing: String($0)) }.map { Data($0.bytes) }
            let page: PullResponse
            do {
                if let next = ahead {
                    ahead = nil
                    page = try await next.value
                } else {
                    page = try await Self.call(transport, Endpoint.pull, request, token: token, as: PullResponse.self)
                }
            } catch ReplicaError.hubRefused(_, let e) where e.code == .cursorAhead {
                // The hub was restored from a backup and is behind us: keep what it still has,
                // drop what it lost, and have those sent whole again (sync-protocol.md §6.3).
                let hello = try await Self.handshake(transport: transport, token: token, replica: id, workspaceVersion: workspace.version)
                try store.transaction { try reconcile(withHead: hello.head) }
                report.repaired = true
                continue
            } catch ReplicaError.hubRefused(_, let e) where e.code == .workspaceOutdated {
                try await migrate(transport: transport, attempt: &migrations)
                continue
            } catch ReplicaError.hubRefused(_, let e) where e.code == .cursorExpired {
                // The hub compacted past us: re-sync from nothing, keeping pending writes.
                try store.transaction { try resetForRepair() }
                start = 0
                report.repaired = true
                continue
            }
            if page.more && pipelined {
                // Token and ack stay those of the last page applied; `received` names this one
                // (protocol 2; a hub speaking only 1 gets one request at a time).
                var next = request
                next.cursor = page.cursor
                next.conflictCursor = page.conflictCursor
                next.received = page.token
                next.forget = []
                ahead = Self.ask(transport, next, token: token)
            }
            do {
                try store.transaction {
                    try apply(page, report: &report)
                    try store.setMeta("forget", "")
                }
            } catch is PageReader.WorkspaceAhead {
                // Nothing of the page was applied: get the workspace that names its fields, ask again.
                if let a = ahead { a.cancel(); _ = try? await a.value; ahead = nil }
                try await migrate(transport: transport, attempt: &migrations)
                continue
            }
            report.pages += 1
            progress(SyncProgress(received: report.pulled, pages: report.pages, cursor: page.cursor, head: max(head, page.cursor), total: page.visible, start: start))
            if page.more { continue }
            // Verify: what we hold must be what the hub says we should hold.
            let sum = try confirmedChecksum()
            if page.hasCheckpoint, sum.value != page.checkpoint.checksum {
                if repairing { throw ReplicaError.hub("the replica still differs from the hub after a repair; run opps sync again or report it") }
                repairing = true
                report.repaired = true
                try store.transaction { try resetForRepair() }
                start = 0
                continue
            }
            report.cursor = page.cursor
            try store.setMeta("checkpoint", "\(page.checkpoint.sequence):\(page.checkpoint.checksum)")
            return
        }
    }

    /// Handshakes for the hub's newer workspace in the middle of a pull; a hub that keeps
    /// answering `workspace-outdated` after that is reported, not retried forever.
    func migrate(transport: any Transport, attempt: inout Int) async throws {
        attempt += 1
        let before = workspace.version
        try adopt(try await Self.handshake(transport: transport, token: token, replica: id, workspaceVersion: workspace.version))
        guard workspace.version > before, attempt <= 3 else {
            throw ReplicaError.hub("the hub's workspace changed while pulling and this replica could not follow it (version \(workspace.version)): run opps sync again or report it")
        }
    }

    /// A pull sent on its own task (pipelining).
    static func ask(_ transport: any Transport, _ request: PullRequest, token: String) -> Task<PullResponse, any Error> {
        Task { try await call(transport, Endpoint.pull, request, token: token, as: PullResponse.self) }
    }

    /// Keeps every confirmed record the hub still has (all its states at or below `head`),
    /// drops the rest and asks for them again; pending writes stay.
    func reconcile(withHead head: UInt64) throws {
        var dropped = [RecordID]()
        for record in try store.allConfirmed(workspace: workspace) {
            let states = [record.created] + Array(record.fields.values) + (record.deleted.map { [$0] } ?? [])
            if states.contains(where: { $0.sequence > head }) {
                try store.remove(record.id)
                dropped.append(record.id)
            }
        }
        // A hub forgets at most so many records per pull (sync-protocol.md §6.3): beyond, re-sync.
        if dropped.count > ProtocolLimits.maxForget {
            try resetForRepair()
            return
        }
        try store.setMeta("cursor", String(min(head, try store.metaInt("cursor"))))
        try store.setMeta("pull_token", "0")
        try store.setMeta("forget", dropped.map(\.description).joined(separator: ","))
        try store.setMeta("checksum", String(StateChecksum(of: try store.allConfirmed(workspace: workspace), workspace: workspace).value))
    }

    /// The checksum of the confirmed state, as kept by `apply` (computed in full once if absent).
    func confirmedChecksum() throws -> RunningChecksum {
        if let text = try store.meta("checksum"), let v = UInt64(text) { return RunningChecksum(value: v) }
        let full = StateChecksum(of: try store.allConfirmed(workspace: workspace), workspace: workspace)
        try store.setMeta("checksum", String(full.value))
        return RunningChecksum(value: full.value)
    }

    func resetForRepair() throws {
        try store.setMeta("checksum", "0")
        try store.forgetConfirmed()
        try store.setMeta("cursor", "0")
        // The token stays: a restart echoes the last page received, so the hub can tell it from
        // a late copy of an older restart (sync-protocol.md §6.1).
        // Pending writes stay; their records are rebuilt when the hub's state arrives.
    }

    func apply(_ page: PullResponse, report: inout SyncReport) throws {
        let numbering = WireNumbering(workspace)
        let reader = PageReader(page, numbering: numbering)
        // The checksum of the confirmed state is kept up to date incrementally: each touched
        // record's old term goes out and its new term comes in (merge-semantics.md §8).
        var sum = try confirmedChecksum()
        var oldTerms = [RecordID: UInt64]()
        var allIDs = page.left.compactMap { RecordID(bytes: $0) } + page.entered.compactMap { RecordID(bytes: $0.record) }
        allIDs += page.changes.compactMap { RecordID(bytes: $0.record) }
        let held = try store.withConfirmed(allIDs)
        for id in allIDs where oldTerms[id] == nil {
            oldTerms[id] = held.contains(id) ? try store.confirmed(id, workspace: workspace).map { StateChecksum.term(of: $0, numbering: numbering) } ?? 0 : 0
        }
        var touched = Set<RecordID>()
        var records = [RecordID: Record]()
        func load(_ id: RecordID) throws -> RecordSet {
            var set = RecordSet()
            if let r = records[id] { set.put(r) } else if let r = try store.confirmed(id, workspace: workspace) { set.put(r) }
            return set
        }
        for raw in page.left {
            guard let id = RecordID(bytes: raw) else { continue }
            try store.remove(id)
            records[id] = nil
            touched.insert(id)
        }
        for e in page.entered {
            guard let id = RecordID(bytes: e.record) else { continue }
            if let r = try reader.record(e) {
                // A record this laptop held that comes whole again (its visible fields changed):
                // each field whose value moved goes on the trail, as a change would.
                if held.contains(id), let old = try store.confirmed(id, workspace: workspace) {
                    for (name, state) in r.fields.sorted(by: { $0.value.sequence < $1.value.sequence }) where old[name] != state.value && state.stamp.replica != self.id {
                        try store.addHistory(HistoryLine(record: id, field: name, old: old[name], new: state.value, author: state.author, hlc: state.stamp.hlc,
                                                         source: "hub", rule: ""))
                    }
                }
                records[id] = r
            }
            touched.insert(id)
            report.pulled += 1
        }
        for c in page.changes {
            guard let le = try reader.entry(c) else { continue }
            var set = try load(le.record)
            let before = set[le.record]?.fields[le.field]?.value ?? .null
            set.apply(le)
            if let r = set[le.record] { records[le.record] = r }
            touched.insert(le.record)
            clock.receive(le.stamp.hlc, physical: physical.nowMilliseconds())
            // This laptop's own writes have their line already (settled when the push was answered).
            if le.kind == .set, le.stamp.replica != self.id, le.author != user || before != le.value {
                try store.addHistory(HistoryLine(record: le.record, field: le.field, old: before, new: le.value, author: le.author, hlc: le.stamp.hlc,
                                                 source: "hub", rule: ""))
            } else if le.kind == .delete {
                // A delete reaches only a replica that held the record (§7.2): its trail says so.
                try store.addHistory(HistoryLine(record: le.record, field: "", old: .null, new: .null, author: le.author, hlc: le.stamp.hlc,
                                                 source: "hub", rule: RuleID.delete.rawValue))
            }
            report.pulled += 1
        }
        for record in records.values {
            try store.save(confirmed: record, view: record, workspace: workspace)
        }
        for (id, old) in oldTerms {
            sum.value &-= old
            if let now = records[id] { sum.value &+= StateChecksum.term(of: now, numbering: numbering) }
        }
        try store.setMeta("checksum", String(sum.value))
        // Only records with writes still in the outbox need their view rebuilt (rebase);
        // the others' view is the confirmed state just saved.
        let pendingRecords = try store.recordsWithPendingWrites()
        for id in touched where records[id] != nil && pendingRecords.contains(id) { try rebuildView(id) }
        for c in page.conflicts {
            guard let conflict = try reader.conflict(c, workspace: workspace) else { continue }
            let record = conflict.record
            try store.addConflict(conflict)
            try store.addHistory(HistoryLine(record: record, field: conflict.field, old: conflict.value, new: conflict.winner ?? .null, author: conflict.author,
                                             hlc: conflict.hlc, source: "conflict", rule: conflict.rule))
        }
        try store.setMeta("cursor", String(page.cursor))
        try store.setMeta("pull_token", String(page.token))
        try store.setMeta("conflict_cursor", String(page.conflictCursor))
        try store.setMeta("hlc", String(clock.last.rawValue))
    }
}

import SwiftProtobuf

/// A checksum value maintained by adding and subtracting record terms.
struct RunningChecksum {
    var value: UInt64
}

/// What `Replica.merge` did here: fields filled in on the record kept, records re-pointed, and
/// records whose reference only the hub may change (it does, for every record, at sync).
public struct MergeResult: Sendable, Hashable {
    public var filled: [String] = []
    public var repointed = 0
    public var leftToHub = 0
}
