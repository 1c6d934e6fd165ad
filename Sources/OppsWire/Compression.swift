import CZlib
import Dispatch

/// HTTP body compression with zlib (sync-protocol.md §2.4). `deflate` is the zlib wrapper,
/// as RFC 9110 defines the `deflate` content coding; `gzip` is the gzip wrapper.
public enum ContentCoding: String, Sendable, Hashable, CaseIterable {
    case identity
    case deflate
    case gzip

    /// Reads a `Content-Encoding` header value; nil for codings the protocol does not use.
    public init?(header: String?) {
        guard let header else { self = .identity; return }
        let v = header.trimmingSpaces.lowercased()
        if v.isEmpty { self = .identity; return }
        guard let c = ContentCoding(rawValue: v) else { return nil }
        self = c
    }

    var windowBits: Int32 { self == .gzip ? 31 : 15 }

    /// Compresses `input`; identity returns it unchanged. A large `deflate` body is compressed
    /// in `parts` pieces at once (`compressInParts`).
    public func compress(_ input: [UInt8], level: Int32 = 6, parts: Int = 2) -> [UInt8] {
        if self == .identity { return input }
        if self == .deflate, parts > 1, input.count >= Self.partedAbove { return Self.compressInParts(input, level: level, parts: parts) }
        return input.withUnsafeBufferPointer { Self.deflate($0, windowBits: windowBits, level: level) }
    }

    /// Bodies from this size on are deflated in parts.
    public static let partedAbove = 1 << 20

    /// A zlib stream of `input` made by deflating `parts` slices of it at once (as pigz does): each
    /// slice a raw deflate stream primed with the 32 KiB before it as its dictionary (so it
    /// compresses as it would in one stream), every slice but the last ended by a sync flush
    /// (byte-aligned, not final), the last finished; then the zlib header, the slices in order,
    /// and the Adler-32 of the whole, combined from the slices'. One valid zlib stream, which
    /// any inflater reads as one. A pull page is megabytes, deflated after it is built and
    /// before the replica can ask for the next: on two cores this shortens that wait.
    static func compressInParts(_ input: [UInt8], level: Int32, parts: Int) -> [UInt8] {
        let window = 32 * 1024
        let n = min(parts, max(1, input.count / window))
        let bounds = (0...n).map { input.count * $0 / n }
        nonisolated(unsafe) var pieces = [[UInt8]](repeating: [], count: n)
        nonisolated(unsafe) var sums = [UInt](repeating: 0, count: n)
        input.withUnsafeBufferPointer { whole in
            nonisolated(unsafe) let whole = whole
            pieces.withUnsafeMutableBufferPointer { out in
                nonisolated(unsafe) let out = out
                sums.withUnsafeMutableBufferPointer { adler in
                    nonisolated(unsafe) let adler = adler
                    DispatchQueue.concurrentPerform(iterations: n) { i in
                        let slice = UnsafeBufferPointer(rebasing: whole[bounds[i]..<bounds[i + 1]])
                        adler[i] = adler32_z(adler32_z(0, nil, 0), slice.baseAddress, slice.count)
                        out[i] = deflate(
                            slice, windowBits: -15, level: level, dictionary: UnsafeBufferPointer(rebasing: whole[max(0, bounds[i] - window)..<bounds[i]]),
                            finish: i == n - 1)
                    }
                }
            }
        }
        var sum = adler32_z(0, nil, 0)
        for i in 0..<n { sum = adler32_combine(sum, sums[i], off_t(bounds[i + 1] - bounds[i])) }
        // The header zlib writes for this level (RFC 1950: CMF, then FLG's level bits as zlib
        // sets them, and its check bits making the pair a multiple of 31).
        let l = level == Z_DEFAULT_COMPRESSION ? 6 : level
        var flg: UInt8 = (l < 2 ? 0 : l < 6 ? 1 : l == 6 ? 2 : 3) << 6
        flg += UInt8(31 - (UInt(0x78) * 256 + UInt(flg)) % 31) % 31
        var out = [UInt8]()
        out.reserveCapacity(pieces.reduce(6) { $0 + $1.count })
        out.append(0x78)
        out.append(flg)
        for piece in pieces { out.append(contentsOf: piece) }
        for shift in [24, 16, 8, 0] { out.append(UInt8(truncatingIfNeeded: UInt32(truncatingIfNeeded: sum) >> UInt32(shift))) }
        return out
    }

