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
