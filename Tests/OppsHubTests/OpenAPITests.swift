import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import OppsCore
import OppsTestSupport
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
    static func check(_ path: String, _ method: String, _ response: WireClient.Answer, sourceLocation: SourceLocation = #_sourceLocation) {
        let status = String(response.status.code)
        guard let documented = spec["paths"]?[path]?[method]?["responses"]?[status] else {
            Issue.record("\(method.uppercased()) \(path) answered \(status), which openapi.yaml does not list", sourceLocation: sourceLocation)
            return
        }
        let type = response.headers[.contentType]?.split(separator: ";").first.map(String.init) ?? ""
        #expect(documented["content"]?.keys.contains(type) == true, "\(path) \(status) content type \(type)", sourceLocation: sourceLocation)
        // A JSON body matches the schema the spec names for it.
        if type == "application/json", let schema = documented["content"]?[type]?["schema"] {
            let raw = Array(response.body.readableBytesView)
            let plain = (try? ContentCoding(header: response.headers[.contentEncoding])?.decompress(raw, limit: 64 << 20)) ?? raw
            let text = String(decoding: plain, as: UTF8.self)
            if let json = try? JSON.parse(text) {
                let found = problems(json, schema)
                #expect(found.isEmpty, "\(path) \(status): \(found)", sourceLocation: sourceLocation)
            } else {
                Issue.record("\(path) \(status): the JSON body does not parse: \(text.prefix(200))", sourceLocation: sourceLocation)
            }
        }
        if response.status.code >= 400 {
            let body = try? BodyCodec.decode(ErrorBody.self, from: Array(response.body.readableBytesView), as: WireFormat(header: type) ?? .json)
            let codes = spec["components"]?["schemas"]?["ErrorBody"]?["properties"]?["code"]?["enum"]?.items.compactMap(\.text) ?? []
            #expect(body.map { codes.contains($0.code) } == true, "\(path) \(status) error code", sourceLocation: sourceLocation)
            #expect(body.flatMap { WireError.Code(rawValue: $0.code)?.httpStatus } == response.status.code, sourceLocation: sourceLocation)
        }
    }

    /// The problems of a JSON value against a schema of the spec (the subset the generated schemas
    /// use: `$ref`, object with properties, additionalProperties false, required, maxProperties;
    /// array; string with pattern `^-?[0-9]+$`, format byte, enum; integer; boolean).
    static func problems(_ value: JSON, _ schema: YAMLNode, at path: String = "$") -> [String] {
        if let ref = schema["$ref"]?.text {
            let name = String(ref.split(separator: "/").last ?? "")
            guard let target = spec["components"]?["schemas"]?[name] else { return ["\(path): unknown schema \(ref)"] }
            return problems(value, target, at: path)
        }
        switch schema["type"]?.text {
        case "object":
            guard let members = value.members else { return ["\(path): \(value.kindName), not an object"] }
            var out = [String]()
            let properties = schema["properties"]
            for m in members {
                guard let sub = properties?[m.key] else { out.append("\(path).\(m.key): not in the schema"); continue }
                out += problems(m.value, sub, at: "\(path).\(m.key)")
            }
            for r in schema["required"]?.items.compactMap(\.text) ?? [] where !members.contains(where: { $0.key == r }) {
                out.append("\(path): lacks \(r)")
            }
            if let max = schema["maxProperties"]?.text.flatMap(Int.init), members.count > max { out.append("\(path): more than \(max) properties") }
            return out
        case "array":
            guard let items = value.array else { return ["\(path): \(value.kindName), not an array"] }
            guard let itemSchema = schema["items"] else { return [] }
            return items.enumerated().flatMap { problems($0.element, itemSchema, at: "\(path)[\($0.offset)]") }
        case "string":
            guard let s = value.string else { return ["\(path): \(value.kindName), not a string"] }
            if schema["pattern"] != nil, !(s.drop { $0 == "-" }.allSatisfy(\.isASCII) && Int64(s) != nil || UInt64(s) != nil) {
                return ["\(path): \"\(s)\" is not an integer string"]
            }
            if schema["format"]?.text == "byte", Data(base64Encoded: s) == nil { return ["\(path): not base64"] }
            if let allowed = schema["enum"]?.items.compactMap(\.text), !allowed.contains(s) { return ["\(path): \"\(s)\" is not one of the enum"] }
            return []
        case "integer":
            return value.int == nil ? ["\(path): \(value.kindName), not an integer"] : []
        case "boolean":
            return value.bool == nil ? ["\(path): \(value.kindName), not a boolean"] : []
        default:
            return ["\(path): schema without a type"]
        }
    }

    /// Every message schema the spec generates from the .proto, and the JSON of each message
    /// vector validates against its schema (and a wrong one does not).
    @Test func everyMessageHasASchemaAndTheVectorsMatchIt() throws {
        let schemas = Self.spec["components"]?["schemas"]?.keys ?? []
        for name in [
            "HandshakeRequest", "HandshakeResponse", "PushRequest", "PushResponse", "PullRequest", "PullResponse", "Change",
            "RecordState", "Conflict", "Checkpoint", "Write", "WriteResult", "Value", "Decimal", "Base", "ErrorBody",
        ] {
            #expect(schemas.contains(name), "no schema for \(name)")
        }
        let vectors = try JSON.parse(RepositoryFiles.text("Protocol/vectors/messages.json"))
        for v in vectors["vectors"]?.array ?? [] {
            guard let type = v["type"]?.string, let json = v["json"] else { continue }
            let found = Self.problems(json, .map([("$ref", .scalar("#/components/schemas/\(type)"))]))
            #expect(found.isEmpty, "\(v["name"]?.string ?? type): \(found)")
        }
        let wrong = try JSON.parse(#"{"cursor": 12, "replica": "not base64!", "colour": "blue"}"#)
        #expect(Self.problems(wrong, .map([("$ref", .scalar("#/components/schemas/PullRequest"))])).count == 3)
    }

    @Test func liveResponsesMatchTheSpec() async throws {
        let f = try HubFixture()
        try await f.live { client in
            let token = f.tokens["sam"]!
            var rng = SeededGenerator(seed: 4)
            let replica = ReplicaID.random(using: &rng)
            func post(_ path: String, _ body: [UInt8], _ headers: HTTPFields) async throws -> WireClient.Answer {
                try await client.executeRequest(uri: path, method: .post, headers: headers, body: ByteBuffer(bytes: body))
            }
            let pb: HTTPFields = [.contentType: "application/x-protobuf", .authorization: "Bearer \(token)"]
            let js: HTTPFields = [.contentType: "application/json", .authorization: "Bearer \(token)"]
            var h = HandshakeRequest()
            h.minVersion = 1
            h.maxVersion = 1
            h.replica = Data(replica.bytes)
            Self.check(Endpoint.handshake, "post", try await post(Endpoint.handshake, try BodyCodec.encode(h, as: .protobuf), pb))
            Self.check(Endpoint.handshake, "post", try await post(Endpoint.handshake, try BodyCodec.encode(h, as: .json), js))
            var bad = h
            bad.minVersion = 9
            bad.maxVersion = 9
            Self.check(Endpoint.handshake, "post", try await post(Endpoint.handshake, try BodyCodec.encode(bad, as: .json), js))
            Self.check(Endpoint.handshake, "post", try await post(Endpoint.handshake, [1], [.contentType: "application/json"]))
            var push = PushRequest()
            push.replica = Data(replica.bytes)
            push.batch = 1
            Self.check(Endpoint.push, "post", try await post(Endpoint.push, try BodyCodec.encode(push, as: .protobuf), pb))
            push.batch = 5
            Self.check(Endpoint.push, "post", try await post(Endpoint.push, try BodyCodec.encode(push, as: .protobuf), pb))
            Self.check(Endpoint.push, "post", try await post(Endpoint.push, [0xFF, 0xFF], pb))
            Self.check(Endpoint.push, "post", try await post(Endpoint.push, [1], [.contentType: "text/csv", .authorization: "Bearer \(token)"]))
            // A real batch in JSON, so the pull below carries records, fields and a conflict to check.
            var clock = HybridLogicalClock()
            let deal = UUID128.version7(milliseconds: 1_795_000_000_000, using: &rng)
            func stamp() -> Stamp { Stamp(hlc: clock.tick(physical: 1_795_000_000_000), replica: replica) }
            let writes = [
                FieldWrite(record: deal, entity: "opportunity", kind: .create, value: .member("discovery"), author: "sam", stamp: stamp()),
                FieldWrite(record: deal, entity: "opportunity", field: "name", value: .text("北辰物流"), author: "sam", stamp: stamp()),
                FieldWrite(
                    record: deal, entity: "opportunity", field: "amount", value: .decimal(ExactDecimal(units: 1_200_000, scale: 2)), author: "sam", stamp: stamp()),
                FieldWrite(record: deal, entity: "opportunity", field: "stage_log", value: .text("x"), author: "sam", stamp: stamp()),
            ]
            let batch = try BatchCoding.encode(writes, replica: replica, batch: 2, workspace: .default)
            Self.check(Endpoint.push, "post", try await post(Endpoint.push, try BodyCodec.encode(batch, as: .json), js))
            var pull = PullRequest()
            pull.replica = Data(replica.bytes)
            Self.check(Endpoint.pull, "post", try await post(Endpoint.pull, try BodyCodec.encode(pull, as: .json), js.merging([.acceptEncoding: "gzip"])))
            pull.cursor = 1000
            Self.check(Endpoint.pull, "post", try await post(Endpoint.pull, try BodyCodec.encode(pull, as: .json), js))
            Self.check(Endpoint.push, "get", try await client.executeRequest(uri: Endpoint.push, method: .get, headers: [:], body: nil))
            Self.check(Endpoint.health, "get", try await client.executeRequest(uri: Endpoint.health, method: .get, headers: [:], body: nil))
            let metrics = try await client.executeRequest(uri: Endpoint.metrics, method: .get, headers: [:], body: nil)
            Self.check(Endpoint.metrics, "get", metrics)
            let text = String(buffer: metrics.body)
            _ = try await client.executeRequest(uri: "/wp-admin/probe", method: .get, headers: [:], body: nil)
            let after = try await client.executeRequest(uri: Endpoint.metrics, method: .get, headers: [:], body: nil)
            #expect(!String(buffer: after.body).contains("wp-admin"), "unknown paths must not become metric labels")
            #expect(String(buffer: after.body).contains("route=\"other\""))
            for name in [
                "opps_http_requests_total", "opps_field_writes_total", "opps_push_batches_total", "opps_pull_pages_total",
                "opps_bytes_received_total", "opps_active_replicas", "opps_http_request_duration_seconds",
            ] {
                #expect(text.contains(name), "metrics lack \(name)")
            }
            // Every group commit is counted with its pushes, its wait for the sequencer and its length.
            func value(_ name: String) -> Double? {
                text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ")[1]) }
            }
            // Three pushes reached the hub one after another (batch 1, batch 5 refused as out of
            // order, batch 2): three groups, the refused one's too.
            let groups = try #require(value("opps_push_groups_total"))
            #expect(groups == 3)
            #expect(try #require(value("opps_push_group_pushes_total")) >= groups)
            #expect(value("opps_sequencer_wait_seconds_count") == groups)
            #expect(value("opps_push_group_duration_seconds_count") == groups)
            // Each push's writes counted by outcome, and its batch once: the real batch's create,
            // name and amount applied, its stage log (the hub's own field) rejected; the empty
            // batch 1 decided nothing.
            #expect(value(#"opps_field_writes_total{outcome="applied"}"#) == 3)
            #expect(value(#"opps_field_writes_total{outcome="rejected"}"#) == 1)
            #expect(value(#"opps_field_writes_total{outcome="lost"}"#) == 0)
            #expect(value(#"opps_push_batches_total{replayed="false"}"#) == 1)
            #expect(value(#"opps_push_batches_total{replayed="true"}"#) == 0)
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
