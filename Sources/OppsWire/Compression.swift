import CZlib

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

    /// Compresses `input`; identity returns it unchanged.
    public func compress(_ input: [UInt8], level: Int32 = 6) -> [UInt8] {
        if self == .identity { return input }
        var stream = z_stream()
        guard deflateInit2_(&stream, level, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            fatalError("zlib deflateInit2 failed")  // only on out-of-memory or a broken zlib
        }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))) + 32)
        var input = input
        let produced: Int = input.withUnsafeMutableBufferPointer { inBuf in
            output.withUnsafeMutableBufferPointer { outBuf in
                stream.next_in = inBuf.baseAddress
                stream.avail_in = UInt32(inBuf.count)
                stream.next_out = outBuf.baseAddress
                stream.avail_out = UInt32(outBuf.count)
                let rc = CZlib.deflate(&stream, Z_FINISH)
                precondition(rc == Z_STREAM_END, "deflate with a deflateBound buffer must finish")
                return outBuf.count - Int(stream.avail_out)
            }
        }
        output.removeLast(output.count - produced)
        return output
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
