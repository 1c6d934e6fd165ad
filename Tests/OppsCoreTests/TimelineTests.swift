import OppsCore
import Testing

/// A deal's timeline from hand-made records (issue 15: `show` with the deal's timeline).
@Suite struct TimelineTests {
    static let h: Int64 = 3_600_000

    static func child(_ n: UInt64, _ entity: String, of deal: RecordID, at: Int64, by: String, _ fields: [String: Value]) -> Record {
        let stamp = Stamp(hlc: HLC(milliseconds: at, counter: 0), replica: ReplicaID(UUID128(high: 0, low: 2)))
        var r = Record(id: UUID128(high: 2, low: n), entity: entity, created: FieldState(value: .null, stamp: stamp, author: by, authority: .write))
        r.fields["opportunity"] = FieldState(value: .reference(deal), stamp: stamp, author: by, authority: .write)
        for (k, v) in fields { r.fields[k] = FieldState(value: v, stamp: stamp, author: by, authority: .write) }
        return r
    }

    @Test func everythingThatHappenedToADealInDeviceTimeOrder() {
        let h = Self.h
        let deal = PipelineTests.deal(
            1, stage: "solution", log: [(0, "lead", "mia"), (2 * h, "qualified", "mia"), (5 * h, "discovery", "sam"), (9 * h, "solution", "sam")])
        let other = UUID128(high: 1, low: 99)
        let related = [
            // Device time of the visit (`at`), not when it was typed in.
            Self.child(
                1, "activity", of: deal.id, at: 8 * h, by: "sam", ["kind": .member("visit"), "note": .text("见了王总"), "at": .timestamp(Timestamp(milliseconds: 3 * h))]),
            Self.child(2, "task", of: deal.id, at: 6 * h, by: "sam", ["text": .text("send quote"), "due": .date(CivilDate(daysSinceEpoch: 3)), "done": .boolean(true)]),
            Self.child(
                3, "approval", of: deal.id, at: 10 * h, by: "sam",
                [
                    "kind": .member("discount"), "field": .text("discount"), "value": .text("15.00"),
                    "state": .member("approved"), "decided_by": .text("max"),
                ]),
            Self.child(4, "membership", of: deal.id, at: 7 * h, by: "sam", ["user": .text("eve"), "role": .member("expert"), "state": .member("active")]),
            // Not this deal's: left out.
            Self.child(5, "activity", of: other, at: 1 * h, by: "tom", ["kind": .member("call")]),
        ]
        let conflict = TimelineEvent(
            at: 11 * h, by: "sam", kind: .conflict(number: 4, field: "amount", value: .text("1"), outcome: "lost", rule: "owner-wins", winner: nil), record: deal.id)
        let events = Timeline.events(of: deal, related: related, workspace: .default, extra: [conflict])
        #expect(events.map(\.at) == [0, 2 * h, 3 * h, 5 * h, 6 * h, 7 * h, 9 * h, 10 * h, 11 * h])
        #expect(events[0].kind == .stage(from: nil, to: "lead"))
        #expect(events[1].kind == .stage(from: "lead", to: "qualified") && events[1].by == "mia")
        #expect(events[2].kind == .activity(kind: "visit", note: "见了王总", place: nil, flagged: false))
        #expect(events[4].kind == .task(text: "send quote", due: CivilDate(daysSinceEpoch: 3), done: true, assignee: nil))
        #expect(events[5].kind == .team(user: "eve", role: "expert", state: "active"))
        #expect(events[7].kind == .approval(kind: "discount", field: "discount", value: "15.00", state: "approved", decidedBy: "max", note: nil))
        #expect(events[8] == conflict)
        // A deleted deal ends with its deletion.
        var gone = deal
        gone.deleted = FieldState(
            value: .null, stamp: Stamp(hlc: HLC(milliseconds: 20 * h, counter: 0), replica: ReplicaID(UUID128(high: 0, low: 3))), author: "max", authority: .override)
        #expect(Timeline.events(of: gone, related: [], workspace: .default).last == TimelineEvent(at: 20 * h, by: "max", kind: .deleted, record: deal.id))
    }
}
