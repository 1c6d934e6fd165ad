import OppsCore

/// The stored form of field states, shared by the hub store and the replica store: a value,
/// the clock, the replica as a small integer from the `replica_ids` table, the author, the
/// authority and the hub sequence. A record's fields are stored together in one blob, keyed by
/// field number (one row per field stamp was measured at about 6× slower bulk loading).
final class StampCodec {
    let database: Database
    private var indexes: [ReplicaID: Int64] = [:]
    private var replicas: [Int64: ReplicaID] = [:]

    init(database: Database) throws {
        self.database = database
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
        try database.execute("INSERT OR IGNORE INTO replica_ids (id) VALUES (?)", [.blob(replica.bytes)])
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
              let r = ReplicaID(bytes: bytes) else { throw StoreError(code: -2, message: "unknown replica index") }
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

    /// The fields of a record, in workspace order, as one blob.
    func fieldsBytes(_ fields: [String: FieldState], entity: Entity) throws -> [UInt8] {
        var w = ByteWriter(capacity: 256)
        for f in entity.fields {
            guard let s = fields[f.name] else { continue }
            w.varint(UInt64(f.number))
            try encode(s, into: &w)
        }
        return w.bytes
    }

    /// Reads a fields blob; a field unknown to this workspace version is skipped (kept in storage).
    func fields(_ bytes: [UInt8], entity: Entity?) throws -> [String: FieldState] {
        var out = [String: FieldState]()
        var r = ByteReader(bytes)
        while !r.atEnd {
            let n = UInt32(try r.varint())
            let s = try decode(&r)
            if let name = entity?.field(number: n)?.name { out[name] = s }
        }
        return out
    }
}
