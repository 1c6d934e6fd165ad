import Foundation
import HummingbirdTesting
import OppsCore
import OppsStore
import OppsWire
import Testing

@testable import OppsHub

/// A randomised team day against a real hub: after every round each replica holds exactly the
/// records its user may see — computed here independently from the hub's full state with the
/// core's rules — and no field the matrix hides.
@Suite struct VisibilityPropertyTests {
    static func expectedVisible(user: HubUser, all: RecordSet, workspace ws: Workspace, directory: Directory) -> Set<RecordID> {
        func relations(_ r: Record) -> Set<Relation> {
            ws.relations(of: user.name, to: r, team: all.team(of: r.id, rule: ws.teamRule), manages: { directory.manages(user.name, $0) })
        }
        var top = Set<RecordID>()
        for r in all.records.values where !r.isDeleted && ws.entity(r.entity)?.stageField != nil {
            if ws.isVisible(record: r, role: user.role, relations: relations(r)) { top.insert(r.id) }
        }
        var out = top
        for r in all.records.values where !r.isDeleted {
            guard let e = ws.entity(r.entity), e.stageField == nil else { continue }
            if let via = e.visibleVia {
                if case let .reference(p) = r[via], top.contains(p) { out.insert(r.id) }
            } else if r.creator == user.name {
                out.insert(r.id)
            }
        }
        for id in top {
            guard let r = all[id], let e = ws.entity(r.entity) else { continue }
            for f in e.fields {
                if case .reference = f.type, case let .reference(target) = r[f.name], let t = all[target], !t.isDeleted { out.insert(target) }
            }
        }
        return out
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func replicasHoldExactlyWhatTheirUsersMaySee(seed: UInt64) async throws {
        let f = try HubFixture()
        try await f.application().test(.router) { client in
            let c = WireClient(client: client)
            var rng = SeededGenerator(seed: seed)
            var replicas = [TestReplica]()
            for (i, u) in HubFixture.team.enumerated() {
                let r = TestReplica(user: u.name, token: f.tokens[u.name]!, seed: seed &* 100 + UInt64(i))
                _ = try await r.handshake(c)
                replicas.append(r)
            }
            let ws = Workspace.default
            for round in 0..<6 {
                for i in replicas.indices {
                    var r = replicas[i]
                    var writes = [FieldWrite]()
                    for _ in 0..<(1 + rng.next() % 6) {
                        let known = r.state.records.values.filter { $0.entity == "opportunity" }.sorted { $0.id < $1.id }
                        switch (r.user, rng.next() % 6) {
                        case ("mia", 0), ("sam", 0), ("tom", 0), ("ann", 0), ("max", 0):
                            let stage = r.user == "mia" ? "lead" : "discovery"
                            let d = r.create(stage: stage, using: &rng)
                            writes.append(d)
                            if rng.next() % 2 == 0 {
                                let acc = r.create("account", stage: nil, using: &rng)
                                writes += [
                                    acc,
                                    FieldWrite(
                                        record: d.record, entity: "opportunity", field: "account", value: .reference(acc.record),
                                        author: r.user, stamp: r.stamp()),
                                ]
                            }
                        case ("max", 1) where !known.isEmpty:
                            // Reassign, or put an expert / success manager on the team.
                            let deal = known[Int(rng.next() % UInt64(known.count))]
                            if rng.next() % 2 == 0 {
                                writes.append(r.write(deal.id, "owner", .text(["sam", "tom", "ann"][Int(rng.next() % 3)])))
                            } else {
                                let m = r.create("membership", stage: nil, using: &rng)
                                writes.append(m)
                                for (field, value) in [
                                    ("opportunity", Value.reference(deal.id)), ("user", .text(["eve", "sue"][Int(rng.next() % 2)])),
                                    ("state", .member(rng.next() % 4 == 0 ? "removed" : "active")),
                                ] {
                                    writes.append(FieldWrite(record: m.record, entity: "membership", field: field, value: value, author: r.user, stamp: r.stamp()))
                                }
                            }
                        case (_, 2) where !known.isEmpty:
                            let deal = known[Int(rng.next() % UInt64(known.count))]
                            let a = r.create("activity", stage: nil, using: &rng)
                            writes += [
                                a, FieldWrite(record: a.record, entity: "activity", field: "opportunity", value: .reference(deal.id), author: r.user, stamp: r.stamp()),
                            ]
                        case (_, 3) where !known.isEmpty:
                            let deal = known[Int(rng.next() % UInt64(known.count))]
                            // Sometimes a stage move to a random stage (most are refused by the gates; some
                            // close a deal, which changes who sees it), else a field edit.
                            if rng.next() % 3 == 0 {
                                writes.append(r.write(deal.id, "stage", .member(ws.stages[Int(rng.next() % UInt64(ws.stages.count))].name)))
                            } else {
                                writes.append(
                                    r.write(
                                        deal.id, ["amount", "discount", "solution", "health", "score", "next_step"][Int(rng.next() % 6)],
                                        [Value.decimal(ExactDecimal(units: 100, scale: 2)), .text("x"), .integer(3)][Int(rng.next() % 3)]))
                            }
                        default:
                            break
                        }
                    }
                    if !writes.isEmpty { _ = try await r.push(c, writes) }
                    replicas[i] = r
                }
                if round == 5 {
                    // The workload must have done real work: many records, teams, several owners.
                    let store = try SQLiteHubStore(path: f.configuration.databasePath)
                    #expect(try store.recordCount() > 20, "seed \(seed)")
                    #expect(try store.head() > 60, "seed \(seed)")
                }
                // Everyone syncs; then compare with the truth.
                let store = try SQLiteHubStore(path: f.configuration.databasePath)
                var all = RecordSet()
                for e in try store.log(after: 0, limit: 1_000_000) { all.apply(e.entry) }
                let directory = Directory(users: HubFixture.team.map(\.directoryEntry))
                for i in replicas.indices {
                    try await replicas[i].pull(c, maxChanges: UInt32(1 + rng.next() % 40))
                    let r = replicas[i]
                    let user = HubFixture.team.first { $0.name == r.user }!
                    let expected = Self.expectedVisible(user: user, all: all, workspace: ws, directory: directory)
                    #expect(Set(r.state.records.keys) == expected, "seed \(seed) round \(round): \(r.user)")
                    // The core's visibility rule (the definition) gives the same, fields included,
                    // and so does the hub's SQL fast path.
                    let model = ws.view(of: all, for: Actor(user: user.name, role: user.role), directory: directory)
                    #expect(Set(model.keys) == expected, "seed \(seed) round \(round): \(r.user) by the core rule")
                    let query = VisibilityQuery.make(user: user.name, role: user.role, workspace: ws, directory: directory)
                    #expect(try store.records(visibleTo: query) == Set(model.keys), "seed \(seed) round \(round): \(r.user) by SQL")
                    for (id, record) in r.state.records {
                        #expect(Set(record.fields.keys) == Set(model[id].map { Array($0.fields.keys) } ?? []), "seed \(seed): \(r.user) \(id) fields")
                    }
                    #expect(r.checkpoints.last?.checksum == r.checksum.value, "seed \(seed) round \(round): \(r.user) checksum")
                    for record in r.state.records.values where ws.entity(record.entity)?.stageField != nil {
                        let rel = ws.relations(
                            of: r.user, to: all[record.id]!, team: all.team(of: record.id, rule: ws.teamRule), manages: { directory.manages(r.user, $0) })
                        for field in record.fields.keys {
                            let access = ws.permission(
                                actor: Actor(user: r.user, role: user.role), relations: rel, record: all[record.id], entity: record.entity, field: field)
                            #expect(access != .hidden, "seed \(seed): \(r.user) holds hidden \(record.entity).\(field)")
                        }
                    }
                }
            }
        }
    }
}
