/// A 128-bit identifier in RFC 9562 layout, printed as a lowercase hyphenated UUID.
/// Ordered by its bytes, which for UUIDv7 is creation-time order.
public struct UUID128: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// From exactly 16 bytes (big-endian); nil otherwise. Inlinable so that callers in other
    /// modules get a specialised copy (ids are read from every stored row; BENCHMARKS.md has
    /// what the generic loop cost).
    @inlinable
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 16 else { return nil }
        // Contiguous bytes (Data, array slices): read in place, no iterator per byte.
        if let (h, l) = bytes.withContiguousStorageIfAvailable({ p -> (UInt64, UInt64) in
            var h: UInt64 = 0, l: UInt64 = 0
            for i in 0..<8 { h = h << 8 | UInt64(p[i]) }
            for i in 8..<16 { l = l << 8 | UInt64(p[i]) }
            return (h, l)
        }) {
            self.init(high: h, low: l)
            return
        }
        var h: UInt64 = 0, l: UInt64 = 0
        var i = 0
        for b in bytes {
            if i < 8 { h = h << 8 | UInt64(b) } else { l = l << 8 | UInt64(b) }
            i += 1
        }
        self.init(high: h, low: l)
    }

    /// From exactly 16 bytes of an array (the common, fast path).
    @inlinable
    public init?(bytes: [UInt8]) {
        guard bytes.count == 16 else { return nil }
        let (h, l) = bytes.withUnsafeBufferPointer { p -> (UInt64, UInt64) in
            var h: UInt64 = 0, l: UInt64 = 0
            for i in 0..<8 { h = h << 8 | UInt64(p[i]) }
            for i in 8..<16 { l = l << 8 | UInt64(p[i]) }
            return (h, l)
        }
        self.init(high: h, low: l)
    }

    /// Parses `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (either case).
    public init?(parsing text: String) {
        let hex = text.utf8.filter { $0 != UInt8(ascii: "-") }
        guard text.utf8.count == 36, hex.count == 32 else { return nil }
        for (i, c) in text.utf8.enumerated() where [8, 13, 18, 23].contains(i) != (c == UInt8(ascii: "-")) {
            return nil
        }
        var h: UInt64 = 0, l: UInt64 = 0
        for (i, c) in hex.enumerated() {
            guard let d = hexValue(c) else { return nil }
            if i < 16 { h = h << 4 | UInt64(d) } else { l = l << 4 | UInt64(d) }
        }
        high = h
        low = l
    }

    /// The 16 bytes, big-endian.
    @inlinable
    public var bytes: [UInt8] {
        [UInt8](unsafeUninitializedCapacity: 16) { buffer, count in
            for i in 0..<8 {
                buffer[i] = UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64(i)))
                buffer[8 + i] = UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64(i)))
            }
            count = 16
        }
    }

    public var hex: String { ASCIIWriter.string { $0.uuid(high: high, low: low, hyphens: false) } }

    public var description: String { ASCIIWriter.string { $0.uuid(high: high, low: low) } }

    public static func < (a: UUID128, b: UUID128) -> Bool { (a.high, a.low) < (b.high, b.low) }

    // Hashing. Every set and dictionary of ids (visibility snapshots, what a replica holds, a
    // page's records) hashed through SipHash: its setup and finalisation were a tenth of a cold
    // sync's CPU. Ids are 128 random-looking bits; two rounds of a 64-bit finaliser with the
    // process's seed mixed into the first spread them as well, and without the seed no two ids
    // can be chosen to collide.
    @inlinable
    public func hash(into hasher: inout Hasher) {
        hasher.combine(high)
        hasher.combine(low)
    }

    @inlinable
    public func _rawHashValue(seed: Int) -> Int {
        Int(truncatingIfNeeded: Self.mix(Self.mix(high ^ UInt64(UInt(bitPattern: seed))) ^ low))
    }

    /// MurmurHash3's 64-bit finaliser.
    @inlinable
    static func mix(_ v: UInt64) -> UInt64 {
        var x = v
        x ^= x >> 33
        x &*= 0xFF51_AFD7_ED55_8CCD
        x ^= x >> 33
        x &*= 0xC4CE_B9FE_1A85_EC53
        x ^= x >> 33
        return x
    }

    /// A UUIDv7: 48 bits of Unix milliseconds, version 7, 74 random bits, variant 10.
    public static func version7(milliseconds: Int64, using rng: inout some RandomNumberGenerator) -> UUID128 {
        let ms = UInt64(max(0, milliseconds)) & 0xFFFF_FFFF_FFFF
        let randA = rng.next() & 0xFFF
        let randB = rng.next() & 0x3FFF_FFFF_FFFF_FFFF
        return UUID128(high: ms << 16 | 0x7000 | randA, low: 0x8000_0000_0000_0000 | randB)
    }

    /// A UUIDv4: 122 random bits.
    public static func version4(using rng: inout some RandomNumberGenerator) -> UUID128 {
        let h = rng.next() & 0xFFFF_FFFF_FFFF_0FFF | 0x4000
        let l = rng.next() & 0x3FFF_FFFF_FFFF_FFFF | 0x8000_0000_0000_0000
        return UUID128(high: h, low: l)
    }

    /// The version nibble.
    public var version: Int { Int((high >> 12) & 0xF) }
}

