import Foundation
import OppsCore
import SwiftProtobuf

/// A pull page in protobuf, its whole records (`entered`) encoded and decoded by hand. (The hub
/// now writes its pages' whole records straight from the records, `PageWriter.entered`; this
/// encoder writes a page whose `entered` is filled, as a replica's tests and the fuzzer do.)
///
/// A cold sync of 100,000 deals is 1.1 million `Change` messages inside `RecordState`s.
/// SwiftProtobuf computes a nested message's size once for every level above it and decodes
/// through generic visitors: encoding was a quarter of the hub's CPU in a cold sync and decoding
/// a sixth of the replica's (BENCHMARKS.md). The bytes are exactly SwiftProtobuf's — fields in
/// number order, proto3 defaults left out, a oneof member written even when it is a default,
/// unknown fields kept and written last — and the tests hold both directions to SwiftProtobuf
/// on random pages. Everything but `entered` goes through SwiftProtobuf.
///
public enum PageCoding {
    // MARK: Encoding

    public static func encode(_ page: PullResponse) throws -> [UInt8] {
        var options = BinaryEncodingOptions()
        options.useDeterministicOrdering = true
        guard !page.entered.isEmpty else { return try page.serializedBytes(options: options) }
        // Field 1 (changes), then 2 (entered) here, then the rest: SwiftProtobuf's order.
        var head = PullResponse()
        head.changes = page.changes
        var tail = page
        tail.changes = []
        tail.entered = []
        let rest: [UInt8] = try tail.serializedBytes(options: options)
        var out: [UInt8] = try head.serializedBytes(options: options)
        // Sizes first (each change's once), so the page is written into one allocation.
        var stateSizes = [Int]()
        var changeSizes = [Int]()
        stateSizes.reserveCapacity(page.entered.count)
        var total = out.count + rest.count
        for state in page.entered {
            let size = stateSize(state, changeSizes: &changeSizes)
            stateSizes.append(size)
            total += 1 + varintSize(UInt64(size)) + size
        }
        out.reserveCapacity(total)
        var next = 0
        for (i, state) in page.entered.enumerated() {
            out.append(0x12)
            varint(UInt64(stateSizes[i]), &out)
            write(state, changeSizes: changeSizes[next..<next + state.fields.count], &out)
            next += state.fields.count
        }
        out += rest
        return out
    }

    /// The page with the whole records it carries as raw `entered` entries (`PageWriter.finished`)
    /// decoded into `entered`: what a JSON answer shows.
    public static func wholeRecordsDecoded(_ page: PullResponse) throws -> PullResponse {
        guard !page.unknownFields.data.isEmpty else { return page }
        // The entries are a page's fields of their own; what is left unknown after them stays so.
        let carried = try decode([UInt8](page.unknownFields.data))
        var whole = page
        whole.entered += carried.entered
        whole.unknownFields = carried.unknownFields
        return whole
    }

