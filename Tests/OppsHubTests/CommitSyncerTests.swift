import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import OppsCore
import OppsStore
import OppsTestSupport
import OppsWire
import Synchronization
import Testing

@testable import OppsHub
@testable import OppsReplica

/// Where a test holds the hub's commit syncs: each waits until the gate is open, and is counted
/// when it begins and when it finishes; the gate may make them refuse.
final class Gate: Sendable {
    private struct State {
        var open = false
        var refusing = false
        var begun = 0
        var finished = 0
    }

    private let state: Mutex<State>

    /// `open`: syncs pass until `arm` (a hub's replicas are registered first: a handshake that
    /// binds one waits for a sync too).
    init(open: Bool = false) { state = Mutex(State(open: open)) }

    var begun: Int { state.withLock { $0.begun } }
    var finished: Int { state.withLock { $0.finished } }
    func open() { state.withLock { $0.open = true } }
    /// Closed from now on, counting syncs from zero.
    func arm() { state.withLock { $0 = State() } }
    func refuse() { state.withLock { $0.refusing = true } }

    /// A sync through this gate, passing on to `inner` (the real log's) once open.
    func wrapping(_ inner: (any CommitSync)? = nil) -> any CommitSync { GatedSync(gate: self, inner: inner) }

    fileprivate func pass(_ inner: (any CommitSync)?) throws {
        state.withLock { $0.begun += 1 }
        while !state.withLock({ $0.open }) { usleep(1000) }
        if state.withLock({ $0.refusing }) { throw StoreError(code: StoreError.unavailable, message: "fdatasync: Input/output error") }
        try inner?.sync()
        state.withLock { $0.finished += 1 }
    }
}

private struct GatedSync: CommitSync {
    let gate: Gate
    let inner: (any CommitSync)?
    func sync() throws { try gate.pass(inner) }
}

/// Waits for `condition`, failing after two minutes: a bound on a failure, never a speed target
/// (the suite runs its tests side by side on two cores: a push that waited 10 s behind them
/// failed a test once, in CI and under a busy core).
func eventually(_ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(120)
    while !condition() {
        guard ContinuousClock.now < deadline else { Issue.record("timed out"); return }
        try await Task.sleep(for: .milliseconds(2))
    }
}

/// `sam` pushes one new deal while `gate` holds the disk's sync of its commit for `held`;
/// returns once the push is answered.
func pushWithItsSyncHeld(_ held: Duration, by gate: Gate, _ sam: inout TestReplica, _ rng: inout SeededGenerator, _ c: WireClient) async throws {
    gate.arm()
    let request = try sam.batch([sam.create(using: &rng)])
    let token = sam.token
    let push = Task { try await c.call(Endpoint.push, request, token: token, as: PushResponse.self) }
    try await eventually { gate.begun == 1 }
    try await Task.sleep(for: held)
    gate.open()
    _ = try await push.value
}

/// The same for a condition that must be asked over the network: asked again every 50 ms.
func eventuallyAsync(_ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(120)
    while try await !condition() {
        guard ContinuousClock.now < deadline else { Issue.record("timed out"); return }
        try await Task.sleep(for: .milliseconds(50))
    }
}

/// A push group's commit is made durable beside the hub's thread, and no answer leaves before
/// what was committed before it is on disk (`CommitSyncer`; docs/operator.md "Durability").
@Suite struct CommitSyncerTests {
    @Test func anAnswerWaitsUntilWhatWasCommittedBeforeItIsOnDisk() async throws {
        let gate = Gate()
        let syncer = CommitSyncer(log: gate.wrapping())
        // Nothing committed: nothing to wait for, nothing synced.
        try await syncer.durable()
        #expect(gate.begun == 0)

        syncer.committed()
        let answered = Mutex(false)
        let answer = Task {
            try await syncer.durable()
            answered.withLock { $0 = true }
        }
        try await eventually { gate.begun == 1 }
        try await Task.sleep(for: .milliseconds(50))
        #expect(!answered.withLock { $0 }, "answered before its commit was on disk")
        gate.open()
        try await answer.value
        #expect(answered.withLock { $0 })
        #expect(gate.finished == 1)
        // Synced: the next answer does not wait, and no sync runs for it.
        try await syncer.durable()
        #expect(gate.begun == 1)
    }

    @Test func commitsMadeWhileTheDiskSyncsShareTheNextSync() async throws {
        let gate = Gate()
        let syncer = CommitSyncer(log: gate.wrapping())
        syncer.committed()
        try await eventually { gate.begun == 1 }
        for _ in 0..<5 { syncer.committed() }
        let answers = (0..<5).map { _ in Task { try await syncer.durable() } }
        gate.open()
        for answer in answers { try await answer.value }
        // The first sync could not cover the five commits made after it began; one more did.
        #expect(gate.finished == 2)
    }

