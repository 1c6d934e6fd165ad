import Foundation

/// A push that carries the pull after it (protocol 5, sync-protocol.md §5.4): a sync with writes
/// in one exchange instead of two. The pull travels as `PushRequest.pull` (field 6) but is not
/// part of the batch: a batch is resent byte for byte after a failure, while the pull it carries
/// may differ between the sends, so idempotency compares the request without it.
public enum CarriedPull {
    /// `PushRequest.pull`'s field number.
    static let field: UInt64 = 6

    /// `push` (a `PushRequest` as stored and resent) with `pull` appended as its field 6: a
    /// field appended to a message's bytes is read as part of that message.
    public static func appending(_ pull: PullRequest, to push: [UInt8]) throws -> [UInt8] {
        let body = try BodyCodec.encode(pull, as: .protobuf)
        var out = push
        out.reserveCapacity(push.count + body.count + 11)
        writeVarint(field << 3 | 2, into: &out)
        writeVarint(UInt64(body.count), into: &out)
        out += body
        return out
    }

    /// A `PushRequest`'s bytes without its top-level field 6 wherever it appears (the batch's
    /// content, sync-protocol.md §5.2); the same array when there is none.
    public static func batchContent(of bytes: [UInt8]) throws(WireError) -> [UInt8] {
        var kept = [Range<Int>]()
        var at = 0, start = 0, carried = false
        while at < bytes.count {
            let fieldStart = at
            let tag = try varint(bytes, &at)
            let length: Int
            switch tag & 7 {
            case 0: _ = try varint(bytes, &at); length = 0
            case 1: length = 8
            case 2:
                let n = try varint(bytes, &at)
                guard n <= UInt64(bytes.count - at) else { throw malformed }
                length = Int(n)
            case 5: length = 4
            default: throw malformed  // groups (3, 4) and unknown wire types: never in this schema
            }
            guard length <= bytes.count - at else { throw malformed }
            at += length
            if tag >> 3 == field {
                carried = true
                if fieldStart > start { kept.append(start..<fieldStart) }
                start = at
            }
        }
        guard carried else { return bytes }
        if bytes.count > start { kept.append(start..<bytes.count) }
        var out = [UInt8]()
        out.reserveCapacity(bytes.count)
        for r in kept { out += bytes[r] }
        return out
    }

    private static var malformed: WireError { WireError(.malformedBody, "the push is not a valid PushRequest") }

    private static func varint(_ bytes: [UInt8], _ at: inout Int) throws(WireError) -> UInt64 {
        var value: UInt64 = 0, shift: UInt64 = 0
        while at < bytes.count, shift < 64 {
            let b = bytes[at]
            at += 1
            value |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return value }
            shift += 7
        }
        throw malformed
    }

    private static func writeVarint(_ value: UInt64, into out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }
}
