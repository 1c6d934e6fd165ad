import OppsCore

/// What a pull page staged — the records the replica holds once it acknowledges the page — packed
/// in one blob per page (`replica_staged.changes`): 25 bytes a record, in the order given.
///
///     bytes 0–15   the record id (its 16 bytes, as stored everywhere)
///     byte  16     1: held with the signature that follows; 0: no longer held
///     bytes 17–24  the signature, big-endian (zero when not held)
///
/// A row per record cost PostgreSQL more than reading the records themselves (a cold sync of
/// 100,000 deals staged, moved and deleted 100,000 rows). PostgreSQL unpacks the blob in the
/// acknowledging statement (`SQLHubStore.acknowledge`), so the layout is fixed: change it only
/// with a migration.
public enum StagedChanges {
    public static let width = 25

    public static func encode(_ changes: [(RecordID, UInt64?)]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(changes.count * width)
        func append(_ v: UInt64) { for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: v >> UInt64(shift))) } }
        for (id, signature) in changes {
            append(id.high)
            append(id.low)
            out.append(signature == nil ? 0 : 1)
            append(signature ?? 0)
        }
        return out
    }

    public static func decode(_ bytes: [UInt8]) throws -> [(RecordID, UInt64?)] {
        guard bytes.count % width == 0 else {
            throw StoreError(code: -23, message: "a staged page of \(bytes.count) bytes is not a whole number of \(width)-byte entries")
        }
        return try bytes.withUnsafeBufferPointer { p in
            func read(_ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 << 8 | UInt64(p[at + $1]) } }
            return try stride(from: 0, to: p.count, by: width).map { at in
                let id = RecordID(high: read(at), low: read(at + 8))
                switch p[at + 16] {
                case 1: return (id, read(at + 17))
                case 0: return (id, nil)
                case let flag: throw StoreError(code: -23, message: "a staged page's entry \(at / width) has flag \(flag), not 0 or 1")
                }
            }
        }
    }
}
