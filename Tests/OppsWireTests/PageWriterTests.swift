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

    /// The wire tests' generator (small, large and extreme numbers; texts of every shape), with
    /// the core records below.
    typealias Random = PageCodingTests.Random

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

    /// A record as the hub's store hands it (`NumberedRecord`: fields numbered, in the order
    /// stored — workspace order, not sequence order) is written as the same `Record` is, in
    /// whatever order its fields come, and without a field `hidden` names.
    @Test func aNumberedRecordIsWrittenAsItsRecordInAnyOrder() throws {
        var rng = Random(g: SeededGenerator(seed: 21))
        let replicas = [ReplicaID(UUID128(high: 1, low: 2)), ReplicaID(UUID128(high: 3, low: 4))]
        for _ in 0..<200 {
            let (record, hidden) = rng.record(replicas, ["sam", "王伟"])
            let numbers = Self.numbering.entity(record.entity)
            var numbered = NumberedRecord(record) { numbers?.fieldNumbers[$0] }
            #expect(numbered.record == record)
            var byRecord = PageWriter(numbering: Self.numbering, compactEntered: true)
            let fields = byRecord.entered(record, hidden: hidden)
            for order in 0..<3 {
                switch order {
                case 0: numbered.fields.sort { $0.number < $1.number }
                case 1: numbered.fields.reverse()
                default: numbered.fields.shuffle(using: &rng.g)
                }
                var byNumber = PageWriter(numbering: Self.numbering, compactEntered: true)
                #expect(byNumber.entered(numbered, hidden: hidden) == fields)
                #expect(byNumber.enteredBytes == byRecord.enteredBytes)
            }
        }
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
        writer.with {
            $0.cursor = 42; $0.token = 7; $0.more = true
        }
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

/// A replica reads a page's whole records straight from their bytes
/// (`PageCoding.pulled`, `PageReader.rawEntered`): it must make of every page
/// exactly what reading the decoded messages makes — the same records, the same refusals.
@Suite struct RawWholeRecordTests {
    /// What a replica makes of a page's bytes, either way.
    struct Got: Equatable {
        var ids = [RecordID]()
        var records = [Record?]()
        var changes = [LogEntry]()
        var conflicts = [LocalConflict]()
        var refused: String?
        /// How many terms came with the records (only the raw reader gives them).
        var terms = 0

        static func == (a: Got, b: Got) -> Bool {
            a.ids == b.ids && a.records == b.records && a.changes == b.changes && a.conflicts == b.conflicts && a.refused == b.refused
        }
    }

    static func got(_ bytes: [UInt8], raw: Bool) -> Got {
        do {
            let page = raw ? try PageCoding.pulled(bytes) : PulledPage(try PageCoding.decode(bytes))
            if raw { #expect(page.response.entered.isEmpty, "the fast path left the records raw") }
            return got(page, raw: raw)
        } catch {
            var g = Got()
            g.refused = error.code.rawValue
            return g
        }
    }

    /// What a replica makes of a page it was handed (`raw`: its whole records left in bytes).
    static func got(_ page: PulledPage, raw: Bool) -> Got {
        var g = Got()
        do {
            let r = try PageReader(page, numbering: PageWriterTests.numbering).received(workspace: PageWriterTests.workspace)
            // Every whole record read as it came is entered once on the page, each field once,
            // and its term is its record's.
            let wholeIDs = r.whole.map(\.id)
            #expect(Set(wholeIDs).count == wholeIDs.count && Set(wholeIDs).isDisjoint(with: r.entered.map(\.id)))
            for w in r.whole {
                #expect(Set(w.fields.map(\.number)).count == w.fields.count)
                #expect(StateChecksum.term(of: w.record, numbering: PageWriterTests.numbering) == w.term)
            }
            if !raw { #expect(r.whole.isEmpty) }
            g.terms = r.whole.count
            // In page order but for the whole records, which come apart: the ids, and the last record of each.
            g.ids = (r.entered.map(\.id) + wholeIDs).sorted()
            let every = r.everyEntered
            g.records = g.ids.map { every[$0] ?? nil }
            g.changes = r.changes
            g.conflicts = r.conflicts
        } catch is PageReader.WorkspaceAhead {
            g.refused = "workspace ahead"
        } catch let e as WireError {
            g.refused = e.code.rawValue
        } catch {
            g.refused = "\(error)"
        }
        return g
    }

    /// Pages as the hub writes them, from random records of every kind.
    @Test(arguments: [false, true])
    func aHubsPagesReadTheSameEitherWay(compact: Bool) throws {
        var rng = PageWriterTests.Random(g: SeededGenerator(seed: compact ? 21 : 22))
        let replicas = (0..<3).map { _ in ReplicaID(UUID128(high: rng.g.next(), low: rng.g.next())) }
        var read = 0
        for _ in 0..<60 {
            var writer = PageWriter(numbering: PageWriterTests.numbering, compactEntered: compact)
            let unknownFields = rng.chance(20)
            for _ in 0..<rng.int(40) {
                var (record, hidden) = rng.record(replicas, ["sam", "王伟", "max"])
                if !unknownFields { record.fields["not-a-field"] = nil }
                writer.entered(record, hidden: hidden)
            }
            writer.left(rng.id())
            writer.with {
                $0.cursor = 9; $0.more = true
            }
            let page = try writer.finished()
            let bytes = try BodyCodec.encode(page, as: .protobuf)
            let structs = Self.got(bytes, raw: false), raw = Self.got(bytes, raw: true)
            #expect(raw == structs)
            // Handed over in-process as the writer left it (whole records in its unknown fields): the same.
            #expect(Self.got(PulledPage(page), raw: false) == structs)
            if structs.refused == nil {
                read += 1
                // Every record of a hub's page comes with its term.
                #expect(raw.terms == raw.records.compactMap { $0 }.count)
            }
        }
        #expect(read > 30, "most pages read (those with a field the workspace lacks are refused)")
    }

    /// Legal protobuf no hub of ours writes, and damaged bytes: the raw reader hands what it does
    /// not take to SwiftProtobuf, and refuses what SwiftProtobuf refuses.
    @Test func otherShapesAndDamageReadTheSameEitherWay() throws {
        var rng = PageWriterTests.Random(g: SeededGenerator(seed: 23))
        let replicas = [ReplicaID(UUID128(high: 3, low: 4))]
        var writer = PageWriter(numbering: PageWriterTests.numbering, compactEntered: true)
        var states = [WireRecordState]()
        for _ in 0..<6 {
            var (record, hidden) = rng.record(replicas, ["sam"])
            record.fields["not-a-field"] = nil
            states.append(writer.wholeState(record, hidden: hidden))
            writer.entered(record, hidden: hidden)
        }
        var head = try writer.finished()
        head.unknownFields = UnknownStorage()
        let headBytes: [UInt8] = try head.serializedBytes()
        func page(_ entries: [[UInt8]]) -> [UInt8] {
            var out = headBytes
            for e in entries {
                out.append(0x12)
                PageCoding.varint(UInt64(e.count), &out)
                out += e
            }
            return out
        }
        let plain = try states.map { try $0.serializedBytes() as [UInt8] }
        var shapes = [[UInt8]]()
        shapes.append(page(plain))
        // The record's id and entity after its fields.
        shapes.append(
            page(
                try states.map { s in
                    var fields = s
                    fields.record = Data()
                    fields.entity = 0
                    var idOnly = WireRecordState()
                    idOnly.record = s.record
                    idOnly.entity = s.entity
                    return try fields.serializedBytes() + idOnly.serializedBytes()
                }))
        // An unknown field inside a field's change; a value sent twice (SwiftProtobuf merges).
        func withLastChange(_ s: WireRecordState, plus extra: [UInt8], decimal: Bool) throws -> [UInt8] {
            var rest = s
            var last = rest.fields.removeLast()
            if decimal { last.value = WireValue(.decimal(ExactDecimal(units: 5, scale: 0))) }
            let change: [UInt8] = try last.serializedBytes() + extra
            var out: [UInt8] = try rest.serializedBytes()
            out.append(0x1A)
            PageCoding.varint(UInt64(change.count), &out)
            return out + change
        }
        let odd = try states.enumerated().map { i, s in
            // Field 15 = 1; or a second value, a decimal of scale 3 that SwiftProtobuf merges into
            // the first (units 5): 0.005.
            try withLastChange(s, plus: i % 2 == 0 ? [0x78, 0x01] : [0x32, 0x04, 0x1A, 0x02, 0x10, 0x03], decimal: i % 2 == 1)
        }
        shapes.append(page(odd))
        // A field sent twice in one record (the second, the same, is skipped when applied).
        shapes.append(
            page(
                try states.map { s in
                    var twice = s
                    if twice.fields.count > 1 { twice.fields.append(twice.fields[1]) }
                    return try twice.serializedBytes()
                }))
        // A record whose id is not 16 bytes; one with no fields.
        var short = WireRecordState()
        short.record = Data([1, 2, 3])
        short.fields = states[0].fields
        shapes.append(page([try short.serializedBytes(), [0x0A, 0x10] + [UInt8](repeating: 7, count: 16)]))
        for s in shapes {
            let structs = Self.got(s, raw: false)
            #expect(structs.refused == nil)
            #expect(Self.got(s, raw: true) == structs)
        }
        // Damage: every byte of a record's entry in turn set to 0xFF, and the entry cut short.
        let whole = page(plain)
        let first = headBytes.count
        for i in first..<min(whole.count, first + 120) {
            var damaged = whole
            damaged[i] = 0xFF
            #expect(Self.got(damaged, raw: true) == Self.got(damaged, raw: false), "byte \(i)")
        }
        let cut = Array(whole.dropLast(3))
        #expect(Self.got(cut, raw: true) == Self.got(cut, raw: false))
    }
}

extension PageCodingTests.Random {
    mutating func id() -> UUID128 { UUID128(high: chance(10) ? 0 : g.next(), low: g.next()) }

    /// Every kind of core value, its edges included (zero, empty, negative, the largest).
    mutating func coreValue() -> Value {
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
            value: coreValue(), stamp: Stamp(hlc: HLC(rawValue: u64()), replica: replicas[int(replicas.count)]),
            author: authors[int(authors.count)], authority: Access.allCases[int(Access.allCases.count)],
            sequence: chance(5) ? 0 : UInt64(int(1_000_000)))
    }

    /// A record of a workspace entity, or one the workspace does not know; with fields the
    /// workspace numbers and, now and then, one it does not.
    mutating func record(_ replicas: [ReplicaID], _ authors: [String]) -> (Record, hidden: Set<String>) {
        let workspace = PageWriterTests.workspace
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
