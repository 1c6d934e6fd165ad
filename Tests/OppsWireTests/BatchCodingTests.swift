import Foundation
import OppsCore
import OppsTestSupport
import Testing

@testable import OppsWire

@Suite struct BatchCodingTests {
    let replica = ReplicaID(UUID128(high: 0x0190_A1B2_C3D4_7E5F, low: 0x8A1B_2C3D_4E5F_6071))
    let record = RecordID(parsing: "0190a1b2-c3d5-7a0b-9c1d-2e3f40516273")!

    func writes() -> [FieldWrite] {
        let hlc = HLC(milliseconds: 1_795_916_628_123, counter: 0)
        func stamp(_ n: UInt64) -> Stamp { Stamp(hlc: HLC(rawValue: hlc.rawValue + n), replica: replica) }
        return [
            FieldWrite(record: record, entity: "opportunity", kind: .create, value: .member("discovery"), author: "sam", stamp: stamp(0)),
            FieldWrite(record: record, entity: "opportunity", field: "amount", value: .decimal(ExactDecimal(units: 1_200_000, scale: 2)), author: "sam", stamp: stamp(1)),
            FieldWrite(record: record, entity: "opportunity", field: "solution", value: .text("two-node"), base: .sequence(1019), author: "sam", stamp: stamp(2)),
            FieldWrite(record: record, entity: "opportunity", field: "next_step", value: .text("demo"), base: .stamp(stamp(1)), author: "sam", stamp: stamp(3)),
            FieldWrite(record: record, entity: "opportunity", field: "owner", value: .null, base: .sequence(1020), author: "sam", stamp: stamp(4)),
        ]
    }

    @Test func roundTripsThroughBothMediaTypesAndCompression() throws {
        let request = try BatchCoding.encode(writes(), replica: replica, batch: 7, workspace: .default)
        for media in WireFormat.allCases {
            for coding in ContentCoding.allCases {
                let body = try BodyCodec.encode(request, as: media, coding: coding)
                let back = try BodyCodec.decode(PushRequest.self, from: body, as: media, coding: coding)
                let decoded = try BatchCoding.decode(back, author: "sam", workspace: .default)
                #expect(decoded.replica == replica)
                #expect(decoded.items == writes().map { .write($0) })
            }
        }
    }

    @Test func theAuthorComesFromTheTokenNotTheBody() throws {
        let request = try BatchCoding.encode(writes(), replica: replica, batch: 1, workspace: .default)
        let decoded = try BatchCoding.decode(request, author: "eve", workspace: .default)
        for case let .write(w) in decoded.items { #expect(w.author == "eve") }
    }

    @Test func unknownNumbersBecomePerWriteRejectionsNotBatchErrors() throws {
        var request = try BatchCoding.encode(writes(), replica: replica, batch: 1, workspace: .default)
        request.writes[1].field = 999
        request.writes[2].entity = 77
        let items = try BatchCoding.decode(request, author: "sam", workspace: .default).items
        #expect(items.count == 5)
        #expect(items[1] == .unknown(record: record, entity: 1, field: 999, rule: .unknownField, stamp: writes()[1].stamp))
        #expect(items[2] == .unknown(record: record, entity: 77, field: 14, rule: .unknownEntity, stamp: writes()[2].stamp))
    }

    @Test func badIdsAndValuesRefuseTheBatch() throws {
        var request = try BatchCoding.encode(writes(), replica: replica, batch: 1, workspace: .default)
        request.writes[0].record = Data([1, 2, 3])
        #expect(performing: { try BatchCoding.decode(request, author: "sam", workspace: .default) }, throws: { ($0 as? WireError)?.code == .invalidId })
        request = try BatchCoding.encode(writes(), replica: replica, batch: 1, workspace: .default)
        request.writes[1].value.decimal.scale = 40
        #expect(performing: { try BatchCoding.decode(request, author: "sam", workspace: .default) }, throws: { ($0 as? WireError)?.code == .malformedBody })
        request = try BatchCoding.encode(writes(), replica: replica, batch: 1, workspace: .default)
        request.replica = Data()
        #expect(performing: { try BatchCoding.decode(request, author: "sam", workspace: .default) }, throws: { ($0 as? WireError)?.code == .invalidId })
    }

    @Test func malformedBodiesAreMalformedBody() {
        #expect(
            performing: { try BodyCodec.decode(PushRequest.self, from: [0xFF, 0xFF, 0xFF], as: .protobuf) },
            throws: { ($0 as? WireError)?.code == .malformedBody })
        #expect(
            performing: { try BodyCodec.decode(PushRequest.self, from: Array(#"{"batch": "x"}"#.utf8), as: .json) },
            throws: { ($0 as? WireError)?.code == .malformedBody })
        #expect(
            performing: { try BodyCodec.decode(PushRequest.self, from: Array(#"{"nonsense": 1}"#.utf8), as: .json) },
            throws: { ($0 as? WireError)?.code == .malformedBody })
    }

    @Test func aTypicalBatchIsCompactOnTheWire() throws {
        // 200 writes to 200 different records, compressed: the figure issue 7 targets (≤ 48 B/write).
        var rng = SeededGenerator(seed: 1)
        let base = HLC(milliseconds: 1_795_916_628_123, counter: 0)
        var ws = [FieldWrite]()
        for i in 0..<200 {
            let id = UUID128.version7(milliseconds: 1_795_916_000_000 + Int64(i) * 997, using: &rng)
            ws.append(
                FieldWrite(
                    record: id, entity: "opportunity", field: "amount", value: .decimal(ExactDecimal(units: Int64(rng.next() % 10_000_000), scale: 2)),
                    base: .sequence(10_000 + UInt64(i)), author: "sam", stamp: Stamp(hlc: HLC(rawValue: base.rawValue + UInt64(i) * 70_000), replica: replica)))
        }
        let body = try BodyCodec.encode(try BatchCoding.encode(ws, replica: replica, batch: 1, workspace: .default), as: .protobuf, coding: .deflate)
        let perWrite = Double(body.count) / 200
        #expect(perWrite <= 48, "\(perWrite) bytes per write")
    }
}

@Suite struct ErrorTableTests {
    /// errors.md and WireError.Code agree on every code, status and retryability.
    @Test func errorsDocumentMatchesTheCode() throws {
        let doc = try RepositoryFiles.text("Protocol/spec/errors.md")
        var documented = [String: (Int, Bool)]()
        for line in doc.split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            let code = cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            documented[code] = (Int(cells[1]) ?? -1, cells[2] == "yes")
        }
        #expect(Set(documented.keys) == Set(WireError.Code.allCases.map(\.rawValue)))
        for code in WireError.Code.allCases {
            #expect(documented[code.rawValue]?.0 == code.httpStatus, "\(code.rawValue) status")
            #expect(documented[code.rawValue]?.1 == code.retryable, "\(code.rawValue) retryable")
        }
    }

    @Test func errorBodiesRoundTrip() {
        let e = WireError(.batchOutOfOrder, "expected batch 7")
        #expect(WireError(body: e.body) == e)
        var unknown = ErrorBody()
        unknown.code = "something-new"
        #expect(WireError(body: unknown).code == .internal)
    }
}
