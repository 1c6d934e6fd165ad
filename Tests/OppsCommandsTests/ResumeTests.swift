import Foundation
import OppsCommands
import OppsCore
import OppsHub
import OppsReplica
import OppsStore
import OppsTestSupport
import OppsWire
import SwiftProtobuf
import Testing

/// A transport that drops the connection after a number of pulls, like a train entering a tunnel.
final class FlakyTransport: Transport, @unchecked Sendable {
    let inner: HTTPTransport
    let lock = NSLock()
    var pullsLeft: Int

    init(_ inner: HTTPTransport, pulls: Int) {
        self.inner = inner
        pullsLeft = pulls
    }

    func send<Out: SwiftProtobuf.Message>(_ endpoint: String, body: [UInt8], token: String, as: Out.Type) async throws(TransportError) -> Out {
        if endpoint == Endpoint.pull {
            let left = lock.withLock {
                pullsLeft -= 1
                return pullsLeft + 1
            }
            if left <= 0 { throw .unreachable("connection dropped") }
        }
        return try await inner.send(endpoint, body: body, token: token, as: Out.self)
    }
}

/// Seeds `count` deals owned by sam straight into the hub.
func seedDeals(_ f: CommandFixture, count: Int, nameLength: Int = 200) throws {
    let config = HubConfiguration(dataDirectory: f.root + "/hub")
    let engine = try HubEngine(store: SQLiteHubStore(path: config.databasePath), configuration: config)
    var rng = SeededGenerator(seed: 42)
    let sam = try #require(try engine.store.user(named: "sam"))
    let replica = ReplicaID.random(using: &rng)
    var h = HandshakeRequest()
    h.minVersion = 1
    h.maxVersion = 1
    h.replica = Data(replica.bytes)
    _ = try engine.handshake(user: sam, request: h)
    var clock = HybridLogicalClock()
    var batch: UInt64 = 0
    var writes = [FieldWrite]()
    func flush() throws {
        guard !writes.isEmpty else { return }
        batch += 1
        var activity = HubActivity()
        _ = try engine.push(user: sam, request: BatchCoding.encode(writes, replica: replica, batch: batch, workspace: .default), activity: &activity)
        writes.removeAll()
    }
    for i in 0..<count {
        let id = UUID128.version7(milliseconds: 1_795_000_000_000 + Int64(i), using: &rng)
        func stamp() -> Stamp { Stamp(hlc: clock.tick(physical: 1_795_000_000_000 + Int64(i)), replica: replica) }
        writes.append(FieldWrite(record: id, entity: "opportunity", kind: .create, value: .member("discovery"), author: "sam", stamp: stamp()))
        writes.append(
            FieldWrite(
                record: id, entity: "opportunity", field: "name", value: .text("deal \(i) — " + String(repeating: "x", count: nameLength)), author: "sam", stamp: stamp())
        )
        writes.append(
            FieldWrite(record: id, entity: "opportunity", field: "amount", value: .decimal(ExactDecimal(units: Int64(i) * 100, scale: 2)), author: "sam", stamp: stamp()))
        if writes.count >= 1500 { try flush() }
    }
    try flush()
}

@Suite(.serialized) struct ResumeTests {
    /// A page of megabytes, deflated by the hub (libdeflate), is inflated by the replica's HTTP
    /// client (zlib) — the first pull of 3,000 deals of ~4 KB (pages of ~2 MiB) ends with every
    /// record and the hub's checksum matched.
    @Test func aPageOfMegabytesArrivesWhole() async throws {
        let f = try CommandFixture()
        try seedDeals(f, count: 3000, nameLength: 4000)
        try await f.serving { url in
            let r = await opps("init", "--hub", url, "--token", f.tokens["sam"]!, "--home", f.home("sam"), "--json")
            #expect(r.code == 0, "\(r.stdout) \(r.stderr)")
            let list = await opps("list", "--home", f.home("sam"), "--json")
            #expect(list.json?.array?.count == 3000)
        }
    }