    @Test func aRefusedSyncRefusesEveryAnswerFromThenOn() async throws {
        let gate = Gate()
        gate.refuse()
        gate.open()
        let told = Mutex(0)
        let syncer = CommitSyncer(log: gate.wrapping()) { _ in told.withLock { $0 += 1 } }
        syncer.committed()
        await #expect(throws: StoreError.self) { try await syncer.durable() }
        // What was committed since the last good sync may be lost whatever a later sync says:
        // no later sync runs, and every answer is refused, one that waits for nothing too.
        syncer.committed()
        await #expect(throws: StoreError.self) { try await syncer.durable() }
        #expect(gate.begun == 1)
        #expect(told.withLock { $0 } == 1)
    }

    @Test func aPushIsAnsweredOnlyOnceItsCommitIsOnDisk() async throws {
        let gate = Gate(open: true)
        let f = try HubFixture(syncing: { gate.wrapping($0) })
        try await f.live { c in
            var sam = try await f.replicas("sam", client: c)[0]
            gate.arm()
            var rng = SeededGenerator(seed: 7)
            let request = try sam.batch([sam.create(using: &rng)])
            let answered = Mutex(false)
            let token = sam.token
            let push = Task {
                let response = try await c.call(Endpoint.push, request, token: token, as: PushResponse.self)
                answered.withLock { $0 = true }
                return response
            }
            try await eventually { gate.begun == 1 }
            // Committed — another reader of the file sees the batch — but not yet on disk: held.
            let reader = try SQLiteHubStore(path: f.configuration.databasePath)
            #expect(try reader.replica(sam.id)?.lastBatch == 1)
            try await Task.sleep(for: .milliseconds(50))
            #expect(!answered.withLock { $0 }, "the push was answered before its commit was on disk")
            gate.open()
            let response = try await push.value
            #expect(response.results.map(\.outcome) == [.applied])
            #expect(gate.finished == 1)
        }
    }

    /// Every sync of the hub's commits is timed for the operator (`opps_disk_sync_seconds`,
    /// docs/operator.md "Monitoring"): every answer waits for one, so a disk that stalls is what a
    /// slow answer waited on, and the operator must be able to see it (BENCHMARKS.md, sixty-seventh
    /// session).
    @Test func everySyncOfTheCommitsIsTimedForTheOperator() async throws {
        let gate = Gate(open: true)
        let f = try HubFixture(syncing: { gate.wrapping($0) })
        try await f.live { c in
            var sam = try await f.replicas("sam", client: c)[0]
            func value(_ name: String) async throws -> Double {
                let text = String(buffer: try await c.get(Endpoint.metrics).body)
                let line = try #require(text.split(separator: "\n").first { $0.hasPrefix(name + " ") }, "metrics lack \(name)")
                return try #require(Double(line.split(separator: " ")[1]))
            }
            let before = try await value("opps_disk_sync_seconds_count")
            let slowBefore = try await value("opps_disk_sync_seconds_count") - (try await value("opps_disk_sync_seconds_bucket{le=\"0.025\"}"))
            // A push whose sync the disk holds for 60 ms.
            var rng = SeededGenerator(seed: 7)
            try await pushWithItsSyncHeld(.milliseconds(60), by: gate, &sam, &rng, c)
            // Counted once each, the slow one in no bucket under 25 ms and in the sum.
            let after = try await value("opps_disk_sync_seconds_count")
            #expect(after - before == Double(gate.finished))
            let slow = after - (try await value("opps_disk_sync_seconds_bucket{le=\"0.025\"}"))
            #expect(slow - slowBefore == 1)
            #expect(try await value("opps_disk_sync_seconds_sum") >= 0.06)
        }
    }

    /// A sync the disk holds a second or more is told in the operator's log (not only in the
    /// metric), once a minute at most: a disk that keeps stalling does not fill the log.
    @Test func aSyncTheDiskHoldsASecondIsToldInTheLogOnceAMinute() async throws {
        let gate = Gate(open: true)
        let f = try HubFixture(syncing: { gate.wrapping($0) })
        var ends: [Int32] = [0, 0]
        try #require(pipe(&ends) == 0)
        let writer = ends[1]
        // This server's observer replaces the fixture's: its log is the pipe.
        _ = HubServer(hub: f.hub, logger: Logger(label: "opps-hub") { HubLogHandler(label: $0, fileDescriptor: writer) })
        try await f.live { c in
            var sam = try await f.replicas("sam", client: c)[0]
            var rng = SeededGenerator(seed: 7)
            for _ in 0..<2 { try await pushWithItsSyncHeld(.milliseconds(1100), by: gate, &sam, &rng, c) }
        }
        close(writer)
        let read = FileHandle(fileDescriptor: ends[0], closeOnDealloc: true).readDataToEndOfFile()
        let warnings = String(decoding: read, as: UTF8.self).split(separator: "\n").filter { $0.contains("to sync the hub's log") }
        #expect(warnings.count == 1, "\(warnings)")
        // "1.1 s", or more on a machine busy with the suite's other tests.
        let line = try #require(warnings.first.map(String.init))
        #expect(line.contains(#/\bwarning opps-hub: \[OppsHub\] the disk took \d+\.\d s to sync the hub's log: every answer waited for it/#), "\(line)")
    }

