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

    /// A large body deflated in parts is one zlib stream: any inflater (zlib's, checking the
    /// header and the Adler-32 of the whole) gives back the body, at every level, for any
    /// number of parts, and it compresses as well as one stream (each part primed with the
    /// window before it).
    @Test(arguments: [Int32(0), 1, 3, 6, 9, -1])
    func aBodyDeflatedInPartsIsOneZlibStream(level: Int32) throws {
        var rng = SystemRandomNumberGenerator()
        // Page-like: repeated shapes with varying numbers, 3 MiB.
        var body = [UInt8]()
        while body.count < 3 << 20 {
            body += Array("deal \(UInt32.random(in: 0..<5000, using: &rng)) 商机 stage=qualify amount=\(UInt16.random(in: 0..<999, using: &rng))00;".utf8)
        }
        let whole = ContentCoding.deflate.compress(body, level: level, parts: 1)
        for parts in [2, 3, 7] {
            let parted = ContentCoding.deflate.compress(body, level: level, parts: parts)
            #expect(parted != whole, "compressed in \(parts) parts")
            #expect(parted[0] == whole[0] && parted[1] == whole[1], "the header zlib writes for level \(level)")
            #expect(try ContentCoding.deflate.decompress(parted, limit: 8 << 20) == body)
            #expect(Double(parted.count) < Double(whole.count) * 1.01, "\(parted.count) against \(whole.count) bytes in one stream")
            // A damaged byte — in the first part's data, or in the Adler-32 — is refused, not
            // inflated wrong.
            for at in [parted.count / (2 * parts), parted.count - 2] {
                var damaged = parted
                damaged[at] ^= 0x55
                #expect(throws: WireError.self) { try ContentCoding.deflate.decompress(damaged, limit: 8 << 20) }
            }
        }
        // Below the threshold one stream, from it on in parts; either way the body comes back.
        for size in [ContentCoding.partedAbove - 1, ContentCoding.partedAbove, ContentCoding.partedAbove + 12_345] {
            let cut = Array(body.prefix(size))
            let packed = ContentCoding.deflate.compress(cut, level: level)
            #expect((packed == ContentCoding.deflate.compress(cut, level: level, parts: 1)) == (size < ContentCoding.partedAbove))
            #expect(try ContentCoding.deflate.decompress(packed, limit: 8 << 20) == cut)
        }
        for size in [0, 1, 40_000] {
            let cut = Array(body.prefix(size))
            #expect(try ContentCoding.deflate.decompress(ContentCoding.compressInParts(cut, level: level, parts: 2), limit: 8 << 20) == cut)
        }
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
