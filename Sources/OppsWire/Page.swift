import Foundation
import OppsCore
import SwiftProtobuf

/// Builds a pull page's parts (sync-protocol.md §6.2): changes with authors and replicas as
/// indexes into the page's tables, whole records, conflicts. The hub's pull fills one;
/// `PageReader` reads what it wrote — the one pair that defines a page on both sides.
public struct PageWriter {
    public private(set) var page = PullResponse()
    let numbering: WireNumbering
    /// Protocol 2: a whole record's fields leave out the record and entity its state names.
    let compactEntered: Bool
    var authors = [String: UInt32]()
    var replicas = [ReplicaID: UInt32]()

    /// Who reads the page, and the workspace: on a record whose names are withheld from the
    /// reader (visibility.md §6, each call's `withheld`), every other name goes out empty — its
    /// authors, and the names in its values (`NamingFields`).
    let reader: UserName
    let workspace: Workspace?
    /// Each entity's fields that carry names, by entity number (worked out once a page).
    var naming = [UInt32: NamingFields]()

    public init(numbering: WireNumbering, compactEntered: Bool, reader: UserName = "", workspace: Workspace? = nil) {
        self.numbering = numbering
        self.compactEntered = compactEntered
        self.reader = reader
        self.workspace = workspace
    }

    /// A field's author and value as the reader receives them.
    @inline(__always)
    mutating func shown(_ s: FieldState, entity: UInt32, field: String, withheld: Bool) -> (author: UserName, value: Value) {
        guard withheld else { return (s.author, s.value) }
        return (Workspace.shown(s.author, to: reader), namingFields(entity)?.withholding(s.value, field: field, by: s.author, from: reader) ?? s.value)
    }

    mutating func namingFields(_ entity: UInt32) -> NamingFields? {
        if let known = naming[entity] { return known }
        guard let workspace, let name = numbering.entity(number: entity)?.name else { return nil }
        let n = NamingFields(workspace, entity: name)
        naming[entity] = n
        return n
    }

    /// The last author and replica looked up: a record's fields are mostly one person's, from
    /// one replica, and hashing the key for each was most of what the tables cost.
    var lastAuthor: (key: String, index: UInt32)?
    var lastReplica: (key: ReplicaID, index: UInt32)?

    mutating func authorIndex(_ a: String) -> UInt32 {
        Self.index(of: a, last: &lastAuthor, in: &authors) { page.authors.append($0) }
    }

    mutating func replicaIndex(_ r: ReplicaID) -> UInt32 {
        Self.index(of: r, last: &lastReplica, in: &replicas) { page.replicas.append(Data($0.bytes)) }
    }

    /// A key's index in the page's table of them (`authors`, `replicas`), the key added to the
    /// page (`add`) the first time.
    private static func index<Key: Hashable>(
        of key: Key, last: inout (key: Key, index: UInt32)?, in table: inout [Key: UInt32], add: (Key) -> Void
    ) -> UInt32 {
        if let l = last, l.key == key { return l.index }
        let i: UInt32
        if let known = table[key] {
            i = known
        } else {
            i = UInt32(table.count)
            table[key] = i
            add(key)
        }
        last = (key, i)
        return i
    }

    /// `record` empty and `named` false: a whole record's field.
    mutating func change(
        record: Data, entity: WireNumbering.EntityNumbers?, named: Bool = true, field: String, kind: WriteKind, state s: FieldState, withheld: Bool = false
    ) -> WireChange {
        let (author, value) = shown(s, entity: entity?.number ?? 0, field: field, withheld: withheld)
        var c = WireChange()
        c.sequence = s.sequence
        c.record = record
        c.entity = named ? entity?.number ?? 0 : 0
        c.field = kind == .create ? 0 : entity?.fieldNumbers[field] ?? 0
        c.kind = WireWriteKind(kind)
        if !value.isNull { c.value = WireValue(value) }
        c.hlc = s.stamp.hlc.rawValue
        c.replica = replicaIndex(s.stamp.replica)
        c.author = authorIndex(author)
        c.authority = UInt32(s.authority.rawValue)
        return c
    }

