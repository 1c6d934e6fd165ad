import OppsStore
import Synchronization

/// Tokens the hub has checked since it last read the directory: a token's hash → its user. A
/// sync's requests then skip the token's read from the store — on PostgreSQL a round trip per
/// request, and for a push a hop to the hub's one database thread of its own.
///
/// **Why it never lets a revoked token through** (SCALE-OUT.md; issue 18: a change made through
/// one hub is seen by the next request on every other hub):
/// - Entries are remembered only under the directory marker the engine last read
///   (`HubEngine.directoryMarker`); when the engine reads a different marker, or changes users or
///   tokens itself, the cache is emptied. Every change to users or tokens moves the marker.
/// - A user served from here carries that marker (`HubUser.cached`). The request's own
///   transaction reads the marker again, and if it moved, confirms the token against the store
///   before anything is decided or answered (`HubEngine.confirmed`).
/// So a request is refused if its token was revoked, or its user disabled, before its
/// transaction began — exactly as when every request read the token from the store.
///
/// Thread-safe: the server reads it on any thread, before any hop to the hub's thread; the
/// engine fills and empties it on that thread. Bounded by memory (LRU).
final class TokenCache: Sendable {
    private struct State: ~Copyable {
        var marker: Int64?
        var entries: LRUCache<[UInt8], HubUser>
    }
    private let state: Mutex<State>

    init(budget: Int) { state = Mutex(State(marker: nil, entries: LRUCache(budget: budget))) }

    /// The user of the token with this hash, marked with the marker it is good under; nil if
    /// not known under the current one.
    func user(_ hash: [UInt8]) -> HubUser? {
        state.withLock { s in
            guard let marker = s.marker, var user = s.entries.get(hash) else { return nil }
            user.cached = HubUser.Cached(tokenHash: hash, marker: marker)
            return user
        }
    }

    /// Remembers a user just read from the store for this token, under the current marker (not
    /// at all while there is none: the engine has changed the directory itself).
    func remember(_ hash: [UInt8], _ user: HubUser) {
        var plain = user
        plain.cached = nil
        state.withLock { s in
            guard s.marker != nil else { return }
            s.entries.set(hash, plain, cost: 160 + plain.name.utf8.count + plain.role.utf8.count)
        }
    }

    /// The engine read the directory under `marker` (nil: it changed the directory itself).
    /// A different marker empties the cache.
    func reset(marker: Int64?) {
        state.withLock { s in
            guard s.marker != marker || marker == nil else { return }
            s.marker = marker
            s.entries = LRUCache(budget: s.entries.budget)
        }
    }
}
