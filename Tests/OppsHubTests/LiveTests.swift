import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOSSL
import OppsCore
import OppsStore
import OppsTestSupport
import OppsWire
import SwiftProtobuf
import Testing

@testable import OppsHub

@Suite struct ConcurrencyTests {
    /// Five laptops (three of the owner's, two of the manager's) push stale writes to the same
    /// field at once over real sockets. Whatever order the hub sequences them in, the core's
    /// rule fixes the result: the greatest (authority, stamp) holds, every other write is kept
    /// as a conflict, and nothing is applied twice.
    @Test func concurrentPushesToOneFieldFollowTheCoreRules() async throws {
        let f = try HubFixture()
        try await f.live { c in
            var rng = SeededGenerator(seed: 11)
            var sam = TestReplica(user: "sam", token: f.tokens["sam"]!, seed: 1)
            _ = try await sam.handshake(c)
            let deal = sam.create(using: &rng)
            _ = try await sam.push(c, [deal, sam.write(deal.record, "amount", .decimal(ExactDecimal(units: 1, scale: 2)))])
            try await sam.pull(c)
            let base = try #require(sam.state[deal.record]?.fields["amount"]?.sequence)
            var laptops = [TestReplica]()
            for (i, user) in ["sam", "sam", "sam", "max", "max"].enumerated() {
                var r = TestReplica(user: user, token: f.tokens[user]!, seed: UInt64(50 + i))
                r.physical += Int64(i) * 7  // distinct clocks
                _ = try await r.handshake(c)
                laptops.append(r)
            }
            let batches = 8
            let results = try await withThrowingTaskGroup(of: [(FieldWrite, WriteResult, String)].self) { group in
                for laptop in laptops {
                    group.addTask {
                        var r = laptop
                        var out = [(FieldWrite, WriteResult, String)]()
                        for b in 0..<batches {
                            let w = FieldWrite(
                                record: deal.record, entity: "opportunity", field: "amount",
                                value: .decimal(ExactDecimal(units: Int64(1000 * b) + Int64(r.physical % 1000), scale: 2)),
                                base: .sequence(base), author: r.user, stamp: r.stamp())
                            let response = try await r.push(c, [w])
                            out.append((w, response.results[0], r.user))
                        }
                        return out
                    }
                }
                var all = [(FieldWrite, WriteResult, String)]()
                for try await part in group { all += part }
                return all
            }
            #expect(results.count == laptops.count * batches)
            // The winner: highest authority (the manager's override), then the latest stamp.
            let expected = results.filter { $0.2 == "max" }.max { $0.0.stamp < $1.0.stamp }!.0
            var max = TestReplica(user: "max", token: f.tokens["max"]!, seed: 99)
            _ = try await max.handshake(c)
            try await max.pull(c)
            #expect(max.state[deal.record]?["amount"] == expected.value)
            #expect(max.state[deal.record]?.fields["amount"]?.stamp == expected.stamp)
            // Accounting: every write is in the log or a conflict record; none vanished.
            let held = results.filter { $0.1.outcome == .applied || $0.1.outcome == .won }
            let refused = results.filter { $0.1.outcome == .lost }
            #expect(held.count + refused.count == results.count)
            let store = try SQLiteHubStore(path: f.configuration.databasePath)
            let log = try store.log(record: deal.record).filter { $0.entry.field == "amount" }
            #expect(log.count == held.count + 1)
            #expect(Set(log.map(\.entry.sequence)).count == log.count)
            let conflicts = try store.conflicts(record: deal.record)
            #expect(conflicts.count == refused.count + results.filter { $0.1.outcome == .won }.count)
            // Replaying the hub's log through the pure model gives the same state (I7).
            var rs = RecordSet()
            for e in try store.log(after: 0, limit: 10_000) { rs.apply(e.entry) }
            #expect(rs[deal.record]?["amount"] == expected.value)
        }
    }
}