    /// A pull page that delivers records mints a token the replica will echo: its bookkeeping,
    /// committed without waiting for the disk, is on disk before the page is answered — a power
    /// loss must not leave the hub not knowing what a page it sent delivered (sync-protocol.md
    /// §2.6). A page that delivers nothing keeps its token and waits for no sync.
    @Test func aPageThatDeliversRecordsIsAnsweredOnlyOnceItsTokenIsOnDisk() async throws {
        let gate = Gate(open: true)
        let f = try HubFixture(syncing: { gate.wrapping($0) })
        try await f.live { c in
            var sam = try await f.replicas("sam", client: c)[0]
            gate.arm()
            // A first pull (from nothing) is answered by a page with a token of its own.
            let request = sam.pullRequest(maxChanges: 0), token = sam.token
            let answered = Mutex(false)
            let pull = Task {
                let page = try await c.call(Endpoint.pull, request, token: token, as: PullResponse.self)
                answered.withLock { $0 = true }
                return page
            }
            try await eventually { gate.begun == 1 }
            try await Task.sleep(for: .milliseconds(50))
            #expect(!answered.withLock { $0 }, "a page with a new token was answered before its bookkeeping was on disk")
            gate.open()
            let page = try await pull.value
            #expect(page.token != 0)
            #expect(gate.finished == 1)
            try sam.apply(page)
            // A deal of sam's in the log; once sam's pulls have caught up, one that delivers
            // nothing keeps the token it echoes, and no sync runs for it.
            var rng = SeededGenerator(seed: 7)
            _ = try await sam.push(c, [sam.create(using: &rng)])
            _ = try await sam.pull(c)
            _ = try await sam.pull(c)
            let (syncs, echoed) = (gate.begun, sam.token_)
            _ = try await sam.pull(c)
            #expect(sam.token_ == echoed)
            #expect(gate.begun == syncs, "a page that keeps its token waited for a sync")
        }
    }

    /// A handshake that binds a new replica, or changes the protocol version the hub answers it
    /// in, is answered only once that binding is on disk (sync-protocol.md §2.6); one that
    /// changes neither waits for no sync.
    @Test func aHandshakeThatBindsAReplicaIsAnsweredOnlyOnceItIsOnDisk() async throws {
        let gate = Gate()
        let f = try HubFixture(syncing: { gate.wrapping($0) })
        try await f.live { c in
            let sam = TestReplica(user: "sam", token: f.tokens["sam"]!, seed: 1)
            let answered = Mutex(false)
            let first = Task {
                let answer = try await sam.handshake(c, version: 5)
                answered.withLock { $0 = true }
                return answer
            }
            try await eventually { gate.begun == 1 }
            try await Task.sleep(for: .milliseconds(50))
            #expect(!answered.withLock { $0 }, "a new replica was told it is bound before its binding was on disk")
            gate.open()
            #expect(try await first.value.version == 5)
            #expect(gate.finished == 1)
            // Again at the same version: nothing new to keep, no sync.
            _ = try await sam.handshake(c, version: 5)
            #expect(gate.begun == 1)
            // At a newer version: the version it will be answered in is kept before it is told.
            gate.arm()
            let upgraded = Task { try await sam.handshake(c, version: ProtocolVersion.current) }
            try await eventually { gate.begun == 1 }
            gate.open()
            #expect(try await upgraded.value.version == ProtocolVersion.current)
            #expect(try SQLiteHubStore(path: f.configuration.databasePath).replica(sam.id)?.protocolVersion == ProtocolVersion.current)
        }
    }

