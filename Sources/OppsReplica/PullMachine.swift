import OppsWire

/// The pull's decisions, apart from its I/O (sync-protocol.md §6): after each thing that
/// happens, what the engine does next. `Replica.pull` performs the actions (requests, the
/// store's repairs, handshakes); each repair path is a transition tested on its own, and each
/// is bounded, so a hub that keeps answering the same way ends the sync with a message instead
/// of a loop.
struct PullMachine {
    enum Event: Equatable {
        /// A page was applied. `more`: the hub has more; `verified`: the last page's checkpoint
        /// matched the replica's checksum (true when the page carries none).
        case applied(more: Bool, verified: Bool)
        /// The hub refused the pull with this code.
        case refused(WireError.Code)
        /// The page named an entity or field this workspace lacks: nothing of it was applied.
        case workspaceAhead
    }

    enum Action: Equatable {
        /// Ask for the next page.
        case ask
        /// The hub is behind this replica (restored from a backup): handshake for its head,
        /// keep what it still has, forget the rest (§6.3), then ask again.
        case reconcile
        /// Forget the confirmed state and pull from nothing, keeping pending writes.
        case restart
        /// Handshake for the hub's newer workspace, then ask again.
        case migrate
        /// Up to date and verified: keep the checkpoint.
        case finish
        /// Stop the sync with this message (the replica stays as it is: consistent, behind).
        case fail(String)
        /// Not a condition of the pull: the hub's refusal stands as the sync's error.
        case propagate
    }

    /// At most this many repairs of each kind, and workspace migrations, in one sync.
    static let limit = 3

    /// A repair happened (the sync report says so).
    private(set) var repaired = false
    /// A repair because the replica differed from the hub (not because its cursor expired).
    var diverged: Bool { verifyRestarts > 0 || reconciles > 0 }
    private(set) var restarts = 0
    private(set) var reconciles = 0
    private(set) var verifyRestarts = 0
    private(set) var migrations = 0

    mutating func on(_ event: Event) -> Action {
        switch event {
        case .applied(more: true, _):
            return .ask
        case .applied(more: false, verified: true):
            return .finish
        case .applied(more: false, verified: false):
            // One repair from nothing; a second difference is not this replica's to fix.
            guard verifyRestarts == 0 else {
                return .fail("the replica still differs from the hub after a repair; run opps sync again or report it")
            }
            verifyRestarts += 1
            repaired = true
            return .restart
        case .refused(.cursorAhead):
            reconciles += 1
            guard reconciles <= Self.limit else {
                return .fail("the hub keeps answering that it is behind this replica after repairs; run opps sync again or report it")
            }
            repaired = true
            return .reconcile
        case .refused(.cursorExpired):
            // The hub compacted past this replica's cursor.
            restarts += 1
            guard restarts <= Self.limit else {
                return .fail("the hub keeps answering that this replica's cursor expired after re-syncs; run opps sync again or report it")
            }
            repaired = true
            return .restart
        case .refused(.workspaceOutdated), .workspaceAhead:
            migrations += 1
            guard migrations <= Self.limit else {
                return .fail("the hub's workspace changed while pulling and this replica could not follow it: run opps sync again or report it")
            }
            return .migrate
        case .refused:
            return .propagate
        }
    }
}