@Suite(.serialized) struct ProcessTests {
    static var executable: String {
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [
            dir.appendingPathComponent("opps-hub").path,
            RepositoryFiles.root.appendingPathComponent(".build/debug/opps-hub").path,
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[1]
    }

    /// Under its address, `opps-hub serve` says what the operator does next: a new hub's first
    /// user, then how a rep connects, with the address in place.
    @Test func serveSaysWhatTheOperatorDoesNext() throws {
        let dir = Scratch.directory("opps-hub-serve") + "/hub"
        func run(_ arguments: [String], lines: Int) throws -> [String] {
            let p = try ChildProcess(Self.executable, arguments, environment: ["LANG": "C", "PATH": "/usr/bin:/bin"], standardOutput: .capture)
            defer { p.terminate(); p.waitUntilExit() }
            var read = [String]()
            while read.count < lines, let line = p.readLine() { read.append(line) }
            return read
        }
        _ = try run(["init", "--data", dir], lines: 1)
        let empty = try run(["serve", "--data", dir, "--port", "0"], lines: 2)
        #expect(empty.count == 2 && empty[0].hasPrefix("listening on http://127.0.0.1:"), "\(empty)")
        #expect(empty.last == "no users yet: opps-hub user add NAME --role sales --data \(dir) (it prints their token)", "\(empty)")
        _ = try run(["user", "add", "fang", "--role", "sales", "--data", dir], lines: 2)
        let served = try run(["serve", "--data", dir, "--port", "0"], lines: 2)
        let url = String(served.first?.dropFirst("listening on ".count) ?? "")
        #expect(served.last == "reps connect with: opps init --hub \(url) --token TOKEN", "\(served)")
    }

    /// Starts `opps-hub serve` on a free port and returns the process and its URL.
    static func start(data: String, extra: [String] = []) throws -> (ChildProcess, String) {
        let p = try ChildProcess(executable, ["serve", "--data", data, "--port", "0"] + extra, standardOutput: .capture)
        let text = p.readLine() ?? ""
        guard text.hasPrefix("listening on ") else {
            p.terminate()
            p.waitUntilExit()
            throw WireError(.unavailable, "hub did not start: \(text)")
        }
        return (p, String(text.dropFirst("listening on ".count)))
    }

    static func post<Out: SwiftProtobuf.Message>(
        _ http: HTTPClient, _ url: String, _ path: String, _ message: some SwiftProtobuf.Message,
        token: String, as: Out.Type
    ) async throws -> Out {
        var request = HTTPClientRequest(url: url + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-protobuf")
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.body = .bytes(ByteBuffer(bytes: try BodyCodec.encode(message, as: .protobuf)))
        let response = try await http.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 64 << 20)
        guard response.status == .ok else { throw WireError(.internal, "status \(response.status.code)") }
        return try BodyCodec.decode(Out.self, from: Array(body.readableBytesView), as: .protobuf)
    }

    /// kill -9 at random moments while a replica pushes: every batch the hub acknowledged is
    /// there after a restart, and the in-flight batch is either wholly applied or not at all
    /// (its retry is then answered from the idempotency record or applied once).
    @Test func killingTheHubMidPushLosesNoAcknowledgedWrite() async throws {
        let f = try HubFixture()
        let http = HTTPClient.shared
        var rng = SeededGenerator(seed: 12)
        var sam = TestReplica(user: "sam", token: f.tokens["sam"]!, seed: 1)
        var acknowledged = [RecordID]()
        var attempted = [RecordID]()
        var batchNumber: UInt64 = 0
        for round in 0..<3 {
            let (process, url) = try Self.start(data: f.directory)
            // Not left running if something below throws (a killed one has exited already).
            defer { if process.isRunning { process.terminate(); process.waitUntilExit() } }
            var h = HandshakeRequest()
            h.minVersion = 1
            h.maxVersion = 1
            h.replica = Data(sam.id.bytes)
            _ = try await Self.post(http, url, Endpoint.handshake, h, token: sam.token, as: HandshakeResponse.self)
            // Retry the batch that was in flight when the hub died, if any: the same number, the same writes.
            var pending: PushRequest?
            let killAfter = 5 + Int(rng.next() % 10)
            for i in 0..<40 {
                var writes = [FieldWrite]()
                for _ in 0..<20 {
                    let d = sam.create(using: &rng)
                    writes += [d, sam.write(d.record, "name", .text("deal \(round)-\(i)"))]
                }
                batchNumber += 1
                let request = try BatchCoding.encode(writes, replica: sam.id, batch: batchNumber, workspace: .default)
                pending = request
                let ids = writes.filter { $0.kind == .create }.map(\.record)
                attempted += ids
                if i == killAfter {
                    // Fire the push and kill the hub while it is being handled.
                    let token = sam.token
                    let task = Task { @Sendable in try await Self.post(http, url, Endpoint.push, request, token: token, as: PushResponse.self) }
                    try await Task.sleep(for: .milliseconds(Int(rng.next() % 15)))
                    kill(process.processIdentifier, SIGKILL)
                    process.waitUntilExit()
                    if let response = try? await task.value, response.results.count == writes.count { acknowledged += ids; pending = nil }
                    break
                }
                let response = try await Self.post(http, url, Endpoint.push, request, token: sam.token, as: PushResponse.self)
                #expect(response.results.allSatisfy { $0.outcome == .applied })
                acknowledged += ids
                pending = nil
            }
            if let pending {
                // The next run retries it first.
                let (p2, url2) = try Self.start(data: f.directory)
                defer { if p2.isRunning { p2.terminate(); p2.waitUntilExit() } }
                let response = try await Self.post(http, url2, Endpoint.push, pending, token: sam.token, as: PushResponse.self)
                #expect(response.results.count == pending.writes.count)
                acknowledged += pending.writes.filter { $0.kind == .create }.compactMap { RecordID(bytes: $0.record) }
            }
        }
        // Restart once more and read everything back.
        let (process, url) = try Self.start(data: f.directory)
        defer { process.terminate(); process.waitUntilExit() }
        var reader = TestReplica(user: "sam", token: f.tokens["sam"]!, seed: 2)
        var h = HandshakeRequest()
        h.minVersion = 1
        h.maxVersion = 1
        h.replica = Data(reader.id.bytes)
        _ = try await Self.post(http, url, Endpoint.handshake, h, token: reader.token, as: HandshakeResponse.self)
        while true {
            var r = PullRequest()
            r.replica = Data(reader.id.bytes)
            r.cursor = reader.cursor
            r.token = reader.token_
            let page = try await Self.post(http, url, Endpoint.pull, r, token: reader.token, as: PullResponse.self)
            try reader.apply(page)
            if !page.more { break }
        }
        let held = reader.state.opportunityIDs
        for id in acknowledged { #expect(held.contains(id), "acknowledged record \(id) lost") }
        #expect(held.isSubset(of: Set(attempted)))
        #expect(reader.checkpoints.last?.checksum == reader.checksum.value)
        // Every record is whole: the create and its name arrived together (batches are atomic).
        for record in reader.state.records.values where record.entity == "opportunity" { #expect(record.fields["name"] != nil) }
    }
}

@Suite(.serialized) struct ServeProcessTests {
    func run(_ args: [String]) throws -> (Int32, String) {
        let p = try ChildProcess(ProcessTests.executable, args, standardError: .capture)
        // Read to the end first: a child writing more than a pipe holds would wait on us.
        let err = p.standardError?.readDataToEndOfFile() ?? Data()
        return (p.waitUntilExit(), String(decoding: err, as: UTF8.self))
    }

    @Test func serveRefusesADatabaseFromANewerVersion() throws {
        let f = try HubFixture()
        let db = try Database(path: f.configuration.databasePath)
        try db.execute("INSERT INTO schema_migrations (name, position) VALUES ('2099-01-01-future', 99)")
        let (code, err) = try run(["serve", "--data", f.directory, "--port", "0"])
        #expect(code == 1)
        #expect(err.contains(": it was written by a newer opps-hub: run that version of opps-hub (or a later one); nothing in it was changed"), "\(err)")
        #expect(err.split(separator: "\n").count == 1)
    }

    @Test func restoreAndASecondServeAreRefusedWhileAHubServesTheDirectory() throws {
        let f = try HubFixture()
        let backup = f.directory + "/backup.sqlite"
        #expect(try run(["backup", "--to", backup, "--data", f.directory]).0 == 0)
        let (hub, _) = try ProcessTests.start(data: f.directory)
        // Swapping the database under a running hub would lose the writes it keeps acknowledging.
        let (code, err) = try run(["restore", "--from", backup, "--data", f.directory])
        #expect(code == 1)
        #expect(err.contains("a hub is running"))
        let (second, err2) = try run(["serve", "--data", f.directory, "--port", "0"])
        #expect(second == 1)
        #expect(err2.contains("a hub is running"))
        // kill -9 releases the lock: a restore then goes through.
        kill(hub.processIdentifier, SIGKILL)
        hub.waitUntilExit()
        #expect(try run(["restore", "--from", backup, "--data", f.directory]).0 == 0)
    }

    @Test func serveRefusesABadConfigFileWithItsLine() throws {
        let f = try HubFixture()
        for (config, message) in [
            ("{\n  \"port\": 70000\n}", "line 2: port must be 0–65535"),
            ("{\"limits\": {\"max_page_changes\": 0}}", "max_page_changes must be a whole number above 0"),
            ("{\"limits\": {\"max_pages\": 5}}", "unknown limit"),
            ("{\"compression_level\": 12}", "compression_level must be 1–9"),
            ("{\"colour\": 1}", "unknown setting"),
        ] {
            let path = f.directory + "/serve.json"
            try config.write(toFile: path, atomically: true, encoding: .utf8)
            let (code, err) = try run(["serve", "--data", f.directory, "--config", path])
            #expect(code == 1, "\(config)")
            #expect(err.contains(message), "\(config): \(err)")
        }
    }

    @Test func serveSpeaksTLSWithTheGivenCertificate() async throws {
        let f = try HubFixture()
        let dir = f.directory
        let openssl = try ChildProcess(
            "/usr/bin/openssl",
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir + "/key.pem", "-out", dir + "/cert.pem", "-days", "1", "-subj", "/CN=localhost"],
            standardOutput: .inherit)
        try #require(openssl.waitUntilExit() == 0)
        let p = try ChildProcess(
            ProcessTests.executable, ["serve", "--data", dir, "--port", "0", "--tls-cert", dir + "/cert.pem", "--tls-key", dir + "/key.pem"],
            standardOutput: .capture)
        defer { p.terminate(); p.waitUntilExit() }
        let text = p.readLine() ?? ""
        #expect(text.hasPrefix("listening on https://127.0.0.1:"))
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .none
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
        let url = String(text.dropFirst("listening on ".count))
        let response = try await client.execute(HTTPClientRequest(url: url + "/healthz"), timeout: .seconds(10))
        #expect(response.status == .ok)
        try await client.shutdown()
        // TLS 1.0/1.1 and static-RSA key exchange (no forward secrecy) are refused.
        var old = TLSConfiguration.makeClientConfiguration()
        old.certificateVerification = .none
        old.minimumTLSVersion = .tlsv1
        old.maximumTLSVersion = .tlsv11
        var rsa = TLSConfiguration.makeClientConfiguration()
        rsa.certificateVerification = .none
        rsa.maximumTLSVersion = .tlsv12
        rsa.cipherSuites = "AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA"
        for (name, config) in [("TLS 1.1", old), ("static RSA", rsa)] {
            let weak = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: config))
            do {
                _ = try await weak.execute(HTTPClientRequest(url: url + "/healthz"), timeout: .seconds(3))
                Issue.record("the hub accepted \(name)")
            } catch {}
            try await weak.shutdown()
        }
    }

