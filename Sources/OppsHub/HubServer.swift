import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import OppsCore
import OppsStore
import OppsWire
import SwiftProtobuf
import Synchronization

/// The hub's HTTP face (sync-protocol.md §4): routes, body decoding and compression, and the one
/// place where errors become HTTP responses.
public struct HubServer: Sendable {
    public let hub: Hub
    public let metrics: HubMetrics
    public let logger: Logger

    /// How long `/healthz` waits for the store to answer a read before it says the hub is unavailable.
    static let healthLimit: Duration = .seconds(2)

    public init(hub: Hub, metrics: HubMetrics = HubMetrics(), logger: Logger = Logger(label: "opps-hub")) {
        self.hub = hub
        self.metrics = metrics
        self.logger = logger
        hub.groupCommitted.withLock { $0 = GroupCommitObserver { metrics.record(group: $0) } }
        let slow = SlowDiskWarning(logger: logger)
        hub.observeDiskSyncs(
            DiskSyncObserver {
                metrics.diskSync.recordNanoseconds($0.nanoseconds)
                slow.saw($0)
            })
    }

    /// The router: error mapping first, so it covers every route added after it
    /// (Hummingbird applies middleware only to routes added later).
    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: ErrorMapping(logger: logger, metrics: metrics))
        // Inside the error mapping: a refused sync is answered as `unavailable`.
        router.add(middleware: DurableAnswers(hub: hub))
        router.get(RouterPath(Endpoint.health)) { _, _ in
            try await hub.durable()
            // A balancer sends no request to a hub whose database does not answer.
            try await hub.answersWithin(Self.healthLimit)
            return Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: "ok\n")))
        }
        let metricsToken = hub.configuration.metricsToken
        router.get(RouterPath(Endpoint.metrics)) { request, _ in
            if let metricsToken, !Self.same(Bearer.token(request.headers[.authorization]), metricsToken) {
                throw WireError(.unauthenticated, "send Authorization: Bearer <the metrics token>")
            }
            metrics.activeReplicas((try? await hub.activeReplicas(window: 3_600_000)) ?? 0)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
        }
        router.post(RouterPath(Endpoint.handshake)) { request, _ in
            try await exchange(request, route: "handshake", HandshakeRequest.self) { user, message, _ in
                (try await hub.handshake(user, message), HubActivity())
            }
        }
        router.post(RouterPath(Endpoint.push)) { request, _ in
            try await exchange(request, route: "push", PushRequest.self) { user, message, received in
                let (response, activity) = try await hub.push(user, message, received: received)
                // A carried pull's internal failure reaches the client as a bare code (§5.4); its detail, the log.
                if let failure = activity.carriedPullFailure { logger.error("internal error in a carried pull", metadata: ["error": "\(failure)"]) }
                return (response, activity)
            }
        }
        router.post(RouterPath(Endpoint.pull)) { request, _ in try await pullExchange(request) }
        // Every other method of a known endpoint is 405, not 404 (sync-protocol.md §4).
        let others: [HTTPRequest.Method] = [.get, .head, .put, .delete, .patch, .options, .post]
        let endpoints: [(String, HTTPRequest.Method)] = [
            (Endpoint.handshake, .post), (Endpoint.push, .post), (Endpoint.pull, .post),
            (Endpoint.health, .get), (Endpoint.metrics, .get),
        ]
        for (path, allowed) in endpoints {
            for method in others where method != allowed && !(allowed == .get && method == .head) {
                router.on(RouterPath(path), method: method) { _, _ -> Response in throw WireError(.methodNotAllowed, "use \(allowed.rawValue)") }
            }
        }
        return router
    }

    /// The Hummingbird application serving this hub; `onListening` receives the bound port.
    /// With `tls` (PEM certificate chain and key files) it serves HTTPS.
    public func application(
        host: String, port: Int, tls: (certificate: String, key: String)? = nil,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        // A connection that sends nothing for `idleTimeout` is closed: idle sockets (1,084 of them
        // under a 1,024 open-file limit) had locked every replica out (docs/operator.md, security).
        let http = HTTPServerBuilder.http1(configuration: .init(idleTimeout: .seconds(Int64(hub.configuration.idleTimeoutSeconds))))
        let server: HTTPServerBuilder
        if let tls {
            let chain = try NIOSSLCertificate.fromPEMFile(tls.certificate).map { NIOSSLCertificateSource.certificate($0) }
            let key = try NIOSSLPrivateKey(file: tls.key, format: .pem)
            server = try .tls(http, tlsConfiguration: Self.tlsConfiguration(chain: chain, key: key))
        } else {
            server = http
        }
        // A hub's replicas reconnect together (the office Wi-Fi comes back; a load test): 256
        // pending connections (the default) overflowed at 1,000 and the kernel reset the rest.
        // Beyond `maxConnections` the hub stops accepting until some close (`opps-hub serve` keeps
        // it below the open-file limit), so the process never runs out of file descriptors.
        return Application(
            router: router(), server: server,
            configuration: .init(
                address: .hostname(host, port: port), serverName: "opps-hub", backlog: 4096,
                availableConnectionsDelegate: MaximumAvailableConnections(hub.configuration.maxConnections)),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) }, logger: logger)
    }

    /// What to tell the operator when the listening socket cannot be opened (issue 15 item 9:
    /// a busy port printed a raw `bind(...) errno: 98`); nil for any other failure.
    public static func startFailure(_ error: any Error, host: String, port: Int, chinese: Bool = false) -> String? {
        guard let e = error as? IOError else { return nil }
        switch (e.errnoCode, chinese) {
        case (EADDRINUSE, false): return "port \(port) on \(host) is already in use (another opps-hub?): stop that process or choose another --port"
        case (EADDRINUSE, true): return "\(host) 的端口 \(port) 已被占用（另一个 opps-hub？）：停止那个进程，或用 --port 换一个端口"
        case (EACCES, false): return "no permission to listen on port \(port): ports below 1024 need privileges; choose --port 1024 or above"
        case (EACCES, true): return "没有权限监听端口 \(port)：1024 以下的端口需要特权；请用 --port 1024 或更大的端口"
        case (EADDRNOTAVAIL, false): return "\(host) is not an address of this machine: use --host 127.0.0.1, or an address this machine has"
        case (EADDRNOTAVAIL, true): return "\(host) 不是这台机器的地址：用 --host 127.0.0.1，或这台机器有的地址"
        default: return nil
        }
    }

    /// TLS 1.2 or 1.3 only, and in 1.2 only ECDHE key exchange with AEAD ciphers (forward
    /// secrecy; no static RSA, no CBC).
    static func tlsConfiguration(chain: [NIOSSLCertificateSource], key: NIOSSLPrivateKey) -> TLSConfiguration {
        var c = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        c.minimumTLSVersion = .tlsv12
        c.cipherSuites =
            "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
        return c
    }

    /// Decode a request body, authenticate, run the hub call, encode the answer in the request's
    /// media type, compressed when the client accepts it and it is worth it. The call also gets
    /// the body's protobuf bytes after decompression (nil for JSON): a push's idempotency digest.
    func exchange<In: SwiftProtobuf.Message, Out: SwiftProtobuf.Message>(
        _ request: Request, route: String, _ type: In.Type, _ call: (HubUser, In, [UInt8]?) async throws -> (Out, HubActivity)
    ) async throws -> Response {
        let start = ContinuousClock.now
        guard let media = WireFormat(header: request.headers[.contentType]) else {
            throw WireError(.unsupportedMediaType, "send application/x-protobuf or application/json")
        }
        guard let coding = ContentCoding(header: request.headers[.contentEncoding]) else {
            throw WireError(.unsupportedEncoding, "send identity, deflate or gzip")
        }
        let user = try await hub.authenticate(request.headers[.authorization])
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: hub.configuration.maxBodyBytes)
        } catch let e as HTTPError where e.status == .contentTooLarge {
            throw WireError(.bodyTooLarge, "body larger than \(hub.configuration.maxBodyBytes) bytes")
        } catch is NIOTooManyBytesError {
            throw WireError(.bodyTooLarge, "body larger than \(hub.configuration.maxBodyBytes) bytes")
        }
        let raw = Array(buffer.readableBytesView)
        let plain = try coding.decompress(raw, limit: hub.configuration.maxDecompressedBytes)
        let message = try BodyCodec.decode(In.self, from: plain, as: media)
        let (answer, activity) = try await call(user, message, media == .protobuf ? plain : nil)
        return try await respond(request, answer, activity, media: media, received: raw.count, route: route, start: start)
    }

    /// At most this much of a request's body is read before its token is checked (a pull is
    /// tens of bytes; one forgetting 5,000 records about 90 KB).
    static let bodyReadBeforeAuthentication = 16 * 1024
    /// What such a pull may inflate to: it is inflated on the hub's one thread, where every sync
    /// waits behind it (a 16 KiB deflate bomb inflates to 16 MiB). The largest valid pull, one
    /// forgetting 5,000 records, is about 90 KB.
    static let pullInflatedOnHubThread = 256 * 1024

    /// A pull in one hop to the hub's thread instead of two (authenticate, then pull): a
    /// no-change sync is one pull, and each hop to that thread and back is two thread switches
    /// (a third of such a sync's CPU was the kernel switching threads). The body, when its
    /// declared length is small, is read first — but decompressed and decoded only on the hub's
    /// thread once the token is good, so an unauthenticated client still gets nothing decoded.
    /// Anything larger, or without a length, goes the two-hop way.
    func pullExchange(_ request: Request) async throws -> Response {
        let start = ContinuousClock.now
        guard let length = request.headers[.contentLength].flatMap({ Int($0) }), length <= Self.bodyReadBeforeAuthentication else {
            return try await exchange(request, route: "pull", PullRequest.self) { user, message, _ in try await hub.pull(user, message) }
        }
        guard let media = WireFormat(header: request.headers[.contentType]) else {
            throw WireError(.unsupportedMediaType, "send application/x-protobuf or application/json")
        }
        guard let coding = ContentCoding(header: request.headers[.contentEncoding]) else {
            throw WireError(.unsupportedEncoding, "send identity, deflate or gzip")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: Self.bodyReadBeforeAuthentication)
        } catch let e as HTTPError where e.status == .contentTooLarge {
            throw WireError(.bodyTooLarge, "body larger than its Content-Length")
        } catch is NIOTooManyBytesError {
            throw WireError(.bodyTooLarge, "body larger than its Content-Length")
        }
        let raw = Array(buffer.readableBytesView)
        let limit = min(hub.configuration.maxDecompressedBytes, Self.pullInflatedOnHubThread)
        let (answer, activity) = try await hub.pull(authorization: request.headers[.authorization]) {
            try BodyCodec.decode(PullRequest.self, from: try coding.decompress(raw, limit: limit), as: media)
        }
        return try await respond(request, answer, activity, media: media, received: raw.count, route: "pull", start: start)
    }

    /// The answer in the request's media type, compressed when the client accepts it and it is
    /// worth it, held until what the hub had committed is on disk (`Hub.durable`: made while the
    /// disk syncs); the request counted in the metrics, its wait for the disk included.
    func respond(
        _ request: Request, _ answer: some SwiftProtobuf.Message, _ activity: HubActivity, media: WireFormat, received: Int, route: String, start: ContinuousClock.Instant
    ) async throws -> Response {
        var body = try BodyCodec.encode(answer, as: media)
        var headers: HTTPFields = [.contentType: media.rawValue]
        if body.count > hub.configuration.compressAbove, let accepted = Self.preferredCoding(request.headers[.acceptEncoding]) {
            body = accepted.compress(body, level: hub.configuration.compressionLevel)
            headers[.contentEncoding] = accepted.rawValue
        }
        try await hub.durable()
        metrics.record(activity)
        metrics.bytes(in: received, out: body.count)
        metrics.request(route: route, status: 200, duration: ContinuousClock.now - start)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// Whether a presented token is the expected one, compared in constant time.
    static func same(_ given: String?, _ wanted: String) -> Bool {
        guard let given else { return false }
        let a = Array(given.utf8), b = Array(wanted.utf8)
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// The first of deflate/gzip the client lists in Accept-Encoding.
    static func preferredCoding(_ header: String?) -> ContentCoding? {
        guard let header else { return nil }
        for part in header.split(separator: ",") {
            let name = part.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            if let c = ContentCoding(rawValue: name), c != .identity { return c }
        }
        return nil
    }
}

extension WireError {
    /// A store that is busy, restarting or out of reach (PostgreSQL): nothing of the request was
    /// kept, and the client retries — perhaps through another hub (errors.md). The message names
    /// no database detail. The HTTP handlers and the in-process path answer it alike.
    static let storeUnavailable = WireError(.unavailable, "the hub's database is busy or unreachable: retry shortly")

    /// What a client is told of a failure that is not an HTTP one: a protocol error as it is, the
    /// database out of reach as `unavailable`, anything else as a bare `internal` (its detail is
    /// the log's, never the client's). The HTTP handlers (`ErrorMapping`), the in-process path and a
    /// carried pull's refusal (§5.4) all answer through it.
    static func answering(_ error: any Error) -> WireError {
        switch error {
        case let e as WireError: e
        case let e as StoreError where e.isRetryable: storeUnavailable
        // The hub's disk full or failing: nothing of the request was kept (SQLite rolled it
        // back), and it may be taken once the operator has made room.
        case let e as StoreError where e.fileFailure == .diskFullOrFailing: storeUnavailable
        default: WireError(.internal, "")
        }
    }
}

/// No answer leaves before what the hub had committed when it was made is on disk
/// (`Hub.durable`, sync-protocol.md §5.2). A handshake's, push's or pull's answer waits in
/// `HubServer.respond`, once it is made (the disk syncs meanwhile); a refusal — which may name a
/// batch number or a cursor another replica's push moved — waits here, on its way to the error
/// mapping. On an idle hub there is nothing to wait for. `/healthz` waits too: once the disk has
/// refused a sync, it answers 503 like every other request.
struct DurableAnswers: RouterMiddleware {
    typealias Context = BasicRequestContext
    let hub: Hub

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            try await hub.durable()
            throw error
        }
    }
}

