import Foundation
import OppsCSV
import OppsCore
import OppsWire
import SwiftProtobuf

/// Every decoder a user's bytes reach, run on one input (issue 13, "prove none is left"). The
/// first byte picks the decoder; the rest is its input. A broken invariant traps — that is what
/// libFuzzer looks for (`Tools/fuzz.sh`); a regular test runs the seed corpus through it too.
/// Invariants: nothing traps on any input; whatever decodes is in range (merge-semantics.md
/// §1.1) and prints; the hand-written page decoder means exactly what SwiftProtobuf means.
public enum Fuzzing {
    public enum Target: UInt8, CaseIterable, Sendable {
        case pushProtobuf, pushJSON, pull, handshake, page, workspace, csv, values, compressed
    }

    public static func run(_ data: [UInt8]) {
        guard let first = data.first else { return }
        let body = Array(data.dropFirst())
        switch Target(rawValue: first % UInt8(Target.allCases.count))! {
        case .pushProtobuf: push(try? BodyCodec.decode(PushRequest.self, from: body, as: .protobuf))
        case .pushJSON: push(try? BodyCodec.decode(PushRequest.self, from: body, as: .json))
        case .pull:
            if let r = try? BodyCodec.decode(PullRequest.self, from: body, as: .protobuf) {
                _ = r.forget.compactMap { RecordID(bytes: $0) }
            }
        case .handshake:
            if let h = try? BodyCodec.decode(HandshakeRequest.self, from: body, as: .json) { _ = ReplicaID(bytes: h.replica) }
        case .page: page(body)
        case .workspace:
            if let ws = try? Workspace.decode(String(decoding: body, as: UTF8.self)) {
                for e in ws.entities { for f in e.fields { _ = f.type.value(canonical: "1") } }
                _ = ws.approvals.map { $0.rules.map(\.above.description) }
            }
        case .csv:
            if let rows = try? CSV.parse(String(decoding: body, as: UTF8.self)) {
                for row in rows { _ = CSV.line(row.fields) }
            }
        case .values: values(body)
        case .compressed:
            for coding in ContentCoding.allCases { _ = try? coding.decompress(body, limit: 1 << 20) }
        }
    }

    /// A push as the hub reads it: every value that decodes is in range and prints.
    static func push(_ request: PushRequest?) {
        guard let request, let items = try? BatchCoding.decode(request, author: "fuzz", workspace: .default).items else { return }
        for case let .write(w) in items {
            check(w.value)
            _ = w.stamp.hlc.description
        }
    }

    /// The hand-written page decoder against SwiftProtobuf: both refuse, or both give the same
    /// page; a page re-encodes by hand to SwiftProtobuf's bytes.
    static func page(_ bytes: [UInt8]) {
        let mine = try? PageCoding.decode(bytes)
        let theirs = try? PullResponse(serializedBytes: bytes)
        precondition(mine == theirs, "PageCoding and SwiftProtobuf disagree")
        if let page = mine, let hand = try? PageCoding.encode(page), let reference = try? page.serializedBytes() as [UInt8] {
            precondition(hand == reference, "PageCoding encodes other bytes than SwiftProtobuf")
        }
        // A replica reads whole records straight from their bytes: the same records, terms that
        // are the records' own, the same refusal. The raw decoding leaves whole records unread,
        // so it may take a page SwiftProtobuf refuses; reading that page must then fail.
        let raw = try? PageCoding.pulled(bytes)
        precondition(mine == nil || raw != nil, "the raw decoding refuses a page SwiftProtobuf takes")
        guard let raw else { return }
        let numbering = WireNumbering(.default)
        let fast = Result { try PageReader(raw, numbering: numbering).received(workspace: .default) }
        guard let page = mine else {
            if case .success = fast { preconditionFailure("the raw reading takes a page SwiftProtobuf refuses") }
            return
        }
        let slow = Result { try PageReader(page, numbering: numbering).received(workspace: .default) }
        switch (slow, fast) {
        case let (.success(a), .success(b)):
            precondition(
                a.whole.isEmpty && a.entered.map(\.id).sorted() == (b.entered.map(\.id) + b.whole.map(\.id)).sorted() && a.everyEntered == b.everyEntered,
                "the raw reading gives other records")
            precondition(a.changes == b.changes && a.conflicts == b.conflicts, "the raw reading gives other changes")
            precondition(Set(b.whole.map(\.id)).count == b.whole.count && Set(b.whole.map(\.id)).isDisjoint(with: b.entered.map(\.id)), "a whole record twice")
            for w in b.whole {
                precondition(StateChecksum.term(of: w.record, numbering: numbering) == w.term, "a term that is not its record's")
                precondition(Set(w.fields.map(\.number)).count == w.fields.count, "a whole record's field twice")
            }
        case (.failure, .failure): break
        default: preconditionFailure("the raw reading refuses other pages")
        }
    }

