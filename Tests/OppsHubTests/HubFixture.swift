import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOHTTP1
import OppsCore
import OppsStore
import OppsTestSupport
import OppsWire
import SwiftProtobuf
import Testing

@testable import OppsHub

/// A hub in a temporary directory with a small team; tokens are generated per run.
struct HubFixture: Sendable {
    let directory: String
    let configuration: HubConfiguration
    let tokens: [String: String]
    let hub: Hub
    let server: HubServer

    static let team: [HubUser] = [
        HubUser(name: "max", role: "manager"),
        HubUser(name: "sam", role: "sales", territory: "north", manager: "max"),
        HubUser(name: "tom", role: "sales", territory: "north", manager: "max"),
        HubUser(name: "ann", role: "sales", territory: "south", manager: "max"),
        HubUser(name: "mia", role: "marketing", manager: "max"),
        HubUser(name: "eve", role: "expert", manager: "max"),
        HubUser(name: "sue", role: "success", manager: "max"),
    ]

    /// `syncing`: what the hub's commit syncs go through (`Hub.init(configuration:syncing:)`).
    /// `workspace`: the hub's workspace document (one numbered as the default: `TestReplica` encodes with the default's numbers).
    init(
        users: [HubUser] = HubFixture.team, workspace: String = Workspace.defaultDocument, configure: (inout HubConfiguration) -> Void = { _ in },
        syncing: @Sendable (any CommitSync) -> any CommitSync = { $0 }
    ) throws {
        directory = Scratch.directory("opps-hub-test")
        var config = HubConfiguration(dataDirectory: directory, port: 0)
        // `live`'s connections stay open however long a test waits between two requests on a
        // busy machine (the hub's idle close is LiveTests' own, on a process of its own).
        config.idleTimeoutSeconds = 600
        config.verifySnapshots = true  // every brought-forward snapshot is checked against a full build
        config.rowsBesideDecisionsFrom = 1  // every push's rows written beside its decisions (SQLite)
        configure(&config)
        configuration = config
        var rng = SystemRandomNumberGenerator()
        let store = try config.openStore()  // SQLite, or PostgreSQL when `configure` sets storeURL
        _ = try HubEngine.initialise(store: store, workspace: workspace, now: 1_795_000_000_000, rng: &rng)
        let engine = try HubEngine(store: store, configuration: config)
        var tokens = [String: String]()
        for u in users { tokens[u.name] = try engine.addUser(u, rng: &rng) }
        self.tokens = tokens
        hub = try Hub(configuration: config, syncing: syncing)
        server = HubServer(hub: hub, logger: Self.quiet)
    }

    /// Warnings and errors only: a line for every request answered buries a failing test's
    /// message in thousands of lines (CI shows the end of the output).
    static let quiet: Logger = {
        var logger = Logger(label: "opps-hub")
        logger.logLevel = .warning
        return logger
    }()

    func application() -> some ApplicationProtocol {
        Application(router: server.router(), logger: Self.quiet)
    }

    /// Runs `body` with the hub served on 127.0.0.1 (a free port) and a client of its own, over
    /// real HTTP as `.test(.ahc(.http))` does, without HummingbirdTesting's fixed 15 s request
    /// deadline: the suite runs ~500 tests side by side on two cores, and on a loaded machine a
    /// request waited longer than that. Ten minutes bound a failure, never a speed.
    func live(_ body: @Sendable (WireClient) async throws -> Void) async throws {
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = try server.application(host: "127.0.0.1", port: 0, tls: nil) { port in continuation.yield(port) }
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await app.run() }
                var ports = stream.makeAsyncIterator()
                let base = "http://127.0.0.1:\(await ports.next()!)"
                let client = WireClient { uri, method, headers, body in
                    var request = HTTPClientRequest(url: base + uri)
                    request.method = NIOHTTP1.HTTPMethod(rawValue: method.rawValue)
                    for field in headers { request.headers.add(name: field.name.rawName, value: field.value) }
                    if let body { request.body = .bytes(body) }
                    let response = try await http.execute(request, timeout: .minutes(10))
                    var fields = HTTPFields()
                    for (name, value) in response.headers { if let n = HTTPField.Name(name) { fields.append(HTTPField(name: n, value: value)) } }
                    return (HTTPResponse.Status(code: Int(response.status.code)), fields, try await response.body.collect(upTo: 1 << 30))
                }
                do {
                    try await body(client)
                } catch {
                    group.cancelAll()
                    throw error
                }
                group.cancelAll()
            }
        } catch {
            try? await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }

    /// Test replicas of these users (seeded 1, 2, 3… in order), each after its handshake.
    func replicas(_ names: String..., client c: WireClient) async throws -> [TestReplica] {
        var out = [TestReplica]()
        for (i, name) in names.enumerated() {
            let r = TestReplica(user: name, token: tokens[name]!, seed: UInt64(i + 1))
            _ = try await r.handshake(c)
            out.append(r)
        }
        return out
    }
}