    /// Log entries, in sequence order, as the page's changes; `withheld`, one for each entry
    /// when given: whether the names on its record are withheld from the reader.
    public mutating func add(changes entries: [LogEntry], withheld: [Bool]? = nil) {
        for (i, e) in entries.enumerated() {
            page.changes.append(
                change(
                    record: Data(e.record.bytes), entity: numbering.entity(e.entity), field: e.field, kind: e.kind, state: e.state,
                    withheld: withheld?[i] ?? false))
        }
    }

    /// A record's delete, for a replica that held it (merge-semantics.md §7.2).
    public mutating func deletion(of record: RecordID, entity: String, deleted d: FieldState, withheld: Bool = false) -> WireChange {
        change(
            record: Data(record.bytes), entity: numbering.entity(entity), field: "", kind: .delete,
            state: FieldState(value: .null, stamp: d.stamp, author: d.author, authority: d.authority, sequence: d.sequence), withheld: withheld)
    }

    /// Merges deletions into the changes, in sequence order (a deleted record has no entries
    /// after its delete, I9, so order holds).
    public mutating func add(deletions: [WireChange]) {
        if !deletions.isEmpty { page.changes = (deletions + page.changes).sorted { $0.sequence < $1.sequence } }
    }

    public mutating func left(_ id: RecordID) { page.left.append(Data(id.bytes)) }

    /// Whole records written straight into protobuf: `entered` entries (tag, length,
    /// `RecordState`), in the order added. Building each record's `RecordState` and `Change`
    /// messages and then encoding them was a third of the hub's CPU in a cold sync (BENCHMARKS.md,
    /// seventeenth session); `finished()` hands them to the page.
    var enteredBytes = [UInt8]()
    /// How many whole records the page carries.
    public private(set) var enteredCount = 0
    /// One record's `RecordState`, and one field's `Change`, before their lengths are known.
    var stateScratch = [UInt8](), changeScratch = [UInt8]()
    /// A record's fields in sequence order (positions in its array).
    var order = [(sequence: UInt64, index: Int)]()

    /// A record whole, as of now, without `hidden` fields; returns how many fields it carries.
    /// Its bytes are exactly SwiftProtobuf's for `wholeState(record, hidden:)` (tests hold it).
    @discardableResult
    public mutating func entered(_ record: Record, hidden: Set<String>, withheld: Bool = false) -> Int {
        let numbers = numbering.entity(record.entity)
        return entered(NumberedRecord(record) { numbers?.fieldNumbers[$0] }, hidden: hidden, withheld: withheld)
    }

    /// A record whole, its fields numbered (as the hub's store hands them, `numberedRecords`):
    /// the same bytes as for the same `Record`, without looking each field's number up by name.
    @discardableResult
    public mutating func entered(_ record: NumberedRecord, hidden: Set<String>, withheld: Bool = false) -> Int {
        let entity = numbering.entity(record.entity)?.number ?? 0
        var fields = 1
        stateScratch.removeAll(keepingCapacity: true)
        stateScratch.append(0x0A)
        stateScratch.append(16)
        Self.append(record.id, &stateScratch)
        if entity != 0 { stateScratch.append(0x10); PageCoding.varint(UInt64(entity), &stateScratch) }
        let named = !compactEntered
        writeField(of: record.id, named: named, entity: entity, number: 0, name: "", kind: .create, state: record.created, withheld: withheld)
        // In sequence order (then by number, then name: one order whatever order the fields
        // come in): each field's sequence read once, the pairs sorted (a comparison reading the
        // fields themselves copied two of them each time, a third of this writer's CPU in a
        // cold sync's profile). Stored fields are in workspace order.
        order.removeAll(keepingCapacity: true)
        record.fields.withUnsafeBufferPointer { all in
            for i in all.indices { order.append((all[i].state.sequence, i)) }
            order.sort { a, b in
                if a.sequence != b.sequence { return a.sequence < b.sequence }
                let (x, y) = (all[a.index], all[b.index])
                return x.number != y.number ? x.number < y.number : x.name < y.name
            }
            for (_, i) in order where hidden.isEmpty || !hidden.contains(all[i].name) {
                writeField(of: record.id, named: named, entity: entity, number: all[i].number, name: all[i].name, kind: .set, state: all[i].state, withheld: withheld)
                fields += 1
            }
        }
        enteredBytes.append(0x12)
        PageCoding.varint(UInt64(stateScratch.count), &enteredBytes)
        enteredBytes.append(contentsOf: stateScratch)
        enteredCount += 1
        return fields
    }

