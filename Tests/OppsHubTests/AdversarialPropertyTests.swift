import Foundation
import HummingbirdTesting
import OppsCore
import OppsSimulation
import OppsStore
import OppsWire
import SwiftProtobuf
import Testing

@testable import OppsHub

/// Issue 13's proof: two sales teams that share nothing, and the other team attacking with
/// valid tokens — random writes to any record id it has ever heard of (every id of the hub is
/// handed to it), any entity and field number, any value including ones out of range, stale and
/// forged bases, rewrites of approvals and memberships, approvals of its own manager — while the
/// first team works honestly, writing canaries (unique texts) into its deals and accounts.
///
/// The model is independent of the hub's filters: it is the org chart. Nothing the north team
/// wrote ever reaches a south user, in any response byte; marketing never receives the quote
/// terms of the deal it handed off; no north record changes by a south user's hand (or by an
/// approval a south user asked for); every answer is 200 or 4xx; every stored value is in range.
@Suite struct AdversarialPropertyTests {
    static let north: [HubUser] = [
        HubUser(name: "nmax", role: "manager"),
        HubUser(name: "sam", role: "sales", territory: "north", manager: "nmax"),
        HubUser(name: "tom", role: "sales", territory: "north", manager: "nmax"),
        HubUser(name: "mia", role: "marketing", manager: "nmax"),
    ]
    static let south: [HubUser] = [
        HubUser(name: "smax", role: "manager"),
        HubUser(name: "ann", role: "sales", territory: "south", manager: "smax"),
        HubUser(name: "bob", role: "sales", territory: "south", manager: "smax"),
        HubUser(name: "eve", role: "expert", manager: "smax"),
        HubUser(name: "ken", role: "marketing", manager: "smax"),
    ]