    /// Value parsers of every kind: a parsed value is in range and its text parses back to it.
    static func values(_ bytes: [UInt8]) {
        guard let kindByte = bytes.first else { return }
        let kinds = ["text", "integer", "decimal", "date", "member", "boolean", "reference", "timestamp"]
        let kind = kinds[Int(kindByte) % kinds.count]
        let text = String(decoding: bytes.dropFirst(), as: UTF8.self)
        if let v = try? Value.parse(kind: kind, text: text) {
            check(v)
            precondition((try? Value.parse(kind: kind, text: v.canonicalText)) == v, "\(kind) does not round-trip")
        }
        if let json = try? JSON.parse(text), let v = try? Value(typedJSON: json) { _ = v.canonicalText }
        // The same bytes as wire numbers: a timestamp, a date, a decimal, checked as the hub reads them.
        let number = bytes.dropFirst().prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        var timestamp = WireValue(), date = WireValue(), decimal = WireValue()
        timestamp.timestamp = Int64(bitPattern: number)
        date.date = Int32(truncatingIfNeeded: number)
        var d = WireDecimal()
        d.units = Int64(bitPattern: number)
        d.scale = UInt32(kindByte % 24)
        decimal.decimal = d
        for wire in [timestamp, date, decimal] {
            if let v = try? wire.coreValue() { check(v) }
            if let v = try? wire.pulledValue() { _ = v.canonicalText }  // a replica prints what its hub sent, in range or not
        }
    }

    static func check(_ value: Value) {
        precondition(value.rangeProblem == nil, "a value out of range got past decoding")
        _ = value.canonicalText
        _ = value.canonicalBytes
        if case let .timestamp(t) = value { _ = t.date.description }
    }

    /// Starting inputs: one per decoder, from real messages (a push, a page, the default
    /// workspace, a CSV file, values of every kind).
    public static var seeds: [[UInt8]] {
        var out = [[UInt8]]()
        func add(_ t: Target, _ bytes: [UInt8]) { out.append([t.rawValue] + bytes) }
        var rng = SystemRandomNumberGenerator()
        let replica = ReplicaID.random(using: &rng)
        let record = UUID128.version7(milliseconds: 1_795_000_000_000, using: &rng)
        let writes = [
            FieldWrite(
                record: record, entity: "opportunity", kind: .create, value: .member("discovery"), author: "fuzz",
                stamp: Stamp(hlc: HLC(milliseconds: 1_795_000_000_000, counter: 0), replica: replica)),
            FieldWrite(
                record: record, entity: "opportunity", field: "amount", value: .decimal(ExactDecimal(units: 4_800_000, scale: 2)),
                base: .none, author: "fuzz", stamp: Stamp(hlc: HLC(milliseconds: 1_795_000_000_001, counter: 0), replica: replica)),
            FieldWrite(
                record: record, entity: "opportunity", field: "close_date", value: .date(CivilDate(year: 2027, month: 3, day: 31)!),
                base: .sequence(3), author: "fuzz", stamp: Stamp(hlc: HLC(milliseconds: 1_795_000_000_002, counter: 1), replica: replica)),
        ]
        if let push = try? BatchCoding.encode(writes, replica: replica, batch: 1, workspace: .default) {
            add(.pushProtobuf, try! BodyCodec.encode(push, as: .protobuf))
            add(.pushJSON, try! BodyCodec.encode(push, as: .json))
            add(.compressed, try! BodyCodec.encode(push, as: .protobuf, coding: .deflate))
        }
        var pull = PullRequest()
        pull.replica = Data(replica.bytes)
        pull.cursor = 7
        pull.forget = [Data(record.bytes)]
        add(.pull, try! BodyCodec.encode(pull, as: .protobuf))
        var handshake = HandshakeRequest()
        handshake.replica = Data(replica.bytes)
        handshake.maxVersion = 2
        add(.handshake, try! BodyCodec.encode(handshake, as: .json))
        var page = PullResponse()
        var state = WireRecordState()
        state.record = Data(record.bytes)
        state.entity = 1
        var change = WireChange()
        change.sequence = 3
        change.field = 4
        change.value = WireValue(.decimal(ExactDecimal(units: 100, scale: 2)))
        state.fields = [change]
        page.entered = [state]
        page.authors = ["sam"]
        page.replicas = [Data(replica.bytes)]
        page.cursor = 3
        if let bytes = try? PageCoding.encode(page) { add(.page, bytes) }
        add(.workspace, Array(Workspace.defaultDocument.utf8))
        add(.csv, Array("name,amount,close_date\n\"ACME, Inc\",48000.00,2027-03-31\n李伟,1.5,\n".utf8))
        for (i, text) in ["商机", "-42", "12000.00", "2026-12-01", "discovery", "true", record.description, "2026-11-29T01:43:48.123Z"].enumerated() {
            add(.values, [UInt8(i)] + Array(text.utf8))
        }
        return out
    }
}