    /// One of a whole record's fields (a `Change`, field 3 of `RecordState`) into the record's
    /// scratch; `named`: with its record and entity (protocol 1).
    private mutating func writeField(
        of id: RecordID, named: Bool, entity: UInt32, number: UInt32, name: String, kind: WriteKind, state s: FieldState, withheld: Bool
    ) {
        let (authorName, value) = shown(s, entity: entity, field: name, withheld: withheld)
        var out = changeScratch
        changeScratch = []
        out.removeAll(keepingCapacity: true)
        if s.sequence != 0 { out.append(0x08); PageCoding.varint(s.sequence, &out) }
        if named {
            out.append(0x12)
            out.append(16)
            Self.append(id, &out)
            if entity != 0 { out.append(0x18); PageCoding.varint(UInt64(entity), &out) }
        }
        if number != 0 { out.append(0x20); PageCoding.varint(UInt64(number), &out) }
        let kindNumber = UInt64(WireWriteKind(kind).rawValue)
        if kindNumber != 0 { out.append(0x28); PageCoding.varint(kindNumber, &out) }
        if !value.isNull { Self.append(value, &out) }
        if s.stamp.hlc.rawValue != 0 { out.append(0x38); PageCoding.varint(s.stamp.hlc.rawValue, &out) }
        let replica = replicaIndex(s.stamp.replica), author = authorIndex(authorName)
        if replica != 0 { out.append(0x40); PageCoding.varint(UInt64(replica), &out) }
        if author != 0 { out.append(0x48); PageCoding.varint(UInt64(author), &out) }
        if s.authority.rawValue != 0 { out.append(0x50); PageCoding.varint(UInt64(s.authority.rawValue), &out) }
        stateScratch.append(0x1A)
        PageCoding.varint(UInt64(out.count), &stateScratch)
        stateScratch.append(contentsOf: out)
        changeScratch = out
    }

    /// An id's 16 bytes, big-endian.
    @inline(__always) static func append(_ id: UUID128, _ out: inout [UInt8]) {
        withUnsafeBytes(of: id.high.bigEndian) { out.append(contentsOf: $0) }
        withUnsafeBytes(of: id.low.bigEndian) { out.append(contentsOf: $0) }
    }

    /// A value as a `Change`'s field 6 (a `Value` message), the bytes `WireValue(v)` encodes to.
    static func append(_ v: Value, _ out: inout [UInt8]) {
        func delimited(_ tag: UInt8, _ count: Int) {
            out.append(0x32)
            PageCoding.varint(UInt64(1 + PageCoding.varintSize(UInt64(count)) + count), &out)
            out.append(tag)
            PageCoding.varint(UInt64(count), &out)
        }
        func scalar(_ tag: UInt8, _ value: UInt64) {
            out.append(0x32)
            PageCoding.varint(UInt64(1 + PageCoding.varintSize(value)), &out)
            out.append(tag)
            PageCoding.varint(value, &out)
        }
        switch v {
        case .null: break
        case .text(var s):
            s.withUTF8 {
                delimited(0x0A, $0.count); out.append(contentsOf: $0)
            }
        case let .integer(i): scalar(0x10, PageCoding.zigzag(i))
        case let .decimal(d):
            let units = PageCoding.scalar(PageCoding.zigzag(d.units)), scale = PageCoding.scalar(UInt64(d.scale))
            delimited(0x1A, units + scale)
            if d.units != 0 { out.append(0x08); PageCoding.varint(PageCoding.zigzag(d.units), &out) }
            if d.scale != 0 { out.append(0x10); PageCoding.varint(UInt64(d.scale), &out) }
        case let .date(d): scalar(0x20, UInt64(bitPattern: Int64(d.daysSinceEpoch)))
        case .member(var m):
            m.withUTF8 {
                delimited(0x2A, $0.count); out.append(contentsOf: $0)
            }
        case let .boolean(b): scalar(0x30, b ? 1 : 0)
        case let .reference(r):
            delimited(0x3A, 16)
            append(r, &out)
        case let .timestamp(t): scalar(0x40, PageCoding.zigzag(t.milliseconds))
        }
    }

