import OppsTestSupport
import Testing

@testable import OppsCore

/// One case of Protocol/vectors/resolve.json, turned into core values.
struct ResolveCase: Sendable, CustomTestStringConvertible {
    var name: String
    var covers: String
    var actor: Actor
    var relations: Set<Relation>
    var record: Record?
    var write: FieldWrite
    var expectedOutcome: String
    var expectedRule: String
    var expectedWinner: Value??
    var expectedMissing: [String]?
    /// The state kept as a conflict record (rule 3): value, author, hlc.
    var expectedConflict: (value: Value, author: String, hlc: UInt64)?

    var testDescription: String { name }

    static let recordID = RecordID(parsing: "0190a1b2-c3d5-7a0b-9c1d-2e3f40516273")!
    static func replica(_ n: Int) -> ReplicaID { ReplicaID(UUID128(high: 0, low: UInt64(n))) }

    enum LoadError: Error { case bad(String) }

    static func load() throws -> [ResolveCase] {
        let doc = try JSON.parse(RepositoryFiles.text("Protocol/vectors/resolve.json"))
        guard doc["workspace"]?.string == "default", let cases = doc["cases"]?.array else { throw LoadError.bad("header") }
        return try cases.map(ResolveCase.init(json:))
    }

    init(json c: JSON) throws {
        name = c["name"]?.string ?? "?"
        covers = c["covers"]?.string ?? ""
        let a = try c["actor"].unwrap("actor")
        actor = Actor(user: try a["user"]?.string.unwrap("actor.user") ?? "", role: a["role"]?.string ?? "")
        relations = Set((a["relations"]?.array ?? []).compactMap { $0.string.flatMap(Relation.init(rawValue:)) })
        let w = try c["write"].unwrap("write")
        if let r = c["record"], !r.isNull {
            let creator = try r["creator"]?.string.unwrap("record.creator") ?? ""
            let created = FieldState(value: .null, stamp: Stamp(hlc: HLC(rawValue: 1), replica: Self.replica(0)), author: creator, authority: .own, sequence: 0)
            var record = Record(id: Self.recordID, entity: r["entity"]?.string ?? "opportunity", created: created)
            for (i, m) in (r["fields"]?.members ?? []).enumerated() {
                if m.value["value"] != nil {
                    let s = m.value
                    record.fields[m.key] = FieldState(
                        value: try Value(typedJSON: s["value"]!),
                        stamp: Stamp(hlc: HLC(rawValue: UInt64(s["hlc"]?.int ?? 0)), replica: Self.replica(s["replica"]?.int ?? 0)),
                        author: s["author"]?.string ?? creator,
                        authority: Access(name: s["authority"]?.string ?? "own") ?? .own,
                        sequence: UInt64(s["sequence"]?.int ?? 0))
                } else {
                    record.fields[m.key] = FieldState(
                        value: try Value(typedJSON: m.value),
                        stamp: Stamp(hlc: HLC(rawValue: UInt64(1000 + i)), replica: Self.replica(0)),
                        author: creator, authority: .own, sequence: UInt64(i + 1))
                }
            }
            if r["deleted"]?.bool == true {
                record.deleted = FieldState(value: .null, stamp: Stamp(hlc: HLC(rawValue: 2), replica: Self.replica(0)), author: creator, authority: .own, sequence: 99)
            }
            self.record = record
        } else {
            record = nil
        }
        let kind = WriteKind(rawValue: w["kind"]?.string ?? "set") ?? .set
        let field = w["field"]?.string ?? ""
        let current: FieldState? =
            switch kind {
            case .set: record?.fields[field]
            case .create: record?.created
            case .delete: record?.deleted
            }
        let base: Base
        switch w["base"] {
        case let b? where b.string == "current":
            if let current { base = current.sequence != 0 ? .sequence(current.sequence) : .stamp(current.stamp) } else { base = .none }
        case let b? where b.string == "none": base = .none
        case let b? where b["sequence"] != nil: base = .sequence(UInt64(b["sequence"]!.int!))
        case let b? where b["hlc"] != nil: base = .stamp(Stamp(hlc: HLC(rawValue: UInt64(b["hlc"]!.int!)), replica: Self.replica(b["replica"]?.int ?? 0)))
        default: throw LoadError.bad("base of \(name)")
        }
        write = FieldWrite(
            record: Self.recordID, entity: w["entity"]?.string ?? record?.entity ?? "opportunity", field: field, kind: kind,
            value: try Value(typedJSON: w["value"] ?? .null), base: base,
            author: w["author"]?.string ?? actor.user,
            stamp: Stamp(hlc: HLC(rawValue: UInt64(w["hlc"]?.int ?? 0)), replica: Self.replica(w["replica"]?.int ?? 0)))
        let e = try c["expect"].unwrap("expect")
        expectedOutcome = try e["outcome"]?.string.unwrap("expect.outcome") ?? ""
        expectedRule = try e["rule"]?.string.unwrap("expect.rule") ?? ""
        expectedWinner = try e["winner"].map { try Value(typedJSON: $0) }
        expectedMissing = e["missing"]?.array?.compactMap(\.string)
        if let k = e["conflict"] {
            expectedConflict = (
                try Value(typedJSON: k["value"] ?? .null), try (k["author"]?.string).unwrap("conflict.author"),
                UInt64(try (k["hlc"]?.int).unwrap("conflict.hlc"))
            )
        }
    }