func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
    default: nil
    }
}

/// A record id: a UUIDv7 made on the device that creates the record, so records created
/// offline never collide and sort by creation time.
public typealias RecordID = UUID128

/// A replica id: a random UUID made once when a replica is created.
public struct ReplicaID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var uuid: UUID128
    public init(_ uuid: UUID128) { self.uuid = uuid }
    public init?(parsing text: String) {
        guard let u = UUID128(parsing: text) else { return nil }
        uuid = u
    }
    @inlinable
    public init?(bytes: some Collection<UInt8>) {
        guard let u = UUID128(bytes: bytes) else { return nil }
        self.init(u)
    }

    @inlinable
    public init?(bytes: [UInt8]) {
        guard let u = UUID128(bytes: bytes) else { return nil }
        self.init(u)
    }
    public var bytes: [UInt8] { uuid.bytes }
    public var description: String { uuid.description }
    public static func < (a: ReplicaID, b: ReplicaID) -> Bool { a.uuid < b.uuid }
    @inlinable public func hash(into hasher: inout Hasher) { uuid.hash(into: &hasher) }
    @inlinable public func _rawHashValue(seed: Int) -> Int { uuid._rawHashValue(seed: seed) }
    public static func random(using rng: inout some RandomNumberGenerator) -> ReplicaID {
        ReplicaID(.version4(using: &rng))
    }
}

/// A user's name: unique at the hub, never reused, the identity every stamp carries.
public typealias UserName = String

/// A small, fast, seedable generator (SplitMix64) so tests and simulations replay exactly.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The short id people read and type (issue 15): the random bits of a record id — 74 of a
/// UUIDv7's 128, the 12 of `rand_a` then the 62 of `rand_b` — in lowercase Crockford base32,
/// first character first. A record keeps its code forever (it is its id's, not a counter of one
/// laptop's), two records made in the same millisecond on one device get different codes (unlike
/// a prefix of the id, which is the clock), and the code reads the same on every laptop, so reps
/// can quote it to each other. Eight characters (40 bits) are shown; where two records a laptop
/// holds share the first eight, both are shown longer (`ShortIDs`).
public enum ShortID {
    /// Crockford's alphabet: no i, l, o, u; lowercase reads and types better on a phone.
    static let alphabet: [Character] = Array("0123456789abcdefghjkmnpqrstvwxyz")
    /// The characters shown when nothing the laptop holds shares them.
    public static let length = 8
    /// The characters of a full code (74 bits, 5 per character).
    public static let fullLength = 15

    /// The code as shown where no other record is in view to share it: its first `length`
    /// characters (a laptop shows more where two it holds share them: `ShortIDs`).
    public static func shown(_ id: UUID128) -> String { String(code(id).prefix(length)) }

    /// The full code of an id.
    public static func code(_ id: UUID128) -> String { code(bits(id), characters: fullLength) }

    /// The code's 75 bits (its 74 random bits and a zero), first character's bits highest: a
    /// laptop compares and groups codes as numbers, making a string only of what it prints.
    @inline(__always)
    static func bits(_ id: UUID128) -> UInt128 {
        // rand_a: the low 12 bits of the high word; rand_b: the low 62 bits of the low word.
        UInt128(id.high & 0xFFF) << 63 | UInt128(id.low & 0x3FFF_FFFF_FFFF_FFFF) << 1
    }

    /// The first `n` characters' bits of a code (5 each).
    @inline(__always)
    static func prefix(_ bits: UInt128, characters n: Int) -> UInt128 { bits >> UInt128(5 * (fullLength - n)) }

    /// The first `n` characters of the code whose bits are `bits`.
    static func code(_ bits: UInt128, characters n: Int) -> String {
        var out = ""
        out.reserveCapacity(n)
        for i in 0..<n { out.append(alphabet[Int(truncatingIfNeeded: (bits >> UInt128(5 * (fullLength - 1 - i))) & 31)]) }
        return out
    }

    /// Whether the id's code starts with `typed` (normalised: `normalise`).
    public static func code(of id: UUID128, startsWith typed: String) -> Bool {
        guard let (value, n) = value(typed) else { return false }
        return prefix(bits(id), characters: n) == value
    }

