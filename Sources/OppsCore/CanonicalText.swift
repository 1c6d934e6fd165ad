/// The canonical text of values (merge-semantics.md §1) written as ASCII bytes into a small
/// buffer, without building a `String`: a replica hashes every field of every record it
/// receives into the checksum (§8), and making a `String` for each id, date, instant and
/// amount — an id through an array of `Character`s — was a fifth of a cold sync's CPU.
/// `description` of ids, dates, instants and decimals is made from these same bytes, so the
/// text shown and the text hashed cannot differ.
struct ASCIIWriter {
    let base: UnsafeMutablePointer<UInt8>
    var count = 0

    /// More bytes than any canonical text but a text or member value takes: an instant of any
    /// Int64 is under 40; a decimal is at most a sign, "0." and `scale` (≤ 255) digits.
    static let capacity = 320

    /// Calls `body` with a writer over a buffer on the stack, then with what it wrote.
    static func withBytes<R>(_ write: (inout ASCIIWriter) -> Void, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { buffer in
            var w = ASCIIWriter(base: buffer.baseAddress!)
            write(&w)
            // Every write below checks its room first: past the end is a trap, never a stray write.
            return try body(UnsafeBufferPointer(start: buffer.baseAddress!, count: w.count))
        }
    }

    static func string(_ write: (inout ASCIIWriter) -> Void) -> String {
        withBytes(write) { String(decoding: $0, as: UTF8.self) }
    }

    mutating func byte(_ b: UInt8) {
        precondition(count < Self.capacity, "canonical text beyond its buffer")
        base[count] = b
        count += 1
    }

    /// `n` in decimal, zero-padded on the left to `width` digits.
    mutating func number(_ n: UInt64, width: Int = 1) {
        var digits = 1
        var rest = n / 10
        while rest > 0 { digits += 1; rest /= 10 }
        let total = Swift.max(digits, width)
        precondition(count + total <= Self.capacity, "canonical text beyond its buffer")
        var v = n
        var i = count + total - 1
        for _ in 0..<total {
            base[i] = 0x30 &+ UInt8(truncatingIfNeeded: v % 10)
            v /= 10
            i -= 1
        }
        count += total
    }

    mutating func signed(_ n: Int64) {
        if n < 0 { byte(UInt8(ascii: "-")) }
        number(n.magnitude)
    }

    /// `YYYY-MM-DD` of any day count (a year before 1 gets a sign, one past 9999 more digits).
    mutating func date(days: Int64) {
        let c = CivilDate.civil(fromDays: Int(days))
        if c.year < 0 { byte(UInt8(ascii: "-")) }
        number(UInt64(c.year.magnitude), width: 4)
        byte(UInt8(ascii: "-"))
        number(UInt64(c.month), width: 2)
        byte(UInt8(ascii: "-"))
        number(UInt64(c.day), width: 2)
    }

    /// `YYYY-MM-DDTHH:MM:SS.sssZ` of any Int64 milliseconds.
    mutating func instant(milliseconds: Int64) {
        // The remainder by modulo: `day * 86_400_000` itself overflows for Int64.min.
        let r = milliseconds % 86_400_000
        var rest = UInt64(r < 0 ? r + 86_400_000 : r)
        date(days: floorDiv(milliseconds, 86_400_000))
        byte(UInt8(ascii: "T"))
        number(rest / 3_600_000, width: 2)
        rest %= 3_600_000
        byte(UInt8(ascii: ":"))
        number(rest / 60_000, width: 2)
        rest %= 60_000
        byte(UInt8(ascii: ":"))
        number(rest / 1000, width: 2)
        byte(UInt8(ascii: "."))
        number(rest % 1000, width: 3)
        byte(UInt8(ascii: "Z"))
    }

    /// `units × 10^-scale` with exactly `scale` digits after the point (`0.05`, `-12000.00`).
    mutating func decimal(units: Int64, scale: UInt8) {
        if units < 0 { byte(UInt8(ascii: "-")) }
        let magnitude = units.magnitude
        guard scale > 0 else { return number(magnitude) }
        // 10^19 overflows UInt64; any 64-bit magnitude is below it, so all of it is the fraction.
        guard scale <= 18 else {
            byte(UInt8(ascii: "0"))
            byte(UInt8(ascii: "."))
            return number(magnitude, width: Int(scale))
        }
        var power: UInt64 = 1
        for _ in 0..<scale { power *= 10 }
        number(magnitude / power)
        byte(UInt8(ascii: "."))
        number(magnitude % power, width: Int(scale))
    }

    /// The id's 32 lowercase hex digits, in the 8-4-4-4-12 form when `hyphens`.
    mutating func uuid(high: UInt64, low: UInt64, hyphens: Bool = true) {
        let digits: StaticString = "0123456789abcdef"
        digits.withUTF8Buffer { hex in
            for half in 0..<2 {
                let v = half == 0 ? high : low
                for i in 0..<16 {
                    let nibble = Int(truncatingIfNeeded: (v >> UInt64(60 - 4 * i)) & 0xF)
                    let position = half * 16 + i
                    if hyphens, position == 8 || position == 12 || position == 16 || position == 20 { byte(UInt8(ascii: "-")) }
                    byte(hex[nibble])
                }
            }
        }
    }
}

extension Value {
    /// The canonical text's UTF-8 bytes (`canonicalText`), handed to `body` without a `String`
    /// made for anything but a text or member (whose own bytes are handed over).
    func withCanonicalUTF8<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        switch self {
        case var .text(s), var .member(s):
            return try s.withUTF8(body)
        default:
            return try ASCIIWriter.withBytes({ writeCanonical(into: &$0) }, body)
        }
    }

    /// Every kind but text and member.
    func writeCanonical(into w: inout ASCIIWriter) {
        switch self {
        case .null:
            for b in "null".utf8 { w.byte(b) }
        case .text, .member:
            preconditionFailure("a text or member is its own bytes")
        case let .integer(i):
            w.signed(i)
        case let .decimal(d):
            w.decimal(units: d.units, scale: d.scale)
        case let .date(d):
            w.date(days: Int64(d.daysSinceEpoch))
        case let .boolean(b):
            for c in (b ? "true" : "false").utf8 { w.byte(c) }
        case let .reference(r):
            w.uuid(high: r.high, low: r.low)
        case let .timestamp(t):
            w.instant(milliseconds: t.milliseconds)
        }
    }
}
