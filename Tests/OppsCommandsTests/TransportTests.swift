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
