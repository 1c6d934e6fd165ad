import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import OppsWire
import SwiftProtobuf

/// Why a request to the hub did not get an answer or was refused.
public enum TransportError: Error, Sendable, CustomStringConvertible {
    /// No connection, a timeout, a dropped connection: the normal offline state.
    case unreachable(String)
    /// The hub answered with a protocol error.
    case refused(status: Int, WireError)
    /// The TLS handshake failed: the hub's certificate is not trusted or names another host.
    case certificate(String)
    /// This client could not write its own request (nothing was sent).
    case unsendable(WireError)
    /// Something answered at the address, but not the sync protocol: a web server, another
    /// service, the hub behind a path it does not serve (`status`: its HTTP status).
    case notAHub(status: Int)
    /// The address is https:// but the hub there speaks plain HTTP (this http:// address
    /// answered as a hub does): a TLS handshake that failed for that reason, not a certificate's.
    case speaksHTTP(String)

    public var description: String {
        switch self {
        case let .unreachable(why): "the hub cannot be reached (\(why))"
        case let .certificate(why): "the hub's certificate is not trusted (\(why))"
        case let .refused(status, e): "the hub refused the request (\(status) \(e.code.rawValue)): \(e.message)"
        case let .unsendable(e): "the request could not be written: \(e.message)"
        case let .notAHub(status): "no OppSync hub answers at this address (HTTP \(status))"
        case let .speaksHTTP(url): "the hub at this address speaks plain HTTP: \(url)"
        }
    }
}

/// How a replica talks to the hub. The HTTP one is for real use; tests may plug in another.
/// A transport sends a request's protobuf bytes as they are: a stored push batch goes out
/// exactly as it was stored, not decoded and encoded again (sync-protocol.md §5.2).
public protocol Transport: Sendable {
    func send<Out: SwiftProtobuf.Message>(_ endpoint: String, body: [UInt8], token: String, as: Out.Type) async throws(TransportError) -> Out
    /// A pull: `send` to `Endpoint.pull`, except that the page's whole records may be left in
    /// its bytes for `PageReader` to read straight into records (`PageCoding.pulled`; HTTP does).
    /// Other transports need not implement it.
    func pull(body: [UInt8], token: String) async throws(TransportError) -> PulledPage
}

extension Transport {
    public func pull(body: [UInt8], token: String) async throws(TransportError) -> PulledPage {
        PulledPage(try await send(Endpoint.pull, body: body, token: token, as: PullResponse.self))
    }

    /// Encodes `message` as protobuf and sends it.
    public func call<In: SwiftProtobuf.Message, Out: SwiftProtobuf.Message>(
        _ endpoint: String, _ message: In, token: String, as: Out.Type
    ) async throws(TransportError) -> Out {
        let body: [UInt8]
        do { body = try BodyCodec.encode(message, as: .protobuf) } catch { throw .unsendable(error) }
        return try await send(endpoint, body: body, token: token, as: Out.self)
    }
}

/// The protocol over HTTP with AsyncHTTPClient: protobuf bodies, deflate when large.
///
/// Offline is normal, so "unreachable" must come fast — but a rep's mobile link may be slow:
/// - A connection that fails (refused, no route, no network, a name that does not resolve) fails
///   the request at once: AsyncHTTPClient's retries of a failed connection are off, for they
///   would hold it until the connect deadline.
/// - The connect deadline (`connectTimeout`, 10 s) is for a connection that neither fails nor
///   answers, and it covers the TLS handshake too (AsyncHTTPClient has one deadline for both): on
///   a link of a 1.5 s round trip, TCP and a TLS 1.2 handshake take three of them, 4.5 s. It was
///   3 s, which such a link could not make; a faster link never waits for it.
public struct HTTPTransport: Transport {
    public let baseURL: String
    public let connectTimeout: TimeAmount
    public let requestTimeout: TimeAmount
    let client: HTTPClient

