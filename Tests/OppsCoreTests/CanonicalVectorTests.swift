import Foundation
import OppsCore
import OppsTestSupport
import Testing

/// merge-semantics.md §1 against `Protocol/vectors/canonical.json`, written from the text alone
/// (Tools/canonical-vectors.py): every kind's canonical text and bytes from its wire form, at the
/// ends of its range and where signs, zeros and padding matter — and the checksum (§8) hashing
/// exactly those bytes.
@Suite struct CanonicalVectorTests {
    static func value(_ kind: String, _ wire: JSON) throws -> Value {
        switch kind {
        case "integer": return .integer(Int64(try #require(wire["integer"]?.int)))
        case "decimal":
            return .decimal(ExactDecimal(units: Int64(try #require(wire["units"]?.int)), scale: UInt8(try #require(wire["scale"]?.int))))
        case "date": return .date(CivilDate(daysSinceEpoch: Int32(try #require(wire["date"]?.int))))
        case "timestamp": return .timestamp(Timestamp(milliseconds: Int64(try #require(wire["timestamp"]?.int))))
        case "reference":
            let raw = try #require(wire["reference"]?.string.flatMap(Self.bytes))
            return .reference(try #require(UUID128(bytes: raw)))
        case "boolean": return .boolean(try #require(wire["boolean"]?.bool))
        case "text": return .text(try #require(wire["text"]?.string))
        case "member": return .member(try #require(wire["member"]?.string))
        default: throw ValueError("unknown kind \(kind)")
        }
    }

    static func bytes(_ hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16) }.reduce(into: [UInt8]?([])) {
            if let b = $1 { $0?.append(b) } else { $0 = nil }
        }
    }

    @Test func everyKindHasTheTextAndBytesWorkedByHand() throws {
        let doc = try JSON.parse(RepositoryFiles.text("Protocol/vectors/canonical.json"))
        let cases = try #require(doc["cases"]?.array)
        #expect(Set(cases.compactMap { $0["kind"]?.string }) == ["integer", "decimal", "date", "timestamp", "reference", "boolean", "text", "member"])
        let record = try #require(UUID128(parsing: "0190a1b2-c3d5-7a0b-9c1d-2e3f40516273"))
        let replica = ReplicaID(UUID128(high: 0, low: 7))
        let hlc = HLC(rawValue: 117_699_702_611_247_104)
        for c in cases {
            let kind = try #require(c["kind"]?.string), text = try #require(c["text"]?.string)
            let wire = try #require(c["wire"])
            let value = try Self.value(kind, wire)
            let expected = try #require(c["bytes"]?.string.flatMap(Self.bytes))
            #expect(value.rangeProblem == nil, "\(kind) \(text) is in range")
            #expect(value.canonicalText == text, "\(kind)")
            #expect(value.canonicalBytes == expected, "\(kind) \(text)")
            // The checksum hashes these bytes, not a text made another way.
            let state = FieldState(value: value, stamp: Stamp(hlc: hlc, replica: replica), author: "sam", authority: .own)
            let term = ChecksumLayoutTests.fnv(
                record.bytes + ChecksumLayoutTests.bigEndian(1, 4) + expected + ChecksumLayoutTests.bigEndian(hlc.rawValue, 8) + replica.bytes)
            #expect(StateChecksum.term(record: record, fieldNumber: 1, state: state) == term, "\(kind) \(text)")
        }
    }
}
