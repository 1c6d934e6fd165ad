import Foundation
import OppsCore

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

    public init(numbering: WireNumbering, compactEntered: Bool) {
        self.numbering = numbering
        self.compactEntered = compactEntered
    }

    /// The last author looked up: a record's fields are mostly one person's, and hashing the
    /// name for each was most of what the table cost.
    var lastAuthor: (name: String, index: UInt32)?

    mutating func authorIndex(_ a: String) -> UInt32 {
        if let last = lastAuthor, last.name == a { return last.index }
        let i: UInt32
        if let known = authors[a] {
            i = known
        } else {
            i = UInt32(authors.count)
            authors[a] = i
            page.authors.append(a)
        }
        lastAuthor = (a, i)
        return i
    }

    mutating func replicaIndex(_ r: ReplicaID) -> UInt32 {
        if let i = replicas[r] { return i }
        let i = UInt32(replicas.count)
        replicas[r] = i
        page.replicas.append(Data(r.bytes))
        return i
    }

    /// `record` empty and `named` false: a whole record's field.
    mutating func change(record: Data, entity: WireNumbering.EntityNumbers?, named: Bool = true, field: String, kind: WriteKind, state s: FieldState) -> WireChange {
        var c = WireChange()
        c.sequence = s.sequence
        c.record = record
        c.entity = named ? entity?.number ?? 0 : 0
        c.field = kind == .create ? 0 : entity?.fieldNumbers[field] ?? 0
        c.kind = WireWriteKind(kind)
        if !s.value.isNull { c.value = WireValue(s.value) }
        c.hlc = s.stamp.hlc.rawValue
        c.replica = replicaIndex(s.stamp.replica)
        c.author = authorIndex(s.author)
        c.authority = UInt32(s.authority.rawValue)
        return c
    }

    /// Log entries, in sequence order, as the page's changes.
    public mutating func add(changes entries: [LogEntry]) {
        for e in entries {
            page.changes.append(change(record: Data(e.record.bytes), entity: numbering.entity(e.entity), field: e.field, kind: e.kind, state: e.state))
        }
    }

    /// A record's delete, for a replica that held it (merge-semantics.md §7.2).
    public mutating func deletion(of record: Record, deleted d: FieldState) -> WireChange {
        change(
            record: Data(record.id.bytes), entity: numbering.entity(record.entity), field: "", kind: .delete,
            state: FieldState(value: .null, stamp: d.stamp, author: d.author, authority: d.authority, sequence: d.sequence))
    }

    /// Merges deletions into the changes, in sequence order (a deleted record has no entries
    /// after its delete, I9, so order holds).
    public mutating func add(deletions: [WireChange]) {
        if !deletions.isEmpty { page.changes = (deletions + page.changes).sorted { $0.sequence < $1.sequence } }
    }

    public mutating func left(_ id: RecordID) { page.left.append(Data(id.bytes)) }

    /// A record whole, as of now, without `hidden` fields; returns how many fields it carries.
    @discardableResult
    public mutating func entered(_ record: Record, hidden: Set<String>) -> Int {
        let data = Data(record.id.bytes)
        let numbers = numbering.entity(record.entity)
        var state = WireRecordState()
        state.record = data
        state.entity = numbers?.number ?? 0
        state.fields.reserveCapacity(record.fields.count + 1)
        let fieldRecord = compactEntered ? Data() : data
        state.fields.append(change(record: fieldRecord, entity: numbers, named: !compactEntered, field: "", kind: .create, state: record.created))
        // In sequence order, sorting positions rather than copies of the fields.
        var order = Array(record.fields.indices)
        order.sort { record.fields[$0].value.sequence < record.fields[$1].value.sequence }
        for i in order {
            let (name, s) = record.fields[i]
            if !hidden.contains(name) {
                state.fields.append(change(record: fieldRecord, entity: numbers, named: !compactEntered, field: name, kind: .set, state: s))
            }
        }
        page.entered.append(state)
        return state.fields.count
    }

    /// A conflict as its reader may see it (I16): `readable` — the record and field are
    /// visible to them — gives them the values; the loser always gets their own value.
    public mutating func conflict(_ c: ConflictRecord, hubMilliseconds: Int64, workspace: Workspace, reader: UserName, readable: Bool) {
        var w = WireConflict()
        w.id = c.id
        w.record = Data(c.record.bytes)
        let e = numbering.entity(c.entity)
        w.entity = e?.number ?? 0
        w.field = e?.fieldNumbers[c.field] ?? 0
        w.outcome = WireOutcome(c.outcome)
        w.rule = c.rule.rawValue
        if !c.loser.value.isNull, readable || c.loser.author == reader { w.value = WireValue(c.loser.value) }
        w.author = authorIndex(c.loser.author)
        w.hlc = c.loser.stamp.hlc.rawValue
        // Present (empty when nothing holds) to a reader who may read it; absent when withheld.
        if readable { w.winner = WireValue(c.winner?.value ?? .null) }
        if let winner = c.winner { w.winnerAuthor = authorIndex(winner.author) }
        w.hubTime = hubMilliseconds
        page.conflicts.append(w)
    }

    /// The rest of the page (cursor, token, checkpoint…), set by the hub on the page itself.
    public mutating func with(_ body: (inout PullResponse) -> Void) { body(&page) }
}

