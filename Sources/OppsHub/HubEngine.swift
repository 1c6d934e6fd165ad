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
    /// Why a pull a push carried failed, when the client was told only `internal` (for the log).
    public var carriedPullFailure: String?
    /// A pull page minted a token and its bookkeeping committed without waiting for the disk:
    /// its answer must wait for the next sync (`HubEngine.syncsBeside`).
    public var syncBeforeAnswer = false

    public init() {}
}

/// One group commit: how many pushes it held, how long it waited for the sequencer (other hubs'
/// groups), and how long it took from its first statement to its commit.
public struct GroupCommit: Sendable {
    public var pushes: Int
    public var sequencerWait: Duration
    public var duration: Duration
}

/// The hub's decision loop over its store: authentication, handshake, push (decide with the
/// core `resolve`, apply atomically, keep losers), assignment, and pull (visibility, pages,
/// checkpoints). Not thread-safe: the `Hub` actor owns one and serialises calls to it.
public final class HubEngine {
    public let store: any HubStorage
    public let configuration: HubConfiguration
    public private(set) var workspace: Workspace {
        didSet { hiddenFieldsCache.removeAll() }
    }
    /// The workspace's wire numbers, made once per workspace version (a page made them anew:
    /// 5 % of a no-change sync's CPU).
    private var numberingCache: (version: UInt64, numbering: WireNumbering)?
    var numbering: WireNumbering {
        if let c = numberingCache, c.version == workspace.version { return c.numbering }
        let n = WireNumbering(workspace)
        numberingCache = (workspace.version, n)
        return n
    }
    /// The fields each shape of record hides under `workspace` (emptied whenever it is
    /// replaced): `hiddenFields(entity:stage:actor:relations:)`.
    var hiddenFieldsCache = [HiddenFieldsKey: Set<String>]()
    private(set) var directory = Directory(users: []) {
        didSet { userNamesCache = nil }
    }
    /// Every user's name and the list's digest, as a pull sends them (sync-protocol.md §6.2
    /// `users`): made once per directory read, not per pull.
    private var userNamesCache: UserNames?
    var userNames: UserNames {
        if let known = userNamesCache { return known }
        let names = UserNames(directory.users.keys)
        userNamesCache = names
        return names
    }
    var clock = HybridLogicalClock()
    /// Writes a large push's rows beside its decisions, where the store's connection may move
    /// between threads (SQLite); nil otherwise.
    let rowWriter: RowWriter?
    let hubReplica: ReplicaID
    public let hubID: UUID128

    /// What a user may see as of a head, kept across the pages of a sync.
    /// Per user: what they may see at some head, brought forward by later pulls (VisibilitySnapshot.swift).
    var visibilityCache: LRUCache<UserName, VisibilitySnapshot>
    /// Snapshot builds so far (VisibilitySnapshot.generation).
    var snapshotGenerations: UInt64 = 0
    /// Records the snapshots' advances looked at in full, all users together (tests: a user is
    /// not charged for records that cannot concern them).
    var advanceExamined = 0
    /// Per replica: what it holds and the pages it has not acknowledged yet, mirroring the
    /// store's tables so a pull does not read them back (VisibilitySnapshot.swift).
    var knownCache: LRUCache<ReplicaID, KnownState>
    /// The log's recent entries and their records' index rows, shared by every user's snapshot.
    let recent: RecentChanges
    /// Set by `Hub` when its `CommitSyncer` syncs commits beside the engine's thread and every
    /// answer waits for it: a pull page that mints a token then commits without waiting and says
    /// so (`HubActivity.syncBeforeAnswer`), rather than waiting for the disk on this thread.
    public var syncsBeside = false

    /// The author of writes the hub makes itself (assignments). Not a valid user name.
    public static var systemAuthor: UserName { BatchDecider.systemAuthor }

    public init(store: any HubStorage, configuration: HubConfiguration) throws {
        self.store = store
        rowWriter = store is SQLiteHubStore ? RowWriter() : nil
        self.configuration = configuration
        recent = RecentChanges(indexWhenAnswering: configuration.verifySnapshots)
        // Three quarters for what users may see, a quarter for what replicas hold.
        visibilityCache = LRUCache(budget: configuration.cacheBytes / 4 * 3)
        knownCache = LRUCache(budget: configuration.cacheBytes / 4)
        // About 50,000 tokens in the default 256 MiB (not counted in the two above).
        tokens = TokenCache(budget: configuration.cacheBytes / 32)
        guard let id = try store.hubID(), let (_, document) = try store.workspace() else {
            throw HubError.notInitialised
        }
        hubID = id
        hubReplica = ReplicaID(id)
        do { workspace = try Workspace.decode(document) } catch { throw HubError.badWorkspace(error) }
        let head = try store.head()
        if head > 0, let last = try store.log(after: head - 1, limit: 1).first {
            clock = HybridLogicalClock(last: last.entry.stamp.hlc)
        }
    }