    /// Idle connections are closed (1,084 idle sockets under a 1,024 open-file limit had locked
    /// every replica out): with more idle sockets open than the hub accepts, /healthz still
    /// answers within a few seconds, and the idle sockets are closed by the hub.
    @Test func idleConnectionsCannotLockEveryoneOut() async throws {
        let f = try HubFixture()
        let config = f.directory + "/serve.json"
        try #"{"limits": {"idle_timeout_seconds": 1, "max_connections": 40}}"#.write(toFile: config, atomically: true, encoding: .utf8)
        let (hub, url) = try ProcessTests.start(data: f.directory, extra: ["--config", config])
        defer { hub.terminate(); hub.waitUntilExit() }
        let port = UInt16(url.split(separator: ":").last!)!
        var sockets = [Int32]()
        defer { for s in sockets { close(s) } }
        for _ in 0..<60 {
            let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            try #require(connected == 0)
            sockets.append(s)
        }
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let start = ContinuousClock.now
        let response = try await http.execute(HTTPClientRequest(url: url + "/healthz"), timeout: .seconds(20))
        #expect(response.status == .ok)
        #expect(ContinuousClock.now - start < .seconds(15))
        try await http.shutdown()
        // The first idle sockets the hub accepted were closed by it: a read sees the end.
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(sockets[0], SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var byte: UInt8 = 0
        #expect(recv(sockets[0], &byte, 1, 0) == 0)
    }
}

/// What the tests share: child processes (`ChildProcess`: what they inherit, what their end
/// reports, where their output goes) and reading a printed text for a name.
@Suite struct ChildProcessTests {
    /// A descriptor this process holds open without close-on-exec is not the child's: it
    /// sees its three standard ones and the one it opened to list them.
    @Test func aChildHoldsOnlyItsStandardDescriptors() throws {
        let held = open("/dev/null", O_RDONLY)
        try #require(held > 2)
        defer { close(held) }
        let ls = try ChildProcess("/bin/ls", ["/proc/self/fd"], standardOutput: .capture)
        var listed = Set<String>()
        while let line = ls.readLine() { listed.insert(line) }
        #expect(ls.waitUntilExit() == 0)
        #expect(listed == ["0", "1", "2", "3"], "\(listed)")
    }

