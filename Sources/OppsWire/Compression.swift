import CLibdeflate

/// HTTP body compression (sync-protocol.md §2.4), with libdeflate. `deflate` is the zlib wrapper,
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

    /// Compresses `input` (`level` on zlib's scale: 0 stored … 9 smallest, -1 zlib's default,
    /// 6); identity returns it unchanged. One whole-buffer pass of libdeflate: the zlib or gzip
    /// format any inflater reads, made at 2.3× the speed of zlib's level 1 and a few percent
    /// smaller (BENCHMARKS.md, twentieth session).
    public func compress(_ input: [UInt8], level: Int32 = 6) -> [UInt8] {
        if self == .identity { return input }
        let level = level < 0 ? 6 : min(level, 12)
        guard let compressor = libdeflate_alloc_compressor(level) else { fatalError("libdeflate could not allocate a compressor") }  // out of memory
        defer { libdeflate_free_compressor(compressor) }
        let gzip = self == .gzip
        let bound = gzip ? libdeflate_gzip_compress_bound(compressor, input.count) : libdeflate_zlib_compress_bound(compressor, input.count)
        // Neither buffer is copied or cleared first (a page is megabytes): libdeflate only reads
        // the input, and the output holds what it wrote.
        return [UInt8](unsafeUninitializedCapacity: bound) { out, written in
            written = input.withUnsafeBufferPointer { i in
                gzip
                    ? libdeflate_gzip_compress(compressor, i.baseAddress, i.count, out.baseAddress, out.count)
                    : libdeflate_zlib_compress(compressor, i.baseAddress, i.count, out.baseAddress, out.count)
            }
            precondition(written > 0, "libdeflate with a bound-sized buffer must finish")
        }
    }

    /// Decompresses `input`, refusing to produce more than `limit` bytes: a small body that
    /// inflates to gigabytes (a decompression bomb) is `decompressed-too-large`. Whole-buffer:
    /// the output grows fourfold from a guess until the stream fits or `limit` does not hold it.
    public func decompress(_ input: [UInt8], limit: Int) throws(WireError) -> [UInt8] {
        if self == .identity {
            if input.count > limit { throw WireError(.decompressedTooLarge, "body larger than \(limit) bytes") }
            return input
        }
        guard let decompressor = libdeflate_alloc_decompressor() else { throw WireError(.internal, "libdeflate could not allocate a decompressor") }
        defer { libdeflate_free_decompressor(decompressor) }
        let gzip = self == .gzip
        var capacity = min(limit, max(64 * 1024, input.count * 4))
        while true {
            var result = LIBDEFLATE_SUCCESS
            var consumed = 0
            let output = [UInt8](unsafeUninitializedCapacity: capacity) { out, written in
                var produced = 0
                result = input.withUnsafeBufferPointer { i in
                    gzip
                        ? libdeflate_gzip_decompress_ex(decompressor, i.baseAddress, i.count, out.baseAddress, out.count, &consumed, &produced)
                        : libdeflate_zlib_decompress_ex(decompressor, i.baseAddress, i.count, out.baseAddress, out.count, &consumed, &produced)
                }
                written = result == LIBDEFLATE_SUCCESS ? produced : 0
            }
            switch result {
            case LIBDEFLATE_SUCCESS:
                guard consumed == input.count else { throw WireError(.malformedBody, "data after the end of the compressed stream") }
                return output
            case LIBDEFLATE_INSUFFICIENT_SPACE:
                guard capacity < limit else { throw WireError(.decompressedTooLarge, "body inflates beyond \(limit) bytes") }
                capacity = capacity > limit / 4 ? limit : capacity * 4
            default:
                // Bad data, a wrong checksum, or a stream cut short.
                throw WireError(.malformedBody, "body is not valid \(rawValue) data")
            }
        }
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
