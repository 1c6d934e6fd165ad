import Foundation
import OppsCore
import OppsHub
import OppsStore
import OppsWire
import SwiftProtobuf

/// A user of the hub with a valid token and bad intent, among the simulated team (issue 13):
/// `mal`, a sales rep of another territory with no manager and no capacity (never assigned a
/// lead), who is on nobody's team. Every record id of the hub is handed to them. They send raw
/// pushes — any id, entity and field number, any value in range or not, forged bases, creates,
/// deletes, approvals — and pulls, on their own random generator (the team's day is the same
/// with or without them).
///
/// The model is the org chart, not the hub's filters: mal may see only what mal created. The
/// team's names and texts carry the marker `·H`, which mal never sends: it must never appear in
/// any byte of any answer to mal. At the end, no entry of the log on a record mal did not create
/// is mal's, and every stored value is in range.
struct Attacker {
    static let name = "mal"
    /// In every text the honest team writes; never in what mal sends.
    static let marker = "·H"

    var rng: SeededGenerator
    let replica: ReplicaID
    var token = ""
    var batch: UInt64 = 0
    var cursor: UInt64 = 0
    var pullToken: UInt64 = 0
    var conflictCursor: UInt64 = 0
    var handshaken = false
    var requests = 0

    init(seed: UInt64) {
        rng = SeededGenerator(seed: seed ^ 0xBAD_5EED)
        replica = ReplicaID.random(using: &rng)
    }
}

extension Attacker {
    /// Where in `message` a text carries the marker (each of a page's changes, whole records and
    /// conflicts, each of a push's results named), or nil.
    static func marked(_ message: some SwiftProtobuf.Message) -> String? {
        func carries(_ m: some SwiftProtobuf.Message) -> Bool { ((try? m.jsonString()) ?? "").contains(marker) }
        func text(_ m: some SwiftProtobuf.Message) -> String { String(((try? m.jsonString()) ?? "").prefix(600)) }
        guard carries(message) else { return nil }
        func page(_ p: PullResponse) -> [String] {
            p.changes.filter(carries).map { "change \(text($0))" } + p.entered.filter(carries).map { "entered record \(text($0))" }
                + p.conflicts.filter(carries).map { "conflict \(text($0))" }
        }
        var parts = [String]()
        if let push = message as? PushResponse {
            parts = push.results.enumerated().filter { carries($0.element) }.map { "push result \($0.offset): \(text($0.element))" } + page(push.pull)
        } else if let pull = message as? PullResponse {
            parts = page(pull)
        }
        return parts.isEmpty ? text(message) : parts.joined(separator: "; ")
    }
}

extension Simulation {
    /// mal's user, added beside the team.
    static var attackerUser: HubUser { HubUser(name: Attacker.name, role: "sales", territory: "elsewhere", capacity: 0) }

    /// One hostile request, about one step in four.
    func attack(step n: Int) async throws {
        guard var mal = attacker else { return }
        defer { attacker = mal }
        guard mal.rng.next() % 4 == 0 else { return }
        if !mal.handshaken {
            var h = HandshakeRequest()
            h.minVersion = 1
            h.maxVersion = ProtocolVersion.current
            h.replica = Data(mal.replica.bytes)
            guard case let .success(bytes) = await hub.send(Endpoint.handshake, try BodyCodec.encode(h, as: .protobuf), token: mal.token) else { return }
            try inspect(bytes, as: HandshakeResponse.self, step: n)
            mal.batch = (try? HandshakeResponse(serializedBytes: bytes))?.lastBatch ?? 0
            mal.handshaken = true
        }
        mal.requests += 1
        // In id order: a set's order changes from process to process, and mal's picks with it.
        let ids = try hub.engine.store.records(visibleTo: VisibilityQuery(user: "", all: true)).sorted()
        if mal.rng.next() % 10 < 7 {
            var request = PushRequest()
            request.replica = Data(mal.replica.bytes)
            mal.batch += 1
            request.batch = mal.batch
            request.workspaceVersion = Workspace.default.version
            request.hlcBase = HLC(milliseconds: clock.nowMilliseconds(), counter: 0).rawValue
            for d in 0..<(1 + mal.rng.next() % 6) {
                var w = WireWrite()
                let fresh = mal.rng.next() % 4 == 0 || ids.isEmpty
                let record = fresh ? UUID128.version7(milliseconds: clock.nowMilliseconds(), using: &mal.rng) : ids[Int(mal.rng.next() % UInt64(ids.count))]
                w.record = Data(record.bytes)
                w.kind = [.set, .set, .set, .create, .delete][Int(mal.rng.next() % 5)]
                w.entity = UInt32(1 + mal.rng.next() % 8)
                w.field = w.kind == .set ? UInt32(mal.rng.next() % 40) : 0
                // Mostly a field the record really has: a write that names it is decided, not
                // refused for its numbers, and its answer is where a value could leak.
                if !fresh, mal.rng.next() % 5 != 0,
                    let entity = try hub.engine.store.record(record, workspace: hub.engine.workspace)
                        .flatMap({ hub.engine.workspace.entity($0.entity) }), !entity.fields.isEmpty
                {
                    w.entity = entity.number
                    if w.kind == .set { w.field = entity.fields[Int(mal.rng.next() % UInt64(entity.fields.count))].number }
                }
                if let v = HostileValues.any(&mal.rng, ids: ids, names: ["mal", "max", "mia", "hub"]) { w.value = v }
                switch mal.rng.next() % 3 {
                case 0: var b = WireBase(); b.sequence = mal.rng.next() % 500; w.base = b
                case 1: var b = WireBase(); b.localHlc = mal.rng.next(); w.base = b
                default: break
                }
                w.hlcDelta = d
                request.writes.append(w)
            }
            note("step \(n): mal pushes \(request.writes.count) hostile writes")
            switch await hub.send(Endpoint.push, try BodyCodec.encode(request, as: .protobuf), token: mal.token) {
            case let .success(bytes): try inspect(bytes, as: PushResponse.self, step: n)
            case let .failure(e):
                if e.code == .internal { throw fail("the hub failed (500) on mal's push: \(e.message)") }
                mal.handshaken = false  // a refused batch is not applied: the next handshake says which number is next
            }
        } else {
            var p = PullRequest()
            p.replica = Data(mal.replica.bytes)
            p.cursor = mal.cursor
            p.token = mal.pullToken
            p.ack = mal.cursor
            p.conflictCursor = mal.conflictCursor
            p.maxChanges = 50
            note("step \(n): mal pulls from \(mal.cursor) (token \(mal.pullToken), conflicts after \(mal.conflictCursor))")
            switch await hub.send(Endpoint.pull, try BodyCodec.encode(p, as: .protobuf), token: mal.token) {
            case let .success(bytes):
                try inspect(bytes, as: PullResponse.self, step: n)
                if let page = try? PullResponse(serializedBytes: bytes) {
                    (mal.cursor, mal.pullToken, mal.conflictCursor) = (page.cursor, page.token, page.conflictCursor)
                }
            case let .failure(e):
                if e.code == .internal { throw fail("the hub failed (500) on mal's pull: \(e.message)") }
                (mal.cursor, mal.pullToken, mal.conflictCursor) = (0, 0, 0)
            }
        }
    }