    /// Creates a new hub in `store`.
    public static func initialise(store: any HubStorage, workspace document: String, now: Int64, rng: inout some RandomNumberGenerator) throws -> UUID128 {
        let ws: Workspace
        do { ws = try Workspace.decode(document) } catch { throw HubError.badWorkspace(error) }
        let id = UUID128.version7(milliseconds: now, using: &rng)
        try store.transaction { try store.initialize(hub: id, workspace: document, version: ws.version, now: now) }
        return id
    }

    var now: Int64 { configuration.clock.nowMilliseconds() }

    /// Runs `body`, which may mint hub stamps, on the clock every hub process of this store
    /// shares: it starts after the last stamp any of them minted (kept in the store, read inside
    /// the caller's transaction, which holds the sequencer) and leaves its own. Two hubs on one
    /// PostgreSQL never mint the same stamp (merge-semantics.md §2: a stamp names one write).
    ///
    /// It also reads, once, what else holding the sequencer keeps still (`SequencerOpening`) into
    /// `sequenced`, for the pushes of the transaction to carry forward instead of reading again.
    func onSharedClock<T>(_ body: () throws -> T) throws -> T {
        let opening = try store.sequencerOpening()
        if let stored = opening.hubClock { clock.receive(HLC(rawValue: stored), physical: 0) }
        sequenced = Sequenced(marker: opening.marker, head: opening.bounds.head, conflictHead: opening.bounds.conflictHead)
        defer { sequenced = nil }
        let before = clock.last
        let result = try body()
        if clock.last != before { try store.setMeta("hub_hlc", String(clock.last.rawValue)) }
        return result
    }

    /// Inside a transaction that holds the sequencer (`onSharedClock`): the external-change
    /// marker, and the head and conflict head after the last push of the transaction that is
    /// kept. A push advances them when it is done; a push undone (its savepoint rolled back) puts
    /// them back. Nil outside such a transaction.
    struct Sequenced {
        var marker: Int64
        var head: UInt64
        var conflictHead: UInt64
    }
    var sequenced: Sequenced?

    /// The store's external-change marker when the directory and workspace were last read;
    /// nil after this engine changed them itself. The token cache is good under it alone.
    var directoryMarker: Int64? {
        didSet { if directoryMarker != oldValue || directoryMarker == nil { tokens.reset(marker: directoryMarker) } }
    }

    /// Tokens checked since the directory was last read (`TokenCache`).
    let tokens: TokenCache