    @Test func aPullInterruptedMidwayResumesWhereItStopped() async throws {
        let f = try CommandFixture()
        try seedDeals(f, count: 600)
        try await f.serving { url in
            #expect(await opps("init", "--hub", url, "--token", f.tokens["max"]!, "--home", f.home("max")).code == 0)
            let http = HTTPTransport(baseURL: url)
            let replica = try await f.samsLaptop(url, http, pageSize: 50)
            // The connection drops after three pages.
            await #expect(throws: ReplicaError.self) { _ = try await replica.sync(transport: FlakyTransport(http, pulls: 3)) }
            let partial = try replica.store.recordCount()
            #expect(partial > 0 && partial < 600)
            let cursor = try replica.store.sync(.cursor)
            // Resuming continues from the stored cursor and token, not from zero.
            let report = try await replica.sync(transport: http)
            #expect(!report.repaired)
            #expect(try replica.store.recordCount() == 600)
            #expect(report.pulled == 600 - partial || cursor > 0)
            await http.shutdown()
        }
    }

    /// `opps init` cut short (Ctrl-C, a dropped link) left a replica that had not finished its
    /// first sync; the same `opps init` again was refused ("already holds a replica: use opps
    /// connect --token"). It now carries that sync on, and ends with what a whole init holds;
    /// `opps sync` finishes it too, saying so rather than listing every record as news.
    @Test func anInitCutShortIsCarriedOnByTheSameInit() async throws {
        let f = try CommandFixture()
        try seedDeals(f, count: 600)
        try await f.serving { url in
            // A whole init elsewhere: what the carried-on one must hold.
            #expect(await opps("init", "--hub", url, "--token", f.tokens["max"]!, "--home", f.root + "/max-whole").code == 0)
            let whole = try #require(await opps("status", "--home", f.root + "/max-whole", "--json").json?["records"]?.int)
            func cutShort(_ home: String) async throws -> Int {
                let http = HTTPTransport(baseURL: url)
                defer { Task { await http.shutdown() } }
                let replica = try await Replica.create(
                    home: home, hubURL: url, token: f.tokens["max"]!, transport: http, clock: FixedClock(milliseconds: Int64(Date().timeIntervalSince1970 * 1000)))
                replica.pageSize = 50
                await #expect(throws: ReplicaError.self) { _ = try await replica.sync(transport: FlakyTransport(http, pulls: 3)) }
                return try replica.store.recordCount()
            }
            let max = f.home("max")
            let partial = try await cutShort(max)
            #expect(partial > 0 && partial < whole, "\(partial) of \(whole)")
            // Its status says the first sync did not finish, and what carries it on.
            let unfinished = await opps(["status", "--home", max], environment: ["LANG": "C"]).stdout
            #expect(unfinished.contains("last sync never (the first sync did not finish: opps sync carries it on)\n"), "\(unfinished)")
            // Someone else's token on it: refused, saying what the replica is and what to do.
            let other = await opps(["init", "--hub", url, "--token", f.tokens["sam"]!, "--home", max], environment: ["LANG": "C"])
            #expect(
                other.code == 1
                    && other.stderr.contains(
                        "holds max's replica, whose first sync did not finish: opps init with its hub URL and token carries it on, or give another --home"),
                "\(other.stderr)")
            // The same init again: carried on from where it stopped, whole at the end.
            let again = await opps(["init", "--hub", url, "--token", f.tokens["max"]!, "--home", max], environment: ["LANG": "C"])
            #expect(again.code == 0, "\(again.stderr)")
            #expect(again.stderr.contains("carrying on with the first sync that did not finish here (\(partial) records so far)\n"), "\(again.stderr)")
            #expect(again.stdout.contains("replica for max (manager) in \(max): \(whole) records"), "\(again.stdout)")
            let status = try #require(await opps("status", "--home", max, "--json").json)
            #expect(status["records"]?.int == whole && status["last_sync"] != .null, "\(status)")
            #expect(await opps("list", "--home", max, "--json").json?.array?.count == 600)
            // Once whole, init again is refused, naming the commands for what one came to do.
            let twice = await opps(["init", "--hub", url, "--token", f.tokens["max"]!, "--home", max], environment: ["LANG": "C"])
            #expect(
                twice.code == 1 && twice.stderr.contains("already holds max's replica: opps sync syncs it; for a new token or hub URL, opps connect"), "\(twice.stderr)")