    /// Deflates `input` as one stream (`windowBits` as zlib takes them: 15 zlib, 31 gzip, -15
    /// raw), primed with `dictionary`, finished or — when `finish` is false — sync-flushed
    /// (byte-aligned, not final). Neither buffer is copied or cleared first (a page is megabytes):
    /// zlib only reads the input, and the output holds what deflate wrote.
    private static func deflate(
        _ input: UnsafeBufferPointer<UInt8>, windowBits: Int32, level: Int32, dictionary: UnsafeBufferPointer<UInt8> = .init(start: nil, count: 0),
        finish: Bool = true
    ) -> [UInt8] {
        var stream = z_stream()
        guard deflateInit2_(&stream, level, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            fatalError("zlib deflateInit2 failed")  // only on out-of-memory or a broken zlib
        }
        defer { deflateEnd(&stream) }
        if dictionary.count > 0 {
            guard deflateSetDictionary(&stream, dictionary.baseAddress, UInt32(dictionary.count)) == Z_OK else { fatalError("zlib deflateSetDictionary failed") }
        }
        // A sync flush adds an empty stored block (5 bytes) and may need a few more to align.
        return [UInt8](unsafeUninitializedCapacity: Int(deflateBound(&stream, UInt(input.count))) + 64) { outBuf, written in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
            stream.avail_in = UInt32(input.count)
            stream.next_out = outBuf.baseAddress
            stream.avail_out = UInt32(outBuf.count)
            let rc = CZlib.deflate(&stream, finish ? Z_FINISH : Z_SYNC_FLUSH)
            precondition(finish ? rc == Z_STREAM_END : rc == Z_OK && stream.avail_in == 0, "deflate with a deflateBound buffer must finish")
            written = outBuf.count - Int(stream.avail_out)
        }
    }

    /// Decompresses `input`, refusing to produce more than `limit` bytes: a small body that
    /// inflates to gigabytes (a decompression bomb) is `decompressed-too-large`.
    public func decompress(_ input: [UInt8], limit: Int) throws(WireError) -> [UInt8] {
        if self == .identity {
            if input.count > limit { throw WireError(.decompressedTooLarge, "body larger than \(limit) bytes") }
            return input
        }
        var stream = z_stream()
        guard inflateInit2_(&stream, windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw WireError(.internal, "zlib inflateInit2 failed")
        }
        defer { inflateEnd(&stream) }
        var output = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var input = input
        var failure: WireError?
        input.withUnsafeMutableBufferPointer { inBuf in
            stream.next_in = inBuf.baseAddress
            stream.avail_in = UInt32(inBuf.count)
            while true {
                let (rc, have) = chunk.withUnsafeMutableBufferPointer { outBuf -> (Int32, Int) in
                    stream.next_out = outBuf.baseAddress
                    stream.avail_out = UInt32(outBuf.count)
                    let rc = CZlib.inflate(&stream, Z_NO_FLUSH)
                    return (rc, outBuf.count - Int(stream.avail_out))
                }
                if output.count + have > limit {
                    failure = WireError(.decompressedTooLarge, "body inflates beyond \(limit) bytes")
                    return
                }
                output.append(contentsOf: chunk[0..<have])
                if rc == Z_STREAM_END {
                    if stream.avail_in != 0 { failure = WireError(.malformedBody, "data after the end of the compressed stream") }
                    return
                }
                if rc != Z_OK, !(rc == Z_BUF_ERROR && have > 0) {
                    failure = WireError(.malformedBody, "body is not valid \(rawValue) data")
                    return
                }
                if stream.avail_in == 0 && have == 0 {
                    failure = WireError(.malformedBody, "truncated \(rawValue) body")
                    return
                }
            }
        }
        if let failure { throw failure }
        return output
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return String(s)
    }
}