    @Test func aRefusalWaitsForTheSyncToo() async throws {
        let gate = Gate(open: true)
        let f = try HubFixture(syncing: { gate.wrapping($0) })
        try await f.live { c in
            var replicas = try await f.replicas("sam", "tom", client: c)
            gate.arm()
            var rng = SeededGenerator(seed: 7)
            let first = try replicas[0].batch([replicas[0].create(using: &rng)])
            let samToken = replicas[0].token
            let push = Task { try await c.call(Endpoint.push, first, token: samToken, as: PushResponse.self) }
            try await eventually { gate.begun == 1 }
            // Tom's batch 2 before his batch 1 is refused (`batch-out-of-order`, which names the
            // batch the hub expects): a refusal made while sam's commit syncs is held as well.
            var tom = replicas[1]
            tom.batch = 1
            let skipped = try tom.batch([tom.create(using: &rng)])
            let refused = Mutex(false)
            let tomToken = tom.token
            let refusal = Task { () async throws -> WireError.Code? in
                do {
                    _ = try await c.call(Endpoint.push, skipped, token: tomToken, as: PushResponse.self)
                } catch let failure as WireClient.Failure {
                    refused.withLock { $0 = true }
                    return failure.error.code
                }
                return nil
            }
            try await Task.sleep(for: .milliseconds(100))
            #expect(!refused.withLock { $0 }, "a refusal left before the commit made before it was on disk")
            gate.open()
            #expect(try await refusal.value == .batchOutOfOrder)
            _ = try await push.value
        }
    }

    @Test func aDiskThatRefusesASyncStopsEveryAnswer() async throws {
        let gate = Gate(open: true)
        let f = try HubFixture(syncing: { gate.wrapping($0) })
        try await f.live { c in
            var replicas = try await f.replicas("sam", "tom", client: c)
            gate.arm()
            gate.refuse()
            gate.open()
            var rng = SeededGenerator(seed: 7)
            let create = replicas[0].create(using: &rng)
            for attempt in 0..<2 {
                do {
                    _ = try await replicas[0].push(c, [create])
                    Issue.record("a push was acknowledged though its commit could not be synced (attempt \(attempt))")
                } catch let failure as WireClient.Failure {
                    #expect(failure.status == 503)
                    #expect(failure.error.code == .unavailable)
                    #expect(failure.error.message.contains("disk"))
                    // What a rep reads of that answer, in English and in Chinese: the laptop keeps
                    // its work; nothing of the hub's state but the refusal.
                    let said = Replica.refusal(status: failure.status, failure.error)
                    #expect(said.description.contains("your work is kept: run opps sync again later"), "\(said)")
                    #expect(
                        said.chinese(Vocabulary(.default, locale: "zh-CN"))
                            == "服务器现在无法保存修改（unavailable）；本机的修改都保留着，稍后再运行 opps sync；一直如此请联系管理员")
                }
            }
            // Another user's pull, and the liveness check, are refused as well.
            await #expect(throws: WireClient.Failure.self) { _ = try await replicas[1].pull(c) }
            let health = try await c.get(Endpoint.health)
            #expect(health.status == .serviceUnavailable)
            #expect(gate.begun == 1)
        }
    }
}

extension Hub {
    /// Holds the hub's thread, as one statement that does not come back would, until `released`.
    func hold(until released: @Sendable () -> Bool) {
        while !released() { usleep(1000) }
    }
}

/// `/healthz` says whether the hub can serve: a read of its store on the hub's thread must come
/// back within two seconds (docs/operator.md "Monitoring"), so a balancer sends no request to a
/// hub whose database stalled or whose thread one statement holds; checks made meanwhile wait for
/// that one read instead of queueing more behind it.
@Suite struct HealthTests {
    @Test func aHubWhoseStoreDoesNotAnswerIsUnhealthyUntilItDoes() async throws {
        let f = try HubFixture()
        try await f.live { c in
            // Healthy (on a machine busy with the suite's other tests, a read may take the limit:
            // asked again until it answers, bounded by `eventually`).
            func healthy() async throws -> Bool {
                let r = try await c.get(Endpoint.health)
                return r.status.code == 200 && String(buffer: r.body) == "ok\n"
            }
            var ok = false
            try await eventuallyAsync {
                ok = try await healthy(); return ok
            }
            #expect(ok)
            let released = Mutex(false)
            let held = Task { await f.hub.hold { released.withLock { $0 } } }
            try await Task.sleep(for: .milliseconds(50))
            let t0 = ContinuousClock.now
            let checks = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for _ in 0..<3 {
                    group.addTask {
                        let r = try await c.get(Endpoint.health)
                        let e = try? BodyCodec.decode(ErrorBody.self, from: Array(r.body.readableBytesView), as: .json)
                        return (Int(r.status.code), e?.code ?? String(buffer: r.body))
                    }
                }
                var all = [(Int, String)]()
                for try await r in group { all.append(r) }
                return all
            }
            #expect(checks.allSatisfy { $0 == (503, "unavailable") }, "\(checks)")
            #expect(ContinuousClock.now - t0 >= .seconds(2), "said unavailable before waiting its limit")
            #expect(f.hub.healthRead.withLock { $0 } != nil, "the checks share one read, still waiting")
            released.withLock { $0 = true }
            await held.value
            try await eventually { f.hub.healthRead.withLock { $0 } == nil }
            var again = false
            try await eventuallyAsync {
                again = try await healthy(); return again
            }
            #expect(again, "healthy again once the thread is released")
        }
    }
}