    /// Nothing of the team's reaches mal: no text of any answer carries the marker. The answer
    /// is read as the message it is and looked at as JSON, where ids, digests and clocks are
    /// numbers or base64 — in the raw bytes, a random record id ending in C2 B7 before a field
    /// tag 0x48 spells the marker too (an imported deal's id is random in every run).
    func inspect<M: SwiftProtobuf.Message>(_ answer: [UInt8], as type: M.Type, step n: Int) throws {
        guard let message = try? M(serializedBytes: answer) else {
            throw fail("step \(n): an answer to mal is not a \(M.protoMessageName)")
        }
        if let place = Attacker.marked(message) {
            throw fail("step \(n): an answer to mal carried the team's data: \(place)")
        }
    }

    /// After the day: mal changed nothing of the team's, and every stored value is in range.
    func checkAttacker() throws {
        guard attacker != nil else { return }
        let store = hub.engine.store
        let workspace = hub.engine.workspace
        for id in try store.records(visibleTo: VisibilityQuery(user: "", all: true)) {
            guard let record = try store.record(id, workspace: workspace) else { continue }
            for (name, s) in record.fields where s.value.rangeProblem != nil { throw fail("\(record.entity).\(name) holds a value out of range") }
            guard record.creator != Attacker.name else { continue }
            if let e = try store.log(record: id).first(where: { $0.entry.author == Attacker.name }) {
                throw fail("mal wrote \(e.entry.entity).\(e.entry.field) of a record mal cannot see")
            }
        }
    }
}

/// Values a hostile client sends (the simulator's attacker, the adversarial property test): any
/// kind, in range or not — timestamps and dates of any size, decimals of any units and scale, long
/// members and texts, references to known records, user names, field names — and never the
/// markers the honest side writes.
public enum HostileValues {
    public static func any(_ rng: inout SeededGenerator, ids: [RecordID], names: [String]) -> WireValue? {
        var v = WireValue()
        func pick<T>(_ items: [T]) -> T { items[Int(rng.next() % UInt64(items.count))] }
        switch rng.next() % 16 {
        case 0: return nil
        case 1: v.timestamp = Int64(bitPattern: rng.next())
        case 2: v.date = Int32(truncatingIfNeeded: rng.next())
        case 3: var d = WireDecimal(); d.units = Int64(bitPattern: rng.next()); d.scale = UInt32(rng.next() % 24); v.decimal = d
        case 4: v.integer = Int64(bitPattern: rng.next())
        case 5: v.member = pick(["lead", "qualified", "discovery", "won", "lost", "approved", "active", "pending", "CNY", String(repeating: "m", count: 300)])
        case 6, 7: if ids.isEmpty { return nil } else { v.reference = Data(pick(ids).bytes) }
        case 8: v.text = names.isEmpty ? "" : pick(names + [""])
        case 9: v.text = ids.isEmpty ? "x" : pick(ids).description
        case 10: v.text = pick(["discount", "amount", "owner", "stage", "state", "user", "name", "quote_terms"])
        case 11: v.boolean = rng.next() % 2 == 0
        case 12: v.text = String(repeating: "x", count: Int(rng.next() % 20_000))
        default: v.text = "hostile-\(rng.next() % 1000)"
        }
        return v
    }
}
