import OppsCore

/// The stored form of field states, shared by the hub store and the replica store: a value,
/// the clock, the replica as a small integer from the `replica_ids` table, the author, the
/// authority and the hub sequence. A record's fields are stored together in one blob, keyed by
/// field number (one row per field stamp was measured at about 6× slower bulk loading).
final class StampCodec {
    let database: any SQLConnection
    private var indexes: [ReplicaID: Int64] = [:]
    private var replicas: [Int64: ReplicaID] = [:]
    /// Writes format 3 (the replica's store; the hub's stays on format 2, which every hub
    /// binary of a rolling upgrade reads).
    let compact: Bool

    init(database: any SQLConnection, compact: Bool = false) throws {
        self.database = database
        self.compact = compact
        try reload()
    }

    /// Re-reads the replica table (after a rolled-back transaction that may have added some).
    func reload() throws {
        indexes.removeAll()
        replicas.removeAll()
        for row in try database.query("SELECT idx, id FROM replica_ids") {
            guard let idx = row[0].int, let bytes = row[1].bytes, let id = ReplicaID(bytes: bytes) else { continue }
            indexes[id] = idx
            replicas[idx] = id
        }
    }

    func index(of replica: ReplicaID) throws -> Int64 {
        if let i = indexes[replica] { return i }
        // Another connection to the same file may have added it since this one last looked.
        try database.run("INSERT INTO replica_ids (id) VALUES (?) ON CONFLICT DO NOTHING", [.blob(replica.bytes)])
        guard let i = try database.query("SELECT idx FROM replica_ids WHERE id = ?", [.blob(replica.bytes)]).first?[0].int else {
            throw StoreError(code: -2, message: "replica index not stored")
        }
        indexes[replica] = i
        replicas[i] = replica
        return i
    }

    func replica(index: Int64) throws -> ReplicaID {
        if let r = replicas[index] { return r }
        // Another connection may have added it.
        guard let bytes = try database.query("SELECT id FROM replica_ids WHERE idx = ?", [.integer(index)]).first?[0].bytes,
            let r = ReplicaID(bytes: bytes)
        else { throw StoreError(code: -2, message: "unknown replica index") }
        indexes[r] = index
        replicas[index] = r
        return r
    }

    func encode(_ s: FieldState, into w: inout ByteWriter) throws {
        w.value(s.value)
        w.varint(s.stamp.hlc.rawValue)
        w.varint(UInt64(try index(of: s.stamp.replica)))
        w.string(s.author)
        w.byte(UInt8(s.authority.rawValue))
        w.varint(s.sequence)
    }

    func decode(_ r: inout ByteReader) throws -> FieldState {
        let value = try r.value()
        let hlc = HLC(rawValue: try r.varint())
        let rep = try replica(index: Int64(try r.varint()))
        let author = try r.string()
        guard let authority = Access(rawValue: Int(try r.byte())) else { throw ByteReader.damaged }
        return FieldState(value: value, stamp: Stamp(hlc: hlc, replica: rep), author: author, authority: authority, sequence: try r.varint())
    }

    func bytes(_ s: FieldState) throws -> [UInt8] {
        var w = ByteWriter()
        try encode(s, into: &w)
        return w.bytes
    }

    func state(_ bytes: [UInt8]) throws -> FieldState {
        var r = ByteReader(bytes)
        return try decode(&r)
    }

    /// The fields of a record, in workspace order, as one blob. Format 2 (a leading 0 byte)
    /// stores each stamp relative to the record's creation `base`: a header byte (authority;
    /// same replica; same author), the clock as a signed difference, the replica and author only
    /// when they differ, the sequence as a signed difference — about 4 bytes a field instead of
    /// 18 when one person filled the record in (BENCHMARKS.md, metadata). Format 1 (no leading
    /// 0: field numbers start at 1) is still read.
    func fieldsBytes(_ fields: [String: FieldState], entity: Entity, base: FieldState) throws -> [UInt8] {
        if fields.isEmpty { return [] }
        if compact { return try compactFieldsBytes(fields, entity: entity, base: base) }
        var w = ByteWriter(capacity: 256)
        w.byte(0)
        let baseReplica = try index(of: base.stamp.replica)
        for f in entity.fields {
            guard let s = fields[f.name] else { continue }
            w.varint(UInt64(f.number))
            w.value(s.value)
            let replica = try index(of: s.stamp.replica)
            var header = UInt8(s.authority.rawValue) & 0x07
            if replica == baseReplica { header |= 0x08 }
            if s.author == base.author { header |= 0x10 }
            w.byte(header)
            w.zigzag(Int64(bitPattern: s.stamp.hlc.rawValue &- base.stamp.hlc.rawValue))
            if replica != baseReplica { w.varint(UInt64(replica)) }
            if s.author != base.author { w.string(s.author) }
            w.zigzag(Int64(bitPattern: s.sequence &- base.sequence))
        }
        return w.bytes
    }

