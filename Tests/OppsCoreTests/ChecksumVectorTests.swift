import Foundation
import OppsCore
import OppsTestSupport
import Testing

/// merge-semantics.md §8 against `Protocol/vectors/checksum.json`, whose terms were computed from
/// the text alone (Tools/checksum-vector.py): every term, the sum, and a tombstone counting nothing.
@Suite struct ChecksumVectorTests {
    struct Term { var record: RecordID; var number: UInt32; var term: UInt64 }

    static func state(_ j: JSON) throws -> FieldState {
        let hlc = try #require(j["hlc"]?.int)
        let replica = try #require(j["replica"]?.string.flatMap(UUID128.init(parsing:)).map { ReplicaID($0) })
        return FieldState(value: try Value(typedJSON: j["value"] ?? .null), stamp: Stamp(hlc: HLC(rawValue: UInt64(hlc)), replica: replica), author: "x", authority: .own)
    }

    @Test func everyTermAndTheSumAreAsWorkedByHand() throws {
        let doc = try JSON.parse(RepositoryFiles.text("Protocol/vectors/checksum.json"))
        let workspace = Workspace.default
        var records = [Record]()
        for r in try #require(doc["records"]?.array) {
            let id = try #require(r["id"]?.string.flatMap(UUID128.init(parsing:)))
            let entity = try #require(r["entity"]?.string)
            let created = try #require(r["created"])
            var record = Record(id: id, entity: entity, created: try Self.state(created))
            for f in r["fields"]?.array ?? [] {
                let name = try #require(f["field"]?.string)
                // The vector's numbers are the workspace's.
                let number = try #require(f["number"]?.int)
                #expect(workspace.entity(entity)?.field(name)?.number == UInt32(number), "\(entity).\(name)")
                record.fields[name] = try Self.state(f)
            }
            if let d = r["deleted"], !d.isNull { record.deleted = try Self.state(d) }
            records.append(record)
        }
        let terms = try #require(doc["terms"]?.array)
        #expect(terms.count == 11)
        for t in terms {
            let id = try #require(t["record"]?.string.flatMap(UUID128.init(parsing:)))
            let record = try #require(records.first { $0.id == id })
            let number = UInt32(try #require(t["number"]?.int))
            let name = try #require(t["field"]?.string)
            let state = number == 0 ? record.created : try #require(record.fields[name])
            let term = StateChecksum.term(record: id, fieldNumber: number, state: state)
            #expect(String(term, radix: 16).leftPadded(16) == t["term"]?.string, "\(t["field"]?.string ?? "?")")
        }
        let sum = StateChecksum(of: records, workspace: workspace)
        #expect(String(sum.value) == doc["checksum"]?.string)
        let counted = try #require(doc["records_counted"]?.int)
        #expect(sum.records == UInt64(counted))
        // The tombstone counts nothing: the sum is the same without it.
        #expect(StateChecksum(of: records.filter { !$0.isDeleted }, workspace: workspace) == sum)
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
