import NIOCore
import NIOPosix
import OppsStore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Makes a push group's commit durable on a thread of its own (`opps-hub-sync`) while the hub's
/// thread goes on — with the pulls the group's pushes carry, and with whatever request comes
/// next — and holds back every answer until what it may reveal is on disk.
///
/// Invariant (sync-protocol.md §5.2, docs/operator.md "Durability"): no answer leaves the hub
/// before every commit made before it was computed is on disk. Each commit made with
/// `transactionSyncedLater` takes the next number (`committed()`); the answer's handler, once it
/// has its answer, waits for the number the hub had reached by then (`durable()`), which is at
/// least that of every commit the answer could have read. Syncs are shared: one `fdatasync`
/// covers every commit made before it began, so a burst of groups costs one or two.
///
/// If the disk refuses a sync, what was committed since the last good one may be lost, and a
/// later sync that succeeds does not say otherwise (the kernel may have dropped the pages it could
/// not write). So a refusal is final: every answer waiting and every answer after it is refused
/// as `unavailable` (503) until the hub is restarted, and the log says why.
final class CommitSyncer: Sendable {
    private struct State {
        var committed: UInt64 = 0
        var synced: UInt64 = 0
        var syncing = false
        var failure: (any Error)?
        var waiting: [(number: UInt64, answer: CheckedContinuation<Void, any Error>)] = []
    }

    private let state = Mutex(State())
    private let log: any CommitSync
    private let thread = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let loop: any EventLoop
    /// Told once, of the refusal that stopped the hub's answers.
    private let failed: @Sendable (any Error) -> Void
    /// Told of every sync that succeeded, and how long the disk took (the server's metrics set it:
    /// `opps_disk_sync_seconds`). Every answer waits for one, so a slow one is a slow answer.
    let synced = Mutex<DiskSyncObserver?>(nil)

    init(log: any CommitSync, failed: @escaping @Sendable (any Error) -> Void = { _ in }) {
        self.log = log
        self.failed = failed
        loop = thread.next()
        loop.name("opps-hub-sync")
    }

    deinit { thread.shutdownGracefully { _ in } }

    /// A commit was made that is not yet on disk: starts a sync if none is running (one that is
    /// will be followed by another that covers this commit).
    func committed() {
        let start = state.withLock { s -> Bool in
            s.committed += 1
            guard !s.syncing, s.failure == nil else { return false }
            s.syncing = true
            return true
        }
        if start { loop.execute { self.syncUntilCaughtUp() } }
    }

    /// Returns once every commit made before the call is on disk: at once when it already is.
    func durable() async throws {
        enum Now { case ready, failed(any Error), wait(UInt64) }
        let now = state.withLock { s -> Now in
            if let failure = s.failure { return .failed(failure) }
            return s.synced >= s.committed ? .ready : .wait(s.committed)
        }
        switch now {
        case .ready: return
        case let .failed(error): throw error
        case let .wait(number):
            try await withCheckedThrowingContinuation { (answer: CheckedContinuation<Void, any Error>) in
                // The sync may have finished (or failed) since: checked again under the lock.
                let resume = state.withLock { s -> Result<Void, any Error>? in
                    if let failure = s.failure { return .failure(failure) }
                    if s.synced >= number { return .success(()) }
                    s.waiting.append((number, answer))
                    return nil
                }
                if let resume { answer.resume(with: resume) }
            }
        }
    }

    /// On the sync thread: syncs until every commit made so far is on disk, releasing the
    /// answers each sync covers.
    private func syncUntilCaughtUp() {
        while true {
            let target = state.withLock { $0.committed }
            let began = ContinuousClock.now
            do {
                try log.sync()
                synced.withLock { $0 }?.body(ContinuousClock.now - began)
            } catch {
                // The operator is told before any answer is refused: an answer that arrives once
                // the failure is recorded is refused at once, without waiting on this thread.
                failed(error)
                let waiting = state.withLock { s -> [CheckedContinuation<Void, any Error>] in
                    s.failure = error
                    s.syncing = false
                    let waiting = s.waiting.map(\.answer)
                    s.waiting.removeAll()
                    return waiting
                }
                for answer in waiting { answer.resume(throwing: error) }
                return
            }
            let (released, done) = state.withLock { s -> ([CheckedContinuation<Void, any Error>], Bool) in
                s.synced = target
                var released = [CheckedContinuation<Void, any Error>]()
                s.waiting.removeAll { waiter in
                    guard waiter.number <= target else { return false }
                    released.append(waiter.answer)
                    return true
                }
                let done = s.committed == target
                if done { s.syncing = false }
                return (released, done)
            }
            for answer in released { answer.resume() }
            if done { return }
        }
    }
}

/// What a hub calls after every sync of its commits, with the time the disk took (a class, for the
/// reason `GroupCommitObserver` is one).
public final class DiskSyncObserver: Sendable {
    let body: @Sendable (Duration) -> Void
    public init(_ body: @escaping @Sendable (Duration) -> Void) { self.body = body }
}

extension EventLoop {
    /// Names the loop's thread as docs/operator.md does (`top -H`, `perf`): NIO would call it
    /// NIO-ELT-…. Linux allows 15 bytes.
    func name(_ name: String) {
        execute {
            #if canImport(Glibc)
                let fd = open("/proc/thread-self/comm", O_WRONLY)
                if fd >= 0 {
                    _ = name.withCString { write(fd, $0, strlen($0)) }
                    Glibc.close(fd)
                }
            #endif
        }
    }
}
