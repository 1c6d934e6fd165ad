import AsyncHTTPClient
import Testing
@testable import OppsReplica

/// Which transport failures are retried once at once: only a connection the other side closed or
/// reset (every protocol request may be sent again), never a timeout or a refused connection —
/// those mean the hub is unreachable and must come back to the user fast.
@Suite struct TransportTests {
    struct Described: Error, CustomStringConvertible { let description: String }

    @Test func onlyAConnectionClosedUnderUsIsRetried() {
        #expect(HTTPTransport.closedUnderUs(HTTPClientError.remoteConnectionClosed))
        #expect(HTTPTransport.closedUnderUs(Described(description: "read(descriptor:pointer:size:): Connection reset by peer (errno: 104)")))
        #expect(!HTTPTransport.closedUnderUs(HTTPClientError.deadlineExceeded))
        #expect(!HTTPTransport.closedUnderUs(HTTPClientError.connectTimeout))
        #expect(!HTTPTransport.closedUnderUs(Described(description: "connect(descriptor:addr:size:): Connection refused (errno: 111)")))
    }
}
