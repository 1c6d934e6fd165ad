import Foundation
import OppsCore
import OppsTestSupport
import Testing

@testable import OppsStore

/// The outbox groups its writes by edit (one transaction), so the last edit not yet sent can be
/// taken back whole (`opps undo`, sync-protocol.md §5.3).
@Suite struct OutboxEditTests {
    static let me = ReplicaID(UUID128(high: 1, low: 0xA))

    func write(_ n: UInt64, _ field: String, hlc: UInt64) -> FieldWrite {
        FieldWrite(
            record: RecordID(high: 0x0190, low: n), entity: "opportunity", field: field, value: .text("v\(hlc)"), author: "sam",
            stamp: Stamp(hlc: HLC(rawValue: hlc), replica: Self.me))
    }

    @Test func theWritesOfOneTransactionAreOneEditAndOnlyUnsentOnesLeave() throws {
        let dir = URL(fileURLWithPath: Scratch.directory("opps-outbox-edit"))
        let s = try ReplicaStore(path: dir.appendingPathComponent("replica.sqlite").path)
        // A write queued outside a transaction (as before edits were numbered) is an edit of its own.
        try s.enqueue(write(1, "name", hlc: 1))
        try s.transaction {
            try s.enqueue(write(1, "amount", hlc: 2))
            try s.enqueue(write(2, "name", hlc: 3))
        }
        try s.transaction { try s.enqueue(write(1, "next_step", hlc: 4)) }
        try s.addHistory(
            HistoryLine(
                record: RecordID(high: 0x0190, low: 1), field: "next_step", old: .null, new: .text("v4"), author: "sam", hlc: HLC(rawValue: 4), source: "local",
                rule: "pending"))
        #expect(try s.editCount() == 3 && s.unsentEditCount() == 3)

        let last = try s.lastEdit(replica: Self.me, author: "sam")
        #expect(last.map(\.write.field) == ["next_step"])
        #expect(try s.trail(of: last).map(\.new) == [.text("v4")])
        try s.transaction { try s.dropUnsent(last) }
        #expect(try s.history(RecordID(high: 0x0190, low: 1)).isEmpty, "its trail line went with it")

        // The two-write transaction is one edit, of two records.
        let before = try s.lastEdit(replica: Self.me, author: "sam")
        #expect(before.map(\.write.field) == ["amount", "name"] && Set(before.map(\.write.record)).count == 2)
        // Sent in a batch: still the last edit, no longer an unsent one.
        try s.assign(batch: 1, positions: before.map(\.position), request: [1])
        #expect(try s.lastEdit(replica: Self.me, author: "sam").allSatisfy { $0.batch == 1 })
        #expect(try s.editCount() == 2 && s.unsentEditCount() == 1)
        try s.complete(batch: 1)
        #expect(try s.lastEdit(replica: Self.me, author: "sam").map(\.write.field) == ["name"])
    }
}
