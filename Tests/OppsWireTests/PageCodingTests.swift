import Foundation
import OppsCore
import SwiftProtobuf
import Testing

@testable import OppsWire

/// PageCoding must be SwiftProtobuf, faster: the same bytes out, the same message (or the same
/// refusal) in — on random pages with every kind of value and edge, on pages written in another
/// order, and on damaged bytes.
@Suite struct PageCodingTests {
    struct Random {
        var g: SeededGenerator
        mutating func int(_ n: Int) -> Int { Int(g.next() % UInt64(n)) }
        mutating func chance(_ percent: Int) -> Bool { int(100) < percent }
        /// Small, large and extreme numbers (varints of every length).
        mutating func u64() -> UInt64 {
            switch int(4) {
            case 0: 0
            case 1: UInt64(int(200))
            case 2: g.next() >> UInt64(int(64))
            default: [UInt64.max, 1 << 63, 127, 128, 16_383, 16_384][int(6)]
            }
        }
        mutating func u32() -> UInt32 { chance(80) ? UInt32(int(300)) : UInt32(truncatingIfNeeded: u64()) }
        mutating func i64() -> Int64 { Int64(bitPattern: u64()) &* (chance(50) ? -1 : 1) }
        mutating func text() -> String {
            ["", "a", "商机 12000.00", String(repeating: "x", count: int(300)), "naïve ✓", "\u{0}"][int(6)]
        }
        mutating func bytes(_ n: Int? = nil) -> Data { Data((0..<(n ?? int(20))).map { _ in UInt8(int(256)) }) }

        mutating func value() -> WireValue {
            var v = WireValue()
            switch int(9) {
            case 0: break
            case 1: v.kind = .text(text())
            case 2: v.kind = .integer(chance(20) ? 0 : i64())
            case 3:
                var d = WireDecimal()
                d.units = chance(20) ? 0 : i64()
                d.scale = chance(30) ? 0 : UInt32(int(19))
                v.kind = .decimal(d)
            case 4: v.kind = .date(chance(20) ? 0 : Int32(truncatingIfNeeded: i64()))
            case 5: v.kind = .member(text())
            case 6: v.kind = .boolean(chance(50))
            case 7: v.kind = .reference(bytes(chance(80) ? 16 : nil))
            default: v.kind = .timestamp(i64())
            }
            return v
        }

        mutating func change(compact: Bool) -> WireChange {
            var c = WireChange()
            c.sequence = u64()
            if !compact || chance(10) { c.record = bytes(16) }
            if !compact || chance(10) { c.entity = u32() }
            c.field = u32()
            c.kind = [.set, .create, .delete, .UNRECOGNIZED(7)][int(4)]
            if chance(85) { c.value = value() }
            c.hlc = u64()
            c.replica = u32()
            c.author = u32()
            c.authority = u32()
            return c
        }

        mutating func page() -> PullResponse {
            var p = PullResponse()
            p.changes = (0..<int(4)).map { _ in change(compact: false) }
            for _ in 0..<int(6) {
                var s = WireRecordState()
                s.record = bytes(chance(90) ? 16 : nil)
                s.entity = u32()
                s.fields = (0..<int(14)).map { _ in change(compact: true) }
                s.deleted = chance(20)
                p.entered.append(s)
            }
            p.left = (0..<int(3)).map { _ in bytes(16) }
            p.replicas = (0..<int(3)).map { _ in bytes(16) }
            p.authors = (0..<int(3)).map { _ in text() }
            p.cursor = u64()
            p.more = chance(50)
            if chance(50) {
                var c = WireCheckpoint()
                c.sequence = u64()
                c.checksum = u64()
                p.checkpoint = c
            }
            p.conflictCursor = u64()
            p.token = u64()
            return p
        }
    }

    static func swiftProtobuf(_ page: PullResponse) throws -> [UInt8] {
        var options = BinaryEncodingOptions()
        options.useDeterministicOrdering = true
        return try page.serializedBytes(options: options)
    }

    @Test func encodesTheBytesSwiftProtobufWrites() throws {
        var r = Random(g: SeededGenerator(seed: 41))
        for _ in 0..<400 {
            let page = r.page()
            let mine = try PageCoding.encode(page)
            #expect(mine == (try Self.swiftProtobuf(page)))
            #expect(try BodyCodec.encode(page, as: .protobuf) == mine)
        }
    }