/// The single place where errors become HTTP responses (STYLE.md): protocol errors carry their
/// stable code in the request's media type; anything else is a bare 500 whose details go only
/// to the log.
struct ErrorMapping: RouterMiddleware {
    typealias Context = BasicRequestContext
    let logger: Logger
    let metrics: HubMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // context.logger carries Hummingbird's request id (hb.request.id) on every line.
        context.logger.debug("request", metadata: ["method": "\(request.method)", "path": "\(request.uri.path)"])
        do {
            let response = try await next(request, context)
            context.logger.info("answered", metadata: ["path": "\(request.uri.path)", "status": "\(response.status.code)"])
            return response
        } catch let error as HTTPError {
            let code: WireError.Code =
                switch error.status {
                case .notFound: .notFound
                case .methodNotAllowed: .methodNotAllowed
                case .contentTooLarge: .bodyTooLarge
                default: .malformedBody
                }
            return respond(WireError(code, error.body ?? "\(error.status.code)"), request)
        } catch {
            let answer = WireError.answering(error)
            switch answer.code {
            case .internal: context.logger.error("internal error", metadata: ["path": "\(request.uri.path)", "error": "\(String(reflecting: error))"])
            // The operator must act (make room on the disk): said as an error, not a passing wait.
            case _ where (error as? StoreError)?.fileFailure == .diskFullOrFailing:
                context.logger.error("the hub's database cannot be written: its disk is full or failing", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            case _ where !(error is WireError): context.logger.warning("store unavailable", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            default: context.logger.info("refused", metadata: ["path": "\(request.uri.path)", "code": "\(answer.code.rawValue)"])
            }
            return respond(answer, request)
        }
    }

    func respond(_ error: WireError, _ request: Request) -> Response {
        let sync = [Endpoint.handshake, Endpoint.push, Endpoint.pull].contains(request.uri.path)
        let media = WireFormat.ofError(contentType: request.headers[.contentType], accept: request.headers[.accept], syncRequest: sync)
        var body = error.body
        if error.code == .internal { body.message = "" }
        // The route label is one of the known endpoints: a raw path would let any client (a
        // scanner trying /wp-admin) grow the metric set without bound.
        let known = [Endpoint.handshake: "handshake", Endpoint.push: "push", Endpoint.pull: "pull", Endpoint.health: "healthz", Endpoint.metrics: "metrics"]
        metrics.request(route: known[request.uri.path] ?? "other", status: error.code.httpStatus, duration: .zero)
        // The last resort: an error body that cannot be written leaves the status to say it.
        let bytes = (try? BodyCodec.encode(body, as: media)) ?? []
        return Response(
            status: HTTPResponse.Status(code: error.code.httpStatus), headers: [.contentType: media.rawValue],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

/// Tells the operator's log when the disk took a second or more to sync the hub's commits: every
/// answer waited for it (`opps_disk_sync_seconds` has them all). At most once a minute, so a disk
/// that keeps stalling does not fill the log.
final class SlowDiskWarning: Sendable {
    static let threshold: Duration = .seconds(1)
    static let quiet: Duration = .seconds(60)
    private let logger: Logger
    private let last = Mutex<ContinuousClock.Instant?>(nil)

    init(logger: Logger) { self.logger = logger }

    func saw(_ took: Duration) {
        guard took >= Self.threshold else { return }
        let now = ContinuousClock.now
        let due = last.withLock { last -> Bool in
            if let last, now - last < Self.quiet { return false }
            last = now
            return true
        }
        guard due else { return }
        let seconds = Double(took.components.seconds) + Double(took.components.attoseconds) / 1e18
        logger.warning(
            "the disk took \(String(format: "%.1f", seconds)) s to sync the hub's log: every answer waited for it (a disk shared with other work, or failing, stalls so; opps_disk_sync_seconds counts them all)",
            source: "OppsHub")
    }
}