    /// The page, its whole records with it. They travel in the page's unknown fields, as the
    /// `entered` entries (field 2) they are: every protobuf writer — SwiftProtobuf's for a pull a
    /// push carries, `PageCoding.encode` for a page — writes them as they are, after the page's
    /// other fields, and every protobuf reader reads them as `entered`. JSON has no unknown
    /// fields: `BodyCodec` decodes them into `entered` first (`PageCoding.wholeRecordsDecoded`).
    /// (SwiftProtobuf lets unknown fields be set only by decoding them: a message with no
    /// fields of its own, `Empty`, takes every entry as unknown.)
    public func finished() throws -> PullResponse {
        var page = self.page
        if !enteredBytes.isEmpty { page.unknownFields = try Google_Protobuf_Empty(serializedBytes: enteredBytes).unknownFields }
        return page
    }

    /// A record whole as the generated types build it: the reference `entered` is held to.
    func wholeState(_ record: Record, hidden: Set<String>, withheld: Bool = false) -> WireRecordState {
        var writer = self
        let data = Data(record.id.bytes)
        let numbers = numbering.entity(record.entity)
        var state = WireRecordState()
        state.record = data
        state.entity = numbers?.number ?? 0
        let fieldRecord = compactEntered ? Data() : data
        state.fields.append(
            writer.change(record: fieldRecord, entity: numbers, named: !compactEntered, field: "", kind: .create, state: record.created, withheld: withheld))
        let byWrite = record.fields.sorted {
            ($0.value.sequence, numbers?.fieldNumbers[$0.key] ?? 0, $0.key) < ($1.value.sequence, numbers?.fieldNumbers[$1.key] ?? 0, $1.key)
        }
        for (name, s) in byWrite where !hidden.contains(name) {
            state.fields.append(
                writer.change(record: fieldRecord, entity: numbers, named: !compactEntered, field: name, kind: .set, state: s, withheld: withheld))
        }
        return state
    }

    /// A conflict as its reader may see it (I16): `readable` — the record and field are
    /// visible to them — gives them the values; the loser always gets their own value.
    /// `withheld`: the names on its record are withheld from the reader (visibility.md §6).
    public mutating func conflict(_ c: ConflictRecord, hubMilliseconds: Int64, workspace: Workspace, reader: UserName, readable: Bool, withheld: Bool = false) {
        func named(_ name: UserName) -> UserName { withheld ? Workspace.shown(name, to: reader) : name }
        var w = WireConflict()
        w.id = c.id
        w.record = Data(c.record.bytes)
        let e = numbering.entity(c.entity)
        w.entity = e?.number ?? 0
        w.field = e?.fieldNumbers[c.field] ?? 0
        w.outcome = WireOutcome(c.outcome)
        w.rule = c.rule.rawValue
        if !c.loser.value.isNull, c.loser.author == reader {
            w.value = WireValue(c.loser.value)  // their own value, as they wrote it
        } else if !c.loser.value.isNull, readable {
            w.value = WireValue(
                withheld ? namingFields(e?.number ?? 0)?.withholding(c.loser.value, field: c.field, by: c.loser.author, from: reader) ?? c.loser.value : c.loser.value)
        }
        w.author = authorIndex(named(c.loser.author))
        w.hlc = c.loser.stamp.hlc.rawValue
        // Present (empty when nothing holds) to a reader who may read it; absent when withheld.
        if readable {
            let value = c.winner?.value ?? .null
            let author = c.winner?.author ?? ""
            w.winner = WireValue(withheld ? namingFields(e?.number ?? 0)?.withholding(value, field: c.field, by: author, from: reader) ?? value : value)
        }
        // Who wrote what holds is the record's too: withheld with it.
        if readable, let winner = c.winner { w.winnerAuthor = authorIndex(named(winner.author)) }
        w.hubTime = hubMilliseconds
        page.conflicts.append(w)
    }

    /// The rest of the page (cursor, token, checkpoint…), set by the hub on the page itself.
    public mutating func with(_ body: (inout PullResponse) -> Void) { body(&page) }
}

