import Foundation
import OppsCore
import SwiftProtobuf
import Testing

@testable import OppsWire

/// The hub writes a page's whole records straight into protobuf (`PageWriter.entered`): each
/// must be, byte for byte, what SwiftProtobuf writes for the `RecordState` the generated types
/// build (`wholeState`), and a page must read back — in protobuf, in JSON, carried by a push —
/// as the page with those records in `entered`.
@Suite struct PageWriterTests {
    static let workspace = Workspace.default
    static let numbering = WireNumbering(.default)

    struct Random {
        var g: SeededGenerator
        mutating func int(_ n: Int) -> Int { Int(g.next() % UInt64(n)) }
        mutating func chance(_ percent: Int) -> Bool { int(100) < percent }
        mutating func i64() -> Int64 {
            switch int(4) {
            case 0: 0
            case 1: Int64(int(300)) - 150
            case 2: Int64(bitPattern: g.next() >> UInt64(int(64)))
            default: [Int64.max, Int64.min, -1, 127, 128, -16_384][int(6)]
            }
        }
        mutating func text() -> String { ["", "a", "商机 12000.00", String(repeating: "x", count: int(300)), "naïve ✓", "\u{0}"][int(6)] }
        mutating func id() -> UUID128 { UUID128(high: chance(10) ? 0 : g.next(), low: g.next()) }

        /// Every kind of value, its edges included (zero, empty, negative, the largest).
        mutating func value() -> Value {
            switch int(9) {
            case 0: .null
            case 1: .text(text())
            case 2: .integer(i64())
            case 3: .decimal(ExactDecimal(units: chance(20) ? 0 : i64() % ExactDecimal.maxUnits, scale: chance(30) ? 0 : UInt8(int(19))))
            case 4: .date(CivilDate(daysSinceEpoch: chance(20) ? 0 : Int32(int(200_000)) - 100_000))
            case 5: .member(text())
            case 6: .boolean(chance(50))
            case 7: .reference(id())
            default: .timestamp(Timestamp(milliseconds: i64()))
            }
        }

        mutating func state(_ replicas: [ReplicaID], _ authors: [String]) -> FieldState {
            FieldState(
                value: value(), stamp: Stamp(hlc: HLC(rawValue: chance(5) ? 0 : g.next() >> UInt64(int(64))), replica: replicas[int(replicas.count)]),
                author: authors[int(authors.count)], authority: Access.allCases[int(Access.allCases.count)],
                sequence: chance(5) ? 0 : UInt64(int(1_000_000)))
        }

        /// A record of a workspace entity, or one the workspace does not know; with fields the
        /// workspace numbers and, now and then, one it does not.
        mutating func record(_ replicas: [ReplicaID], _ authors: [String]) -> (Record, hidden: Set<String>) {
            let entity = chance(5) ? "gadget" : workspace.entities[int(workspace.entities.count)].name
            var r = Record(id: id(), entity: entity, created: state(replicas, authors))
            let names = (workspace.entity(entity)?.fields.map(\.name) ?? []) + ["not-a-field"]
            var hidden = Set<String>()
            for name in names where chance(60) {
                r.fields[name] = state(replicas, authors)
                if chance(15) { hidden.insert(name) }
            }
            return (r, hidden)
        }
    }

    @Test(arguments: [false, true])
    func aRecordWrittenStraightIsTheBytesSwiftProtobufWrites(compact: Bool) throws {
        var rng = Random(g: SeededGenerator(seed: compact ? 11 : 12))
        let replicas = (0..<3).map { _ in ReplicaID(UUID128(high: rng.g.next(), low: rng.g.next())) }
        let authors = ["sam", "王伟", "max"]
        var writer = PageWriter(numbering: Self.numbering, compactEntered: compact)
        var expected = [WireRecordState]()
        for _ in 0..<300 {
            let (record, hidden) = rng.record(replicas, authors)
            let reference = writer.wholeState(record, hidden: hidden)
            let before = writer.enteredBytes.count
            let fields = writer.entered(record, hidden: hidden)
            #expect(fields == reference.fields.count)
            // The entry: tag 2, the length, then exactly SwiftProtobuf's bytes.
            let body: [UInt8] = try reference.serializedBytes()
            var entry: [UInt8] = [0x12]
            PageCoding.varint(UInt64(body.count), &entry)
            #expect(Array(writer.enteredBytes[before...]) == entry + body)
            expected.append(reference)
        }
        #expect(writer.enteredCount == 300)
        // The tables the records filled are the page's, in the order first met.
        let page = try writer.finished()
        #expect(page.entered.isEmpty && !page.unknownFields.data.isEmpty)
        let read = try PageCoding.decode(BodyCodec.encode(page, as: .protobuf))
        #expect(read.entered == expected)
        #expect(read.authors == page.authors && read.replicas == page.replicas)
        #expect(read.unknownFields.data.isEmpty)
    }

    /// What a page holds besides its whole records comes through beside them, in every form a
    /// page leaves the hub: protobuf (its own encoder and SwiftProtobuf's), JSON, and inside a
    /// push's answer in both.
    @Test func aPageReadsBackWholeInEveryForm() throws {
        var rng = Random(g: SeededGenerator(seed: 5))
        let replicas = [ReplicaID(UUID128(high: 1, low: 2))]
        var writer = PageWriter(numbering: Self.numbering, compactEntered: true)
        var expected = [WireRecordState]()
        for _ in 0..<20 {
            let (record, hidden) = rng.record(replicas, ["sam"])
            expected.append(writer.wholeState(record, hidden: hidden))
            writer.entered(record, hidden: hidden)
        }
        writer.left(UUID128(high: 9, low: 9))
        writer.with { $0.cursor = 42; $0.token = 7; $0.more = true }
        let page = try writer.finished()
        var whole = page
        whole.unknownFields = UnknownStorage()
        whole.entered = expected

        #expect(try PageCoding.decode(BodyCodec.encode(page, as: .protobuf)) == whole)
        #expect(try PageCoding.decode(page.serializedBytes()) == whole)
        #expect(try BodyCodec.decode(PullResponse.self, from: BodyCodec.encode(page, as: .json), as: .json) == whole)
        var push = PushResponse()
        push.pull = page
        var wholePush = PushResponse()
        wholePush.pull = whole
        for form in [WireFormat.protobuf, .json] {
            #expect(try BodyCodec.decode(PushResponse.self, from: BodyCodec.encode(push, as: form), as: form) == wholePush)
        }
        // A page without whole records is written as it always was.
        let empty = try PageWriter(numbering: Self.numbering, compactEntered: true).finished()
        #expect(empty.unknownFields.data.isEmpty)
    }
}