    /// Re-reads users and the workspace when someone else committed since the last read (an
    /// operator command in another process) or this engine changed them: not on every request.
    /// `marker`: the store's marker when the caller has just read it (`HubStorage.opening`).
    func refreshDirectory(marker given: Int64? = nil) throws {
        let marker = try given ?? store.externalChanges()
        guard marker != directoryMarker else { return }
        defer { directoryMarker = marker }
        // Someone else wrote to the store, or the workspace (which decides an index row's kind)
        // may have changed: the shared window starts again.
        recent.clear()
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
    ///
    /// The checks and the new version are one transaction, the sequencer's: the version replaced
    /// is the store's as it is now (not the one this engine read when it opened: another
    /// operator's command, another hub), and no write lands between the checks and the version
    /// that depends on them. Pushes wait for the check of every open deal (I17) meanwhile.
    public func apply(workspace document: String) throws -> Workspace {
        let next: Workspace
        do { next = try Workspace.decode(document) } catch { throw HubError.badWorkspace(error) }
        try store.transaction {
            try refreshDirectory()
            let problems = Self.compatibility(from: workspace, to: next)
            guard problems.isEmpty else {
                throw HubError.invalid(
                    "the workspace cannot replace version \(workspace.version):\n" + problems.joined(separator: "\n"),
                    chinese: "这个工作区不能替换第 \(workspace.version) 版：\n" + problems.joined(separator: "\n"))
            }
            // I17: a new version may not take a deal out of everyone's reach.
            let unseen = try dealsLeftUnseen(under: next)
            if !unseen.isEmpty {
                let ids = unseen.prefix(3).map { ShortID.shown($0.id) }.joined(separator: ", ") + (unseen.count > 3 ? ", …" : "")
                throw HubError.invalid(
                    "version \(next.version) would leave \(counted(unseen.count, "deal")) that someone sees now seen by no one (\(ids)): keep a role's sight of them, or first give them owners who keep seeing them",
                    chinese: "第 \(next.version) 版会让 \(unseen.count) 个现在有人能看到的商机变得没有人能看到（\(ids)）：请保留能看到它们的角色条件，或先给它们指定仍能看到它们的负责人")
            }
            try store.addWorkspace(version: next.version, document: document, now: now)
            try store.audit(action: "workspace", subject: "workspace", detail: "version \(workspace.version) → \(next.version)", now: now)
        }
        workspace = next
        directoryMarker = nil
        return next
    }

    /// The live deals someone sees under the current workspace and directory that no enabled
    /// user would see under `next` and `nextDirectory` (I17): a new workspace version, or a user
    /// changed. Each deal is asked from the record index; its team is read only when the owner,
    /// the creator, their managers and the roles are not enough.
    public func dealsLeftUnseen(under next: Workspace, directory nextDirectory: Directory? = nil) throws -> [UnseenDeal] {
        try refreshDirectory()
        var out = [UnseenDeal]()
        for deal in try store.openRecordColumns(owner: nil, closedStages: []) {
            var team: Set<UserName>?
            if try !seen(deal, under: next, directory: nextDirectory, team: &team), try seen(deal, under: workspace, team: &team) {
                out.append(UnseenDeal(id: deal.id, owner: deal.owner))
            }
        }
        return out
    }

    // MARK: Authentication

    /// The token's user, read from the store now.
    public func authenticate(authorization: String?) throws -> HubUser {
        guard let token = Bearer.token(authorization) else {
            throw WireError(.unauthenticated, "send Authorization: Bearer <token>")
        }
        let hash = Token.hash(token)
        guard let user = try store.user(tokenHash: hash) else { throw WireError(.unauthenticated, "unknown or revoked token") }
        guard !user.disabled else { throw WireError(.userDisabled, "this user is disabled") }
        tokens.remember(hash, user)
        return user
    }

    /// The token's user from the token cache, or else from the store: for a handshake, push or
    /// pull, which confirm a cached user in their own transaction (`confirmed`).
    public func authenticateForRequest(authorization: String?) throws -> HubUser {
        if let token = Bearer.token(authorization), let user = tokens.user(Token.hash(token)) { return user }
        return try authenticate(authorization: authorization)
    }

    /// Inside a request's transaction, once `refreshDirectory` has read the marker: a user from
    /// the token cache is read again from the store if the directory changed since the cache
    /// knew it — the token revoked, the user disabled or changed, through any hub or by the
    /// operator. Its answer replaces the cached one.
    func confirmed(_ user: HubUser) throws -> HubUser {
        guard let cached = user.cached, cached.marker != directoryMarker else { return user }
        guard let fresh = try store.user(tokenHash: cached.tokenHash) else { throw WireError(.unauthenticated, "unknown or revoked token") }
        guard !fresh.disabled else { throw WireError(.userDisabled, "this user is disabled") }
        return fresh
    }

}

/// Failures of the hub outside the protocol (setup, operator input): a stable code and one
/// clear line for the operator. Protocol failures are `WireError`s.
public struct HubError: Error, CustomStringConvertible, Sendable, Hashable {
    public enum Code: String, Sendable, Hashable {
        case notInitialised = "not-initialised"
        case badWorkspace = "bad-workspace"
        case invalid
    }

    public let code: Code
    public let message: String
    /// The same line for a Chinese-reading operator, where it has one (`opps-hub` says it).
    public let chinese: String?

    public init(_ code: Code, _ message: String, chinese: String? = nil) {
        self.code = code
        self.message = message
        self.chinese = chinese
    }

    public static let notInitialised = HubError(
        .notInitialised, "this directory holds no hub: run opps-hub init --data DIR first", chinese: "这个目录里没有服务器：先运行 opps-hub init --data 目录")
    public static func badWorkspace(_ why: WorkspaceError) -> HubError {
        HubError(.badWorkspace, "the workspace is invalid:\n\(why.description)", chinese: "工作区无效：\n\(why.chineseDescription)")
    }
    public static func invalid(_ why: String, chinese: String? = nil) -> HubError { HubError(.invalid, why, chinese: chinese) }

    public var description: String { message }
}

/// What the fields a record hides from a user follow from (`Workspace.hiddenFields`): the
/// permission matrix reads the user's role, never their name.
struct HiddenFieldsKey: Hashable {
    var entity: String
    var role: String
    var stage: String?
    var relations: Set<Relation>
    /// Shapes kept at most (a workspace has entities × roles × stages × relation sets of them;
    /// past this the cache starts again).
    static let kept = 4096
}