    @Test func itsExitCodeOrSignalIsItsStatus() throws {
        let sh = try ChildProcess("/bin/sh", ["-c", "echo one; echo two >&2; exit 3"], standardOutput: .capture, standardError: .capture)
        #expect(sh.readLine() == "one")
        #expect(sh.readLine() == nil)
        #expect(String(decoding: sh.standardError?.readDataToEndOfFile() ?? Data(), as: UTF8.self) == "two\n")
        #expect(sh.waitUntilExit() == 3)
        #expect(!sh.isRunning)
        let sleeper = try ChildProcess("/bin/sleep", ["30"])
        #expect(sleeper.isRunning)
        sleeper.terminate()
        #expect(sleeper.terminationStatus == SIGTERM)
        #expect(throws: (any Error).self) { try ChildProcess("/nonexistent/program", []) }
        // kill() ends it at once and reaps it; on one already ended it only reports its end.
        let stubborn = try ChildProcess("/bin/sh", ["-c", "trap '' TERM; sleep 30"])
        stubborn.kill()
        #expect(!stubborn.isRunning && stubborn.terminationStatus == SIGKILL)
        stubborn.kill()
        #expect(stubborn.terminationStatus == SIGKILL)
    }

    /// The simulator's hubs share one log: each child's lines are added to the file, none
    /// overwritten, and a file not there yet is made.
    @Test func anAppendedOutputAddsToTheFile() throws {
        let log = Scratch.directory("child-log") + "/hub-errors.log"
        for word in ["one", "two"] {
            let sh = try ChildProcess("/bin/sh", ["-c", "echo \(word) >&2"], standardError: .append(log))
            #expect(sh.waitUntilExit() == 0)
        }
        #expect(try String(contentsOfFile: log, encoding: .utf8) == "one\ntwo\n")
    }

    /// A test that reads a printed text for a user's name: a random id that happens to hold the
    /// name's letters (`0sam48cm`) does not name them (it failed a run of the suite once so).
    @Test func aNameIsMentionedAsAWordNotInsideAnId() {
        #expect("  0sam48cm  send the quote (someone else's)".mentions("sam") == false)
        #expect("send the quote (for sam)".mentions("sam"))
        #expect("sam's deal".mentions("sam") && "<b>sam</b>".mentions("sam") && "sam".mentions("sam"))
        #expect(!"samuel".mentions("sam") && !"x-sam".mentions("sam") && !"sam_2".mentions("sam"))
        #expect("0sam48cm then sam".mentions("sam"))
    }
}