            // Cut short again elsewhere, then finished by opps sync: one line for what it holds.
            let elsewhere = f.root + "/max-2"
            _ = try await cutShort(elsewhere)
            let synced = await opps(["sync", "--home", elsewhere], environment: ["LANG": "C"])
            #expect(synced.code == 0, "\(synced.stderr)")
            let lines = synced.stdout.split(separator: "\n").map(String.init)
            #expect(lines.count == 2 && lines.last == "the first full sync is done: \(whole) records here", "\(synced.stdout)")
            #expect(await opps("status", "--home", elsewhere, "--json").json?["records"]?.int == whole)
        }
    }

    static var oppsExecutable: String {
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [dir.appendingPathComponent("opps").path, RepositoryFiles.root.appendingPathComponent(".build/debug/opps").path]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[1]
    }

    @Test func killingSyncDuringApplyLeavesAnIntactReplica() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            #expect(await opps("init", "--hub", url, "--token", f.tokens["max"]!, "--home", f.home("max")).code == 0)
            // Offline work that must survive the crash.
            let id = try #require(await opps("new", "Kept deal", "--account", "Kept Co", "--home", f.home("max"), "--json").json?["id"]?.string)
            try seedDeals(f, count: 2500)
            var rng = SystemRandomNumberGenerator()
            for attempt in 0..<3 {
                let p = try ChildProcess(Self.oppsExecutable, ["sync", "--home", f.home("max")])
                try await Task.sleep(for: .milliseconds(150 + Int.random(in: 0..<400, using: &rng) + attempt * 50))
                kill(p.processIdentifier, SIGKILL)
                p.waitUntilExit()
                // The replica opens and reads after every crash.
                #expect(await opps("status", "--home", f.home("max")).code == 0)
            }
            let done = await opps("sync", "--home", f.home("max"), "--json")
            #expect(done.code == 0, "\(done.stdout) \(done.stderr)")
            #expect(done.json?["repaired"]?.bool == false)
            let status = await opps("status", "--home", f.home("max"), "--json").json
            #expect(status?["pending"]?.int == 0)
            // 2,500 deals and their account-less rows + the kept deal and its account.
            #expect(status?["records"]?.int == 2502)
            #expect(await opps("show", id, "--home", f.home("max"), "--json").json?["fields"]?["name"]?.string == "Kept deal")
        }
    }
}

/// Sends through `inner`, records every push body, and loses the answer to the first push (the
/// hub applied it; the laptop never heard back).
final class AnswerLosingTransport: Transport, @unchecked Sendable {
    let inner: HTTPTransport
    let lock = NSLock()
    var pushes = [[UInt8]]()

    init(_ inner: HTTPTransport) { self.inner = inner }

    func send<Out: SwiftProtobuf.Message>(_ endpoint: String, body: [UInt8], token: String, as: Out.Type) async throws(TransportError) -> Out {
        let answer = try await inner.send(endpoint, body: body, token: token, as: Out.self)
        if endpoint == Endpoint.push {
            let first = lock.withLock {
                pushes.append(body); return pushes.count == 1
            }
            if first { throw .unreachable("response dropped") }
        }
        return answer
    }
}

@Suite(.serialized) struct StoredBatchTests {
    /// sync-protocol.md §5.2: a batch whose answer was lost is sent again exactly as it was
    /// stored (with the pull it carries after it, §5.4), and the hub answers it as a replay.
    @Test func aBatchWhoseAnswerWasLostIsResentByteForByteAsStored() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            let http = HTTPTransport(baseURL: url)
            let replica = try await f.samsLaptop(url, http)
            var rng = SeededGenerator(seed: 7)
            _ = try replica.create(entity: "opportunity", stage: "discovery", fields: [("name", .text("Byte for byte"))], using: &rng)
            let lossy = AnswerLosingTransport(http)
            await #expect(throws: ReplicaError.self) { _ = try await replica.sync(transport: lossy) }
            let stored = try #require(try replica.store.pendingBatch())
            let report = try await replica.sync(transport: lossy)
            #expect(lossy.pushes.count == 2)
            // The batch as stored, byte for byte, with the pull it carries appended (§5.4):
            // the hub's idempotency compares the batch without it.
            for sent in lossy.pushes {
                #expect(Array(sent.prefix(stored.request.count)) == stored.request)
                #expect(sent.count > stored.request.count, "the last batch carries the pull")
                #expect(try CarriedPull.batchContent(of: sent) == stored.request)
            }
            #expect(report.conflicts == 0)
            #expect(try replica.store.pendingBatch() == nil)
            await http.shutdown()
        }
    }
}