/// Reads what `PageWriter` wrote, on the replica.
public struct PageReader {
    public let page: PullResponse
    /// The whole records the page left in its bytes (`PulledPage`).
    let raw: (bytes: [UInt8], entries: [Range<Int>])
    let replicas: [ReplicaID]
    let numbering: WireNumbering

    /// A change names an entity or field the reader's workspace does not have: a newer
    /// workspace, the replica handshakes again.
    public struct WorkspaceAhead: Error {}

    public init(_ page: PullResponse, numbering: WireNumbering) {
        self.init(PulledPage(page), numbering: numbering)
    }

    public init(_ page: PulledPage, numbering: WireNumbering) {
        self.page = page.response
        raw = (page.bytes, page.entries)
        self.numbering = numbering
        replicas = page.response.replicas.compactMap { ReplicaID(bytes: $0) }
    }

    /// A change as a log entry; nil when it is malformed. `state`: the whole record it belongs
    /// to, whose record and entity a field may leave out (protocol 2).
    public func entry(_ c: WireChange, of state: (record: RecordID, entity: UInt32)? = nil) throws -> LogEntry? {
        // A decoded change has no buffer: only whether its record bytes are there counts.
        try entry(
            FieldChange(
                sequence: c.sequence, recordBytes: 0..<c.record.count, recordID: RecordID(bytes: c.record), entity: c.entity, field: c.field, kind: c.kind,
                value: c.hasValue ? c.value : nil, hlc: c.hlc, replica: c.replica, author: c.author, authority: c.authority),
            of: state)
    }

    func entry(_ c: FieldChange, of state: (record: RecordID, entity: UInt32)?) throws -> LogEntry? {
        let number = c.entity == 0 ? state?.entity ?? 0 : c.entity
        guard let entity = numbering.entity(number: number) else {
            if number != 0 { throw WorkspaceAhead() }
            return nil
        }
        guard let record = c.recordBytes.isEmpty ? state?.record : c.recordID, let kind = c.kind.coreKind,
            Int(c.replica) < replicas.count, Int(c.author) < page.authors.count, let authority = Access(rawValue: Int(c.authority))
        else { return nil }
        var field = ""
        if kind == .set {
            guard let f = entity.fieldNames[c.field] else { throw WorkspaceAhead() }
            field = f
        }
        return LogEntry(
            sequence: c.sequence, record: record, entity: entity.name, field: field, kind: kind, value: try c.value?.pulledValue() ?? .null,
            stamp: Stamp(hlc: HLC(rawValue: c.hlc), replica: replicas[Int(c.replica)]), author: page.authors[Int(c.author)], authority: authority)
    }

    /// A whole record, built with the core's per-record rule; nil when it has no creation.
    public func record(_ e: WireRecordState) throws -> Record? {
        guard let id = RecordID(bytes: e.record) else { return nil }
        var builder = RecordBuilder(id: id, entity: e.entity, fields: e.fields.count)
        // Through the buffer: iterating the array copied each change first.
        try e.fields.withUnsafeBufferPointer { fields in
            for i in fields.indices { builder.take(try entry(fields[i], of: (id, e.entity))) }
        }
        return builder.record
    }

    /// A record being built from its fields in page order: the first creation makes it, every
    /// later change applies to it (the core's per-record rule). Read raw (each change's field
    /// number at hand), it stays a `WholeRecord` — fields numbered, its checksum term summed as
    /// they come — while it is one: live, each field of its own entity once. Anything else (a
    /// field twice, a delete, a change of another entity) makes it a `Record` from there on.
    struct RecordBuilder {
        let id: RecordID
        let entity: UInt32
        let fields: Int
        /// While the record is whole: its entity, creation, fields and term, kept here (not in
        /// a `WholeRecord` taken out and put back for each field, which copied it each time).
        var wholeEntity: String?
        var wholeCreated: FieldState?
        var wholeFields = [NumberedField]()
        var wholeTerm: UInt64 = 0
        var record: Record?
        let terms: StateChecksum.RecordTerms
        /// The field numbers taken while whole: below 128 as bits, others in the set.
        var low: (UInt64, UInt64) = (0, 0)
        var high = Set<UInt32>()

