import Logging
import NIOCore
import NIOPosix
import OppsCore
import OppsStore
import OppsWire
import Synchronization

/// The hub as a concurrency-safe service: one actor owns the engine and its store connection,
/// so writes are sequenced one batch at a time (sync-protocol.md §5.2).
public actor Hub {
    let engine: HubEngine
    public nonisolated let configuration: HubConfiguration
    public nonisolated let hubID: UUID128
    /// Runs on its own thread — a NIO event loop of its own, not the cooperative pool: engine
    /// calls block on SQLite, and a push waits for its fsync; on two cores the pool has two
    /// threads, which every HTTP connection, client and timer need (BENCHMARKS.md).
    private nonisolated let thread = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private nonisolated let loop: any EventLoop
    public nonisolated var unownedExecutor: UnownedSerialExecutor { loop.executor.asUnownedSerialExecutor() }

    /// Whether the hub has no user yet (a new hub: `opps-hub serve` says how to add one).
    public func hasNoUsers() throws -> Bool { try engine.store.users().isEmpty }

    /// Opens the hub in `configuration.dataDirectory`; it must have been initialised.
    public init(configuration: HubConfiguration) throws {
        try self.init(configuration: configuration) { $0 }
    }

    /// `syncing`: what the commits' syncs go through (a test holds them back, or makes them fail).
    init(configuration: HubConfiguration, syncing: @Sendable (any CommitSync) -> any CommitSync) throws {
        engine = try HubEngine(store: configuration.openStore(serving: true), configuration: configuration)
        self.configuration = configuration
        hubID = engine.hubID
        tokens = engine.tokens
        if configuration.syncCommitsBeside, let log = engine.store.laterSync {
            syncer = CommitSyncer(log: syncing(log), failed: Self.syncRefused)
            engine.syncsBeside = true
        } else {
            syncer = nil
        }
        loop = thread.next()
        loop.name("opps-hub-db")
    }

    // The last job may run on the loop itself: it shuts down once that job has returned.
    deinit { thread.shutdownGracefully { _ in } }

    /// The token's user for a handshake, push or pull: from the token cache without leaving the
    /// caller's thread when it knows the token (the request's transaction confirms it), else read
    /// on the hub's thread.
    public nonisolated func authenticate(_ authorization: String?) async throws -> HubUser {
        if let token = Bearer.token(authorization), let user = tokens.user(Token.hash(token)) { return user }
        return try await readUser(authorization)
    }

    private func readUser(_ authorization: String?) throws -> HubUser {
        try engine.authenticate(authorization: authorization)
    }

    /// The engine's token cache, read on any thread.
    private nonisolated let tokens: TokenCache

    /// Makes push groups' commits durable beside this thread (nil: each commit waits for the
    /// disk itself — PostgreSQL, or `syncCommitsBeside` off).
    private nonisolated let syncer: CommitSyncer?

    /// Returns once everything the hub has committed so far is on disk: every answer waits for
    /// this before it leaves (`CommitSyncer`), so none reveals a commit a power loss could undo.
    /// Throws `unavailable` once the disk has refused a sync.
    public nonisolated func durable() async throws {
        do {
            try await syncer?.durable()
        } catch {
            throw Self.diskRefused
        }
    }

    /// What the operator reads when the disk refuses a sync (once).
    static func syncRefused(_ error: any Error) {
        Logger(label: "opps-hub").critical(
            "the disk refused to sync the hub's log: what was committed since the last sync may be lost, so the hub answers every request 503 until it is restarted; check the disk",
            metadata: ["error": "\(error)"])
    }

    static let diskRefused = WireError(.unavailable, "the hub's disk refused to save its writes: the hub's operator must check the disk and restart the hub")

    public func handshake(_ user: HubUser, _ request: HandshakeRequest) throws -> HandshakeResponse {
        var activity = HubActivity()
        let response = try engine.handshake(user: user, request: request, activity: &activity)
        // The replica's binding is in a commit not yet on disk: the answer waits for a sync (`durable`).
        if activity.syncBeforeAnswer { syncer?.committed() }
        return response
    }

    /// Pushes wait here for the next group commit (sync-protocol.md §5.2: they are still
    /// sequenced one batch at a time, in arrival order; only the fsync is shared).
    private var waiting: [(user: HubUser, request: PushRequest, received: [UInt8]?, answer: CheckedContinuation<(PushResponse, HubActivity), any Error>)] = []
    private var commitScheduled = false
    /// Told of every group commit (the server's metrics set it).
    public nonisolated let groupCommitted = Mutex<GroupCommitObserver?>(nil)
    /// Told of every sync of the hub's commits beside its thread, with the time the disk took (the
    /// server's metrics set it; never told when each commit waits for the disk itself).
    public nonisolated func observeDiskSyncs(_ observer: DiskSyncObserver) { syncer?.synced.withLock { $0 = observer } }

    /// `received`: the request's protobuf bytes as they came (nil when it came as JSON).
    public func push(_ user: HubUser, _ request: PushRequest, received: [UInt8]? = nil) async throws -> (PushResponse, HubActivity) {
        try await withCheckedThrowingContinuation { answer in
            waiting.append((user, request, received, answer))
            if !commitScheduled {
                commitScheduled = true
                // Queued behind the pushes already waiting for this actor, so they join this commit.
                Task { self.commitWaiting() }
            }
        }
    }

    private func commitWaiting() {
        commitScheduled = false
        let group = waiting
        waiting.removeAll()
        guard !group.isEmpty else { return }
        let observer = groupCommitted.withLock { $0 }
        let results = engine.push(group: group.map { ($0.user, $0.request, $0.received) }, syncedLater: syncer != nil) { observer?.body($0) }
        // The disk syncs beside the carried pulls below; each answer waits for it (`durable`).
        syncer?.committed()
        // The pushes answered first, then the pulls some carry (sync-protocol.md §5.4), each on
        // this thread right after the commit: no push of the group waits for another's page.
        var carrying = [(Int, PushResponse, HubActivity)]()
        for (i, (pushed, result)) in zip(group, results).enumerated() {
            if pushed.request.hasPull, case let .success((response, activity)) = result {
                carrying.append((i, response, activity))
            } else {
                pushed.answer.resume(with: result)
            }
        }
        for (i, response, activity) in carrying {
            var response = response, activity = activity
            engine.answerCarriedPull(of: group[i].request, user: group[i].user, into: &response, activity: &activity)
            if activity.syncBeforeAnswer { syncer?.committed() }
            group[i].answer.resume(returning: (response, activity))
        }
    }

    /// Authenticates, then decodes the request (`decode`: only once the token is good), then
    /// pulls: one hop to this actor's thread.
    public func pull(authorization: String?, _ decode: () throws -> PullRequest) throws -> (PullResponse, HubActivity) {
        let user = try engine.authenticateForRequest(authorization: authorization)
        return try pull(user, decode())
    }

    public func pull(_ user: HubUser, _ request: PullRequest) throws -> (PullResponse, HubActivity) {
        var activity = HubActivity()
        let response = try engine.pull(user: user, request: request, activity: &activity)
        // The page's token is in a commit not yet on disk: the answer waits for a sync (`durable`).
        if activity.syncBeforeAnswer { syncer?.committed() }
        return (response, activity)
    }

    /// Replicas seen within the last `window` milliseconds.
    public func activeReplicas(window: Int64) throws -> Int {
        let now = engine.configuration.clock.nowMilliseconds()
        return try engine.store.replicas().filter { now - $0.lastSeenMilliseconds <= window }.count
    }

    public func head() throws -> UInt64 { try engine.store.head() }

    /// What `/healthz` asks: one read of the store on this thread, where every request's work is
    /// done. A store that does not answer (PostgreSQL stalled, or unreachable from this hub) or a
    /// thread held by one long statement shows as the read not coming back.
    func storeAnswers() throws { _ = try engine.store.head() }

    /// While a health check's read waits: the next checks wait for the same one instead of
    /// queueing reads of their own behind a thread that does not answer.
    nonisolated let healthRead = Mutex<Task<Void, any Error>?>(nil)

    /// Returns once the store answered a read on the hub's thread; throws `unavailable` when it did
    /// not within `limit` (the read goes on, and the next check waits for it).
    public nonisolated func answersWithin(_ limit: Duration) async throws {
        let read = healthRead.withLock { running -> Task<Void, any Error> in
            if let running { return running }
            // Cleared by the read itself once it is done (answered or refused), under this lock.
            let task = Task {
                defer { self.healthRead.withLock { $0 = nil } }
                try await self.storeAnswers()
            }
            running = task
            return task
        }
        // The first of the read and the limit: a read held on a thread that does not answer
        // cannot be cancelled, so it is raced, not awaited in a group (which waits for it).
        let answered: Result<Bool, any Error> = await withCheckedContinuation { outcome in
            let first = FirstOnly(outcome)
            let timer = Task {
                try? await Task.sleep(for: limit)
                first.say(.success(false))
            }
            Task {
                let result = await read.result
                timer.cancel()
                first.say(result.map { true })
            }
        }
        switch answered {
        case .success(true): return
        case .success(false): throw WireError(.unavailable, "the hub's database did not answer a read within \(limit.components.seconds) s")
        // What the store said is the operator's to read in the log, not a health check's answer.
        case .failure: throw WireError(.unavailable, "the hub's database refused a read")
        }
    }
}

/// Resumes a continuation with the first result it is told, once.
final class FirstOnly<T: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<T, Never>?>
    init(_ continuation: CheckedContinuation<T, Never>) { self.continuation = Mutex(continuation) }
    func say(_ value: T) {
        continuation.withLock { c in
            c?.resume(returning: value)
            c = nil
        }
    }
}

/// What a hub calls after every group commit. A class holding the closure, not a bare closure in
/// the lock: a function value read out of a generic lock's `inout` comes back wrapped in two more
/// reabstraction thunks on every access, so the stored observer grew a chain two frames longer
/// at every commit, and every commit walked it (7 % of the hub's CPU after 2,000 commits, 2.5 ms
/// a commit after 100,000: BENCHMARKS.md, eleventh session). A class reference crosses the lock
/// unchanged.
public final class GroupCommitObserver: Sendable {
    let body: @Sendable (GroupCommit) -> Void
    public init(_ body: @escaping @Sendable (GroupCommit) -> Void) { self.body = body }
}
