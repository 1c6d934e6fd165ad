import Foundation
import OppsCore
import OppsTestSupport
import SwiftProtobuf
import Testing

@testable import OppsWire

struct MessageVector: Sendable, CustomTestStringConvertible {
    var name: String
    var type: String
    var jsonText: String
    var bytes: [UInt8]
    var testDescription: String { name }

    static func load() throws -> [MessageVector] {
        let doc = try JSON.parse(RepositoryFiles.text("Protocol/vectors/messages.json"))
        return try (doc["vectors"]?.array ?? []).map { v in
            let bytes = Self.bytes(hex: v["hex"]?.string ?? "")
            guard let name = v["name"]?.string, let type = v["type"]?.string, let json = v["json"] else { throw VectorError.bad }
            return MessageVector(name: name, type: type, jsonText: json.compactText, bytes: bytes)
        }
    }

    /// The bytes a vector's hex spells.
    static func bytes(hex: String) -> [UInt8] {
        var bytes = [UInt8]()
        var it = hex.utf8.makeIterator()
        while let h = it.next(), let l = it.next() {
            bytes.append(UInt8(String(decoding: [h, l], as: UTF8.self), radix: 16)!)
        }
        return bytes
    }

    enum VectorError: Error { case bad }
}

@Suite struct MessageVectorTests {
    static let vectors: [MessageVector] = (try? MessageVector.load()) ?? []

    @Test func vectorsCoverEveryMessage() {
        #expect(
            Set(Self.vectors.map(\.type)) == [
                "Value", "HandshakeRequest", "HandshakeResponse", "PushRequest", "PushResponse",
                "PullRequest", "PullResponse", "ErrorBody",
            ])
    }

    @Test(arguments: vectors)
    func binaryAndJSONFormsAgree(v: MessageVector) throws {
        switch v.type {
        case "Value": try check(WireValue.self, v)
        case "HandshakeRequest": try check(HandshakeRequest.self, v)
        case "HandshakeResponse": try check(HandshakeResponse.self, v)
        case "PushRequest": try check(PushRequest.self, v)
        case "PushResponse": try check(PushResponse.self, v)
        case "PullRequest": try check(PullRequest.self, v)
        case "PullResponse": try check(PullResponse.self, v)
        case "ErrorBody": try check(ErrorBody.self, v)
        default: Issue.record("unknown message type \(v.type)")
        }
    }

    func check<M: SwiftProtobuf.Message & Equatable>(_ type: M.Type, _ v: MessageVector) throws {
        let fromBinary = try BodyCodec.decode(M.self, from: v.bytes, as: .protobuf)
        let fromJSON = try BodyCodec.decode(M.self, from: Array(v.jsonText.utf8), as: .json)
        #expect(fromBinary == fromJSON, "\(v.name)")
        // Our encoder produces exactly protoc's bytes.
        #expect(try BodyCodec.encode(fromJSON, as: .protobuf) == v.bytes, "\(v.name)")
        // And the JSON we print reads back to the same message.
        #expect(try BodyCodec.decode(M.self, from: try BodyCodec.encode(fromBinary, as: .json), as: .json) == fromBinary)
    }

    @Test func valueVectorsMapToCoreValues() throws {
        let expected: [String: Value] = [
            "value null": .null, "value text": .text("商机 ACME"), "value integer": .integer(-42),
            "value decimal": .decimal(ExactDecimal(units: 1_200_000, scale: 2)), "value date": .date(try CivilDate(parsing: "2026-12-31")),
            "value member": .member("negotiation"), "value boolean false": .boolean(false),
            "value reference": .reference(RecordID(parsing: "0190a1b2-c3d6-7000-8000-00000000002a")!),
            "value timestamp": .timestamp(try Timestamp(parsing: "2026-11-29T01:43:48.123Z")),
        ]
        for v in Self.vectors where v.type == "Value" {
            let wire = try BodyCodec.decode(WireValue.self, from: v.bytes, as: .protobuf)
            #expect(try wire.coreValue() == expected[v.name], "\(v.name)")
            #expect(try BodyCodec.encode(WireValue(try wire.coreValue()), as: .protobuf) == v.bytes, "\(v.name)")
        }
    }
}