        /// The record whole, when it still is one.
        var whole: WholeRecord? {
            guard let entity = wholeEntity, let created = wholeCreated else { return nil }
            return WholeRecord(id: id, entity: entity, created: created, fields: wholeFields, term: wholeTerm)
        }

        init(id: RecordID, entity: UInt32, fields: Int) {
            self.id = id
            self.entity = entity
            self.fields = fields
            terms = StateChecksum.RecordTerms(id)
        }

        /// Whether `n` is taken for the first time (and marks it taken).
        mutating func first(_ n: UInt32) -> Bool {
            switch n {
            case 0..<64:
                let bit = UInt64(1) << UInt64(n)
                defer { low.0 |= bit }
                return low.0 & bit == 0
            case 64..<128:
                let bit = UInt64(1) << UInt64(n - 64)
                defer { low.1 |= bit }
                return low.1 & bit == 0
            default: return high.insert(n).inserted
            }
        }

        mutating func take(_ le: LogEntry?, number: UInt32? = nil) {
            guard let le else { return }
            if le.kind == .create {
                guard wholeEntity == nil, record == nil else { return }
                if number != nil {
                    wholeEntity = le.entity
                    wholeCreated = le.state
                    wholeTerm = terms.term(fieldNumber: 0, state: le.state)
                    wholeFields.reserveCapacity(fields)
                } else {
                    record = Record(id: id, entity: le.entity, created: le.state)
                    // Room for every field at once (growing it as they arrive rehashed each time).
                    record?.fields.reserveCapacity(fields)
                }
                return
            }
            if let entity = wholeEntity {
                if le.kind == .set, let n = number, le.entity == entity, first(n) {
                    wholeTerm &+= terms.term(fieldNumber: n, state: le.state)
                    wholeFields.append(NumberedField(number: n, name: le.field, state: le.state))
                    return
                }
                // No longer whole: a `Record` from here on.
                record = whole?.record
                (wholeEntity, wholeCreated, wholeFields) = (nil, nil, [])
            }
            record?.apply(le)
        }
    }

    /// The whole records a received page left in its bytes (`PulledPage`), in page order, read
    /// straight from their bytes: what `record(_:)` makes of the same entries decoded. An entry
    /// the fast reader does not take is decoded by SwiftProtobuf and read as a message; one
    /// SwiftProtobuf refuses makes the page malformed.
    func rawEntered(into r: inout ReceivedPage) throws {
        guard !raw.entries.isEmpty else { return }
        // In page order; a record entered more than once on the page (decoded entries count)
        // goes to `entered` each time, as a `Record`, so the last one holds.
        var read = [(id: RecordID, whole: WholeRecord?, record: Record?)]()
        var seen = Set<RecordID>(r.entered.map(\.id)), twice = Set<RecordID>()
        var scratch = EntryScratch()
        try raw.bytes.withUnsafeBytes { buffer in
            for entry in raw.entries {
                // `PageCoding.pulled` found them inside the bytes.
                guard entry.lowerBound >= 0, entry.upperBound <= buffer.count else { throw Self.malformed }
                guard let item = try enteredEntry(in: buffer, entry, &scratch) else { continue }
                if !seen.insert(item.id).inserted { twice.insert(item.id) }
                read.append(item)
            }
        }
        for item in read {
            if let w = item.whole, !twice.contains(item.id) { r.whole.append(w) } else { r.entered.append((item.id, item.whole?.record ?? item.record)) }
        }
    }

    /// What reading one entry reuses from the one before.
    struct EntryScratch {
        var fieldRanges = [Range<Int>]()
        var changes = [FieldChange]()
    }