    /// Format 3 (two leading 0 bytes; format 2's second byte is a field number, never 0): each
    /// field relative to the one stored before it — the first to the record's creation `base` —
    /// so a record filled in by one push (consecutive fields, clocks and sequences) costs a
    /// header byte and its value a field. The header: authority (3 bits); same replica as the
    /// base (0x08); same author as the base (0x10); clock = the previous one's + 1 (0x20);
    /// sequence = the previous one's + 1 (0x40); field number = the previous one's + 1 (0x80).
    /// What a flag does not say follows the value: the number (before it), the clock and
    /// sequence as signed differences, the replica, the author.
    func compactFieldsBytes(_ fields: [String: FieldState], entity: Entity, base: FieldState) throws -> [UInt8] {
        var writer = try CompactFields(codec: self, base: base)
        // The record's fields in the order they were written (sequence, then workspace order),
        // each looked up once (not every field of the entity by name: that was most of a cold
        // sync's encoding). In that order each clock and sequence is most often the one before
        // it plus one — a flag in the header, no bytes — where workspace order stepped back and
        // forth (a byte or more each); a field's number then mostly takes its own byte. The
        // reader takes the fields in any order (numbers explicit, differences signed).
        var order = [(sequence: UInt64, position: Int, index: [String: FieldState].Index)]()
        order.reserveCapacity(fields.count)
        for i in fields.indices {
            if let p = entity.position(of: fields[i].key) { order.append((fields[i].value.sequence, p, i)) }
        }
        order.sort { ($0.sequence, $0.position) < ($1.sequence, $1.position) }
        for (_, position, at) in order { try writer.add(number: entity.fieldNumber(at: position), fields[at].value) }
        return writer.w.bytes
    }

    /// Format 3 of fields already numbered, in the order given (a page's whole record: by sequence).
    func compactFieldsBytes(_ fields: [NumberedField], base: FieldState) throws -> [UInt8] {
        if fields.isEmpty { return [] }
        var writer = try CompactFields(codec: self, base: base)
        for f in fields { try writer.add(number: f.number, f.state) }
        return writer.w.bytes
    }

    /// Writes format 3, one field after another.
    struct CompactFields {
        let codec: StampCodec
        let base: FieldState
        let baseReplica: Int64
        var w = ByteWriter(capacity: 128)
        var number: UInt32 = 0, hlc: UInt64, sequence: UInt64

        init(codec: StampCodec, base: FieldState) throws {
            self.codec = codec
            self.base = base
            baseReplica = try codec.index(of: base.stamp.replica)
            hlc = base.stamp.hlc.rawValue
            sequence = base.sequence
            w.byte(0)
            w.byte(0)
        }

        mutating func add(number fieldNumber: UInt32, _ s: FieldState) throws {
            let replica = s.stamp.replica == base.stamp.replica ? baseReplica : try codec.index(of: s.stamp.replica)
            var header = UInt8(s.authority.rawValue) & 0x07
            if replica == baseReplica { header |= 0x08 }
            if s.author == base.author { header |= 0x10 }
            if s.stamp.hlc.rawValue == hlc &+ 1 { header |= 0x20 }
            if s.sequence == sequence &+ 1 { header |= 0x40 }
            if fieldNumber == number &+ 1 { header |= 0x80 }
            w.byte(header)
            if header & 0x80 == 0 { w.varint(UInt64(fieldNumber)) }
            w.value(s.value)
            if header & 0x20 == 0 { w.zigzag(Int64(bitPattern: s.stamp.hlc.rawValue &- hlc)) }
            if header & 0x40 == 0 { w.zigzag(Int64(bitPattern: s.sequence &- sequence)) }
            if replica != baseReplica { w.varint(UInt64(replica)) }
            if s.author != base.author { w.string(s.author) }
            (number, hlc, sequence) = (fieldNumber, s.stamp.hlc.rawValue, s.sequence)
        }
    }

    /// Reads a fields blob (any format); a field unknown to this workspace version is skipped
    /// (kept in storage).
    func fields(_ bytes: [UInt8], entity: Entity?, base: FieldState) throws -> [String: FieldState] {
        var out = [String: FieldState]()
        // Room for every field at once: grown one at a time, the table was rehashed four times a
        // record (3 % of the hub's CPU in a cold sync). A field takes at least two bytes.
        out.reserveCapacity(min(entity?.fields.count ?? 0, bytes.count / 2))
        try forEachField(bytes, entity: entity, base: base) { _, name, state in out[name] = state }
        return out
    }

    /// The fields of a blob in the order stored, numbered (the hub's page writer: no table keyed
    /// by names to build and throw away); a field unknown to this workspace version is skipped.
    func numberedFields(_ bytes: [UInt8], entity: Entity?, base: FieldState) throws -> [NumberedField] {
        var out = [NumberedField]()
        out.reserveCapacity(min(entity?.fields.count ?? 0, bytes.count / 2))
        try forEachField(bytes, entity: entity, base: base) { number, name, state in out.append(NumberedField(number: number, name: name, state: state)) }
        return out
    }

