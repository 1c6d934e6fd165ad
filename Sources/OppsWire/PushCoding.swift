import SwiftProtobuf

/// A push's answer written by hand: the same bytes SwiftProtobuf writes with deterministic
/// ordering (fields in number order, unknown fields last), without its visitor per field. The
/// hub writes each answer twice — into the batch's idempotency record and onto the wire — and an
/// answer holds one result per write of the batch (up to `maxBatchWrites`). A test holds the
/// bytes equal to SwiftProtobuf's for every shape of result.
public enum PushCoding {
    public static func encode(_ response: PushResponse) throws -> [UInt8] {
        // Sizes first, so the answer is written into one allocation.
        var sizes = [Int]()
        sizes.reserveCapacity(response.results.count)
        let pull: [UInt8] = response.hasPull ? try PageCoding.encode(response.pull) : []
        let pullError: [UInt8] = response.hasPullError ? try response.pullError.serializedBytes() : []
        var total = PageCoding.scalar(response.batch) + (response.replayed ? 2 : 0) + PageCoding.scalar(response.head)
        for result in response.results {
            let size = resultSize(result)
            sizes.append(size)
            total += PageCoding.delimited(size)
        }
        if response.hasPull { total += PageCoding.delimited(pull.count) }
        if response.hasPullError { total += PageCoding.delimited(pullError.count) }
        total += response.unknownFields.data.count
        var out = [UInt8]()
        out.reserveCapacity(total)
        if response.batch != 0 {
            out.append(0x08)
            PageCoding.varint(response.batch, &out)
        }
        for (result, size) in zip(response.results, sizes) {
            out.append(0x12)
            PageCoding.varint(UInt64(size), &out)
            write(result, &out)
        }
        if response.replayed { out += [0x18, 1] }
        if response.head != 0 {
            out.append(0x20)
            PageCoding.varint(response.head, &out)
        }
        if response.hasPull {
            out.append(0x2A)
            PageCoding.varint(UInt64(pull.count), &out)
            out += pull
        }
        if response.hasPullError {
            out.append(0x32)
            PageCoding.varint(UInt64(pullError.count), &out)
            out += pullError
        }
        out.append(contentsOf: response.unknownFields.data)
        return out
    }

    /// An enum as protobuf writes it: its number as a 64-bit varint (a negative one in ten bytes).
    @inline(__always) static func enumValue(_ v: Int) -> UInt64 { UInt64(bitPattern: Int64(v)) }

    static func resultSize(_ r: WriteResult) -> Int {
        var n = PageCoding.scalar(enumValue(r.outcome.rawValue))
        if !r.rule.isEmpty { n += PageCoding.delimited(r.rule.utf8.count) }
        n += PageCoding.scalar(r.sequence)
        if r.hasWinner { n += PageCoding.delimited(PageCoding.valueSize(r.winner)) }
        n += PageCoding.scalar(r.conflict)
        if !r.detail.isEmpty { n += PageCoding.delimited(r.detail.utf8.count) }
        return n + r.unknownFields.data.count
    }

    static func write(_ r: WriteResult, _ out: inout [UInt8]) {
        if r.outcome.rawValue != 0 {
            out.append(0x08)
            PageCoding.varint(enumValue(r.outcome.rawValue), &out)
        }
        if !r.rule.isEmpty {
            out.append(0x12)
            PageCoding.varint(UInt64(r.rule.utf8.count), &out)
            out.append(contentsOf: r.rule.utf8)
        }
        if r.sequence != 0 {
            out.append(0x18)
            PageCoding.varint(r.sequence, &out)
        }
        if r.hasWinner {
            out.append(0x22)
            PageCoding.varint(UInt64(PageCoding.valueSize(r.winner)), &out)
            PageCoding.write(r.winner, &out)
        }
        if r.conflict != 0 {
            out.append(0x28)
            PageCoding.varint(r.conflict, &out)
        }
        if !r.detail.isEmpty {
            out.append(0x32)
            PageCoding.varint(UInt64(r.detail.utf8.count), &out)
            out.append(contentsOf: r.detail.utf8)
        }
        out.append(contentsOf: r.unknownFields.data)
    }
}
