import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import OppsWire
import Testing

@testable import OppsReplica

/// Which transport failures are retried once at once: only a connection the other side closed or
/// reset (every protocol request may be sent again), never a timeout or a refused connection —
/// those mean the hub is unreachable and must come back to the user fast.
@Suite struct TransportTests {
    struct Described: Error, CustomStringConvertible { let description: String }

    @Test func onlyAConnectionClosedUnderUsIsRetried() {
        #expect(HTTPTransport.closedUnderUs(HTTPClientError.remoteConnectionClosed))
        #expect(HTTPTransport.closedUnderUs(IOError(errnoCode: ECONNRESET, reason: "read(descriptor:pointer:size:)")))
        #expect(HTTPTransport.closedUnderUs(IOError(errnoCode: EPIPE, reason: "write")))
        #expect(HTTPTransport.closedUnderUs(ChannelError.ioOnClosedChannel))
        #expect(!HTTPTransport.closedUnderUs(HTTPClientError.deadlineExceeded))
        #expect(!HTTPTransport.closedUnderUs(HTTPClientError.connectTimeout))
        #expect(!HTTPTransport.closedUnderUs(IOError(errnoCode: ECONNREFUSED, reason: "connect(descriptor:addr:size:)")))
        // By type, not by text: an error that only reads like a reset is not one.
        #expect(!HTTPTransport.closedUnderUs(Described(description: "read(descriptor:pointer:size:): Connection reset by peer (errno: 104)")))
    }

    @Test func aFailureIsNamedByWhatItIs() {
        #expect(HTTPTransport.reason(IOError(errnoCode: ECONNREFUSED, reason: "connect")) == "connection failed")
        #expect(HTTPTransport.reason(HTTPClientError.connectTimeout) == "connection failed")
        #expect(HTTPTransport.reason(ChannelError.connectTimeout(.seconds(3))) == "connection failed")
        #expect(HTTPTransport.reason(HTTPClientError.deadlineExceeded) == "timed out")
        #expect(HTTPTransport.reason(HTTPClientError.readTimeout) == "timed out")
        #expect(HTTPTransport.reason(Described(description: "something else")) == "something else")
    }

    /// A real closed port, through the real client: unreachable, said as a failed connection, fast.
    @Test func aClosedPortIsAFailedConnection() async throws {
        let transport = HTTPTransport(baseURL: "http://127.0.0.1:1", connectTimeout: .seconds(2), requestTimeout: .seconds(5))
        defer { Task { await transport.shutdown() } }
        do {
            _ = try await transport.call("/v1/handshake", HandshakeRequest(), token: "t", as: HandshakeResponse.self)
            Issue.record("a closed port answered")
        } catch {
            guard case let .unreachable(why) = error else { Issue.record("\(error)"); return }
            #expect(why == "connection failed")
        }
    }
}

/// The replica inflates answers itself (libdeflate, whole): whatever the other end sends, it
/// gets one clear outcome — a bomb stops at the client's limit, a coding it does not read is the
/// hub's refusal, and a gateway's unreadable page is the hub out of reach.
@Suite struct TransportInflationTests {
    /// Answers one request on a loopback port with `head` and `body`, then closes.
    static func answerOnce(_ head: String, _ body: [UInt8]) throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        listen(fd, 1)
        let port = Int(UInt16(bigEndian: addr.sin_port))
        let answer = Array((head + "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n").utf8) + body
        Thread.detachNewThread {
            let c = accept(fd, nil, nil)
            // Reads the request's head and body (its length is in the head) before answering.
            var request = [UInt8](), chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = read(c, &chunk, chunk.count)
                if n <= 0 { break }
                request += chunk[0..<n]
                let text = String(decoding: request, as: UTF8.self)
                if let end = text.range(of: "\r\n\r\n") {
                    let length =
                        text.components(separatedBy: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                        .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                    if text.utf8.distance(from: text.utf8.startIndex, to: end.upperBound) + length <= request.count { break }
                }
            }
            answer.withUnsafeBytes { _ = write(c, $0.baseAddress, $0.count) }
            close(c)
            close(fd)
        }
        return port
    }

    static func call(_ port: Int, limit: Int = 1 << 20) async -> TransportError? {
        let transport = HTTPTransport(baseURL: "http://127.0.0.1:\(port)", requestTimeout: .seconds(10), maxAnswerBytes: limit)
        defer { Task { await transport.shutdown() } }
        do {
            _ = try await transport.call("/v1/handshake", HandshakeRequest(), token: "t", as: HandshakeResponse.self)
            return nil
        } catch {
            return error
        }
    }

    @Test func aBombStopsAtTheClientsLimit() async throws {
        let bomb = ContentCoding.deflate.compress([UInt8](repeating: 0, count: 4 << 20), level: 9)
        let port = try Self.answerOnce("HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Encoding: deflate\r\n", bomb)
        guard case let .refused(200, e)? = await Self.call(port) else { Issue.record("a bomb was taken"); return }
        #expect(e.code == .decompressedTooLarge)
    }

    @Test func aCodingTheClientDoesNotReadIsRefused() async throws {
        let port = try Self.answerOnce("HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Encoding: br\r\n", [1, 2, 3])
        guard case let .refused(200, e)? = await Self.call(port) else { Issue.record("an unknown coding was taken"); return }
        #expect(e.code == .unsupportedEncoding)
    }

    @Test func aDeflatedAnswerIsRead() async throws {
        var hello = HandshakeResponse()
        hello.user = String(repeating: "w", count: 3000)  // over 1 KiB, as a hub would deflate it
        let port = try Self.answerOnce(
            "HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Encoding: gzip\r\n", ContentCoding.gzip.compress(try hello.serializedBytes()))
        let transport = HTTPTransport(baseURL: "http://127.0.0.1:\(port)", requestTimeout: .seconds(10))
        defer { Task { await transport.shutdown() } }
        let answer = try await transport.call("/v1/handshake", HandshakeRequest(), token: "t", as: HandshakeResponse.self)
        #expect(answer.user == hello.user)
    }

    @Test func aGatewaysUnreadablePageIsTheHubOutOfReach() async throws {
        let port = try Self.answerOnce("HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\n", Array("<html>no</html>".utf8))
        guard case .unreachable? = await Self.call(port) else { Issue.record("a gateway's page was not the hub out of reach"); return }
    }
}
