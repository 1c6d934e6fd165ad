import Foundation
import OppsCore
import OppsStore
import Testing

/// What several hub processes on one database need of the store (SCALE-OUT.md §4): each test
/// opens several stores — connections of their own — on one database and runs them on threads
/// at once. SQLite passes them by locking the whole file; PostgreSQL by the sequencer row.
@Suite struct ConcurrentStorageTests {
    static let replica = ReplicaID(UUID128(high: 2, low: 0xC))

    func setUp(_ backend: Backend) throws -> String {
        let location = try backend.fresh()
        let s = try backend.open(location)
        try s.transaction { try s.initialize(hub: UUID128(high: 9, low: 9), workspace: Workspace.defaultDocument, version: 1, now: 1000) }
        try s.addUser(HubUser(name: "sam", role: "sales"), now: 1000)
        return location
    }

    func entry(_ seq: UInt64, record: UInt64) -> LogEntry {
        LogEntry(
            sequence: seq, record: RecordID(high: 6, low: record), entity: "opportunity", field: "amount", kind: .set, value: .integer(Int64(seq)),
            stamp: Stamp(hlc: HLC(rawValue: seq), replica: Self.replica), author: "sam", authority: .own)
    }

    /// Runs `body(i)` on `count` threads at once and waits for all of them.
    func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let group = DispatchGroup()
        for i in 0..<count {
            group.enter()
            Thread.detachNewThread {
                body(i)
                group.leave()
            }
        }
        group.wait()
    }

    struct Abort: Error {}

    /// Writers numbering from the head they read, some aborting after writing: what commits is
    /// exactly 1…N in the log and 1…C in the conflicts, with no number taken twice or skipped.
    @Test(arguments: Backend.all)
    func writersAtOnceWithAbortsLeaveGaplessNumbers(backend: Backend) throws {
        let location = try setUp(backend)
        let committed = Tally()
        onThreads(4) { writer in
            do {
                let s = try backend.open(location)
                var rng = SystemRandomNumberGenerator()
                for n in 0..<25 {
                    let abort = Int.random(in: 0..<4, using: &rng) == 0
                    let conflict = Int.random(in: 0..<2, using: &rng) == 0
                    let entries = Int.random(in: 1...3, using: &rng)
                    do {
                        try s.transaction {
                            for _ in 0..<entries {
                                let seq = try s.head() + 1
                                try s.append(entry(seq, record: UInt64(writer * 100 + n)), hubMilliseconds: 1)
                            }
                            if conflict {
                                let id = try s.conflictHead() + 1
                                _ = try s.addConflict(
                                    ConflictRecord(
                                        id: id, record: RecordID(high: 6, low: UInt64(writer)), entity: "opportunity", field: "amount", outcome: .rejected,
                                        rule: .readOnly,
                                        loser: FieldState(
                                            value: .integer(1), stamp: Stamp(hlc: HLC(rawValue: 1), replica: Self.replica), author: "sam", authority: .own,
                                            sequence: 1), winner: nil), owner: "sam", hubMilliseconds: 1)
                            }
                            if abort { throw Abort() }
                        }
                        committed.add(entries: entries, conflicts: conflict ? 1 : 0)
                    } catch is Abort {}
                }
            } catch {
                committed.fail("\(error)")
            }
        }
        #expect(committed.failures.isEmpty, "\(committed.failures)")
        let s = try backend.open(location)
        let log = try s.log(after: 0, limit: 10_000).map(\.entry.sequence)
        #expect(log == Array(1...UInt64(committed.entries)))
        #expect(try s.head() == UInt64(committed.entries))
        let conflicts = try s.openConflicts(user: nil).map(\.conflict.id)
        #expect(conflicts == (committed.conflicts == 0 ? [] : Array(1...UInt64(committed.conflicts))))
    }

    /// A reader's snapshot never has a hole below the head it read, while writers commit.
    @Test(arguments: Backend.all)
    func aReaderNeverSeesAHoleBelowItsHead(backend: Backend) throws {
        let location = try setUp(backend)
        let result = Tally()
        let done = Flag(), reading = Flag()
        onThreads(3) { role in
            do {
                let s = try backend.open(location)
                if role < 2 {
                    defer { if role == 0 { done.set() } }
                    // The writers start once the reader has read once: on a fast store they
                    // could otherwise be done before it began (the test then proved nothing).
                    while !reading.isSet { Thread.sleep(forTimeInterval: 0.001) }
                    for n in 0..<60 {
                        try s.transaction {
                            for _ in 0..<Int.random(in: 1...4) {
                                try s.append(entry(try s.head() + 1, record: UInt64(role * 100 + n)), hubMilliseconds: 1)
                            }
                        }
                    }
                } else {
                    while !done.isSet {
                        try s.bookkeeping {
                            let head = try s.head()
                            let seen = try s.log(after: 0, limit: 100_000).map(\.entry.sequence)
                            if seen != Array(0...head).dropFirst().map({ $0 }) { result.fail("head \(head), saw \(seen.count) entries up to \(seen.last ?? 0)") }
                            result.add(entries: 1, conflicts: 0)
                        }
                        reading.set()
                        // SQLite's lock is not fair: a reader that never pauses starves the writers.
                        Thread.sleep(forTimeInterval: 0.002)
                    }
                }
            } catch {
                result.fail("\(error)")
            }
        }
        #expect(result.failures.isEmpty, "\(result.failures.prefix(3))")
        #expect(result.entries > 1, "the reader read again while the writers wrote")
    }

    /// A change one process makes to users is what another's `externalChanges` notices.
    @Test(arguments: Backend.all)
    func anotherStoreNoticesAUserChange(backend: Backend) throws {
        let location = try setUp(backend)
        let a = try backend.open(location), b = try backend.open(location)
        let before = try b.externalChanges()
        try a.transaction {
            var sam = try #require(try a.user(named: "sam"))
            sam.disabled = true
            try a.updateUser(sam)
        }
        #expect(try b.externalChanges() != before)
        #expect(try b.user(named: "sam")?.disabled == true)
        let middle = try b.externalChanges()
        try a.transaction { try a.addWorkspace(version: 2, document: Workspace.defaultDocument, now: 2) }
        #expect(try b.externalChanges() != middle)
        #expect(try b.workspaceVersion() == 2)
    }

    /// A push and a pull of one replica at once, through two hubs, in either order: the replica's
    /// row is never written back stale — the push's batch number and the pull's page token both
    /// survive, or the one that would have overwritten fails as a whole, retryably.
    @Test(arguments: Backend.all, [false, true])
    func aPushAndAPullOfOneReplicaNeverLoseAnUpdate(backend: Backend, pullFirst: Bool) throws {
        let location = try setUp(backend)
        let setup = try backend.open(location)
        try setup.saveReplica(ReplicaRow(id: Self.replica, user: "sam", lastBatch: 0, ack: 0, lastSeenMilliseconds: 1, pullToken: 0))
        let pushes = Tally(), pulls = Tally()
        onThreads(2) { n in
            let isPull = (n == 0) == pullFirst
            let tally = isPull ? pulls : pushes
            do {
                let s = try backend.open(location)
                if n == 1 { Thread.sleep(forTimeInterval: 0.05) }
                let body = {
                    var row = try #require(try s.replica(Self.replica))
                    Thread.sleep(forTimeInterval: 0.2)
                    if isPull { row.pullToken += 1 } else { row.lastBatch += 1 }
                    try s.saveReplica(row)
                }
                do {
                    if isPull { try s.bookkeeping(body) } else { try s.transaction(body) }
                    tally.add(entries: 1, conflicts: 0)
                } catch let e as StoreError where e.isRetryable {
                    tally.add(entries: 0, conflicts: 1)
                }
            } catch {
                tally.fail("\(error)")
            }
        }
        #expect(pushes.failures.isEmpty && pulls.failures.isEmpty, "\(pushes.failures + pulls.failures)")
        let row = try #require(try setup.replica(Self.replica))
        #expect(row.lastBatch == UInt64(pushes.entries), "every committed push kept")
        #expect(row.pullToken == UInt64(pulls.entries), "every committed pull kept")
        #expect(pushes.entries + pushes.conflicts == 1 && pulls.entries + pulls.conflicts == 1)
    }
}

/// Counts threads report.
final class Tally: @unchecked Sendable {
    private let lock = NSLock()
    private var e = 0, c = 0, f = [String]()
    func add(entries: Int, conflicts: Int) {
        lock.withLock {
            e += entries; c += conflicts
        }
    }
    func fail(_ why: String) { lock.withLock { f.append(why) } }
    var entries: Int { lock.withLock { e } }
    var conflicts: Int { lock.withLock { c } }
    var failures: [String] { lock.withLock { f } }
}

final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
