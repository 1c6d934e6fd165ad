import Foundation
import OppsCore
import OppsTestSupport
import Testing

@testable import OppsStore

/// The stored form of a record's field states (StampCodec): format 2 stores stamps relative to
/// the record's creation, format 3 (the replica's) each relative to the one before; format 1
/// and 2 blobs written before still read.
@Suite struct StampCodecTests {
    func database() throws -> Database {
        let dir = URL(fileURLWithPath: Scratch.directory("opps-codec"))
        let db = try Database(path: dir.path + "/c.sqlite")
        try db.execute("CREATE TABLE replica_ids (idx INTEGER PRIMARY KEY, id BLOB UNIQUE NOT NULL)")
        return db
    }

    func codec(compact: Bool = false) throws -> StampCodec { try StampCodec(database: database(), compact: compact) }

    /// Any set of states, by anyone, at any clock and sequence (a pending write's 0, a restored
    /// value's earlier clock, wrapping differences): format 3 reads back what it wrote, and a
    /// format-2 blob of the same states still reads through the format-3 codec.
    @Test func formatThreeRoundTripsAnyStates() throws {
        let db = try database()
        let compact = try StampCodec(database: db, compact: true), wide = try StampCodec(database: db)
        var rng = SeededGenerator(seed: 20)
        let authors = ["sam", "max", "王芳", ""]
        let values: [Value] = [
            .null, .text("华北电网 ACME"), .integer(-5), .decimal(ExactDecimal(units: 1_234_567, scale: 2)), .member("proposal"), .text(""),
            .timestamp(Timestamp(milliseconds: 1_795_000_000_123)), .date(CivilDate(daysSinceEpoch: 20_500)), .boolean(true),
            .reference(UUID128(high: 0x0190_0000_0000_7123, low: 0x8000_0000_0000_0456)),
        ]
        for round in 0..<300 {
            let baseHLC = UInt64.random(in: 0...UInt64.max, using: &rng)
            let base = FieldState(
                value: .member("discovery"), stamp: Stamp(hlc: HLC(rawValue: baseHLC), replica: r1), author: "sam", authority: .own,
                sequence: UInt64.random(in: 0...UInt64.max, using: &rng))
            var fields = [String: FieldState]()
            var hlc = base.stamp.hlc.rawValue, sequence = base.sequence
            for f in entity.fields where Int.random(in: 0..<3, using: &rng) > 0 {
                // Mostly one push's run (each + 1), sometimes anything.
                let run = Int.random(in: 0..<4, using: &rng) > 0 && round % 2 == 0
                hlc = run ? hlc &+ 1 : UInt64.random(in: 0...UInt64.max, using: &rng)
                sequence = run ? sequence &+ 1 : [0, 1, UInt64.max, UInt64.random(in: 0...1_000_000, using: &rng)][Int.random(in: 0..<4, using: &rng)]
                fields[f.name] = FieldState(
                    value: values[Int.random(in: 0..<values.count, using: &rng)], stamp: Stamp(hlc: HLC(rawValue: hlc), replica: Bool.random(using: &rng) ? r1 : r2),
                    author: run ? "sam" : authors[Int.random(in: 0..<authors.count, using: &rng)],
                    authority: [Access.write, .own, .override][Int.random(in: 0..<3, using: &rng)], sequence: sequence)
            }
            let blob = try compact.fieldsBytes(fields, entity: entity, base: base)
            #expect(fields.isEmpty ? blob.isEmpty : Array(blob.prefix(2)) == [0, 0])
            #expect(try compact.fields(blob, entity: entity, base: base) == fields, "round \(round)")
            // The same states in format 2 (what rows written before hold) read by the same codec,
            // and format 3 by a codec that writes format 2 (the reader is one).
            let two = try wide.fieldsBytes(fields, entity: entity, base: base)
            #expect(fields.isEmpty || (two.first == 0 && two.dropFirst().first != 0))
            #expect(try compact.fields(two, entity: entity, base: base) == fields)
            #expect(try wide.fields(blob, entity: entity, base: base) == fields)
            // One field's value read alone, the others passed over, in either format.
            for f in entity.fields {
                #expect(try compact.value(ofField: f.number, in: blob) == fields[f.name]?.value, "round \(round) \(f.name)")
                #expect(try compact.value(ofField: f.number, in: two) == fields[f.name]?.value, "round \(round) \(f.name), format 2")
            }
        }
    }

    /// The bytes of stamp (the blob less its values) of a record whose `written` fields one
    /// push wrote in that order (clock and sequence one more each time); checks it reads back.
    func stampBytes(written: [Field]) throws -> Int {
        let c = try codec(compact: true)
        let base = FieldState(
            value: .member("discovery"), stamp: Stamp(hlc: HLC(milliseconds: 5_000_000, counter: 0), replica: r1), author: "sam", authority: .own, sequence: 100)
        var fields = [String: FieldState]()
        for (i, f) in written.enumerated() {
            fields[f.name] = FieldState(
                value: .text("v\(i)"), stamp: Stamp(hlc: HLC(rawValue: base.stamp.hlc.rawValue + UInt64(i) + 1), replica: r1), author: "sam", authority: .own,
                sequence: 101 + UInt64(i))
        }
        let blob = try c.fieldsBytes(fields, entity: entity, base: base)
        #expect(try c.fields(blob, entity: entity, base: base) == fields)
        return blob.count - fields.values.reduce(0) { $0 + $1.value.storedBytes.count }
    }

    /// A record one person filled in with one push, in workspace order, costs a byte of stamp a
    /// field (its header: number, clock and sequence each the one before plus one).
    @Test func aRecordFilledInByOnePushCostsAByteAField() throws {
        let bytes = try stampBytes(written: Array(entity.fields.prefix(11)))
        #expect(bytes <= 2 + 11, "\(bytes) bytes of stamps for 11 fields")
    }

    /// The same push writing the fields in another order than the workspace's (the bench's
    /// deals, a form laid out differently): stored in the order written, each field costs its
    /// header and its number — the clock and sequence, each one more than the field before, cost
    /// nothing (in workspace order they stepped back and forth: a byte or more each).
    @Test func fieldsWrittenInAnyOrderCostTwoBytesAField() throws {
        var rng = SeededGenerator(seed: 7)
        let written = Array(entity.fields.prefix(11)).shuffled(using: &rng)
        #expect(written.map(\.name) != Array(entity.fields.prefix(11)).map(\.name))
        let bytes = try stampBytes(written: written)
        #expect(bytes <= 2 + 11 * 2, "\(bytes) bytes of stamps for 11 fields")
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
        #expect(try c.value(ofField: entity.field("name")!.number, in: w.bytes) == .text("ACME"))
        #expect(try c.value(ofField: entity.field("amount")!.number, in: w.bytes) == nil)
    }
}
