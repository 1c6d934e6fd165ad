import OppsCore

/// A compact byte writer for stored values: varints, zigzag, length-prefixed strings.
/// Field states of a record are stored together in one blob (one row per record): a row per
/// field stamp was measured at about 6× slower bulk loading and twice the file size.
public struct ByteWriter {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 64) { bytes.reserveCapacity(capacity) }

    public mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    public mutating func zigzag(_ v: Int64) { varint(UInt64(bitPattern: (v << 1) ^ (v >> 63))) }

    public mutating func byte(_ b: UInt8) { bytes.append(b) }

    public mutating func raw(_ b: [UInt8]) { bytes.append(contentsOf: b) }

    public mutating func string(_ s: String) {
        // Straight from the string's UTF-8 (an array of it first was an allocation per value).
        varint(UInt64(s.utf8.count))
        bytes.append(contentsOf: s.utf8)
    }

    /// A value: its tag (merge-semantics.md §1), then its payload.
    public mutating func value(_ v: Value) {
        byte(v.tag)
        switch v {
        case .null: break
        case let .text(s): string(s)
        case let .integer(i): zigzag(i)
        case let .decimal(d):
            zigzag(d.units)
            byte(d.scale)
        case let .date(d): zigzag(Int64(d.daysSinceEpoch))
        case let .member(m): string(m)
        case let .boolean(b): byte(b ? 1 : 0)
        case let .reference(r): raw(r.bytes)
        case let .timestamp(t): zigzag(t.milliseconds)
        }
    }
}

/// Reads what `ByteWriter` wrote; every read checks bounds, so a damaged blob is an error,
/// never a crash.
public struct ByteReader {
    let bytes: [UInt8]
    public private(set) var offset = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var atEnd: Bool { offset >= bytes.count }

    static let damaged = StoreError(code: -2, message: "damaged stored value")

    public mutating func varint() throws(StoreError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < bytes.count, shift < 64 else { throw Self.damaged }
            let b = bytes[offset]
            offset += 1
            result |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return result }
            shift += 7
        }
    }

    public mutating func zigzag() throws(StoreError) -> Int64 {
        let u = try varint()
        return Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
    }

    public mutating func byte() throws(StoreError) -> UInt8 {
        guard offset < bytes.count else { throw Self.damaged }
        defer { offset += 1 }
        return bytes[offset]
    }

    public mutating func raw(_ n: Int) throws(StoreError) -> ArraySlice<UInt8> {
        guard n >= 0, offset + n <= bytes.count else { throw Self.damaged }
        defer { offset += n }
        return bytes[offset..<offset + n]
    }

    public mutating func string() throws(StoreError) -> String {
        let n = try varint()
        guard n <= UInt64(bytes.count) else { throw Self.damaged }
        return String(decoding: try raw(Int(n)), as: UTF8.self)
    }

    public mutating func value() throws(StoreError) -> Value {
        switch try byte() {
        case 0: return .null
        case 1: return .text(try string())
        case 2: return .integer(try zigzag())
        case 3:
            let units = try zigzag()
            let scale = try byte()
            guard scale <= ExactDecimal.maxScale else { throw Self.damaged }
            return .decimal(ExactDecimal(units: units, scale: scale))
        case 4:
            let d = try zigzag()
            guard let days = Int32(exactly: d) else { throw Self.damaged }
            return .date(CivilDate(daysSinceEpoch: days))
        case 5: return .member(try string())
        case 6: return .boolean(try byte() != 0)
        case 7:
            guard let id = RecordID(bytes: try raw(16)) else { throw Self.damaged }
            return .reference(id)
        case 8: return .timestamp(Timestamp(milliseconds: try zigzag()))
        default: throw Self.damaged
        }
    }
}

extension ByteReader {
    /// Passes over a value (`value()`'s bytes) without making it: no string is built.
    public mutating func skipValue() throws(StoreError) {
        switch try byte() {
        case 0: break
        case 1, 5:
            let n = try varint()
            guard n <= UInt64(bytes.count) else { throw Self.damaged }
            _ = try raw(Int(n))
        case 2, 4, 8: _ = try varint()
        case 3:
            _ = try varint()
            guard try byte() <= ExactDecimal.maxScale else { throw Self.damaged }
        case 6: _ = try byte()
        case 7: _ = try raw(16)
        default: throw Self.damaged
        }
    }
}

extension Value {
    /// The stored form of a value.
    public var storedBytes: [UInt8] {
        var w = ByteWriter(capacity: 16)
        w.value(self)
        return w.bytes
    }

    public init(storedBytes: [UInt8]) throws(StoreError) {
        var r = ByteReader(storedBytes)
        self = try r.value()
    }
}
