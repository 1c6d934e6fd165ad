import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import OppsCore
import OppsWire
import Testing
@testable import OppsHub

/// The block-style YAML subset Protocol/openapi.yaml is written in: nested maps by indentation,
/// `- item` lists, scalars, comments. Enough to check responses against it.
indirect enum YAMLNode: Equatable {
    case scalar(String)
    case list([YAMLNode])
    case map([(String, YAMLNode)])

    static func == (a: YAMLNode, b: YAMLNode) -> Bool {
        switch (a, b) {
        case let (.scalar(x), .scalar(y)): x == y
        case let (.list(x), .list(y)): x == y
        case let (.map(x), .map(y)): x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    subscript(key: String) -> YAMLNode? {
        if case let .map(pairs) = self { return pairs.first { $0.0 == key }?.1 }
        return nil
    }

    var keys: [String] { if case let .map(p) = self { return p.map(\.0) }; return [] }
    var items: [YAMLNode] { if case let .list(l) = self { return l }; return [] }
    var text: String? { if case let .scalar(s) = self { return s }; return nil }

    static func parse(_ text: String) -> YAMLNode {
        let lines: [(Int, String)] = text.split(separator: "\n").compactMap { raw in
            let line = String(raw)
            let trimmed = line.drop { $0 == " " }
            if trimmed.isEmpty || trimmed.hasPrefix("#") { return nil }
            return (line.count - trimmed.count, String(trimmed))
        }
        var i = 0
        return block(lines, &i, indent: 0)
    }

    static func unquote(_ s: String) -> String {
        if s.count >= 2, (s.hasPrefix("'") && s.hasSuffix("'")) || (s.hasPrefix("\"") && s.hasSuffix("\"")) { return String(s.dropFirst().dropLast()) }
        return s
    }

    static func block(_ lines: [(Int, String)], _ i: inout Int, indent: Int) -> YAMLNode {
        guard i < lines.count else { return .map([]) }
        if lines[i].1.hasPrefix("- ") {
            var items = [YAMLNode]()
            while i < lines.count, lines[i].0 == indent, lines[i].1.hasPrefix("- ") {
                let rest = String(lines[i].1.dropFirst(2))
                i += 1
                if let colon = rest.range(of: ": ") {
                    // "- key: value" starts a map item.
                    var pairs = [(unquote(String(rest[..<colon.lowerBound])), YAMLNode.scalar(unquote(String(rest[colon.upperBound...]))))]
                    if i < lines.count, lines[i].0 > indent, case let .map(more) = block(lines, &i, indent: lines[i].0) { pairs += more }
                    items.append(.map(pairs))
                } else {
                    items.append(.scalar(unquote(rest)))
                }
            }
            return .list(items)
        }
        var pairs = [(String, YAMLNode)]()
        while i < lines.count, lines[i].0 == indent {
            let line = lines[i].1
            i += 1
            if line.hasSuffix(":") {
                let key = unquote(String(line.dropLast()))
                if i < lines.count, lines[i].0 > indent {
                    pairs.append((key, block(lines, &i, indent: lines[i].0)))
                } else if i < lines.count, lines[i].0 == indent, lines[i].1.hasPrefix("- ") {
                    pairs.append((key, block(lines, &i, indent: indent)))
                } else {
                    pairs.append((key, .map([])))
                }
            } else if let colon = line.range(of: ": ") {
                pairs.append((unquote(String(line[..<colon.lowerBound])), .scalar(unquote(String(line[colon.upperBound...])))))
            }
        }
        return .map(pairs)
    }
}

@Suite struct OpenAPITests {
    static let spec = YAMLNode.parse((try? RepositoryFiles.text("Protocol/openapi.yaml")) ?? "")

    @Test func theSpecDescribesEveryEndpointAndEveryErrorCode() {
        #expect(Self.spec["openapi"]?.text == "3.0.3")
        let paths = Self.spec["paths"]?.keys ?? []
        #expect(Set(paths) == [Endpoint.handshake, Endpoint.push, Endpoint.pull, Endpoint.health, Endpoint.metrics])
        let codes = Self.spec["components"]?["schemas"]?["ErrorBody"]?["properties"]?["code"]?["enum"]?.items.compactMap(\.text) ?? []
        #expect(Set(codes) == Set(WireError.Code.allCases.map(\.rawValue)))
        // Every status a code can have is documented on the sync endpoints that can return it.
        for path in [Endpoint.handshake, Endpoint.push, Endpoint.pull] {
            let statuses = Set(Self.spec["paths"]?[path]?["post"]?["responses"]?.keys ?? [])
            for s in ["200", "400", "401", "403", "413", "415", "500", "503"] { #expect(statuses.contains(s), "\(path) lacks \(s)") }
        }
    }

    /// Checks one live response against the spec: its status is listed for the path and
    /// method, its content type is one the spec gives, and an error body carries a listed code.
    static func check(_ path: String, _ method: String, _ response: TestResponse, sourceLocation: SourceLocation = #_sourceLocation) {
        let status = String(response.status.code)
        guard let documented = spec["paths"]?[path]?[method]?["responses"]?[status] else {
            Issue.record("\(method.uppercased()) \(path) answered \(status), which openapi.yaml does not list", sourceLocation: sourceLocation)
            return
        }
        let type = response.headers[.contentType]?.split(separator: ";").first.map(String.init) ?? ""
        #expect(documented["content"]?.keys.contains(type) == true, "\(path) \(status) content type \(type)", sourceLocation: sourceLocation)
        if response.status.code >= 400 {
            let body = try? BodyCodec.decode(ErrorBody.self, from: Array(response.body.readableBytesView), as: WireFormat(header: type) ?? .json)
            let codes = spec["components"]?["schemas"]?["ErrorBody"]?["properties"]?["code"]?["enum"]?.items.compactMap(\.text) ?? []
            #expect(body.map { codes.contains($0.code) } == true, "\(path) \(status) error code", sourceLocation: sourceLocation)
            #expect(body.flatMap { WireError.Code(rawValue: $0.code)?.httpStatus } == response.status.code, sourceLocation: sourceLocation)
        }
    }

    @Test func liveResponsesMatchTheSpec() async throws {
        let f = try HubFixture()
        try await f.application().test(.live) { client in
            let token = f.tokens["sam"]!
            var rng = SeededGenerator(seed: 4)
            let replica = ReplicaID.random(using: &rng)
            func post(_ path: String, _ body: [UInt8], _ headers: HTTPFields) async throws -> TestResponse {
                try await client.executeRequest(uri: path, method: .post, headers: headers, body: ByteBuffer(bytes: body))
            }
            let pb: HTTPFields = [.contentType: "application/x-protobuf", .authorization: "Bearer \(token)"]
            let js: HTTPFields = [.contentType: "application/json", .authorization: "Bearer \(token)"]
            var h = HandshakeRequest()
            h.minVersion = 1
            h.maxVersion = 1
            h.replica = Data(replica.bytes)
            Self.check(Endpoint.handshake, "post", try await post(Endpoint.handshake, BodyCodec.encode(h, as: .protobuf), pb))
            Self.check(Endpoint.handshake, "post", try await post(Endpoint.handshake, BodyCodec.encode(h, as: .json), js))
            var bad = h
            bad.minVersion = 9
            bad.maxVersion = 9
            Self.check(Endpoint.handshake, "post", try await post(Endpoint.handshake, BodyCodec.encode(bad, as: .json), js))
            Self.check(Endpoint.handshake, "post", try await post(Endpoint.handshake, [1], [.contentType: "application/json"]))
            var push = PushRequest()
            push.replica = Data(replica.bytes)
            push.batch = 1
            Self.check(Endpoint.push, "post", try await post(Endpoint.push, BodyCodec.encode(push, as: .protobuf), pb))
            push.batch = 5
            Self.check(Endpoint.push, "post", try await post(Endpoint.push, BodyCodec.encode(push, as: .protobuf), pb))
            Self.check(Endpoint.push, "post", try await post(Endpoint.push, [0xFF, 0xFF], pb))
            Self.check(Endpoint.push, "post", try await post(Endpoint.push, [1], [.contentType: "text/csv", .authorization: "Bearer \(token)"]))
            var pull = PullRequest()
            pull.replica = Data(replica.bytes)
            Self.check(Endpoint.pull, "post", try await post(Endpoint.pull, BodyCodec.encode(pull, as: .json), js.merging([.acceptEncoding: "gzip"])))
            pull.cursor = 1000
            Self.check(Endpoint.pull, "post", try await post(Endpoint.pull, BodyCodec.encode(pull, as: .json), js))
            Self.check(Endpoint.push, "get", try await client.executeRequest(uri: Endpoint.push, method: .get, headers: [:], body: nil))
            Self.check(Endpoint.health, "get", try await client.executeRequest(uri: Endpoint.health, method: .get, headers: [:], body: nil))
            let metrics = try await client.executeRequest(uri: Endpoint.metrics, method: .get, headers: [:], body: nil)
            Self.check(Endpoint.metrics, "get", metrics)
            let text = String(buffer: metrics.body)
            _ = try await client.executeRequest(uri: "/wp-admin/probe", method: .get, headers: [:], body: nil)
            let after = try await client.executeRequest(uri: Endpoint.metrics, method: .get, headers: [:], body: nil)
            #expect(!String(buffer: after.body).contains("wp-admin"), "unknown paths must not become metric labels")
            #expect(String(buffer: after.body).contains("route=\"other\""))
            for name in ["opps_http_requests_total", "opps_field_writes_total", "opps_push_batches_total", "opps_pull_pages_total",
                         "opps_bytes_received_total", "opps_active_replicas", "opps_http_request_duration_seconds"] {
                #expect(text.contains(name), "metrics lack \(name)")
            }
        }
    }
}

extension HTTPFields {
    func merging(_ other: HTTPFields) -> HTTPFields {
        var out = self
        for f in other { out[f.name] = f.value }
        return out
    }
}