/// Sends protocol messages through a HummingbirdTesting client, or through the fixture's own
/// HTTP client to the hub served on a port (`HubFixture.live`).
struct WireClient: Sendable {
    typealias Answer = (status: HTTPResponse.Status, headers: HTTPFields, body: ByteBuffer)
    typealias Send = @Sendable (_ uri: String, _ method: HTTPRequest.Method, _ headers: HTTPFields, _ body: ByteBuffer?) async throws -> Answer
    let send: Send
    var media: WireFormat = .protobuf

    init(client: any TestClientProtocol, media: WireFormat = .protobuf) {
        send = { uri, method, headers, body in
            let r = try await client.executeRequest(uri: uri, method: method, headers: headers, body: body)
            return (r.status, r.headers, r.body)
        }
        self.media = media
    }

    init(send: @escaping Send) { self.send = send }

    /// A GET of `path` (health, metrics).
    func get(_ path: String) async throws -> Answer { try await send(path, .get, [:], nil) }

    /// Any request, as HummingbirdTesting's client makes it (a test written against that client
    /// runs on `HubFixture.live` unchanged).
    func executeRequest(uri: String, method: HTTPRequest.Method, headers: HTTPFields, body: ByteBuffer?) async throws -> Answer {
        try await send(uri, method, headers, body)
    }

    struct Failure: Error, CustomStringConvertible {
        var status: Int
        var error: WireError
        var description: String { "\(status) \(error)" }
    }

    func call<In: SwiftProtobuf.Message, Out: SwiftProtobuf.Message>(
        _ path: String, _ message: In, token: String?, as: Out.Type,
        coding: ContentCoding = .identity
    ) async throws -> Out {
        var headers: HTTPFields = [.contentType: media.rawValue, .acceptEncoding: "deflate"]
        if let token { headers[.authorization] = "Bearer \(token)" }
        if coding != .identity { headers[.contentEncoding] = coding.rawValue }
        let body = try BodyCodec.encode(message, as: media, coding: coding)
        let response = try await send(path, .post, headers, ByteBuffer(bytes: body))
        let bytes = Array(response.body.readableBytesView)
        let responseCoding = ContentCoding(header: response.headers[.contentEncoding]) ?? .identity
        guard response.status == .ok else {
            let e = try BodyCodec.decode(ErrorBody.self, from: bytes, as: WireFormat(header: response.headers[.contentType]) ?? .json)
            throw Failure(status: response.status.code, error: WireError(body: e))
        }
        return try BodyCodec.decode(Out.self, from: bytes, as: media, coding: responseCoding)
    }
}

/// A minimal replica for hub tests: it keeps the hub-confirmed state, pushes batches and pulls
/// pages the way sync-protocol.md says, and checks every checkpoint.
struct TestReplica {
    let user: String
    var token: String
    let id: ReplicaID
    var clock = HybridLogicalClock()
    var state = RecordSet()
    var cursor: UInt64 = 0
    var token_: UInt64 = 0
    var conflictCursor: UInt64 = 0
    var batch: UInt64 = 0
    var conflicts: [WireConflict] = []
    var checkpoints: [WireCheckpoint] = []
    var physical: Int64 = 1_795_000_000_000
    let workspace = Workspace.default

