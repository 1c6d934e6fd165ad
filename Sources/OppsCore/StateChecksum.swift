/// The checksum of a set of records (merge-semantics.md §8): the wrapping sum of one 64-bit
/// FNV-1a hash per creation and field state of each live record (tombstones count nothing). A sum is independent of order and can
/// be kept up to date incrementally (subtract the old term, add the new), so the hub can
/// answer for any user's visible set and a replica can verify itself after a pull.
public struct StateChecksum: Sendable, Hashable, CustomStringConvertible {
    public private(set) var value: UInt64 = 0
    public private(set) var records: UInt64 = 0

    public init() {}

    public init(of records: some Sequence<Record>, workspace: Workspace) {
        for r in records { add(r, workspace: workspace) }
    }

    /// Field number 0 stands for the creation.
    public static func term(record: RecordID, fieldNumber: UInt32, state: FieldState) -> UInt64 {
        RecordTerms(record).term(fieldNumber: fieldNumber, state: state)
    }

    /// The terms of one record's states: every term starts with the record's id, hashed once
    /// here rather than once a field (a third of each term's bytes; a cold sync hashes 1.1
    /// million of them).
    public struct RecordTerms: Sendable {
        let prefix: FNV1a

        public init(_ record: RecordID) {
            var h = FNV1a()
            h.add(record)
            prefix = h
        }

        /// `StateChecksum.term(record:fieldNumber:state:)` of this record.
        public func term(fieldNumber: UInt32, state: FieldState) -> UInt64 {
            var h = prefix
            h.add(bigEndian: UInt64(fieldNumber), bytes: 4)
            h.add(state.value)
            h.add(bigEndian: state.stamp.hlc.rawValue, bytes: 8)
            h.add(state.stamp.replica.uuid)
            return h.value
        }
    }

    public mutating func add(_ record: Record, workspace: Workspace) {
        if record.isDeleted { return }
        records += 1
        value &+= Self.term(of: record, workspace: workspace)
    }

    public mutating func remove(_ record: Record, workspace: Workspace) {
        if record.isDeleted { return }
        records -= 1
        value &-= Self.term(of: record, workspace: workspace)
    }

    /// The sum of a record's terms: what it adds to a checksum (subtract it when it leaves).
    public static func term(of record: Record, workspace: Workspace) -> UInt64 {
        let entity = workspace.entity(record.entity)
        var sum: UInt64 = 0
        forEachTerm(of: record, number: { entity?.field($0)?.number }) { sum &+= $0 }
        return sum
    }

    /// Adds or removes a precomputed record term.
    public mutating func add(term: UInt64) { value &+= term; records += 1 }

    /// `term(of:workspace:)` with the field numbers looked up in a prebuilt table (a page apply
    /// computes one per record it touches).
    public static func term(of record: Record, numbering: WireNumbering) -> UInt64 {
        let numbers = numbering.entity(record.entity)
        var sum: UInt64 = 0
        forEachTerm(of: record, number: { numbers?.fieldNumbers[$0] }) { sum &+= $0 }
        return sum
    }

    /// One term per creation and field (numbered by `number`; fields it does not know are left
    /// out). A tombstone has no terms: a checksum covers live records only (§8).
    static func forEachTerm(of record: Record, number: (String) -> UInt32?, _ body: (UInt64) -> Void) {
        if record.isDeleted { return }
        let terms = RecordTerms(record.id)
        body(terms.term(fieldNumber: 0, state: record.created))
        for (name, state) in record.fields {
            guard let n = number(name) else { continue }
            body(terms.term(fieldNumber: n, state: state))
        }
    }

    public var description: String {
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// 64-bit FNV-1a. No allocation per byte or per id: a replica computes a term for every record
/// of every page it applies.
struct FNV1a {
    var value: UInt64 = 0xCBF2_9CE4_8422_2325
    mutating func add(byte b: UInt8) {
        value ^= UInt64(b)
        value &*= 0x0000_0100_0000_01B3
    }
    /// A value's canonical bytes (`Value.canonicalBytes`), without building them.
    mutating func add(_ v: Value) {
        if case .null = v { add(byte: 0); return }
        add(byte: v.tag)
        var h = value
        v.withCanonicalUTF8 { buffer in
            for b in buffer { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        }
        value = h
    }
    /// The 16 bytes of an id, big-endian (the same bytes as `UUID128.bytes`).
    mutating func add(_ id: UUID128) {
        add(bigEndian: id.high, bytes: 8)
        add(bigEndian: id.low, bytes: 8)
    }
    mutating func add(bigEndian v: UInt64, bytes n: Int) {
        for i in stride(from: n - 1, through: 0, by: -1) { add(byte: UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) }
    }
}