    var current: FieldState? {
        switch write.kind {
        case .set: record?.fields[write.field]
        case .create: record?.created
        case .delete: record?.deleted
        }
    }
}

extension Optional {
    func unwrap(_ what: String) throws -> Wrapped {
        guard let self else { throw ResolveCase.LoadError.bad("missing \(what)") }
        return self
    }
}

@Suite struct ResolveVectorTests {
    static let loaded = Result { try ResolveCase.load() }
    static let cases: [ResolveCase] = (try? loaded.get()) ?? []

    @Test func thereAreEnoughVectors() throws {
        _ = try Self.loaded.get()  // a vector file that does not load says why
        #expect(Self.cases.count >= 40)
        // Every outcome but duplicate-by-batch and every rule family appears.
        let outcomes = Set(Self.cases.map(\.expectedOutcome))
        #expect(outcomes == Set(Outcome.allCases.map(\.rawValue)))
        let rules = Set(Self.cases.map(\.expectedRule))
        for r in [
            "base-current", "authority", "later-clock", "replica-tie-break", "stage-gate", "handoff-checklist", "sticky-closed",
            "backward-move", "propose-only", "approval-required", "needs-confirmation", "append-only", "not-visible", "read-only",
        ] {
            #expect(rules.contains(r), "no vector for \(r)")
        }
    }

    @Test(arguments: cases)
    func decidesAsTheVectorSays(c: ResolveCase) {
        let ctx = RuleContext(workspace: .default, actor: c.actor, relations: c.relations, record: c.record)
        let d = resolve(current: c.current, incoming: c.write, context: ctx)
        #expect(d.outcome.rawValue == c.expectedOutcome, "\(c.name): \(d.rule.rawValue) \(d.detail)")
        #expect(d.rule.rawValue == c.expectedRule, "\(c.name): \(d.detail)")
        if let w = c.expectedWinner { #expect((d.winner?.value ?? .null) == (w ?? .null), "\(c.name)") }
        if let m = c.expectedMissing { #expect(d.missing == m, "\(c.name)") }
        if let k = c.expectedConflict {
            #expect(d.loser?.value == k.value && d.loser?.author == k.author && d.loser?.stamp.hlc.rawValue == k.hlc, "\(c.name): \(String(describing: d.loser))")
        }
        // I6: whatever does not hold is carried in the decision.
        switch d.outcome {
        case .lost, .rejected, .proposal: #expect(d.loser?.stamp == c.write.stamp)
        case .won: #expect(d.loser == c.current)
        case .applied, .duplicate: break
        }
    }
}