    init(user: String, token: String, seed: UInt64) {
        self.user = user
        self.token = token
        var rng = SeededGenerator(seed: seed)
        id = ReplicaID.random(using: &rng)
    }

    mutating func stamp() -> Stamp {
        physical += 1000
        return Stamp(hlc: clock.tick(physical: physical), replica: id)
    }

    func handshake(_ c: WireClient, version: UInt32 = 1) async throws -> HandshakeResponse {
        var h = HandshakeRequest()
        h.minVersion = 1
        h.maxVersion = version
        h.replica = Data(id.bytes)
        return try await c.call(Endpoint.handshake, h, token: token, as: HandshakeResponse.self)
    }

    /// A write on top of what this replica holds.
    mutating func write(_ record: RecordID, _ field: String, _ value: Value, entity: String = "opportunity") -> FieldWrite {
        let current = state[record]?.fields[field]
        let base: Base = current.map { .sequence($0.sequence) } ?? .none
        return FieldWrite(record: record, entity: entity, field: field, value: value, base: base, author: user, stamp: stamp())
    }

    mutating func create(_ entity: String = "opportunity", stage: String? = "discovery", using rng: inout SeededGenerator) -> FieldWrite {
        let id = UUID128.version7(milliseconds: physical, using: &rng)
        return FieldWrite(record: id, entity: entity, kind: .create, value: stage.map { .member($0) } ?? .null, author: user, stamp: stamp())
    }

    /// The next batch of these writes; `pull`: the pull it carries (protocol 5, §5.4).
    mutating func batch(_ writes: [FieldWrite], pull: PullRequest? = nil) throws -> PushRequest {
        batch += 1
        var request = try BatchCoding.encode(writes, replica: id, batch: batch, workspace: workspace)
        if let pull { request.pull = pull }
        return request
    }

    mutating func push(_ c: WireClient, _ writes: [FieldWrite]) async throws -> PushResponse {
        try await c.call(Endpoint.push, try batch(writes), token: token, as: PushResponse.self)
    }

    /// Pulls until up to date; returns the number of pages.
    /// The next pull as of what this replica applied.
    func pullRequest(maxChanges: UInt32) -> PullRequest {
        var r = PullRequest()
        r.replica = Data(id.bytes)
        r.cursor = cursor
        r.token = token_
        r.conflictCursor = conflictCursor
        r.maxChanges = maxChanges
        r.ack = cursor
        return r
    }

    @discardableResult
    mutating func pull(_ c: WireClient, maxChanges: UInt32 = 0) async throws -> Int {
        var pages = 0
        while true {
            let page = try await c.call(Endpoint.pull, pullRequest(maxChanges: maxChanges), token: token, as: PullResponse.self)
            try apply(page)
            pages += 1
            if !page.more { return pages }
            if pages > 10_000 { throw WireClient.Failure(status: 0, error: WireError(.internal, "pull does not end")) }
        }
    }

    /// Pulls as a pipelining replica does (sync-protocol.md §6.1): the request for page n + 1 goes
    /// out before page n is applied, naming page n as received. With `abandoning` = k, page k
    /// (1-based) is never applied, as when applying it fails: the pull stops there, its
    /// pipelined answer discarded. Returns the pages applied and the records they brought whole.
    @discardableResult
    mutating func pullPipelined(_ c: WireClient, maxChanges: UInt32 = 0, abandoning: Int? = nil) async throws -> (pages: Int, entered: Int) {
        let r = pullRequest(maxChanges: maxChanges)
        var page = try await c.call(Endpoint.pull, r, token: token, as: PullResponse.self)
        var pages = 0, entered = 0
        while true {
            var ahead: PullResponse?
            if page.more {
                var next = r
                next.token = token_  // the last page applied
                next.ack = cursor
                next.cursor = page.cursor
                next.conflictCursor = page.conflictCursor
                next.received = page.token
                ahead = try await c.call(Endpoint.pull, next, token: token, as: PullResponse.self)
            }
            if pages + 1 == abandoning { return (pages, entered) }
            try apply(page)
            pages += 1
            entered += page.entered.count
            guard let following = ahead else { return (pages, entered) }
            page = following
            if pages > 10_000 { throw WireClient.Failure(status: 0, error: WireError(.internal, "pull does not end")) }
        }
    }

