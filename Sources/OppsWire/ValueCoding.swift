import Foundation
import OppsCore

extension WireValue {
    /// The wire form of a core value; null leaves the oneof unset.
    public init(_ value: Value) {
        self.init()
        switch value {
        case .null: kind = nil
        case let .text(s): kind = .text(s)
        case let .integer(i): kind = .integer(i)
        case let .decimal(d):
            var w = WireDecimal()
            w.units = d.units
            w.scale = UInt32(d.scale)
            kind = .decimal(w)
        case let .date(d): kind = .date(d.daysSinceEpoch)
        case let .member(m): kind = .member(m)
        case let .boolean(b): kind = .boolean(b)
        case let .reference(r): kind = .reference(Data(r.bytes))
        case let .timestamp(t): kind = .timestamp(t.milliseconds)
        }
    }

    /// The core value, or `malformed-body` when the wire value is impossible and
    /// `invalid-value` when it lies outside its kind's range (merge-semantics.md §1.1): nothing
    /// out of range gets past decoding, so nothing stored or computed from it can trap.
    public func coreValue() throws(WireError) -> Value {
        let value = try pulledValue()
        if let problem = value.rangeProblem { throw WireError(.invalidValue, problem) }
        return value
    }

    /// The core value without the range check: what a replica reads from its hub. The hub is the
    /// authority and a replica mirrors it; a value a hub stored before values had ranges must
    /// not stop every sync of everyone who sees it (readers survive any value, §1.1).
    public func pulledValue() throws(WireError) -> Value {
        switch kind {
        case nil: return .null
        case let .text(s)?: return .text(s)
        case let .integer(i)?: return .integer(i)
        case let .decimal(d)?:
            guard d.scale <= UInt32(ExactDecimal.maxScale) else { throw WireError(.malformedBody, "decimal scale above 18") }
            return .decimal(ExactDecimal(units: d.units, scale: UInt8(d.scale)))
        case let .date(d)?: return .date(CivilDate(daysSinceEpoch: d))
        case let .member(m)?: return .member(m)
        case let .boolean(b)?: return .boolean(b)
        case let .reference(r)?:
            guard let id = RecordID(bytes: r) else { throw WireError(.invalidId, "a record reference is 16 bytes") }
            return .reference(id)
        case let .timestamp(t)?: return .timestamp(Timestamp(milliseconds: t))
        }
    }
}

extension WireOutcome {
    public init(_ outcome: Outcome) {
        switch outcome {
        case .applied: self = .applied
        case .won: self = .won
        case .lost: self = .lost
        case .rejected: self = .rejected
        case .proposal: self = .proposal
        case .duplicate: self = .duplicate
        }
    }

    public var coreOutcome: Outcome? {
        switch self {
        case .applied: .applied
        case .won: .won
        case .lost: .lost
        case .rejected: .rejected
        case .proposal: .proposal
        case .duplicate: .duplicate
        case .UNRECOGNIZED: nil
        }
    }
}

extension WireWriteKind {
    public init(_ kind: WriteKind) {
        switch kind {
        case .set: self = .set
        case .create: self = .create
        case .delete: self = .delete
        }
    }

    public var coreKind: WriteKind? {
        switch self {
        case .set: .set
        case .create: .create
        case .delete: .delete
        case .UNRECOGNIZED: nil
        }
    }
}

extension WriteResult {
    /// The answer to one write: its verdict as the pushing user may learn it (I16: the value
    /// only when `shown`).
    public init(_ verdict: Verdict) {
        self.init()
        outcome = WireOutcome(verdict.decision.outcome)
        rule = verdict.decision.rule.rawValue
        detail = verdict.decision.detail
        sequence = verdict.sequence
        conflict = verdict.conflict
        if let shown = verdict.shown { winner = WireValue(shown) }
    }
}
