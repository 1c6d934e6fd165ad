import Foundation
import OppsCore
import Testing

@testable import OppsStore

/// The stored form of a record's field states (StampCodec): format 2 stores stamps relative to
/// the record's creation; format 1 blobs written before still read.
@Suite struct StampCodecTests {
    func codec() throws -> StampCodec {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("opps-codec-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let db = try Database(path: dir.path + "/c.sqlite")
        try db.execute("CREATE TABLE replica_ids (idx INTEGER PRIMARY KEY, id BLOB UNIQUE NOT NULL)")
        return try StampCodec(database: db)
    }

    let entity = Workspace.default.entity("opportunity")!
    let r1 = ReplicaID(UUID128(high: 0, low: 1)), r2 = ReplicaID(UUID128(high: 0, low: 2))

    @Test func statesRoundTripRelativeToTheCreation() throws {
        let c = try codec()
        let base = FieldState(
            value: .member("discovery"), stamp: Stamp(hlc: HLC(milliseconds: 5_000_000, counter: 3), replica: r1), author: "sam",
            authority: .own, sequence: 100)
        let fields: [String: FieldState] = [
            "name": FieldState(
                value: .text("ACME"), stamp: Stamp(hlc: HLC(milliseconds: 5_000_000, counter: 4), replica: r1), author: "sam", authority: .own, sequence: 101),
            // Another author and replica, an earlier clock (a restored value) and a lower sequence.
            "amount": FieldState(
                value: .decimal(ExactDecimal(units: 12, scale: 2)), stamp: Stamp(hlc: HLC(milliseconds: 4_000_000, counter: 0), replica: r2),
                author: "max", authority: .override, sequence: 7),
            // Not yet sequenced (a pending local write).
            "next_step": FieldState(
                value: .null, stamp: Stamp(hlc: HLC(milliseconds: 9_000_000_000, counter: 65_535), replica: r1), author: "sam",
                authority: .write, sequence: 0),
        ]
        let blob = try c.fieldsBytes(fields, entity: entity, base: base)
        #expect(blob.first == 0)
        #expect(try c.fields(blob, entity: entity, base: base) == fields)
        // One person's fields cost a few bytes of stamp each.
        let one = try c.fieldsBytes(["name": fields["name"]!], entity: entity, base: base)
        #expect(one.count - fields["name"]!.value.storedBytes.count <= 6)
        #expect(try c.fieldsBytes([:], entity: entity, base: base).isEmpty)
    }

    @Test func formatOneBlobsStillRead() throws {
        let c = try codec()
        let state = FieldState(value: .text("ACME"), stamp: Stamp(hlc: HLC(milliseconds: 7, counter: 1), replica: r2), author: "tom", authority: .own, sequence: 9)
        var w = ByteWriter()
        w.varint(UInt64(entity.field("name")!.number))
        try c.encode(state, into: &w)
        let base = FieldState(value: .null, stamp: Stamp(hlc: HLC(milliseconds: 1, counter: 0), replica: r1), author: "sam", authority: .own, sequence: 1)
        #expect(try c.fields(w.bytes, entity: entity, base: base) == ["name": state])
    }
}