/// Reads what `PageWriter` wrote, on the replica.
public struct PageReader {
    public let page: PullResponse
    let replicas: [ReplicaID]
    let numbering: WireNumbering

    /// A change names an entity or field the reader's workspace does not have: a newer
    /// workspace, the replica handshakes again.
    public struct WorkspaceAhead: Error {}

    public init(_ page: PullResponse, numbering: WireNumbering) {
        self.page = page
        self.numbering = numbering
        replicas = page.replicas.compactMap { ReplicaID(bytes: $0) }
    }

    /// A change as a log entry; nil when it is malformed. `state`: the whole record it belongs
    /// to, whose record and entity a field may leave out (protocol 2).
    public func entry(_ c: WireChange, of state: (record: RecordID, entity: UInt32)? = nil) throws -> LogEntry? {
        let number = c.entity == 0 ? state?.entity ?? 0 : c.entity
        guard let entity = numbering.entity(number: number) else {
            if number != 0 { throw WorkspaceAhead() }
            return nil
        }
        guard let record = c.record.isEmpty ? state?.record : RecordID(bytes: c.record), let kind = c.kind.coreKind,
            Int(c.replica) < replicas.count, Int(c.author) < page.authors.count, let authority = Access(rawValue: Int(c.authority))
        else { return nil }
        var field = ""
        if kind == .set {
            guard let f = entity.fieldNames[c.field] else { throw WorkspaceAhead() }
            field = f
        }
        return LogEntry(
            sequence: c.sequence, record: record, entity: entity.name, field: field, kind: kind, value: c.hasValue ? try c.value.pulledValue() : .null,
            stamp: Stamp(hlc: HLC(rawValue: c.hlc), replica: replicas[Int(c.replica)]), author: page.authors[Int(c.author)], authority: authority)
    }

    /// A whole record, built with the core's per-record rule; nil when it has no creation.
    public func record(_ e: WireRecordState) throws -> Record? {
        guard let id = RecordID(bytes: e.record) else { return nil }
        var record: Record?
        // Through the buffer: iterating the array copied each change first.
        try e.fields.withUnsafeBufferPointer { fields in
            for i in fields.indices {
                guard let le = try entry(fields[i], of: (id, e.entity)) else { continue }
                if le.kind == .create {
                    if record == nil {
                        record = Record(id: id, entity: le.entity, created: le.state)
                        // Room for every field at once (growing it as they arrive rehashed each time).
                        record?.fields.reserveCapacity(fields.count)
                    }
                } else {
                    record?.apply(le)
                }
            }
        }
        return record
    }

    /// The whole page, decoded for the replica store; throws `WorkspaceAhead` when it names
    /// an entity or field the workspace does not have (then nothing of it may be applied).
    public func received(workspace: Workspace) throws -> ReceivedPage {
        var r = ReceivedPage()
        r.left = page.left.compactMap { RecordID(bytes: $0) }
        try page.entered.withUnsafeBufferPointer { entered in
            r.entered.reserveCapacity(entered.count)
            for i in entered.indices {
                guard let id = RecordID(bytes: entered[i].record) else { continue }
                r.entered.append((id, try record(entered[i])))
            }
        }
        for c in page.changes { if let le = try entry(c) { r.changes.append(le) } }
        for c in page.conflicts { if let conflict = try conflict(c, workspace: workspace) { r.conflicts.append(conflict) } }
        r.cursor = page.cursor
        r.token = page.token
        r.conflictCursor = page.conflictCursor
        return r
    }

    /// A conflict as the page gives it.
    public func conflict(_ c: WireConflict, workspace: Workspace) throws -> LocalConflict? {
        guard let record = RecordID(bytes: c.record) else { return nil }
        let entity = workspace.entity(number: c.entity)
        func author(_ i: UInt32) -> UserName? { Int(i) < page.authors.count ? page.authors[Int(i)] : nil }
        return LocalConflict(
            id: c.id, record: record, entity: entity?.name ?? "#\(c.entity)", field: entity?.field(number: c.field)?.name ?? "#\(c.field)",
            outcome: (c.outcome.coreOutcome ?? .rejected).rawValue, rule: c.rule, value: c.hasValue ? try c.value.pulledValue() : .null,
            author: author(c.author) ?? "?", hlc: HLC(rawValue: c.hlc), winner: c.hasWinner ? try c.winner.pulledValue() : nil,
            // Index 0 is also "none": an author only with a value that holds.
            winnerAuthor: c.hasWinner && c.winner.kind != nil ? author(c.winnerAuthor) : nil, hubMilliseconds: c.hubTime)
    }
}
