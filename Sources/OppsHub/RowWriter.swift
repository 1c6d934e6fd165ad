import Dispatch
import OppsStore

/// Writes a large push's rows on a thread of its own while the sequencer decides the rest of the
/// push: its log entries and the records it has finished with, a few hundred entries at a time
/// (`HubEngine.applyPush`), so a second core takes the rows' share of the serial section
/// (BENCHMARKS.md "Thirty-fifth session").
///
/// The push's transaction is the store's one connection, and SQLite lets one connection be used
/// from several threads only one at a time. The invariant that makes this safe: **while a job is
/// queued or running, the sequencer's thread does not touch the store.** Every store call of a
/// push that uses a writer is made either as a job (`submit`) or after `settle()`, which waits
/// until every job submitted before it has run; and a push that fails settles before its error
/// leaves it (its savepoint or transaction is then rolled back with the writer idle). Jobs run in
/// the order submitted, so what a later read sees is what a push without the writer would see.
///
/// A job's error is kept, the jobs after it are skipped, and `settle()` throws it: the push
/// fails and its transaction rolls back, as when the same statement fails on the sequencer's
/// thread. Only for stores whose connection may move between threads (SQLite's: opened without
/// a mutex, used by one thread at a time); PostgreSQL's connection is the hub thread's own.
final class RowWriter: @unchecked Sendable {
    // Touched only on `queue`.
    private let queue = DispatchQueue(label: "oppsync.hub.rows")
    private var failure: (any Error)?

    /// Runs `job` on the writer's thread after the jobs submitted before it, unless one of them
    /// failed.
    func submit(_ job: @escaping () throws -> Void) {
        let box = UncheckedJob(run: job)
        queue.async {
            guard self.failure == nil else { return }
            do { try box.run() } catch { self.failure = error }
        }
    }

    /// Waits until every submitted job has run; throws the first error one of them threw (and
    /// forgets it: the next push starts clean).
    func settle() throws {
        let failed: (any Error)? = queue.sync {
            defer { failure = nil }
            return failure
        }
        if let failed { throw failed }
    }

    /// The same without the error, for a push already failing: its transaction rolls back.
    func settleQuietly() { try? settle() }
}

/// A job's closure, which captures the store (not `Sendable`: one owner at a time). It crosses
/// to the writer's thread under `RowWriter`'s invariant.
private struct UncheckedJob: @unchecked Sendable {
    let run: () throws -> Void
}
