import Foundation
import OppsCore
import OppsTestSupport
import OppsWire
import Testing

/// The pull a push carries is field 6 of PushRequest and not part of the batch (sync-protocol.md §5.4).
struct CarriedPullCodingTests {
    func push() throws -> (PushRequest, [UInt8]) {
        var p = PushRequest()
        p.replica = Data(repeating: 7, count: 16)
        p.batch = 3
        p.hlcBase = 117_699_702_611_247_104
        var w = WireWrite()
        w.record = Data(repeating: 9, count: 16)
        w.entity = 1
        w.field = 4
        p.writes = [w, w]
        p.workspaceVersion = 5
        return (p, try BodyCodec.encode(p, as: .protobuf))
    }

    func pull(cursor: UInt64) -> PullRequest {
        var r = PullRequest()
        r.replica = Data(repeating: 7, count: 16)
        r.cursor = cursor
        r.token = 12
        r.forget = [Data(repeating: 1, count: 16)]
        return r
    }

    @Test func anAppendedPullIsReadAsPartOfThePush() throws {
        let (p, bytes) = try push()
        let carried = try CarriedPull.appending(pull(cursor: 1_042), to: bytes)
        #expect(Array(carried.prefix(bytes.count)) == bytes)
        let read = try BodyCodec.decode(PushRequest.self, from: carried, as: .protobuf)
        #expect(read.pull == pull(cursor: 1_042))
        var batch = read
        batch.clearPull()
        #expect(batch == p)
    }

    @Test func theBatchContentIsThePushWithoutItsPullWhereverItIs() throws {
        let (p, bytes) = try push()
        #expect(try CarriedPull.batchContent(of: bytes) == bytes, "nothing carried: the same bytes")
        #expect(try CarriedPull.batchContent(of: CarriedPull.appending(pull(cursor: 5), to: bytes)) == bytes)
        // Carried twice (protobuf merges repeated message fields), and first in the message.
        let twice = try CarriedPull.appending(pull(cursor: 6), to: CarriedPull.appending(pull(cursor: 5), to: bytes))
        #expect(try CarriedPull.batchContent(of: twice) == bytes)
        var withPull = p
        withPull.pull = pull(cursor: 9)
        let encoded = try BodyCodec.encode(withPull, as: .protobuf)
        #expect(try CarriedPull.batchContent(of: encoded) == bytes, "the library's own encoding, pull last")
        let front = Array(try CarriedPull.appending(pull(cursor: 5), to: [])) + bytes
        #expect(try CarriedPull.batchContent(of: front) == bytes)
    }

    /// Protocol/vectors/messages.json: protoc's encoding of a push carrying its pull, and of the
    /// same push without it (an encoder independent of ours).
    @Test func theVectorsBatchIsThePushWithoutItsPull() throws {
        let doc = try JSON.parse(RepositoryFiles.text("Protocol/vectors/messages.json"))
        let carrying = (doc["vectors"]?.array ?? []).filter { $0["batch_hex"] != nil }
        #expect(!carrying.isEmpty)
        func bytes(_ hex: String) -> [UInt8] {
            var out = [UInt8](), it = hex.utf8.makeIterator()
            while let h = it.next(), let l = it.next() { out.append(UInt8(String(decoding: [h, l], as: UTF8.self), radix: 16)!) }
            return out
        }
        for v in carrying {
            let whole = bytes(v["hex"]?.string ?? ""), batch = bytes(v["batch_hex"]?.string ?? "")
            #expect(whole.count > batch.count)
            #expect(try CarriedPull.batchContent(of: whole) == batch)
            #expect(try BodyCodec.decode(PushRequest.self, from: whole, as: .protobuf).hasPull)
        }
    }

    @Test func aMalformedPushIsRefused() throws {
        let (_, bytes) = try push()
        for bad in [Array(bytes.dropLast()), bytes + [0x32, 0x7F], bytes + [0x33], bytes + [0x80]] {
            #expect(throws: WireError.self) { _ = try CarriedPull.batchContent(of: bad) }
        }
    }
}
