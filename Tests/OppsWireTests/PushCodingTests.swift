import Foundation
import OppsCore
import SwiftProtobuf
import Testing

@testable import OppsWire

/// PushCoding must be SwiftProtobuf, faster: the same bytes for a push's answer with every shape
/// of result (each outcome, an unknown one, rules and details of any length, winners of every
/// kind of value, none, an empty one), with and without the page and the pull error it carries.
@Suite struct PushCodingTests {
    static func result(_ r: inout PageCodingTests.Random) -> WriteResult {
        var w = WriteResult()
        w.outcome = [.applied, .won, .lost, .rejected, .proposal, .duplicate, .UNRECOGNIZED(9), .UNRECOGNIZED(-3)][r.int(8)]
        if r.chance(70) { w.rule = ["applied", "authority", "read-only", r.text()][r.int(4)] }
        w.sequence = r.u64()
        if r.chance(60) { w.winner = r.chance(10) ? WireValue() : r.value() }
        w.conflict = r.chance(70) ? 0 : r.u64()
        if r.chance(30) { w.detail = r.text() }
        if r.chance(5) { w.unknownFields = try! WriteResult(serializedBytes: [0x48, 0x07] as [UInt8], partial: true).unknownFields }
        return w
    }

    @Test func encodesTheBytesSwiftProtobufWrites() throws {
        var r = PageCodingTests.Random(g: SeededGenerator(seed: 51))
        var options = BinaryEncodingOptions()
        options.useDeterministicOrdering = true
        for i in 0..<400 {
            var response = PushResponse()
            response.batch = r.u64()
            response.results = (0..<r.int(i % 10 == 0 ? 1200 : 12)).map { _ in Self.result(&r) }
            response.replayed = r.chance(20)
            response.head = r.u64()
            if r.chance(30) { response.pull = r.page() }
            if r.chance(10) {
                var e = ErrorBody()
                e.code = "rate-limited"
                e.message = r.text()
                e.retryable = r.chance(50)
                e.retryAfterMs = r.u32()
                response.pullError = e
            }
            let mine = try PushCoding.encode(response)
            #expect(mine == (try response.serializedBytes(options: options) as [UInt8]), "\(i)")
            #expect(try BodyCodec.encode(response, as: .protobuf) == mine)
            #expect(try PushResponse(serializedBytes: mine) == response)
        }
        #expect(try PushCoding.encode(PushResponse()) == [])
    }
}
