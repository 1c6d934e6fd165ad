import Foundation
import Testing

@testable import OppsCore

/// sync-protocol.md §5.5, merge-semantics.md §5: a write an older copy of a replica sends again
/// (a laptop restored from a backup, a copied folder) holds only on top of the current value; the
/// other copy's sending of it is recognised by its stamp under the old id.
@Suite struct OlderCopyTests {
    let ws = Workspace.default
    var rng = SeededGenerator(seed: 55)

    /// sam's deal whose discovery field max (a manager: `write` there, less than the owner's
    /// `own`) set after sam's write: what an owner's write from before would win by authority.
    func fixture() -> (deal: Record, field: String, old: ReplicaID, new: ReplicaID, maxs: FieldState) {
        var rng = self.rng
        let old = ReplicaID.random(using: &rng), new = ReplicaID.random(using: &rng), maxReplica = ReplicaID.random(using: &rng)
        let field = ws.entity("opportunity")!.fields.first { $0.group == "discovery" && { if case .text = $0.type { true } else { false } }($0) }!.name
        let created = FieldState(value: .member("qualified"), stamp: Stamp(hlc: HLC(rawValue: 100 << 16), replica: old), author: "sam", authority: .own, sequence: 1)
        var deal = Record(id: UUID128(high: 1, low: 2), entity: "opportunity", created: created)
        deal.fields["stage"] = created
        deal.fields["owner"] = FieldState(value: .text("sam"), stamp: created.stamp, author: "sam", authority: .own, sequence: 1)
        deal.fields["name"] = FieldState(value: .text("北辰"), stamp: created.stamp, author: "sam", authority: .own, sequence: 1)
        let maxs = FieldState(
            value: .text("max's, newer"), stamp: Stamp(hlc: HLC(rawValue: 300 << 16), replica: maxReplica), author: "max", authority: .write, sequence: 7)
        deal.fields[field] = maxs
        return (deal, field, old, new, maxs)
    }

    func context(_ deal: Record, olderCopy: ReplicaID?) -> RuleContext {
        var c = RuleContext(workspace: ws, actor: Actor(user: "sam", role: "sales"), relations: [.owner], record: deal)
        c.olderCopy = olderCopy
        return c
    }

    @Test func aStaleWriteFromAnOlderCopyLosesWhereAnOrdinaryOneWouldWin() {
        let f = fixture()
        // sam's write from before max's (its base is the value before max's), sent by the copy
        // under its new id.
        let w = FieldWrite(
            record: f.deal.id, entity: "opportunity", field: f.field, value: .text("sam's, older"), base: .sequence(3), author: "sam",
            stamp: Stamp(hlc: HLC(rawValue: 200 << 16), replica: f.new))
        let ordinary = resolve(current: f.maxs, incoming: w, context: context(f.deal, olderCopy: nil))
        #expect(ordinary.outcome == .won && ordinary.rule == .authority, "the owner's stale write displaces max's newer value")
        let fromCopy = resolve(current: f.maxs, incoming: w, context: context(f.deal, olderCopy: f.old))
        #expect(fromCopy.outcome == .lost && fromCopy.rule == .olderCopy)
        #expect(fromCopy.winner == f.maxs && fromCopy.loser?.value == .text("sam's, older"), "max's value holds; sam's becomes the conflict")
    }

    @Test func aWriteTheOtherCopySentIsADuplicateAndOneOnTopOfItApplies() {
        var f = fixture()
        let hlc = HLC(rawValue: 400 << 16)
        // The other copy sent sam's write; it holds under the old id.
        let held = FieldState(value: .text("sent by the other copy"), stamp: Stamp(hlc: hlc, replica: f.old), author: "sam", authority: .own, sequence: 9)
        f.deal.fields[f.field] = held
        let again = FieldWrite(
            record: f.deal.id, entity: "opportunity", field: f.field, value: .text("sent by the other copy"), base: .sequence(7), author: "sam",
            stamp: Stamp(hlc: hlc, replica: f.new))
        let d = resolve(current: held, incoming: again, context: context(f.deal, olderCopy: f.old))
        #expect(d.outcome == .duplicate && d.winner == held)
        // Without the older copy named, the same hlc under another id is another write.
        #expect(resolve(current: held, incoming: again, context: context(f.deal, olderCopy: nil)).outcome != .duplicate)
        // A write the copy made on top of that one (a `stamp` base naming its own replica) is on
        // top of the current value.
        let next = FieldWrite(
            record: f.deal.id, entity: "opportunity", field: f.field, value: .text("then this"), base: .stamp(Stamp(hlc: hlc, replica: f.new)),
            author: "sam", stamp: Stamp(hlc: HLC(rawValue: 401 << 16), replica: f.new))
        let on = resolve(current: held, incoming: next, context: context(f.deal, olderCopy: f.old))
        #expect(on.outcome == .applied && on.rule == .baseCurrent)
        // A base naming another replica's write with that hlc is not the older copy's.
        var stranger = next, other = SeededGenerator(seed: 56)
        stranger.base = .stamp(Stamp(hlc: hlc, replica: ReplicaID.random(using: &other)))
        #expect(resolve(current: held, incoming: stranger, context: context(f.deal, olderCopy: f.old)).outcome == .lost)
    }

    @Test func aCreateTheOtherCopySentIsADuplicate() {
        let f = fixture()
        let create = FieldWrite(
            record: f.deal.id, entity: "opportunity", kind: .create, value: .member("qualified"), author: "sam",
            stamp: Stamp(hlc: f.deal.created.stamp.hlc, replica: f.new))
        #expect(resolve(current: nil, incoming: create, context: context(f.deal, olderCopy: f.old)).outcome == .duplicate)
        #expect(resolve(current: nil, incoming: create, context: context(f.deal, olderCopy: nil)).rule == .recordExists)
    }

    /// A record whose tombstone compaction removed is absent from the state yet deleted
    /// (merge-semantics.md §7.2, I9): a create of its id — the other copy's, sent again — makes
    /// nothing, and an edit or a delete of it is refused as of a deleted record, not a missing one.
    @Test func aCompactedRecordIsNeverMadeAgain() {
        let f = fixture()
        func decide(_ kind: WriteKind, field: String = "", value: Value, compacted: Bool) -> Decision {
            var c = RuleContext(workspace: ws, actor: Actor(user: "sam", role: "sales"), relations: [], record: nil)
            c.olderCopy = f.old
            c.compacted = compacted
            let w = FieldWrite(
                record: f.deal.id, entity: "opportunity", field: field, kind: kind, value: value, base: .none, author: "sam",
                stamp: Stamp(hlc: HLC(rawValue: 100 << 16), replica: f.new))
            return resolve(current: nil, incoming: w, context: c)
        }
        let made = decide(.create, value: .member("discovery"), compacted: false)
        #expect(made.outcome == .applied && made.rule == .create, "an id the hub never had: a new record")
        let again = decide(.create, value: .member("discovery"), compacted: true)
        #expect(again.outcome == .rejected && again.rule == .recordDeleted && again.winner == nil, "\(again)")
        for (kind, field, value) in [(WriteKind.set, "name", Value.text("北辰")), (.delete, "", .null)] {
            #expect(decide(kind, field: field, value: value, compacted: false).rule == .recordMissing)
            let refused = decide(kind, field: field, value: value, compacted: true)
            #expect(refused.outcome == .rejected && refused.rule == .recordDeleted, "\(kind): \(refused)")
        }
    }
}