    /// Typed code characters as the bits they stand for and how many they are (nil: not code
    /// characters, or longer than a code).
    static func value(_ typed: String) -> (UInt128, Int)? {
        guard typed.count <= fullLength else { return nil }
        var v: UInt128 = 0
        for c in typed {
            guard let d = alphabet.firstIndex(of: c) else { return nil }
            v = v << 5 | UInt128(d)
        }
        return (v, typed.count)
    }

    /// What a person typed, as code characters: lowercased, hyphens and spaces dropped, Crockford's
    /// look-alikes read as the digits they resemble (i, l → 1; o → 0); nil when it cannot be a code.
    public static func normalise(_ text: String) -> String? {
        var out = ""
        for c in text.lowercased() {
            switch c {
            case "-", " ": continue
            case "i", "l": out.append("1")
            case "o": out.append("0")
            default:
                guard alphabet.contains(c) else { return nil }
                out.append(c)
            }
        }
        return out.isEmpty ? nil : out
    }
}

/// The codes of every record a laptop holds: each shown at `ShortID.length` characters, longer
/// where another held record shares them, so what is printed is unique and types back.
public struct ShortIDs: Sendable, Equatable {
    /// Every id held, each with its code's bits (numbers: a laptop of 370,000 records made a
    /// string and a table entry of each).
    let held: [(id: UUID128, bits: UInt128)]
    /// The ids whose first `ShortID.length` characters another held id shares, by those characters.
    let sharing: [UInt128: [UUID128]]

    public init(_ ids: some Sequence<UUID128>) {
        let held = ids.map { (id: $0, bits: ShortID.bits($0)) }
        var byPrefix = [UInt128: Int](minimumCapacity: held.count)
        for h in held { byPrefix[ShortID.prefix(h.bits, characters: ShortID.length), default: 0] += 1 }
        var sharing = [UInt128: [UUID128]]()
        if byPrefix.count < held.count {
            for h in held {
                let p = ShortID.prefix(h.bits, characters: ShortID.length)
                if byPrefix[p, default: 0] > 1 { sharing[p, default: []].append(h.id) }
            }
        }
        self.held = held
        self.sharing = sharing
    }

    init(held: [(id: UUID128, bits: UInt128)], sharing: [UInt128: [UUID128]]) {
        self.held = held
        self.sharing = sharing
    }

    /// These codes with `ids` held too (records made since, none gone): what `init` gives for
    /// every id, in id order, without reading and grouping every id again. Each new id is
    /// compared with every held one (a laptop of 370,000 records: about a millisecond each).
    public func adding(_ ids: some Sequence<UUID128>) -> ShortIDs {
        var held = self.held, sharing = self.sharing
        func position(_ id: UUID128, in list: [UUID128]) -> Int { list.firstIndex { $0 > id } ?? list.count }
        for id in ids {
            let bits = ShortID.bits(id), p = ShortID.prefix(bits, characters: ShortID.length)
            // Held in id order: the first at or after it (the held are, as read, by id).
            var low = 0, high = held.count
            while low < high {
                let mid = (low + high) / 2
                if held[mid].id < id { low = mid + 1 } else { high = mid }
            }
            guard low == held.count || held[low].id != id else { continue }
            if var group = sharing[p] {
                group.insert(id, at: position(id, in: group))
                sharing[p] = group
            } else if let other = held.first(where: { ShortID.prefix($0.bits, characters: ShortID.length) == p }) {
                sharing[p] = other.id < id ? [other.id, id] : [id, other.id]
            }
            held.insert((id, bits), at: low)
        }
        return ShortIDs(held: held, sharing: sharing)
    }

    /// How many ids are held.
    public var count: Int { held.count }

    /// The id as printed: eight characters, or as many as make it unique among those held.
    public func callAsFunction(_ id: UUID128) -> String {
        let bits = ShortID.bits(id)
        guard let others = sharing[ShortID.prefix(bits, characters: ShortID.length)]?.filter({ $0 != id }), !others.isEmpty else {
            return ShortID.code(bits, characters: ShortID.length)
        }
        for n in stride(from: ShortID.length + 2, through: ShortID.fullLength, by: 2) {
            let p = ShortID.prefix(bits, characters: n)
            if !others.contains(where: { ShortID.prefix(ShortID.bits($0), characters: n) == p }) { return ShortID.code(bits, characters: n) }
        }
        return ShortID.code(bits, characters: ShortID.fullLength)
    }

    /// The same ids held, grouped the same way (`adding` is a full read's equal).
    public static func == (a: ShortIDs, b: ShortIDs) -> Bool {
        a.held.count == b.held.count && zip(a.held, b.held).allSatisfy { $0.id == $1.id && $0.bits == $1.bits } && a.sharing == b.sharing
    }

    /// The held ids whose code starts with `prefix` (already normalised).
    public func matching(_ prefix: String) -> [UUID128] {
        guard let (value, n) = ShortID.value(prefix) else { return [] }
        return held.filter { ShortID.prefix($0.bits, characters: n) == value }.map(\.id).sorted()
    }
}