    mutating func apply(_ page: PullResponse) throws {
        let replicas = page.replicas.compactMap { ReplicaID(bytes: $0) }
        func entry(_ c: WireChange) throws -> LogEntry {
            let entity = workspace.entity(number: c.entity)!
            let field = c.kind == .set ? entity.field(number: c.field)!.name : ""
            return LogEntry(
                sequence: c.sequence, record: RecordID(bytes: c.record)!, entity: entity.name, field: field, kind: c.kind.coreKind!,
                value: c.hasValue ? try c.value.coreValue() : .null,
                stamp: Stamp(hlc: HLC(rawValue: c.hlc), replica: replicas[Int(c.replica)]), author: page.authors[Int(c.author)],
                authority: Access(rawValue: Int(c.authority))!)
        }
        for id in page.left { state.remove(RecordID(bytes: id)!) }
        for e in page.entered {
            let id = RecordID(bytes: e.record)!
            state.remove(id)
            for c in e.fields { state.apply(try entry(c)) }
        }
        for c in page.changes {
            let e = try entry(c)
            state.apply(e)
            clock.receive(e.stamp.hlc, physical: physical)
        }
        conflicts += page.conflicts
        cursor = page.cursor
        token_ = page.token
        conflictCursor = page.conflictCursor
        if page.hasCheckpoint { checkpoints.append(page.checkpoint) }
    }

    /// Holds exactly these deals, and what it holds is what the hub's last checkpoint says.
    func expectHolds(_ deals: Set<RecordID>, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(state.opportunityIDs == deals, sourceLocation: sourceLocation)
        #expect(checkpoints.last?.checksum == checksum.value, sourceLocation: sourceLocation)
    }

    /// The checksum of what this replica holds.
    var checksum: StateChecksum { StateChecksum(of: state.records.values, workspace: workspace) }
}

extension WireClient.Failure {
    var code: WireError.Code { error.code }
}

extension RecordSet {
    /// The deals held, without the records that hang off them (stage history, activities).
    var opportunityIDs: Set<RecordID> { Set(records.values.filter { $0.entity == "opportunity" }.map(\.id)) }
}

/// A hub engine on a new SQLite file (every snapshot checked against a full build), with `users`
/// added: the engine and each user's token. For tests that talk to the engine in-process.
func testEngine(
    _ prefix: String, clock: TestClock, users: [HubUser], configure: (inout HubConfiguration) -> Void = { _ in }
) throws -> (HubEngine, [String: String]) {
    let directory = Scratch.directory(prefix)
    var c = HubConfiguration(dataDirectory: directory)
    c.verifySnapshots = true
    c.clock = clock
    configure(&c)
    var rng = SystemRandomNumberGenerator()
    let store = try c.openStore()
    _ = try HubEngine.initialise(store: store, workspace: Workspace.defaultDocument, now: clock.nowMilliseconds(), rng: &rng)
    let engine = try HubEngine(store: store, configuration: c)
    var tokens = [String: String]()
    for u in users { tokens[u.name] = try engine.addUser(u, rng: &rng) }
    return (engine, tokens)
}

/// A replica's handshake with an engine in-process.
func engineHandshake(_ engine: HubEngine, _ user: HubUser, _ replica: TestReplica) throws {
    var h = HandshakeRequest()
    h.minVersion = 1
    h.maxVersion = 1
    h.replica = Data(replica.id.bytes)
    _ = try engine.handshake(user: user, request: h)
}

/// A push to an engine in-process: its answer, as protobuf bytes.
@discardableResult
func enginePush(_ engine: HubEngine, _ user: HubUser, _ request: PushRequest) throws -> [UInt8] {
    var activity = HubActivity()
    return try BodyCodec.encode(engine.push(user: user, request: request, activity: &activity), as: .protobuf)
}
