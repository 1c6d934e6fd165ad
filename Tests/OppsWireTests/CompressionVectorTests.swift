import OppsCore
import OppsTestSupport
import Testing

@testable import OppsWire

/// `Protocol/vectors/compression.json`: bodies compressed by another implementation (Python's
/// zlib) in every form sync-protocol.md §2.4 says a reader takes — any level, stored blocks, a
/// sync flush in the middle, gzip — and the forms it refuses: bytes after the stream, a second
/// gzip member, a stream cut short, a wrong checksum, a bare deflate stream, more than the limit.
/// The hub reads request bodies and the replica reads answers with this one function.
@Suite struct CompressionVectorTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        var name: String
        var coding: ContentCoding
        var packed: [UInt8]
        var expect: String
        var limit: Int?
        var testDescription: String { name }
    }

    static let doc = try? JSON.parse(RepositoryFiles.text("Protocol/vectors/compression.json"))
    static let body = MessageVector.bytes(hex: doc?["body"]?.string ?? "")
    static let vectors: [Vector] = (doc?["vectors"]?.array ?? []).compactMap { v in
        guard let name = v["name"]?.string, let coding = v["coding"]?.string.flatMap(ContentCoding.init(rawValue:)), let expect = v["expect"]?.string
        else { return nil }
        return Vector(name: name, coding: coding, packed: MessageVector.bytes(hex: v["hex"]?.string ?? ""), expect: expect, limit: v["limit"]?.int)
    }

    @Test func theFileIsReadWhole() {
        #expect(Self.body.count > 4096)
        #expect(Self.vectors.count == (Self.doc?["vectors"]?.array?.count ?? -1))
        #expect(Self.vectors.count >= 16)
        #expect(Set(Self.vectors.map(\.expect)) == ["body", "empty", "zeros", "malformed-body", "decompressed-too-large"])
    }

    @Test(arguments: vectors)
    func aReaderTakesOrRefusesItAsTheSpecSays(_ v: Vector) {
        let limit = v.limit ?? 1 << 20
        let result = Result { () throws(WireError) in try v.coding.decompress(v.packed, limit: limit) }
        switch v.expect {
        case "body": #expect((try? result.get()) == Self.body)
        case "empty": #expect((try? result.get()) == [])
        case "zeros": #expect((try? result.get()) == [UInt8](repeating: 0, count: limit))
        default:
            guard case let .failure(e) = result else { Issue.record("taken: \(v.name)"); return }
            #expect(e.code.rawValue == v.expect, "\(e)")
        }
    }

    /// What the reference implementation writes, the vectors' reader (Python's zlib wrote them;
    /// `CompressionTests` has zlib read ours) takes back: every coding, the levels the hub uses.
    @Test func whatWeWriteReadsBack() throws {
        for coding in [ContentCoding.deflate, .gzip] {
            for level: Int32 in [0, 1, 6, 9] {
                #expect(try coding.decompress(coding.compress(Self.body, level: level), limit: 1 << 20) == Self.body)
            }
        }
    }
}