    /// Format 3's field number: the one before plus one (header flag 0x80), else written out.
    @inline(__always)
    static func compactNumber(header: UInt8, after previous: UInt32, _ r: inout ByteReader) throws -> UInt32 {
        if header & 0x80 != 0 { return previous &+ 1 }
        let n = try r.varint()
        guard n <= UInt64(UInt32.max) else { throw ByteReader.damaged }
        return UInt32(n)
    }

    /// The value of one field of a blob (any format), nil when the blob has none: the others'
    /// values are passed over, not made, and no state is built — what a report reads of an
    /// activity (when it happened) costs a fifth of decoding it whole.
    func value(ofField wanted: UInt32, in bytes: [UInt8]) throws -> Value? {
        var r = ByteReader(bytes)
        if bytes.count >= 2, bytes[0] == 0, bytes[1] == 0 {
            _ = try r.raw(2)
            var number: UInt32 = 0
            while !r.atEnd {
                let header = try r.byte()
                guard Access(rawValue: Int(header & 0x07)) != nil else { throw ByteReader.damaged }
                number = try Self.compactNumber(header: header, after: number, &r)
                if number == wanted { return try r.value() }
                try r.skipValue()
                if header & 0x20 == 0 { _ = try r.varint() }
                if header & 0x40 == 0 { _ = try r.varint() }
                if header & 0x08 == 0 { _ = try r.varint() }
                if header & 0x10 == 0 { _ = try r.string() }
            }
            return nil
        }
        guard bytes.first == 0 else {
            while !r.atEnd {
                guard let n = UInt32(exactly: try r.varint()) else { throw ByteReader.damaged }
                let s = try decode(&r)
                if n == wanted { return s.value }
            }
            return nil
        }
        _ = try r.byte()
        while !r.atEnd {
            guard let n = UInt32(exactly: try r.varint()) else { throw ByteReader.damaged }
            if n == wanted { return try r.value() }
            try r.skipValue()
            let header = try r.byte()
            guard Access(rawValue: Int(header & 0x07)) != nil else { throw ByteReader.damaged }
            _ = try r.varint()
            if header & 0x08 == 0 { _ = try r.varint() }
            if header & 0x10 == 0 { _ = try r.string() }
            _ = try r.varint()
        }
        return nil
    }

    /// Each field of a blob (any format) the workspace knows, in the order stored.
    @inline(__always)
    private func forEachField(_ bytes: [UInt8], entity: Entity?, base: FieldState, _ body: (UInt32, String, FieldState) -> Void) throws {
        var r = ByteReader(bytes)
        if bytes.count >= 2, bytes[0] == 0, bytes[1] == 0 {
            _ = try r.raw(2)
            var number: UInt32 = 0, hlc = base.stamp.hlc.rawValue, sequence = base.sequence
            while !r.atEnd {
                let header = try r.byte()
                guard let authority = Access(rawValue: Int(header & 0x07)) else { throw ByteReader.damaged }
                number = try Self.compactNumber(header: header, after: number, &r)
                let value = try r.value()
                hlc = header & 0x20 != 0 ? hlc &+ 1 : hlc &+ UInt64(bitPattern: try r.zigzag())
                sequence = header & 0x40 != 0 ? sequence &+ 1 : sequence &+ UInt64(bitPattern: try r.zigzag())
                let replica = header & 0x08 != 0 ? base.stamp.replica : try self.replica(index: Int64(try r.varint()))
                let author = header & 0x10 != 0 ? base.author : try r.string()
                if let name = entity?.fieldName(number: number) {
                    body(
                        number, name,
                        FieldState(value: value, stamp: Stamp(hlc: HLC(rawValue: hlc), replica: replica), author: author, authority: authority, sequence: sequence))
                }
            }
            return
        }
        guard bytes.first == 0 else {
            while !r.atEnd {
                guard let n = UInt32(exactly: try r.varint()) else { throw ByteReader.damaged }
                let s = try decode(&r)
                if let name = entity?.fieldName(number: n) { body(n, name, s) }
            }
            return
        }
        _ = try r.byte()
        while !r.atEnd {
            guard let n = UInt32(exactly: try r.varint()) else { throw ByteReader.damaged }
            let value = try r.value()
            let header = try r.byte()
            guard let authority = Access(rawValue: Int(header & 0x07)) else { throw ByteReader.damaged }
            let hlc = HLC(rawValue: base.stamp.hlc.rawValue &+ UInt64(bitPattern: try r.zigzag()))
            let replica = header & 0x08 != 0 ? base.stamp.replica : try self.replica(index: Int64(try r.varint()))
            let author = header & 0x10 != 0 ? base.author : try r.string()
            let sequence = base.sequence &+ UInt64(bitPattern: try r.zigzag())
            if let name = entity?.fieldName(number: n) {
                body(n, name, FieldState(value: value, stamp: Stamp(hlc: hlc, replica: replica), author: author, authority: authority, sequence: sequence))
            }
        }
    }
}