    @inline(__always) static func varint(_ value: UInt64, _ out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    @inline(__always) static func varintSize(_ v: UInt64) -> Int { v == 0 ? 1 : (64 - v.leadingZeroBitCount + 6) / 7 }
    @inline(__always) static func zigzag(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v << 1) ^ (v >> 63)) }
    /// A tag of a field numbered below 16 and its length-delimited payload size.
    @inline(__always) static func delimited(_ n: Int) -> Int { 1 + varintSize(UInt64(n)) + n }
    @inline(__always) static func scalar(_ v: UInt64) -> Int { v == 0 ? 0 : 1 + varintSize(v) }

    static func stateSize(_ s: WireRecordState, changeSizes: inout [Int]) -> Int {
        var n = s.record.isEmpty ? 0 : delimited(s.record.count)
        n += scalar(UInt64(s.entity))
        // Through the buffer: `for c in s.fields` copied every change (a retain of each of its
        // parts), a third of the hub's reference counting in a cold sync.
        s.fields.withUnsafeBufferPointer { fields in
            for i in fields.indices {
                let size = changeSize(fields[i])
                changeSizes.append(size)
                n += delimited(size)
            }
        }
        if s.deleted { n += 2 }
        return n + s.unknownFields.data.count
    }

    static func write(_ s: WireRecordState, changeSizes: ArraySlice<Int>, _ out: inout [UInt8]) {
        if !s.record.isEmpty { out.append(0x0A); varint(UInt64(s.record.count), &out); out.append(contentsOf: s.record) }
        if s.entity != 0 { out.append(0x10); varint(UInt64(s.entity), &out) }
        s.fields.withUnsafeBufferPointer { fields in
            for (i, j) in zip(changeSizes.indices, fields.indices) {
                out.append(0x1A)
                varint(UInt64(changeSizes[i]), &out)
                write(fields[j], &out)
            }
        }
        if s.deleted { out.append(0x20); out.append(1) }
        if !s.unknownFields.data.isEmpty { out.append(contentsOf: s.unknownFields.data) }
    }

    static func changeSize(_ c: WireChange) -> Int {
        var n = scalar(c.sequence)
        if !c.record.isEmpty { n += delimited(c.record.count) }
        n += scalar(UInt64(c.entity)) + scalar(UInt64(c.field))
        n += scalar(UInt64(bitPattern: Int64(c.kind.rawValue)))
        if c.hasValue { n += delimited(valueSize(c.value)) }
        n += scalar(c.hlc) + scalar(UInt64(c.replica)) + scalar(UInt64(c.author)) + scalar(UInt64(c.authority))
        return n + c.unknownFields.data.count
    }

    static func write(_ c: WireChange, _ out: inout [UInt8]) {
        if c.sequence != 0 { out.append(0x08); varint(c.sequence, &out) }
        if !c.record.isEmpty { out.append(0x12); varint(UInt64(c.record.count), &out); out.append(contentsOf: c.record) }
        if c.entity != 0 { out.append(0x18); varint(UInt64(c.entity), &out) }
        if c.field != 0 { out.append(0x20); varint(UInt64(c.field), &out) }
        if c.kind.rawValue != 0 { out.append(0x28); varint(UInt64(bitPattern: Int64(c.kind.rawValue)), &out) }
        if c.hasValue {
            out.append(0x32)
            varint(UInt64(valueSize(c.value)), &out)
            write(c.value, &out)
        }
        if c.hlc != 0 { out.append(0x38); varint(c.hlc, &out) }
        if c.replica != 0 { out.append(0x40); varint(UInt64(c.replica), &out) }
        if c.author != 0 { out.append(0x48); varint(UInt64(c.author), &out) }
        if c.authority != 0 { out.append(0x50); varint(UInt64(c.authority), &out) }
        if !c.unknownFields.data.isEmpty { out.append(contentsOf: c.unknownFields.data) }
    }

    static func decimalSize(_ d: WireDecimal) -> Int {
        scalar(zigzag(d.units)) + scalar(UInt64(d.scale)) + d.unknownFields.data.count
    }

    static func valueSize(_ v: WireValue) -> Int {
        let n: Int
        switch v.kind {
        case nil: n = 0
        case let .text(s)?: n = delimited(s.utf8.count)
        case let .integer(i)?: n = 1 + varintSize(zigzag(i))
        case let .decimal(d)?: n = delimited(decimalSize(d))
        case let .date(d)?: n = 1 + varintSize(UInt64(bitPattern: Int64(d)))
        case let .member(s)?: n = delimited(s.utf8.count)
        case .boolean?: n = 2
        case let .reference(r)?: n = delimited(r.count)
        case let .timestamp(t)?: n = 1 + varintSize(zigzag(t))
        }
        return n + v.unknownFields.data.count
    }

    static func write(_ v: WireValue, _ out: inout [UInt8]) {
        switch v.kind {
        case nil: break
        case let .text(s)?: out.append(0x0A); varint(UInt64(s.utf8.count), &out); out.append(contentsOf: s.utf8)
        case let .integer(i)?: out.append(0x10); varint(zigzag(i), &out)
        case let .decimal(d)?:
            out.append(0x1A)
            varint(UInt64(decimalSize(d)), &out)
            if d.units != 0 { out.append(0x08); varint(zigzag(d.units), &out) }
            if d.scale != 0 { out.append(0x10); varint(UInt64(d.scale), &out) }
            if !d.unknownFields.data.isEmpty { out.append(contentsOf: d.unknownFields.data) }
        case let .date(d)?: out.append(0x20); varint(UInt64(bitPattern: Int64(d)), &out)
        case let .member(s)?: out.append(0x2A); varint(UInt64(s.utf8.count), &out); out.append(contentsOf: s.utf8)
        case let .boolean(b)?: out.append(0x30); out.append(b ? 1 : 0)
        case let .reference(r)?: out.append(0x3A); varint(UInt64(r.count), &out); out.append(contentsOf: r)
        case let .timestamp(t)?: out.append(0x40); varint(zigzag(t), &out)
        }
        if !v.unknownFields.data.isEmpty { out.append(contentsOf: v.unknownFields.data) }
    }

    // MARK: Decoding

    /// Decodes a page; `malformed-body` when the bytes are not a `PullResponse`. The fast path
    /// takes only the shape encoders write — known fields with their wire types, each singular
    /// message once, values in range, valid UTF-8 — and gives anything else to SwiftProtobuf
    /// whole, so every input means exactly what it means there.
    public static func decode(_ bytes: [UInt8]) throws(WireError) -> PullResponse {
        if let (page, _) = try? fast(bytes) { return page }
        return try swiftProtobuf(bytes)
    }

    /// A page as a replica reads it: decoded but for its whole records, which stay the `entered`
    /// entries they are in `bytes` (`PulledPage`), for `PageReader` to read straight into
    /// records (building each record's `RecordState` and `Change` messages, then the record
    /// from them, was a quarter of the replica's CPU in a cold sync; copying the entries into
    /// the message's unknown fields and out again a tenth). Their bytes are checked as they are
    /// read; anything the fast reader does not take is decoded then by SwiftProtobuf, and refused
    /// as it would refuse it. A page the fast path does not take at all is decoded whole.
    public static func pulled(_ bytes: [UInt8]) throws(WireError) -> PulledPage {
        if let (page, entries) = try? fast(bytes, raw: true) { return PulledPage(page, bytes: bytes, entries: entries) }
        return PulledPage(try swiftProtobuf(bytes))
    }

    static func swiftProtobuf(_ bytes: [UInt8]) throws(WireError) -> PullResponse {
        do {
            return try PullResponse(serializedBytes: bytes)
        } catch {
            throw WireError(.malformedBody, "body is not a valid \(PullResponse.protoMessageName) in protobuf")
        }
    }

    /// `raw`: the whole records are left where they lie in `bytes` (their entries' contents, in
    /// page order) and `entered` empty; else they are decoded into `entered`.
    static func fast(_ bytes: [UInt8], raw: Bool = false) throws -> (page: PullResponse, entries: [Range<Int>]) {
        try bytes.withUnsafeBytes { buffer in
            var reader = Reader(buffer)
            var rest = [UInt8]()
            var entered = [WireRecordState]()
            var entries = [Range<Int>]()
            while !reader.atEnd {
                let start = reader.position
                let (field, type) = try reader.tag()
                if field == 2, type == 2 {
                    var inner = try reader.delimited()
                    if raw {
                        entries.append(inner.position..<inner.end)
                    } else {
                        entered.append(try inner.recordState())
                    }
                } else {
                    try reader.skip(type)
                    rest.append(contentsOf: buffer[start..<reader.position])
                }
            }
            var page = try PullResponse(serializedBytes: rest)
            page.entered = entered
            return (page, entries)
        }
    }

    struct Malformed: Error {}

    /// Reads protobuf fields from a buffer, every read bounds-checked.
    struct Reader {
        let buffer: UnsafeRawBufferPointer
        var position: Int
        let end: Int

        init(_ buffer: UnsafeRawBufferPointer, from start: Int = 0, to end: Int? = nil) {
            self.buffer = buffer
            position = start
            self.end = end ?? buffer.count
        }

        var atEnd: Bool { position >= end }

        mutating func varint() throws(Malformed) -> UInt64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard position < end else { throw Malformed() }
                let b = buffer[position]
                position += 1
                // The tenth byte may hold only the top bit.
                guard shift < 63 || b <= 1 else { throw Malformed() }
                value |= UInt64(b & 0x7F) << shift
                if b < 0x80 { return value }
                shift += 7
            }
        }

        mutating func tag() throws(Malformed) -> (field: UInt64, type: UInt64) {
            let t = try varint()
            guard t >> 3 > 0 else { throw Malformed() }
            return (t >> 3, t & 7)
        }

        /// The bytes of a length-delimited field, as a reader of their own.
        mutating func delimited() throws(Malformed) -> Reader {
            let n = try varint()
            guard n <= UInt64(end - position) else { throw Malformed() }
            let inner = Reader(buffer, from: position, to: position + Int(n))
            position += Int(n)
            return inner
        }

        mutating func bytes() throws(Malformed) -> Data {
            let r = try delimited()
            return Data(UnsafeRawBufferPointer(rebasing: buffer[r.position..<r.end]))
        }

        mutating func string() throws(Malformed) -> String {
            let r = try delimited()
            guard let s = String(validating: UnsafeRawBufferPointer(rebasing: buffer[r.position..<r.end]), as: UTF8.self) else { throw Malformed() }
            return s
        }

        /// Skips a field of wire type `type` (groups are not protobuf 3).
        mutating func skip(_ type: UInt64) throws(Malformed) {
            switch type {
            case 0: _ = try varint()
            case 1: guard end - position >= 8 else { throw Malformed() }; position += 8
            case 2: _ = try delimited()
            case 5: guard end - position >= 4 else { throw Malformed() }; position += 4
            default: throw Malformed()
            }
        }

        @inline(__always) mutating func expect(_ type: UInt64, _ wanted: UInt64) throws(Malformed) {
            guard type == wanted else { throw Malformed() }
        }

        mutating func uint32() throws(Malformed) -> UInt32 {
            let v = try varint()
            guard v <= UInt64(UInt32.max) else { throw Malformed() }
            return UInt32(v)
        }

        /// An int32 (or enum): written sign-extended to 64 bits.
        mutating func int32() throws(Malformed) -> Int32 {
            let v = Int64(bitPattern: try varint())
            guard let i = Int32(exactly: v) else { throw Malformed() }
            return i
        }

        mutating func bool() throws(Malformed) -> Bool {
            let v = try varint()
            guard v <= 1 else { throw Malformed() }
            return v == 1
        }

        mutating func recordState() throws(Malformed) -> WireRecordState {
            var s = WireRecordState()
            while !atEnd {
                let (field, type) = try tag()
                switch field {
                case 1: try expect(type, 2); s.record = try bytes()
                case 2: try expect(type, 0); s.entity = try uint32()
                case 3:
                    try expect(type, 2)
                    var inner = try delimited()
                    s.fields.append(try inner.change())
                case 4: try expect(type, 0); s.deleted = try bool()
                default: throw Malformed()
                }
            }
            return s
        }

        mutating func change() throws(Malformed) -> WireChange {
            let f = try fieldChange()
            var c = WireChange()
            c.sequence = f.sequence
            if !f.recordBytes.isEmpty { c.record = Data(UnsafeRawBufferPointer(rebasing: buffer[f.recordBytes])) }
            c.entity = f.entity
            c.field = f.field
            c.kind = f.kind
            if let v = f.value { c.value = v }
            c.hlc = f.hlc
            c.replica = f.replica
            c.author = f.author
            c.authority = f.authority
            return c
        }

        /// A `Change` read without building the message (what `PageReader` needs of a whole
        /// record's field; `change()` builds the message from it).
        mutating func fieldChange() throws(Malformed) -> FieldChange {
            var c = FieldChange()
            while !atEnd {
                let (field, type) = try tag()
                switch field {
                case 1: try expect(type, 0); c.sequence = try varint()
                case 2:
                    try expect(type, 2)
                    let r = try delimited()
                    c.recordBytes = r.position..<r.end
                    c.recordID = r.end - r.position == 16 ? UUID128(bytes: UnsafeRawBufferPointer(rebasing: buffer[r.position..<r.end])) : nil
                case 3: try expect(type, 0); c.entity = try uint32()
                case 4: try expect(type, 0); c.field = try uint32()
                case 5: try expect(type, 0); c.kind = WireWriteKind(rawValue: Int(try int32())) ?? .UNRECOGNIZED(0)
                case 6:
                    try expect(type, 2)
                    guard c.value == nil else { throw Malformed() }  // SwiftProtobuf merges a second one
                    var inner = try delimited()
                    c.value = try inner.value()
                case 7: try expect(type, 0); c.hlc = try varint()
                case 8: try expect(type, 0); c.replica = try uint32()
                case 9: try expect(type, 0); c.author = try uint32()
                case 10: try expect(type, 0); c.authority = try uint32()
                default: throw Malformed()
                }
            }
            return c
        }

        static func unzigzag(_ v: UInt64) -> Int64 { Int64(bitPattern: (v >> 1) ^ (0 &- (v & 1))) }

        mutating func value() throws(Malformed) -> WireValue {
            var v = WireValue()
            while !atEnd {
                let (field, type) = try tag()
                switch field {
                case 1: try expect(type, 2); v.kind = .text(try string())
                case 2: try expect(type, 0); v.kind = .integer(Self.unzigzag(try varint()))
                case 3:
                    try expect(type, 2)
                    if case .decimal? = v.kind { throw Malformed() }  // SwiftProtobuf merges a second one
                    var inner = try delimited()
                    v.kind = .decimal(try inner.decimal())
                case 4: try expect(type, 0); v.kind = .date(try int32())
                case 5: try expect(type, 2); v.kind = .member(try string())
                case 6: try expect(type, 0); v.kind = .boolean(try bool())
                case 7: try expect(type, 2); v.kind = .reference(try bytes())
                case 8: try expect(type, 0); v.kind = .timestamp(Self.unzigzag(try varint()))
                default: throw Malformed()
                }
            }
            return v
        }

        mutating func decimal() throws(Malformed) -> WireDecimal {
            var d = WireDecimal()
            while !atEnd {
                let (field, type) = try tag()
                switch field {
                case 1: try expect(type, 0); d.units = Self.unzigzag(try varint())
                case 2: try expect(type, 0); d.scale = try uint32()
                default: throw Malformed()
                }
            }
            return d
        }
    }
}