    /// One `entered` entry (a `RecordState`'s bytes) read into a record: whole when it is one
    /// (`RecordBuilder`); nil when it names no record.
    func enteredEntry(in buffer: UnsafeRawBufferPointer, _ all: Range<Int>, _ scratch: inout EntryScratch) throws -> (id: RecordID, whole: WholeRecord?, record: Record?)?
    {
        var entry = PageCoding.Reader(buffer, from: all.lowerBound, to: all.upperBound)
        // The record state's own fields first: its fields name it only by position.
        var id: RecordID?, entity: UInt32 = 0, ok = true
        scratch.fieldRanges.removeAll(keepingCapacity: true)
        while ok, !entry.atEnd {
            guard let (f, t) = try? entry.tag() else { ok = false; break }
            switch (f, t) {
            case (1, 2):
                guard let d = try? entry.delimited() else { ok = false; break }
                id = d.end - d.position == 16 ? UUID128(bytes: UnsafeRawBufferPointer(rebasing: buffer[d.position..<d.end])) : nil
            case (2, 0): if let e = try? entry.uint32() { entity = e } else { ok = false }
            case (3, 2): if let d = try? entry.delimited() { scratch.fieldRanges.append(d.position..<d.end) } else { ok = false }
            case (4, 0): if (try? entry.bool()) == nil { ok = false }
            default: ok = false
            }
        }
        // Every field read before any is taken: a field the fast reader does not take
        // sends the whole entry to SwiftProtobuf, whatever came before it.
        scratch.changes.removeAll(keepingCapacity: true)
        for range in scratch.fieldRanges where ok {
            var change = PageCoding.Reader(buffer, from: range.lowerBound, to: range.upperBound)
            if let c = try? change.fieldChange() { scratch.changes.append(c) } else { ok = false }
        }
        if ok, let id {
            var builder = RecordBuilder(id: id, entity: entity, fields: scratch.changes.count)
            try scratch.changes.withUnsafeBufferPointer { changes in
                for i in changes.indices { builder.take(try self.entry(changes[i], of: (id, entity)), number: changes[i].field) }
            }
            return (id, builder.whole, builder.record)
        }
        // A shape the fast reader does not take: as SwiftProtobuf reads it.
        guard let state = try? WireRecordState(serializedBytes: [UInt8](buffer[all])) else { throw Self.malformed }
        guard let id = RecordID(bytes: state.record) else { return nil }
        return (id, nil, try record(state))
    }

    static let malformed = WireError(.malformedBody, "a whole record of the page is not a valid \(WireRecordState.protoMessageName) in protobuf")

    /// The whole page, decoded for the replica store; throws `WorkspaceAhead` when it names
    /// an entity or field the workspace does not have (then nothing of it may be applied).
    public func received(workspace: Workspace) throws -> ReceivedPage {
        // A page as the hub's writer leaves it (handed over in-process, never over the wire)
        // carries its whole records in its unknown fields: decoded first.
        let page = try PageCoding.wholeRecordsDecoded(self.page)
        var r = ReceivedPage()
        r.left = page.left.compactMap { RecordID(bytes: $0) }
        try page.entered.withUnsafeBufferPointer { entered in
            r.entered.reserveCapacity(entered.count)
            for i in entered.indices {
                guard let id = RecordID(bytes: entered[i].record) else { continue }
                r.entered.append((id, try record(entered[i])))
            }
        }
        try rawEntered(into: &r)
        for c in page.changes { if let le = try entry(c) { r.changes.append(le) } }
        for c in page.conflicts { if let conflict = try conflict(c, workspace: workspace) { r.conflicts.append(conflict) } }
        r.cursor = page.cursor
        r.token = page.token
        r.conflictCursor = page.conflictCursor
        return r
    }

    /// A conflict as the page gives it; field 0 is the record's creation or deletion (`""`).
    public func conflict(_ c: WireConflict, workspace: Workspace) throws -> LocalConflict? {
        guard let record = RecordID(bytes: c.record) else { return nil }
        let entity = workspace.entity(number: c.entity)
        func author(_ i: UInt32) -> UserName? { Int(i) < page.authors.count ? page.authors[Int(i)] : nil }
        return LocalConflict(
            id: c.id, record: record, entity: entity?.name ?? "#\(c.entity)", field: c.field == 0 ? "" : entity?.field(number: c.field)?.name ?? "#\(c.field)",
            outcome: (c.outcome.coreOutcome ?? .rejected).rawValue, rule: c.rule, value: c.hasValue ? try c.value.pulledValue() : .null,
            author: author(c.author) ?? "?", hlc: HLC(rawValue: c.hlc), winner: c.hasWinner ? try c.winner.pulledValue() : nil,
            // Index 0 is also "none": an author only with a value that holds.
            winnerAuthor: c.hasWinner && c.winner.kind != nil ? author(c.winnerAuthor) : nil, hubMilliseconds: c.hubTime)
    }
}