    /// What a user received, as protobuf bytes (a decoded message keeps every field it carried).
    static func bytes(_ m: some SwiftProtobuf.Message) throws -> String {
        String(decoding: try BodyCodec.encode(m, as: .protobuf), as: UTF8.self)
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func theOtherTeamLearnsNothingAndChangesNothing(seed: UInt64) async throws {
        let f = try HubFixture(users: Self.north + Self.south)
        try await f.application().test(.router) { client in
            var rng = SeededGenerator(seed: seed)
            let c = WireClient(client: client)
            var replicas = [String: TestReplica]()
            for (i, u) in (Self.north + Self.south).enumerated() {
                replicas[u.name] = TestReplica(user: u.name, token: f.tokens[u.name]!, seed: seed &* 100 &+ UInt64(i))
                _ = try await replicas[u.name]!.handshake(c)
            }
            var canaries = Set<String>()  // north's texts: never in a south answer
            var terms = Set<String>()  // quote terms: never in marketing's answers
            var northRecords = Set<RecordID>()
            var allIDs = [RecordID]()
            func canary(_ tag: String) -> String {
                let s = "N\(tag)\(rng.next() % 1_000_000_000)Z"
                canaries.insert(s)
                return s
            }
            func check(_ user: String, _ answer: some SwiftProtobuf.Message) throws {
                let text = try Self.bytes(answer)
                if Self.south.contains(where: { $0.name == user }) {
                    for s in canaries where text.contains(s) { Issue.record("seed \(seed): \(user) received north's \(s)") }
                }
                if user == "mia" || user == "ken" {
                    for s in terms where text.contains(s) { Issue.record("seed \(seed): marketing \(user) received quote terms \(s)") }
                }
                // A marketer or an expert may read no deal's owner: no page names anyone but them
                // and the hub (visibility.md §6; the page's users list is every name, by design).
                if ["mia", "ken", "eve"].contains(user), let page = answer as? PullResponse {
                    for a in page.authors where ![user, "hub", ""].contains(a) { Issue.record("seed \(seed): \(user)'s page names \(a)") }
                    for c in page.conflicts where c.hasWinner && Int(c.winnerAuthor) < page.authors.count {
                        let w = page.authors[Int(c.winnerAuthor)]
                        if ![user, "hub", ""].contains(w) { Issue.record("seed \(seed): \(user)'s conflict names \(w)") }
                    }
                }
            }

            // North: an account, deals, a lead mia hands off, quote terms on it, an approval.
            for rep in ["sam", "tom"] {
                var r = replicas[rep]!
                let account = r.create("account", stage: nil, using: &rng)
                var writes = [account, r.write(account.record, "name", .text(canary("acct")), entity: "account")]
                for _ in 0..<3 {
                    let deal = r.create(using: &rng)
                    writes += [
                        deal, r.write(deal.record, "name", .text(canary("deal"))), r.write(deal.record, "account", .reference(account.record)),
                        r.write(deal.record, "next_step", .text(canary("next"))), r.write(deal.record, "needs", .text(canary("needs"))),
                    ]
                    northRecords.insert(deal.record)
                    allIDs.append(deal.record)
                }
                northRecords.insert(account.record)
                allIDs.append(account.record)
                try check(rep, try await r.push(c, writes))
                replicas[rep] = r
            }
            var mia = replicas["mia"]!
            let lead = try await SecurityTests.handedOffDeal(c, f: f, mia: &mia, territory: "north", rng: &rng)
            replicas["mia"] = mia
            northRecords.insert(lead)
            allIDs.append(lead)
            var sam = replicas["sam"]!
            try await sam.pull(c)
            let owner = sam.state[lead]?.owner ?? "sam"
            var holder = owner == "sam" ? sam : replicas[owner]!
            try await holder.pull(c)
            let quote = canary("terms")
            terms.insert(quote)
            try check(owner, try await holder.push(c, [holder.write(lead, "quote_terms", .text(quote))]))
            let (request, asked) = SecurityTests.request(&holder, deal: lead, target: lead, field: "discount", value: "12.00", kind: "discount", rng: &rng)
            try check(owner, try await holder.push(c, asked))
            allIDs.append(request)
            northRecords.insert(request)
            // The rep accepts the lead: the stage change and its stage-history line are theirs.
            try check(owner, try await holder.push(c, [holder.write(lead, "stage", .member("discovery"))]))
            replicas[owner] = holder
            replicas["sam"] = owner == "sam" ? holder : sam

            // South attacks; north keeps working; everyone pulls now and then.
            let store = try SQLiteHubStore(path: f.configuration.databasePath)
            for step in 0..<150 {
                let attacker = Self.south[Int(rng.next() % UInt64(Self.south.count))].name
                var r = replicas[attacker]!
                var writes = [WireWrite]()
                var delta: UInt64 = 0
                for _ in 0..<(1 + rng.next() % 6) {
                    delta += 1
                    let target: RecordID
                    if rng.next() % 4 == 0 {
                        var g = rng
                        target = UUID128.version7(milliseconds: r.physical, using: &g)
                        rng = g
                        allIDs.append(target)
                    } else {
                        target = allIDs.randomElement(using: &rng)!
                    }
                    let kind: WireWriteKind = [.set, .set, .set, .create, .delete][Int(rng.next() % 5)]
                    var w = SecurityTests.wire(
                        target, entity: UInt32(1 + rng.next() % 8), field: kind == .set ? UInt32(rng.next() % 40) : 0, kind: kind,
                        value: HostileValues.any(&rng, ids: allIDs, names: (Self.north + Self.south).map(\.name) + ["hub"]), delta: delta)
                    switch rng.next() % 3 {
                    case 0: var b = WireBase(); b.sequence = rng.next() % 200; w.base = b
                    case 1: var b = WireBase(); b.localHlc = rng.next(); w.base = b
                    default: break
                    }
                    writes.append(w)
                }
                do {
                    let answer = try await SecurityTests.rawPush(c, &r, writes)
                    try check(attacker, answer)
                } catch let e as WireClient.Failure {
                    #expect(e.status >= 400 && e.status < 500, "seed \(seed) step \(step): \(e)")
                    r.batch -= 1  // a refused batch was not applied: the next takes its number
                }
                replicas[attacker] = r
                // A south manager approves whatever is pending that he sees.
                if rng.next() % 5 == 0 {
                    var m = replicas["smax"]!
                    try await m.pull(c)
                    try check("smax", try await c.call(Endpoint.pull, m.pullRequest(maxChanges: 0), token: m.token, as: PullResponse.self))
                    let pending = m.state.records.values.filter { $0.entity == "approval" && $0["state"] == .member("pending") }
                    if !pending.isEmpty {
                        let writes = pending.map { m.write($0.id, "state", .member("approved"), entity: "approval") }
                        try check("smax", try await m.push(c, writes))
                    }
                    replicas["smax"] = m
                }
                // North works on.
                if rng.next() % 3 == 0, let deal = northRecords.filter({ id in replicas["sam"]!.state[id]?.owner == "sam" }).randomElement(using: &rng) {
                    var s = replicas["sam"]!
                    try check("sam", try await s.push(c, [s.write(deal, "next_step", .text(canary("step")))]))
                    replicas["sam"] = s
                }
                let puller = (Self.north + Self.south)[Int(rng.next() % UInt64(Self.north.count + Self.south.count))].name
                var p = replicas[puller]!
                let page = try await c.call(Endpoint.pull, p.pullRequest(maxChanges: 50), token: p.token, as: PullResponse.self)
                try check(puller, page)
                try p.apply(page)
                replicas[puller] = p
            }
            // Every south replica pulls to the end: what it holds has nothing of north's.
            for u in Self.south + [HubUser(name: "mia", role: "marketing")] {
                var r = replicas[u.name]!
                while true {
                    let page = try await c.call(Endpoint.pull, r.pullRequest(maxChanges: 0), token: r.token, as: PullResponse.self)
                    try check(u.name, page)
                    try r.apply(page)
                    if !page.more { break }
                }
                #expect(r.checkpoints.last?.checksum == r.checksum.value, "seed \(seed): \(u.name)'s replica differs from its checkpoint")
                // What a marketer's or an expert's replica holds names no one but them and the hub.
                if u.role == "marketing" || u.role == "expert" {
                    for record in r.state.records.values {
                        let values = (Workspace.default.entity(record.entity)?.fields ?? []).filter { $0.type == .user }.compactMap { f -> String? in
                            if case let .text(name) = record[f.name] { name } else { nil }
                        }
                        let names = [record.created.author] + record.fields.values.map(\.author) + values
                        for n in names where ![u.name, "hub", ""].contains(n) { Issue.record("seed \(seed): \(u.name) holds \(n)'s name on a \(record.entity)") }
                        for step in StageLog.steps(record["stage_log"]) where ![u.name, "hub", ""].contains(step.by) {
                            Issue.record("seed \(seed): \(u.name)'s stage log names \(step.by)")
                        }
                        // Nor anything of someone else's request: who decided it, the note (which
                        // names the requester), what it asks (DOMAIN.md: approvals are — to them).
                        if record.entity == "approval", record.creator != u.name, !record.fields.isEmpty {
                            Issue.record("seed \(seed): \(u.name) holds \(record.fields.keys.sorted()) of another's request")
                        }
                        // Nor who else is on a team (DOMAIN.md: team membership is — to them).
                        if record.entity == "membership", record["user"] != .text(u.name), !record.fields.isEmpty {
                            Issue.record("seed \(seed): \(u.name) holds \(record.fields.keys.sorted()) of another's membership")
                        }
                    }
                }
                replicas[u.name] = r
            }
            // mia saw her lead accepted, dated, its mover unnamed.
            let miaLead = try #require(replicas["mia"]?.state[lead])
            #expect(miaLead["stage"] == .member("discovery"), "seed \(seed): \(miaLead)")
            #expect(StageLog.steps(miaLead["stage_log"]).map(\.to).suffix(1) == ["discovery"] && StageLog.steps(miaLead["stage_log"]).last?.by == "")
            // No north record was changed by a south hand, directly or through an approval.
            let southNames = Set(Self.south.map(\.name))
            for id in northRecords {
                for e in try store.log(record: id) where southNames.contains(e.entry.author) {
                    Issue.record("seed \(seed): \(e.entry.author) changed north's \(e.entry.entity).\(e.entry.field)")
                }
            }
            // Every stored value is in range and every record decodes.
            for id in Set(allIDs) {
                guard let record = try store.record(id, workspace: .default) else { continue }
                for (name, s) in record.fields { #expect(s.value.rangeProblem == nil, "seed \(seed): \(record.entity).\(name)") }
            }
            for stored in try store.conflicts(after: 0, concerning: Set((Self.north + Self.south).map(\.name)), author: "", limit: 100_000) {
                #expect(stored.conflict.loser.value.rangeProblem == nil)
                _ = stored.conflict.loser.value.canonicalText
            }
        }
    }

    /// The stage log names who moved a deal; a marketer who writes to it (it is read-only) is
    /// answered with the value that holds, and pulls her conflict with it: both without the
    /// name of the rep who accepted her lead (visibility.md §6).
    @Test func aMarketerWritingTheStageLogIsNotAnsweredWithTheRepsName() async throws {
        let f = try HubFixture(users: Self.north)
        try await f.application().test(.router) { client in
            var rng = SeededGenerator(seed: 7)
            let c = WireClient(client: client)
            var mia = TestReplica(user: "mia", token: f.tokens["mia"]!, seed: 1)
            _ = try await mia.handshake(c)
            let lead = try await SecurityTests.handedOffDeal(c, f: f, mia: &mia, territory: "north", rng: &rng)
            var max = TestReplica(user: "nmax", token: f.tokens["nmax"]!, seed: 2)
            _ = try await max.handshake(c)
            try await max.pull(c)
            let rep = try #require(max.state[lead]?.owner)
            var holder = TestReplica(user: rep, token: f.tokens[rep]!, seed: 3)
            _ = try await holder.handshake(c)
            try await holder.pull(c)
            let accepted = try await holder.push(c, [holder.write(lead, "stage", .member("discovery"))])
            #expect(accepted.results.map(\.outcome) == [.applied])
            try await mia.pull(c)
            let answer = try await mia.push(c, [mia.write(lead, "stage_log", .text("1 lead mia"))])
            let result = try #require(answer.results.first)
            #expect(result.outcome == .rejected && result.hasWinner, "\(result)")
            let log = try #require(try result.winner.pulledValue())
            #expect(StageLog.steps(log).map(\.to) == ["qualified", "discovery"] && StageLog.steps(log).map(\.by) == ["mia", ""], "\(log)")
            #expect(!(try Self.bytes(answer)).contains(rep))
            let page = try await c.call(Endpoint.pull, mia.pullRequest(maxChanges: 0), token: mia.token, as: PullResponse.self)
            let conflict = try #require(page.conflicts.first { $0.hasWinner })
            let winner = try #require(try conflict.winner.pulledValue())
            #expect(StageLog.steps(winner).map(\.by) == ["mia", ""], "\(winner)")
            #expect(page.authors.allSatisfy { ["mia", "hub", ""].contains($0) }, "\(page.authors)")
            // The manager, who reads owners, reads the same log with the rep's name.
            try await max.pull(c)
            #expect(StageLog.steps(max.state[lead]?["stage_log"] ?? .null).map(\.by) == ["mia", rep])
        }
    }

    /// A workspace where marketing reads a lead's owner while it is a lead (and handed off), not
    /// after: the manager's note on mia's lead comes to her with his name; once the rep accepts
    /// the lead, the note is sent to her again without it (what hangs off a deal follows the deal,
    /// visibility.md §6), and her replica still matches its checkpoint.
    @Test func whatHangsOffADealIsSentAgainWhenItsNamesBecomeWithheld() async throws {
        let document = Workspace.defaultDocument.replacingOccurrences(
            of: "\"team\": {\n          \"sales\": \"propose if owner; read\",",
            with: "\"team\": {\n          \"marketing\": \"read in lead,qualified\",\n          \"sales\": \"propose if owner; read\",")
        #expect(document != Workspace.defaultDocument)
        let ws = try Workspace.decode(document)
        #expect(ws.mayEverReadOwners(role: "marketing") && !Workspace.default.mayEverReadOwners(role: "marketing"))
        let f = try HubFixture(users: Self.north, workspace: document)
        try await f.application().test(.router) { client in
            var rng = SeededGenerator(seed: 11)
            let c = WireClient(client: client)
            var mia = TestReplica(user: "mia", token: f.tokens["mia"]!, seed: 1)
            var max = TestReplica(user: "nmax", token: f.tokens["nmax"]!, seed: 2)
            _ = try await mia.handshake(c)
            _ = try await max.handshake(c)
            let lead = try await SecurityTests.handedOffDeal(c, f: f, mia: &mia, territory: "north", rng: &rng)
            try await max.pull(c)
            let note = max.create("activity", stage: nil, using: &rng)
            let wrote = try await max.push(
                c,
                [note, max.write(note.record, "opportunity", .reference(lead), entity: "activity"), max.write(note.record, "kind", .member("note"), entity: "activity")])
            #expect(wrote.results.allSatisfy { $0.outcome == .applied }, "\(wrote.results.map(\.rule))")
            try await mia.pull(c)
            #expect(mia.state[note.record]?.created.author == "nmax", "handed off, she still reads its owner, and names")
            #expect(mia.state[lead]?.owner != nil)
            let rep = try #require(max.state[lead]?.owner)
            var holder = TestReplica(user: rep, token: f.tokens[rep]!, seed: 3)
            _ = try await holder.handshake(c)
            try await holder.pull(c)
            #expect(try await holder.push(c, [holder.write(lead, "stage", .member("discovery"))]).results.map(\.outcome) == [.applied])
            try await mia.pull(c)
            #expect(mia.state[lead]?.owner == nil && mia.state[lead]?["stage"] == .member("discovery"))
            #expect(mia.state[note.record]?.created.author == "", "\(String(describing: mia.state[note.record]))")
            #expect(mia.state[note.record]?.fields.values.allSatisfy { $0.author == "" } == true)
            #expect(StageLog.steps(mia.state[lead]?["stage_log"] ?? .null).map(\.by) == ["mia", ""])
            #expect(mia.checkpoints.last?.checksum == mia.checksum.value)
        }
    }
}