/// A `Change` of a whole record, read straight from its bytes (`Reader.fieldChange`).
struct FieldChange {
    var sequence: UInt64 = 0
    /// Where its `record` bytes are in the buffer read (empty: absent, the record state's), and
    /// the id when they are 16.
    var recordBytes = 0..<0
    var recordID: RecordID?
    var entity: UInt32 = 0
    var field: UInt32 = 0
    var kind = WireWriteKind.set
    var value: WireValue?
    var hlc: UInt64 = 0
    var replica: UInt32 = 0
    var author: UInt32 = 0
    var authority: UInt32 = 0
}

/// A pull page as a replica received it (`PageCoding.pulled`): the page decoded but for its whole
/// records, which are the `entered` entries left where they lie in the page's bytes, for
/// `PageReader` to read in place. A page that came decoded (`init(_:)`) has none left in bytes.
public struct PulledPage: Sendable {
    public var response: PullResponse
    /// The page's bytes, and where each whole record left in them lies (its `RecordState`'s
    /// bytes), in page order.
    public let bytes: [UInt8]
    public let entries: [Range<Int>]

    public init(_ response: PullResponse) {
        self.init(response, bytes: [], entries: [])
    }

    init(_ response: PullResponse, bytes: [UInt8], entries: [Range<Int>]) {
        self.response = response
        self.bytes = bytes
        self.entries = entries
    }
}
