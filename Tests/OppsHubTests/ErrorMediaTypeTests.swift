import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import OppsWire
import Testing

@testable import OppsHub

/// Every error answer comes in a media type the client can read (sync-protocol.md §7): the
/// request's, else the one it accepts, else protobuf for a sync request without a type, else JSON.
@Suite struct ErrorMediaTypeTests {
    struct Case: Sendable, CustomStringConvertible {
        var path: String
        var method: HTTPRequest.Method
        var contentType: String?
        var accept: String?
        var status: Int
        var code: WireError.Code
        var answer: WireFormat
        var description: String { "\(method) \(path) type=\(contentType ?? "-") accept=\(accept ?? "-")" }
    }

    static let cases: [Case] = [
        Case(path: Endpoint.push, method: .put, contentType: WireFormat.protobuf.rawValue, status: 405, code: .methodNotAllowed, answer: .protobuf),
        Case(path: Endpoint.pull, method: .get, contentType: nil, status: 405, code: .methodNotAllowed, answer: .protobuf),
        Case(path: Endpoint.pull, method: .get, contentType: "application/json; charset=utf-8", status: 405, code: .methodNotAllowed, answer: .json),
        Case(path: "/v1/nowhere", method: .post, contentType: nil, status: 404, code: .notFound, answer: .json),
        Case(path: "/v1/nowhere", method: .post, contentType: WireFormat.protobuf.rawValue, status: 404, code: .notFound, answer: .protobuf),
        Case(path: "/v1/nowhere", method: .get, contentType: nil, accept: "application/x-protobuf", status: 404, code: .notFound, answer: .protobuf),
        Case(path: Endpoint.push, method: .post, contentType: "text/plain", status: 415, code: .unsupportedMediaType, answer: .json),
        Case(
            path: Endpoint.push, method: .post, contentType: "text/plain", accept: "text/html, application/x-protobuf;q=0.9", status: 415,
            code: .unsupportedMediaType, answer: .protobuf),
        Case(path: Endpoint.handshake, method: .post, contentType: nil, status: 401, code: .unauthenticated, answer: .protobuf),
    ]

    @Test(arguments: cases) func errorsAnswerInAMediaTypeTheClientReads(_ c: Case) async throws {
        let f = try HubFixture()
        try await f.application().test(.router) { client in
            var headers = HTTPFields()
            if let t = c.contentType { headers[.contentType] = t }
            if let a = c.accept { headers[.accept] = a }
            let r = try await client.executeRequest(uri: c.path, method: c.method, headers: headers, body: ByteBuffer(bytes: [0x0A, 0x00]))
            #expect(Int(r.status.code) == c.status)
            #expect(r.headers[.contentType] == c.answer.rawValue)
            let body = try BodyCodec.decode(ErrorBody.self, from: Array(r.body.readableBytesView), as: c.answer)
            #expect(body.code == c.code.rawValue)
            #expect(!body.message.isEmpty)
        }
    }

    @Test func mediaTypeParametersAreAllowed() async throws {
        let f = try HubFixture()
        try await f.application().test(.router) { client in
            let body = #"{"minVersion": 1, "maxVersion": 3, "replica": "AZN0y9kAcdKjFnDUmhMs2w=="}"#
            let r = try await client.executeRequest(
                uri: Endpoint.handshake, method: .post,
                headers: [.contentType: "application/json; charset=utf-8", .authorization: "Bearer \(f.tokens["sam"]!)"],
                body: ByteBuffer(string: body))
            #expect(r.status == .ok)
            #expect(r.headers[.contentType] == WireFormat.json.rawValue)
        }
    }
}