    /// `maxConnections`: connections kept to the hub at once (a laptop needs one; the load
    /// benchmark, simulating many laptops through one client, needs many).
    /// `caFile`: a PEM file of certificates trusted besides the system's (a company CA, a
    /// self-signed hub). The hub's name is always verified against its certificate.
    /// `retryFailedConnections`: AsyncHTTPClient retries a failed connection, with backoff, until
    /// the connect deadline (and one failure fails every request waiting without it): for a
    /// client opening many connections at once, as the load benchmark's; a laptop's is told at once.
    public init(
        baseURL: String, caFile: String? = nil, connectTimeout: TimeAmount = .seconds(10), requestTimeout: TimeAmount = .seconds(120),
        maxConnections: Int = 8, retryFailedConnections: Bool = false, maxAnswerBytes: Int = 512 << 20
    ) {
        self.maxAnswerBytes = maxAnswerBytes
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        var configuration = HTTPClient.Configuration()
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        if let caFile { tls.additionalTrustRoots = [.file(caFile)] }
        configuration.tlsConfiguration = tls
        configuration.timeout = .init(connect: connectTimeout, read: requestTimeout)
        // Answers are inflated here, whole, by `ContentCoding` (libdeflate: a third of the CPU of
        // the client's own streaming zlib), within a limit on what they inflate to (a
        // decompression bomb fails the request, not the laptop).
        configuration.decompression = .disabled
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = maxConnections
        configuration.connectionPool.retryConnectionEstablishment = retryFailedConnections
        // No distributed tracing: with the default (no-op) tracer every request still built its
        // span's attributes (method, URL, body size): 9 µs a request (BENCHMARKS.md, forty-first
        // session).
        configuration.tracing.tracer = nil
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    public func shutdown() async {
        try? await client.shutdown()
    }

    public func send<Out: SwiftProtobuf.Message>(_ endpoint: String, body: [UInt8], token: String, as: Out.Type) async throws(TransportError) -> Out {
        let bytes = try await exchange(endpoint, body: body, token: token)
        do {
            return try BodyCodec.decode(Out.self, from: bytes, as: .protobuf, limit: maxAnswerBytes)
        } catch {
            throw .refused(status: 200, error)
        }
    }

    public func pull(body: [UInt8], token: String) async throws(TransportError) -> PulledPage {
        let bytes = try await exchange(Endpoint.pull, body: body, token: token)
        do {
            return try PageCoding.pulled(bytes)
        } catch {
            throw .refused(status: 200, error)
        }
    }

    /// Sends a request; the answer's bytes when the hub answered 200 (inflated).
    func exchange(_ endpoint: String, body: [UInt8], token: String) async throws(TransportError) -> [UInt8] {
        var request = HTTPClientRequest(url: baseURL + endpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: WireFormat.protobuf.rawValue)
        request.headers.add(name: "Accept-Encoding", value: "deflate, gzip")
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        var body = body
        if body.count > 1024 {
            body = ContentCoding.deflate.compress(body)
            request.headers.add(name: "Content-Encoding", value: "deflate")
        }
        request.body = .bytes(ByteBuffer(bytes: body))
        let (status, headers, packed) = try await execute(request)
        let inflated = Result { () throws(WireError) -> [UInt8] in
            guard let coding = ContentCoding(header: headers.first(name: "Content-Encoding")) else {
                throw WireError(.unsupportedEncoding, "the hub answered in a coding this client does not read")
            }
            return try coding.decompress(packed, limit: maxAnswerBytes)
        }
        guard status == .ok else {
            // A gateway's own page may come in any coding: unreadable, the status says what it is.
            let bytes = (try? inflated.get()) ?? []
            let format = WireFormat(header: headers.first(name: "Content-Type")) ?? .json
            guard let e = (try? BodyCodec.decode(ErrorBody.self, from: bytes, as: format)).map({ WireError(body: $0) }) else {
                // A gateway's own answer (a load balancer in front of several hubs, none of which
                // answered): the hub is out of reach for now, as when offline — work stays pending.
                if [502, 503, 504].contains(status.code) { throw .unreachable(Self.Reason.proxyAnswered + "\(status.code)") }
                // Anything else that is not the protocol's error (a web page, another service's 401).
                throw .notAHub(status: Int(status.code))
            }
            // The hub's own "no such endpoint": the address has a path the hub does not serve.
            if e.code == .notFound { throw .notAHub(status: Int(status.code)) }
            throw .refused(status: Int(status.code), e)
        }
        // A 200 that is not protobuf (a web server's page at this address) is no hub's answer.
        if let type = headers.first(name: "Content-Type"), WireFormat(header: type) != .protobuf { throw .notAHub(status: 200) }
        switch inflated {
        case let .success(bytes): return bytes
        case let .failure(e): throw .refused(status: 200, e)
        }
    }

    /// The largest answer this client takes, inflated: a pull page is far below it.
    let maxAnswerBytes: Int

    func execute(_ request: HTTPClientRequest) async throws(TransportError) -> (status: HTTPResponseStatus, headers: HTTPHeaders, body: [UInt8]) {
        var attempt = 0
        while true {
            do {
                let response = try await client.execute(request, deadline: .now() + requestTimeout)
                return (response.status, response.headers, Array(try await response.body.collect(upTo: maxAnswerBytes).readableBytesView))
            } catch {
                // A kept-alive connection the hub closed just as this request went out fails with
                // a reset. Every request of the protocol may be sent again (a push is idempotent by
                // its replica and batch number, handshake and pull are repeatable; sync-protocol.md
                // §5.2, §6.2), so such a failure is retried once, at once, on a new connection.
                attempt += 1
                if let why = Self.certificateProblem(error) {
                    if let plain = await plainHub() { throw .speaksHTTP(plain) }
                    throw .certificate(why)
                }
                guard attempt == 1, Self.closedUnderUs(error) else { throw .unreachable(Self.reason(error)) }
            }
        }
    }

    /// After a failed TLS handshake with an https:// address: the same address as http://, when
    /// a hub answers its health check there (a rep typed https:// for a hub served without TLS,
    /// and was told to fetch a CA certificate). Asked without the token; only the message changes.
    func plainHub() async -> String? {
        guard baseURL.hasPrefix("https://") else { return nil }
        let plain = "http://" + baseURL.dropFirst("https://".count)
        // A hub answers its health check at once, and the address did answer the handshake: the
        // deadline is for a laptop too busy to ask quickly (a full test run took 6 s where 3 s
        // was the limit), on a path that has already failed.
        guard let answer = try? await client.execute(HTTPClientRequest(url: plain + Endpoint.health), deadline: .now() + .seconds(30)),
            answer.status == .ok, let body = try? await answer.body.collect(upTo: 64)
        else { return nil }
        return String(buffer: body) == "ok\n" ? plain : nil
    }

    /// Why the TLS handshake failed, when it did: by the error's type (NIOSSL's), not its text.
    static func certificateProblem(_ error: any Error) -> String? {
        if let e = error as? NIOSSLExtraError, e == .failedToValidateHostname { return "it names another host" }
        if let e = error as? NIOSSLError {
            if case .handshakeFailed = e { return "the TLS handshake failed: an unknown or self-signed certificate" }
            return "TLS: \(e)"
        }
        if error is BoringSSLError { return "the TLS handshake failed" }
        return nil
    }

    /// What kind of failure a transport error is, by its type (AsyncHTTPClient's, NIO's, the
    /// socket's errno), never by its text.
    enum Failure: Equatable {
        /// The other side closed or reset the connection (not a timeout, not a refusal).
        case closedUnderUs
        /// No connection could be made (refused, no route, the connect timed out).
        case connectionFailed
        /// Connected, but the answer did not come in time.
        case timedOut
        case other
    }

    static func failure(_ error: any Error) -> Failure {
        switch error {
        case let e as HTTPClientError:
            if e == .remoteConnectionClosed { return .closedUnderUs }
            if [HTTPClientError.connectTimeout, .tlsHandshakeTimeout, .socksHandshakeTimeout, .httpProxyHandshakeTimeout].contains(e) { return .connectionFailed }
            if [HTTPClientError.deadlineExceeded, .readTimeout, .writeTimeout, .getConnectionFromPoolTimeout].contains(e) { return .timedOut }
            return .other
        case let e as IOError:
            switch e.errnoCode {
            case ECONNRESET, EPIPE, ECONNABORTED: return .closedUnderUs
            case ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, EADDRNOTAVAIL, ETIMEDOUT: return .connectionFailed
            default: return .other
            }
        case let e as ChannelError:
            switch e {
            case .connectTimeout: return .connectionFailed
            case .ioOnClosedChannel, .eof, .outputClosed, .inputClosed, .alreadyClosed: return .closedUnderUs
            default: return .other
            }
        case let e as NIOConnectionError:
            // Every address tried failed: what the first attempt's error says, else a failed connection.
            if let first = e.connectionErrors.first, failure(first.error) == .closedUnderUs { return .closedUnderUs }
            return .connectionFailed
        default:
            return .other
        }
    }

    /// The connection was closed or reset by the other side: the one failure retried at once.
    static func closedUnderUs(_ error: any Error) -> Bool { failure(error) == .closedUnderUs }

    /// Why the hub could not be reached, as `ReplicaError.unreachable` carries it; in Chinese by
    /// `chineseReason`.
    enum Reason {
        static let connectionFailed = "connection failed", timedOut = "timed out", closed = "the connection was closed"
        static let proxyAnswered = "a proxy in front of the hub answered "
    }

    static func reason(_ error: any Error) -> String {
        switch failure(error) {
        case .connectionFailed: return Reason.connectionFailed
        case .timedOut: return Reason.timedOut
        case .closedUnderUs: return Reason.closed
        case .other:
            let text = String(describing: error)
            return text.count > 80 ? String(text.prefix(80)) : text
        }
    }
}
