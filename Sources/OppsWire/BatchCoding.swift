import Foundation
import OppsCore

/// Turns a replica's pending writes into a push batch and back (sync-protocol.md §5.1).
/// Entities and fields travel as their workspace numbers; clocks as deltas from the batch's
/// lowest hlc; a base that is a not-yet-acknowledged write of the same replica as its hlc.
public enum BatchCoding {
    /// Encodes writes of one replica. Every write must name a known entity and field of the
    /// workspace (the replica checked them when they were made).
    public static func encode(_ writes: [FieldWrite], replica: ReplicaID, batch: UInt64, workspace: Workspace) throws(WireError) -> PushRequest {
        var request = PushRequest()
        request.replica = Data(replica.bytes)
        request.batch = batch
        request.workspaceVersion = workspace.version
        let hlcBase = writes.map(\.stamp.hlc.rawValue).min() ?? 0
        request.hlcBase = hlcBase
        // Built apart and set once: `PushRequest` keeps its fields in a shared box (protocol 7's
        // field made it one), so each append through `request.writes` would copy the array.
        var wire = [WireWrite]()
        wire.reserveCapacity(writes.count)
        for w in writes {
            guard w.stamp.replica == replica else { throw WireError(.malformedBody, "a batch holds writes of one replica") }
            guard let entity = workspace.entity(w.entity) else { throw WireError(.malformedBody, "unknown entity \(w.entity)") }
            var m = WireWrite()
            m.record = Data(w.record.bytes)
            m.entity = entity.number
            m.kind = WireWriteKind(w.kind)
            if w.kind == .set {
                guard let field = entity.field(w.field) else { throw WireError(.malformedBody, "unknown field \(w.entity).\(w.field)") }
                m.field = field.number
            }
            if !w.value.isNull { m.value = WireValue(w.value) }
            switch w.base {
            case .none: break
            case let .sequence(s):
                var b = WireBase()
                b.sequence = s
                m.base = b
            case let .stamp(st):
                guard st.replica == replica else { throw WireError(.malformedBody, "an unacknowledged base must be this replica's") }
                var b = WireBase()
                b.localHlc = st.hlc.rawValue
                m.base = b
            }
            m.hlcDelta = w.stamp.hlc.rawValue - hlcBase
            wire.append(m)
        }
        request.writes = wire
        return request
    }

    /// One decoded write of a batch, or why it cannot be one. Unknown entity or field numbers
    /// are not errors of the batch: they become per-write rejections (sync-protocol.md §5.1).
    public enum Item: Sendable, Hashable {
        case write(FieldWrite)
        case unknown(record: RecordID, entity: UInt32, field: UInt32, rule: RuleID, stamp: Stamp)

        /// The record it names.
        public var record: RecordID {
            switch self {
            case let .write(w): w.record
            case let .unknown(record, _, _, _, _): record
            }
        }
    }

    /// Decodes a batch. The author of every write is the authenticated user, never a field
    /// of the body (sync-protocol.md §5.1, merge-semantics.md I12).
    public static func decode(_ request: PushRequest, author: UserName, workspace: Workspace) throws(WireError) -> (replica: ReplicaID, items: [Item]) {
        guard let replica = ReplicaID(bytes: request.replica) else { throw WireError(.invalidId, "replica id is 16 bytes") }
        var items = [Item]()
        items.reserveCapacity(request.writes.count)
        for m in request.writes {
            guard let record = RecordID(bytes: m.record) else { throw WireError(.invalidId, "record id is 16 bytes") }
            guard let kind = m.kind.coreKind else { throw WireError(.malformedBody, "unknown write kind") }
            let (hlc, overflow) = request.hlcBase.addingReportingOverflow(m.hlcDelta)
            if overflow { throw WireError(.malformedBody, "hlc out of range") }
            let stamp = Stamp(hlc: HLC(rawValue: hlc), replica: replica)
            guard let entity = workspace.entity(number: m.entity) else {
                items.append(.unknown(record: record, entity: m.entity, field: m.field, rule: .unknownEntity, stamp: stamp))
                continue
            }
            var fieldName = ""
            if kind == .set {
                guard let name = entity.fieldName(number: m.field) else {
                    items.append(.unknown(record: record, entity: m.entity, field: m.field, rule: .unknownField, stamp: stamp))
                    continue
                }
                fieldName = name
            }
            let base: Base
            switch m.base.kind {
            case nil: base = .none
            case let .sequence(s)?: base = .sequence(s)
            case let .localHlc(h)?: base = .stamp(Stamp(hlc: HLC(rawValue: h), replica: replica))
            }
            let value = m.hasValue ? try m.value.coreValue() : .null
            items.append(
                .write(
                    FieldWrite(
                        record: record, entity: entity.name, field: fieldName, kind: kind, value: value, base: base,
                        author: author, stamp: stamp)))
        }
        return (replica, items)
    }
}