    @Test func decodesWhatSwiftProtobufDecodes() throws {
        var r = Random(g: SeededGenerator(seed: 42))
        for _ in 0..<400 {
            let page = r.page()
            let bytes = try Self.swiftProtobuf(page)
            let decoded = try PageCoding.decode(bytes)
            #expect(decoded == page)
            #expect(try BodyCodec.decode(PullResponse.self, from: bytes, as: .protobuf) == page)
            // The fast path took it (no fallback): what a real page costs.
            #expect(try PageCoding.fast(bytes).page == page)
        }
    }

    /// Fields in another order, an unknown field inside a whole record, a value sent twice:
    /// legal protobuf no encoder of ours writes; SwiftProtobuf's reading holds.
    @Test func decodesOtherShapesAsSwiftProtobufDoes() throws {
        var r = Random(g: SeededGenerator(seed: 43))
        var page = r.page()
        while page.entered.isEmpty || page.entered[0].fields.isEmpty { page = r.page() }
        var reordered = try Self.swiftProtobuf(
            {
                var p = page; p.entered = []; return p
            }())
        for s in page.entered {
            let b: [UInt8] = try s.serializedBytes()
            reordered += [0x12] + Self.varint(UInt64(b.count)) + b
        }
        #expect(try PageCoding.decode(reordered) == page)

        var odd = page.entered[0]
        odd.unknownFields = try {
            var u = WireRecordState(); try u.merge(serializedBytes: [0xF8, 0x01, 0x05] as [UInt8]); return u.unknownFields
        }()
        var withUnknown = page
        withUnknown.entered[0] = odd
        let unknownBytes = try Self.swiftProtobuf(withUnknown)
        #expect(try PageCoding.decode(unknownBytes) == (try PullResponse(serializedBytes: unknownBytes)))
        #expect(try PageCoding.decode(unknownBytes).entered[0].unknownFields.data == Data([0xF8, 0x01, 0x05]))

        // A change whose value comes twice: SwiftProtobuf merges the two (units from the first,
        // scale from the second), where taking the last would lose the units.
        var first = WireChange()
        var d1 = WireDecimal()
        d1.units = 5
        first.value.kind = .decimal(d1)
        var again = WireValue()
        var d2 = WireDecimal()
        d2.scale = 2
        again.kind = .decimal(d2)
        let againBytes: [UInt8] = try again.serializedBytes()
        let change: [UInt8] = try first.serializedBytes() + [0x32] + Self.varint(UInt64(againBytes.count)) + againBytes
        let state: [UInt8] = [0x1A] + Self.varint(UInt64(change.count)) + change
        let body: [UInt8] = [0x12] + Self.varint(UInt64(state.count)) + state
        #expect(try PageCoding.decode(body) == (try PullResponse(serializedBytes: body)))
        guard case let .decimal(d)? = try PageCoding.decode(body).entered.first?.fields.first?.value.kind else { Issue.record("no decimal"); return }
        #expect(d.units == 5 && d.scale == 2)
    }

    /// Damaged pages: where SwiftProtobuf refuses, so does PageCoding (malformed-body); where it
    /// reads something, PageCoding reads the same.
    @Test func damagedBytesMeanWhatTheyMeanToSwiftProtobuf() throws {
        var r = Random(g: SeededGenerator(seed: 44))
        var refused = 0, read = 0
        for _ in 0..<300 {
            var bytes = try Self.swiftProtobuf(r.page())
            guard !bytes.isEmpty else { continue }
            if r.chance(40) {
                bytes.removeLast(1 + r.int(bytes.count))
            } else {
                for _ in 0...r.int(3) { bytes[r.int(bytes.count)] = UInt8(r.int(256)) }
            }
            let theirs = try? PullResponse(serializedBytes: bytes)
            do {
                let mine = try PageCoding.decode(bytes)
                #expect(mine == theirs)
                read += 1
            } catch {
                #expect(theirs == nil)
                #expect(error.code == .malformedBody)
                refused += 1
            }
        }
        #expect(refused > 20 && read > 20)
    }

    static func varint(_ v: UInt64) -> [UInt8] {
        var out = [UInt8]()
        PageCoding.varint(v, &out)
        return out
    }
}
