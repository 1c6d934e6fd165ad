import CZlib
import Testing

@testable import OppsWire

@Suite struct CompressionTests {
    static let sample: [UInt8] = Array(String(repeating: "opportunity amount 12000.00 商机 ", count: 500).utf8)

    @Test(arguments: [ContentCoding.identity, .deflate, .gzip])
    func roundTrips(coding: ContentCoding) throws {
        let packed = coding.compress(Self.sample)
        if coding != .identity { #expect(packed.count < Self.sample.count / 10) }
        #expect(try coding.decompress(packed, limit: 1 << 20) == Self.sample)
        #expect(try coding.decompress(coding.compress([]), limit: 10) == [])
    }

    @Test func deflateIsTheZlibWrapperAndGzipTheGzipOne() {
        let z = ContentCoding.deflate.compress(Self.sample)
        let g = ContentCoding.gzip.compress(Self.sample)
        #expect(z[0] == 0x78)  // zlib header (RFC 1950), not raw deflate
        #expect(g[0] == 0x1F && g[1] == 0x8B)  // gzip magic
    }

    @Test(arguments: [ContentCoding.deflate, .gzip])
    func refusesADecompressionBomb(coding: ContentCoding) {
        let bomb = coding.compress([UInt8](repeating: 0, count: 50 << 20))
        #expect(bomb.count < 100_000)
        #expect(throws: WireError(.decompressedTooLarge, "body inflates beyond 1048576 bytes")) {
            try coding.decompress(bomb, limit: 1 << 20)
        }
    }

    @Test(arguments: [ContentCoding.deflate, .gzip])
    func refusesTruncatedAndGarbageBodies(coding: ContentCoding) {
        let packed = coding.compress(Self.sample)
        #expect(
            performing: { try coding.decompress(Array(packed.prefix(packed.count / 2)), limit: 1 << 20) },
            throws: { ($0 as? WireError)?.code == .malformedBody })
        #expect(
            performing: { try coding.decompress(Array("not compressed at all".utf8), limit: 1 << 20) },
            throws: { ($0 as? WireError)?.code == .malformedBody })
    }

    /// What the hub sends is what any client's zlib reads: the zlib and gzip formats (header,
    /// data, Adler-32 or CRC-32), at every level, small and page-sized; and a damaged byte — in
    /// the data or in the checksum — is refused, not inflated wrong.
    @Test(arguments: [Int32(0), 1, 3, 6, 9, -1])
    func zlibReadsWhatWeCompress(level: Int32) throws {
        var rng = SystemRandomNumberGenerator()
        // Page-like: repeated shapes with varying numbers, 3 MiB.
        var body = [UInt8]()
        while body.count < 3 << 20 {
            body += Array("deal \(UInt32.random(in: 0..<5000, using: &rng)) 商机 stage=qualify amount=\(UInt16.random(in: 0..<999, using: &rng))00;".utf8)
        }
        for size in [0, 1, 40_000, body.count] {
            let cut = Array(body.prefix(size))
            let packed = ContentCoding.deflate.compress(cut, level: level)
            #expect(packed[0] == 0x78, "a zlib header")
            if level != 0, size > 1000 { #expect(packed.count < size / 2) }
            // zlib's own one-shot inflater (checks the header and the Adler-32).
            var length = uLongf(size)
            var back = [UInt8](repeating: 0, count: max(1, size))
            #expect(uncompress(&back, &length, packed, uLong(packed.count)) == Z_OK)
            #expect(Array(back.prefix(Int(length))) == cut)
            #expect(try ContentCoding.deflate.decompress(packed, limit: 8 << 20) == cut)
            // gzip through zlib's gzip-aware inflater.
            let gz = ContentCoding.gzip.compress(cut, level: level)
            #expect(try Self.zlibInflate(gz, windowBits: 31) == cut)
            if size > 1000 {
                for at in [packed.count / 2, packed.count - 2] {
                    var damaged = packed
                    damaged[at] ^= 0x55
                    #expect(throws: WireError.self) { try ContentCoding.deflate.decompress(damaged, limit: 8 << 20) }
                }
            }
        }
    }

    /// zlib's streaming inflater over a whole body (`windowBits` 15 zlib, 31 gzip).
    static func zlibInflate(_ input: [UInt8], windowBits: Int32) throws -> [UInt8] {
        var stream = z_stream()
        #expect(inflateInit2_(&stream, windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK)
        defer { inflateEnd(&stream) }
        var input = input, output = [UInt8](), chunk = [UInt8](repeating: 0, count: 1 << 16)
        var rc: Int32 = Z_OK
        input.withUnsafeMutableBufferPointer { i in
            stream.next_in = i.baseAddress
            stream.avail_in = UInt32(i.count)
            while rc == Z_OK {
                chunk.withUnsafeMutableBufferPointer { o in
                    stream.next_out = o.baseAddress
                    stream.avail_out = UInt32(o.count)
                    rc = inflate(&stream, Z_NO_FLUSH)
                    output += o.prefix(o.count - Int(stream.avail_out))
                }
            }
        }
        #expect(rc == Z_STREAM_END)
        return output
    }

    /// What other clients' zlib sends, the hub reads (push bodies are deflated by the replica's
    /// HTTP stack, and by any client a stranger writes).
    @Test func weReadWhatZlibCompresses() throws {
        for level: Int32 in [1, 6, 9] {
            var length = compressBound(uLong(Self.sample.count))
            var packed = [UInt8](repeating: 0, count: Int(length))
            #expect(compress2(&packed, &length, Self.sample, uLong(Self.sample.count), level) == Z_OK)
            #expect(try ContentCoding.deflate.decompress(Array(packed.prefix(Int(length))), limit: 1 << 20) == Self.sample)
        }
    }

    /// The output grows from its first guess (four times the input) as far as the limit, and
    /// not past it; bytes after the end of the stream are refused.
    @Test func theOutputGrowsToTheLimitAndNoFurther() throws {
        let zeros = [UInt8](repeating: 0, count: 5 << 20)
        let packed = ContentCoding.deflate.compress(zeros, level: 1)
        #expect(packed.count * 4 < zeros.count, "the first guess is too small")
        #expect(try ContentCoding.deflate.decompress(packed, limit: 5 << 20) == zeros)
        #expect(throws: WireError(.decompressedTooLarge, "body inflates beyond \((5 << 20) - 1) bytes")) {
            try ContentCoding.deflate.decompress(packed, limit: (5 << 20) - 1)
        }
        #expect(
            performing: { try ContentCoding.deflate.decompress(ContentCoding.deflate.compress(Self.sample) + [0], limit: 1 << 20) },
            throws: { ($0 as? WireError)?.message == "data after the end of the compressed stream" })
    }

    @Test func identityStillHasALimit() {
        #expect(
            performing: { try ContentCoding.identity.decompress([UInt8](repeating: 1, count: 11), limit: 10) },
            throws: { ($0 as? WireError)?.code == .decompressedTooLarge })
    }

    @Test func headersMapToCodingsAndMediaTypes() {
        #expect(ContentCoding(header: nil) == .identity)
        #expect(ContentCoding(header: " GZIP ") == .gzip)
        #expect(ContentCoding(header: "br") == nil)
        #expect(WireFormat(header: "application/json; charset=utf-8") == .json)
        #expect(WireFormat(header: nil) == .protobuf)
        #expect(WireFormat(header: "text/plain") == nil)
    }
}
