import Foundation
import Hummingbird
import HummingbirdTesting
import OppsCore
import OppsStore
import OppsTestSupport
import OppsWire
import Testing

@testable import OppsHub

@Suite struct PullTests {

    /// The hub writes whole records straight into protobuf, as the page's raw `entered` entries:
    /// a pull answered in JSON (which has no raw entries) carries the same records, decoded.
    @Test func aPullInJSONCarriesTheSameWholeRecordsAsInProtobuf() async throws {
        let f = try HubFixture()
        try await f.live { proto in
            var json = proto
            json.media = .json
            var rng = SeededGenerator(seed: 17)
            var rs = try await f.replicas("sam", "sam", "sam", client: proto)
            var writes = [FieldWrite]()
            for _ in 0..<3 { writes.append(rs[0].create(using: &rng)) }
            _ = try await rs[0].push(proto, writes)
            let inJSON = try await json.call(Endpoint.pull, rs[1].pullRequest(maxChanges: 0), token: rs[1].token, as: PullResponse.self)
            let inProtobuf = try await proto.call(Endpoint.pull, rs[2].pullRequest(maxChanges: 0), token: rs[2].token, as: PullResponse.self)
            #expect(Set(inJSON.entered.compactMap { RecordID(bytes: $0.record) }) == Set(writes.map(\.record)))
            #expect(inJSON.entered == inProtobuf.entered)
            #expect(inJSON.unknownFields.data.isEmpty && inProtobuf.unknownFields.data.isEmpty)
        }
    }
    /// sam creates a deal; tom, marketing and the expert see nothing of it; the manager does.
    @Test func eachUserReceivesExactlyWhatTheyMaySee() async throws {
        let f = try HubFixture()
        try await f.application().test(.router) { client in
            let c = WireClient(client: client)
            var rng = SeededGenerator(seed: 2)
            var replicas = [String: TestReplica]()
            for (i, u) in ["sam", "tom", "mia", "eve", "max"].enumerated() {
                let r = TestReplica(user: u, token: f.tokens[u]!, seed: UInt64(i + 10))
                _ = try await r.handshake(c)
                replicas[u] = r
            }
            var sam = replicas["sam"]!
            let deal = sam.create(using: &rng)
            _ = try await sam.push(c, [deal, sam.write(deal.record, "amount", .decimal(ExactDecimal(units: 100, scale: 2)))])
            var mia = replicas["mia"]!
            let lead = mia.create(stage: "lead", using: &rng)
            _ = try await mia.push(c, [lead, mia.write(lead.record, "lead_source", .member("web"))])
            for u in ["sam", "tom", "mia", "eve", "max"] {
                var r = u == "sam" ? sam : (u == "mia" ? mia : replicas[u]!)
                try await r.pull(c)
                let ids = r.state.opportunityIDs
                switch u {
                case "sam": #expect(ids == [deal.record])
                case "mia": #expect(ids == [lead.record])
                case "max": #expect(ids == [deal.record, lead.record])
                default: #expect(ids.isEmpty, "\(u) sees \(ids)")
                }
                // The checkpoint matches what the replica holds.
                let cp = try #require(r.checkpoints.last)
                #expect(cp.checksum == r.checksum.value, "\(u)")
                #expect(cp.records == UInt64(ids.count))
                replicas[u] = r
            }
        }
    }

    @Test func pagesOfAnySizeReachTheSameStateAndChecksum() async throws {
        let f = try HubFixture()
        try await f.application().test(.router) { client in
            let c = WireClient(client: client)
            var rng = SeededGenerator(seed: 5)
            var sam = TestReplica(user: "sam", token: f.tokens["sam"]!, seed: 1)
            _ = try await sam.handshake(c)
            for _ in 0..<6 {
                var batch = [FieldWrite]()
                for _ in 0..<5 {
                    let d = sam.create(using: &rng)
                    batch += [d, sam.write(d.record, "name", .text("deal \(rng.next() % 1000)")), sam.write(d.record, "probability", .integer(Int64(rng.next() % 100)))]
                }
                _ = try await sam.push(c, batch)
            }
            try await sam.pull(c)
            let reference = sam.state
            for size in [1, 3, 7, 50] as [UInt32] {
                var fresh = TestReplica(user: "sam", token: f.tokens["sam"]!, seed: UInt64(100 + size))
                _ = try await fresh.handshake(c)
                let pages = try await fresh.pull(c, maxChanges: size)
                #expect(fresh.state == reference, "page size \(size)")
                #expect(fresh.checkpoints.last?.checksum == fresh.checksum.value)
                if size == 1 { #expect(pages > 5) }
            }
        }
    }

    @Test func aLostPageIsSentAgain() async throws {
        let f = try HubFixture { $0.maxEnteredPerPage = 2 }
        try await f.application().test(.router) { client in
            let c = WireClient(client: client)
            var rng = SeededGenerator(seed: 6)
            var sam = TestReplica(user: "sam", token: f.tokens["sam"]!, seed: 1)
            _ = try await sam.handshake(c)
            var writes = [FieldWrite]()
            for _ in 0..<5 { writes.append(sam.create(using: &rng)) }
            _ = try await sam.push(c, writes)
            // A manager replica pulls page 1, then "loses" page 2's response and asks again.
            var max = TestReplica(user: "max", token: f.tokens["max"]!, seed: 2)
            _ = try await max.handshake(c)
            var r = PullRequest()
            r.replica = Data(max.id.bytes)
            let page1 = try await c.call(Endpoint.pull, r, token: max.token, as: PullResponse.self)
            try max.apply(page1)
            r.cursor = max.cursor
            r.token = max.token_
            _ = try await c.call(Endpoint.pull, r, token: max.token, as: PullResponse.self)  // response lost
            try await max.pull(c)  // retries from page 1's token
            #expect(max.state.opportunityIDs.count == 5)
            #expect(max.checkpoints.last?.checksum == max.checksum.value)
        }
    }

    /// sam pushes `n` named deals; their ids.
    static func samsDeals(_ n: Int, seed: UInt64, _ f: HubFixture, _ c: WireClient) async throws -> [RecordID] {
        var rng = SeededGenerator(seed: seed)
        var sam = TestReplica(user: "sam", token: f.tokens["sam"]!, seed: 1)
        _ = try await sam.handshake(c)
        var writes = [FieldWrite]()
        var deals = [RecordID]()
        for i in 0..<n {
            let d = sam.create(using: &rng)
            deals.append(d.record)
            writes += [d, sam.write(d.record, "name", .text("deal \(i)"))]
        }
        _ = try await sam.push(c, writes)
        return deals
    }

    /// The manager gives `deals` to tom.
    static func reassignToTom(_ deals: [RecordID], _ f: HubFixture, _ c: WireClient) async throws {
        var max = TestReplica(user: "max", token: f.tokens["max"]!, seed: 3)
        _ = try await max.handshake(c)
        try await max.pull(c)
        _ = try await max.push(c, deals.map { max.write($0, "owner", .text("tom")) })
    }

    /// Pipelining (sync-protocol.md §6.1): the hub builds page n + 1 as if the replica held page n,
    /// so no record comes twice, and it learns what the replica holds only from the tokens echoed
    /// — a deal reassigned away afterwards leaves the replica, and the checksums match.
    /// On PostgreSQL too: there a page asks for its next 500 records before it encodes the
    /// ones in hand (`prefetchRecords`), and reads what it asked for before the next statement.
    @Test(arguments: HubStoreKind.all)
    func pipelinedPagesBringEveryRecordOnce(store: HubStoreKind) async throws {
        let url = try store.url()
        let f = try HubFixture { $0.storeURL = url }
        try await f.application().test(.router) { client in
            let c = WireClient(client: client)
            let deals = try await Self.samsDeals(30, seed: 8, f, c)
            var fresh = TestReplica(user: "sam", token: f.tokens["sam"]!, seed: 2)
            _ = try await fresh.handshake(c)
            let (pages, entered) = try await fresh.pullPipelined(c, maxChanges: 4)
            #expect(pages == 8)
            #expect(entered == 30, "a pipelined page sent records of the page before it again")
            fresh.expectHolds(Set(deals))
            // What the hub believes the replica holds came from the echoed tokens: a deal of the
            // first page and one of the last, reassigned to tom, leave it.
            let moved = [deals.sorted()[0], deals.sorted()[29]]
            try await Self.reassignToTom(moved, f, c)
            let again = try await fresh.pullPipelined(c, maxChanges: 4)
            #expect(again.entered == 0)
            fresh.expectHolds(Set(deals).subtracting(moved))
        }
    }

    /// A page reads the records it takes and hardly more: the walk offers the store no more
    /// records of each kind than the page may still take (a cold sync's page read 2,500 records
    /// to take 2,000), and names the next chunk while the page works on one, for a prefetch.
    @Test func aPageAsksForTheRecordsItTakesAndTheNextChunkAhead() async throws {
        let f = try HubFixture()
        try await f.application().test(.router) { client in
            let c = WireClient(client: client)
            let deals = try await Self.samsDeals(1_300, seed: 9, f, c)
            let store = try f.configuration.openStore()
            let engine = try HubEngine(store: store, configuration: f.configuration)
            let sam = try #require(HubFixture.team.first { $0.name == "sam" })
            let snapshot = try engine.build(for: sam, head: try store.head())
            for limit in [2_000, 1_200, 700, 3] {
                var asked = [[RecordID]](), told = [[RecordID]](), taken = 0
                let walk = try engine.walkDifferences(
                    known: KnownState(records: [:], trackedFrom: 0), snapshot: snapshot, user: sam,
                    ahead: {
                        asked.append($0); told.append($1)
                    }, room: { (limit - taken, .max) }
                ) { _, _ in
                    guard taken < limit else { return false }
                    taken += 1
                    return true
                }
                #expect(taken == min(limit, deals.count))
                #expect(walk.stopped == (limit < deals.count))
                let offered = asked.flatMap { $0 }
                #expect(offered == Array(deals.sorted().prefix(offered.count)), "chunks in id order, none twice")
                #expect(offered.count <= taken + 1, "limit \(limit): \(offered.count) records read to take \(taken)")
                #expect(asked.allSatisfy { $0.count <= 500 })
                for (i, chunk) in asked.enumerated().dropFirst() { #expect(chunk == told[i - 1], "each chunk was named the call before") }
            }
        }
    }

    /// A replica that received a page and asked for the next one but never applied it (applying
    /// failed) pulls again with its last applied token: what it missed comes again, nothing twice
    /// beyond that, and the hub's record of what it holds stays exact.
    @Test func anUnappliedPipelinedPageIsSentAgain() async throws {
        let f = try HubFixture()
        try await f.application().test(.router) { client in
            let c = WireClient(client: client)
            let deals = try await Self.samsDeals(20, seed: 9, f, c)
            var fresh = TestReplica(user: "sam", token: f.tokens["sam"]!, seed: 2)
            _ = try await fresh.handshake(c)
            let cut = try await fresh.pullPipelined(c, maxChanges: 4, abandoning: 3)
            #expect(cut.pages == 2 && cut.entered == 8)
            // Records of pages 3 and 4 (built on the unapplied page 3) come now, the rest once.
            let rest = try await fresh.pullPipelined(c, maxChanges: 4)
            #expect(rest.entered == 12)
            fresh.expectHolds(Set(deals))
            let sorted = deals.sorted()
            let moved = [sorted[8], sorted[13], sorted[19]]  // from the abandoned page, the one built on it, the last
            try await Self.reassignToTom(moved, f, c)
            try await fresh.pull(c)
            fresh.expectHolds(Set(deals).subtracting(moved))
        }
    }

    /// Protocol 2 leaves the record and entity out of an entered record's field changes (the
    /// state names them); a replica whose handshake settled on 1 gets them in full.
    @Test func enteredFieldsNameTheirRecordOnlyForVersionOneReplicas() async throws {
        let f = try HubFixture()
        try await f.application().test(.router) { client in
            let c = WireClient(client: client)
            var rng = SeededGenerator(seed: 11)
            var sam = TestReplica(user: "sam", token: f.tokens["sam"]!, seed: 1)
            _ = try await sam.handshake(c)
            let d = sam.create(using: &rng)
            _ = try await sam.push(c, [d, sam.write(d.record, "name", .text("compact"))])
            for version: UInt32 in [1, 2] {
                let r = TestReplica(user: "sam", token: f.tokens["sam"]!, seed: UInt64(20 + version))
                #expect(try await r.handshake(c, version: version).version == version)
                var request = PullRequest()
                request.replica = Data(r.id.bytes)
                let page = try await c.call(Endpoint.pull, request, token: r.token, as: PullResponse.self)
                let state = try #require(page.entered.first)
                #expect(state.record == Data(d.record.bytes) && state.entity == Workspace.default.entity("opportunity")!.number)
                #expect(state.fields.count >= 2)  // the creation, the name, and what the hub derived (owner)
                for field in state.fields {
                    if version == 1 {
                        #expect(field.record == state.record && field.entity == state.entity)
                    } else {
                        #expect(field.record.isEmpty && field.entity == 0)
                    }
                }
            }
        }
    }

    /// A `received` naming anything but the page the hub answered last is ignored: a late copy
    /// of a pipelined request (it names a real page, but an older one) is built from what the
    /// hub knows the replica holds, so the records of that never-acknowledged page come again.
    @Test func aStaleReceivedTokenIsIgnored() async throws {
        let f = try HubFixture()
        try await f.application().test(.router) { client in
            let c = WireClient(client: client)
            _ = try await Self.samsDeals(12, seed: 10, f, c)
            let fresh = TestReplica(user: "sam", token: f.tokens["sam"]!, seed: 2)
            _ = try await fresh.handshake(c)
            var r = PullRequest()
            r.replica = Data(fresh.id.bytes)
            r.maxChanges = 4
            let page1 = try await c.call(Endpoint.pull, r, token: fresh.token, as: PullResponse.self)
            var pipelined = r
            pipelined.cursor = page1.cursor
            pipelined.received = page1.token
            let page2 = try await c.call(Endpoint.pull, pipelined, token: fresh.token, as: PullResponse.self)
            let ids = { (p: PullResponse) in Set(p.entered.map(\.record)) }
            #expect(ids(page2).isDisjoint(with: ids(page1)), "a valid received page is not sent again")
            // The same request again, arriving late: page 1 is no longer the page answered last.
            let late = try await c.call(Endpoint.pull, pipelined, token: fresh.token, as: PullResponse.self)
            #expect(ids(late) == ids(page1), "page 1 was never acknowledged: its records come again")
            // A token that names no page at all is ignored the same way.
            var unknown = r
            unknown.cursor = page1.cursor
            unknown.received = late.token + 5
            #expect(ids(try await c.call(Endpoint.pull, unknown, token: fresh.token, as: PullResponse.self)) == ids(page1))
        }
    }

    @Test func reassignmentMovesTheRecordBetweenReplicasAndConflictsReachTheLoser() async throws {
        let f = try HubFixture()
        try await f.application().test(.router) { client in
            let c = WireClient(client: client)
            var rng = SeededGenerator(seed: 7)
            var sam = TestReplica(user: "sam", token: f.tokens["sam"]!, seed: 1)
            var tom = TestReplica(user: "tom", token: f.tokens["tom"]!, seed: 2)
            var max = TestReplica(user: "max", token: f.tokens["max"]!, seed: 3)
            for r in [sam, tom, max] { _ = try await r.handshake(c) }
            let deal = sam.create(using: &rng)
            _ = try await sam.push(c, [deal, sam.write(deal.record, "amount", .decimal(ExactDecimal(units: 1000, scale: 2)))])
            try await sam.pull(c)
            try await max.pull(c)
            // Offline, both edit the amount; the manager's override wins whatever the order.
            let samWrite = sam.write(deal.record, "amount", .decimal(ExactDecimal(units: 2000, scale: 2)))
            let maxWrite = max.write(deal.record, "amount", .decimal(ExactDecimal(units: 1500, scale: 2)))
            let m = try await max.push(c, [maxWrite])
            #expect(m.results[0].outcome == .applied)
            let s = try await sam.push(c, [samWrite])
            #expect(s.results[0].outcome == .lost)
            #expect(s.results[0].rule == "authority")
            #expect(try s.results[0].winner.coreValue() == .decimal(ExactDecimal(units: 1500, scale: 2)))
            try await sam.pull(c)
            #expect(sam.state[deal.record]?["amount"] == .decimal(ExactDecimal(units: 1500, scale: 2)))
            #expect(sam.conflicts.contains { $0.rule == "authority" && (try? $0.value.coreValue()) == .decimal(ExactDecimal(units: 2000, scale: 2)) })
            // The manager reassigns the deal to tom: it leaves sam's replica and enters tom's.
            try await max.pull(c)
            _ = try await max.push(c, [max.write(deal.record, "owner", .text("tom"))])
            try await sam.pull(c)
            try await tom.pull(c)
            #expect(sam.state[deal.record] == nil)
            #expect(tom.state[deal.record]?.owner == "tom")
            #expect(tom.state[deal.record]?["amount"] == .decimal(ExactDecimal(units: 1500, scale: 2)))
            for r in [sam, tom] { #expect(r.checkpoints.last?.checksum == r.checksum.value, "\(r.user)") }
        }
    }

    @Test func marketingDoesNotSeeHiddenFields() async throws {
        let f = try HubFixture()
        try await f.application().test(.router) { client in
            let c = WireClient(client: client)
            var rng = SeededGenerator(seed: 8)
            var mia = TestReplica(user: "mia", token: f.tokens["mia"]!, seed: 1)
            var max = TestReplica(user: "max", token: f.tokens["max"]!, seed: 2)
            for r in [mia, max] { _ = try await r.handshake(c) }
            let lead = mia.create(stage: "lead", using: &rng)
            _ = try await mia.push(c, [lead])
            try await max.pull(c)
            let r = try await max.push(
                c,
                [
                    max.write(lead.record, "discount", .decimal(ExactDecimal(units: 500, scale: 2))),
                    max.write(lead.record, "score", .integer(80)),
                ])
            #expect(r.results.map(\.outcome) == [.applied, .applied])
            // Both paths: a replica that never had the lead gets it whole; one that has it gets
            // the changes after its cursor — neither carries the hidden field.
            var fresh = TestReplica(user: "mia", token: f.tokens["mia"]!, seed: 3)
            _ = try await fresh.handshake(c)
            try await fresh.pull(c)
            try await mia.pull(c)
            _ = try await max.push(
                c,
                [
                    max.write(lead.record, "discount", .decimal(ExactDecimal(units: 700, scale: 2))),
                    max.write(lead.record, "score", .integer(90)),
                ])
            try await mia.pull(c)
            for replica in [fresh, mia] {
                #expect(replica.state[lead.record]?.fields["discount"] == nil, "\(replica.id)")
                #expect(replica.checkpoints.last?.checksum == replica.checksum.value)
            }
            #expect(fresh.state[lead.record]?["score"] == .integer(80))
            #expect(mia.state[lead.record]?["score"] == .integer(90))
        }
    }
}

@Suite struct AssignmentTests {
    func handOff(_ c: WireClient, _ mia: inout TestReplica, territory: String?, rng: inout SeededGenerator) async throws -> RecordID {
        // References name records the writer sees (made here), as `opps lead add` does.
        let account = mia.create("account", stage: nil, using: &rng)
        let contact = mia.create("contact", stage: nil, using: &rng)
        let lead = mia.create(stage: "lead", using: &rng)
        var writes = [account, contact, lead]
        let fields: [(String, Value)] =
            [
                ("lead_source", .member("web")), ("account", .reference(account.record)),
                ("contact", .reference(contact.record)), ("qualification", .text("budget ok")),
                ("check_need", .boolean(true)), ("check_budget", .boolean(true)), ("check_timing", .boolean(true)),
                ("check_contact", .boolean(true)),
            ] + (territory.map { [("territory", Value.text($0))] } ?? [])
        for (field, value) in fields {
            writes.append(FieldWrite(record: lead.record, entity: "opportunity", field: field, value: value, author: "mia", stamp: mia.stamp()))
        }
        let stage = FieldWrite(
            record: lead.record, entity: "opportunity", field: "stage", value: .member("qualified"),
            base: .stamp(lead.stamp), author: "mia", stamp: mia.stamp())
        let r = try await mia.push(c, writes + [stage])
        #expect(r.results.last?.outcome == .applied, "\(r.results.last?.rule ?? "")")
        return lead.record
    }

    /// A replica that holds a record gets its changes in small pages even when most of the log
    /// is about records it never sees and most of the record's own changes are hidden from it:
    /// the pull reads only the held record's entries, and a page that reached the query's limit
    /// without filling (hidden fields skipped) goes on from the last entry it looked at.
    @Test func changesToHeldRecordsComeInPagesAmongOthersWrites() async throws {
        let f = try HubFixture()
        try await f.application().test(.router) { client in
            let c = WireClient(client: client)
            var rng = SeededGenerator(seed: 21)
            var mia = TestReplica(user: "mia", token: f.tokens["mia"]!, seed: 1)
            var max = TestReplica(user: "max", token: f.tokens["max"]!, seed: 2)
            var tom = TestReplica(user: "tom", token: f.tokens["tom"]!, seed: 3)
            for r in [mia, max, tom] { _ = try await r.handshake(c) }
            let lead = mia.create(stage: "lead", using: &rng)
            _ = try await mia.push(c, [lead])
            try await mia.pull(c)
            // Others' work mia never sees: 20 entries.
            var noise = [FieldWrite]()
            for i in 0..<10 {
                let d = tom.create(using: &rng)
                noise += [d, tom.write(d.record, "name", .text("tom \(i)"))]
            }
            _ = try await tom.push(c, noise)
            // On mia's lead: two hidden writes (discount) before each visible one (score).
            try await max.pull(c)
            for i in 0..<4 {
                for (field, value) in [
                    ("discount", Value.decimal(ExactDecimal(units: Int64(100 + i), scale: 2))),
                    ("discount", .decimal(ExactDecimal(units: Int64(200 + i), scale: 2))), ("score", .integer(Int64(10 * i))),
                ] {
                    let r = try await max.push(c, [max.write(lead.record, field, value)])
                    #expect(r.results.map(\.outcome) == [.applied])
                    try await max.pull(c)
                }
            }
            let pages = try await mia.pull(c, maxChanges: 2)
            #expect(pages >= 3, "\(pages) pages")
            #expect(mia.state[lead.record]?["score"] == .integer(30))
            #expect(mia.state[lead.record]?.fields["discount"] == nil)
            #expect(mia.checkpoints.last?.checksum == mia.checksum.value)
            var fresh = TestReplica(user: "mia", token: f.tokens["mia"]!, seed: 4)
            _ = try await fresh.handshake(c)
            try await fresh.pull(c)
            #expect(mia.state == fresh.state)
        }
    }

    @Test func handedOffLeadsGoRoundRobinWithinTheTerritorySkippingRepsAtCapacity() async throws {
        var users = HubFixture.team
        users.append(HubUser(name: "bob", role: "sales", territory: "north", manager: "max", capacity: 0))
        let f = try HubFixture(users: users)
        try await f.application().test(.router) { client in
            let c = WireClient(client: client)
            var rng = SeededGenerator(seed: 9)
            var mia = TestReplica(user: "mia", token: f.tokens["mia"]!, seed: 1)
            _ = try await mia.handshake(c)
            var owners = [String]()
            for _ in 0..<4 {
                let id = try await handOff(c, &mia, territory: "north", rng: &rng)
                var max = TestReplica(user: "max", token: f.tokens["max"]!, seed: rng.next())
                _ = try await max.handshake(c)
                try await max.pull(c)
                owners.append(max.state[id]?.owner ?? "-")
            }
            // north reps: bob (capacity 0, skipped), sam, tom — alternating.
            #expect(owners == ["sam", "tom", "sam", "tom"])
            let south = try await handOff(c, &mia, territory: "south", rng: &rng)
            var ann = TestReplica(user: "ann", token: f.tokens["ann"]!, seed: 77)
            _ = try await ann.handshake(c)
            try await ann.pull(c)
            #expect(ann.state[south]?.owner == "ann")
            #expect(ann.state[south]?.fields["owner"]?.author == HubEngine.systemAuthor)
            // A device whose clock is a year ahead does not drag the hub's own stamps with it.
            var future = TestReplica(user: "mia", token: f.tokens["mia"]!, seed: 88)
            future.physical += 365 * 86_400_000
            _ = try await future.handshake(c)
            _ = try await future.push(c, [future.create(stage: "lead", using: &rng)])
            let next = try await handOff(c, &mia, territory: "south", rng: &rng)
            try await ann.pull(c)
            let stamp = try #require(ann.state[next]?.fields["owner"]?.stamp.hlc.milliseconds)
            #expect(stamp < Int64(Date().timeIntervalSince1970 * 1000) + 86_400_000, "the hub's assignment stamp followed a skewed device clock")
            // Marketing keeps sight of the handed-off lead (it created it).
            try await mia.pull(c)
            #expect(mia.state[south] != nil)
        }
    }

    /// A late copy of a replica's first pull (cursor 0, token 0) arriving after it acknowledged
    /// pages must not make the hub forget what the replica holds: a deal reassigned away later
    /// must still be removed from the rep's laptop (found by the simulator, seed 260).
    @Test func aLateCopyOfTheFirstPullDoesNotWipeWhatTheReplicaHolds() async throws {
        let f = try HubFixture()
        try await f.application().test(.router) { client in
            let c = WireClient(client: client)
            var rng = SeededGenerator(seed: 7)
            var sam = TestReplica(user: "sam", token: f.tokens["sam"]!, seed: 1)
            _ = try await sam.handshake(c)
            let deal = sam.create(using: &rng)
            _ = try await sam.push(c, [deal])
            var first = PullRequest()
            first.replica = Data(sam.id.bytes)
            try await sam.pull(c)
            try await sam.pull(c)  // acknowledges the page that brought the deal
            #expect(sam.state.opportunityIDs == [deal.record])
            _ = try await c.call(Endpoint.pull, first, token: sam.token, as: PullResponse.self)  // delivered late
            var max = TestReplica(user: "max", token: f.tokens["max"]!, seed: 2)
            _ = try await max.handshake(c)
            try await max.pull(c)
            _ = try await max.push(c, [max.write(deal.record, "owner", .text("tom"))])
            try await sam.pull(c)
            #expect(sam.state.opportunityIDs.isEmpty, "the reassigned deal stayed on sam's laptop")
            #expect(sam.checkpoints.last?.checksum == sam.checksum.value)
        }
    }

    /// Approval requests are checked when complete: one whose value does not fit the field is
    /// rejected as invalid; one asking for the text "null" gets exactly that text, not an
    /// empty field (the value is read the same way when checked and when applied).
    @Test func approvalRequestsAreCheckedAndAppliedAsRequested() async throws {
        let f = try HubFixture()
        try await f.application().test(.router) { client in
            let c = WireClient(client: client)
            var rng = SeededGenerator(seed: 11)
            var sam = TestReplica(user: "sam", token: f.tokens["sam"]!, seed: 1)
            _ = try await sam.handshake(c)
            let deal = sam.create(using: &rng)
            func request(_ field: String, _ value: String) -> [FieldWrite] {
                let create = sam.create("approval", stage: nil, using: &rng)
                return [create]
                    + [
                        ("opportunity", Value.reference(deal.record)), ("kind", .member("change")), ("target", .text(deal.record.description)),
                        ("field", .text(field)), ("value", .text(value)),
                    ].map { sam.write(create.record, $0.0, $0.1, entity: "approval") }
            }
            let bad = request("close_date", "someday"), good = request("next_step", "null"), nullDate = request("close_date", "null")
            let nobody = request("owner", "nobody")
            let response = try await sam.push(c, [deal] + bad + good + nullDate + nobody + [sam.write(deal.record, "owner", .text("tomm"))])
            // A user field must name a user of the hub: written directly, or asked for.
            #expect(response.results.last?.rule == "unknown-user")
            #expect(response.results.last?.conflict ?? 0 > 0)
            try await sam.pull(c)
            #expect(sam.state[nobody[0].record]?["state"] == .member("rejected"))
            #expect(sam.state[deal.record]?["owner"] == .text("sam"))
            // "null" is not a date (it was once read as "clear the field" when checked, and then
            // failed silently when approved).
            #expect(sam.state[nullDate[0].record]?["state"] == .member("rejected"))
            #expect(sam.state[bad[0].record]?["state"] == .member("rejected"))
            #expect(sam.state[bad[0].record]?["note"].canonicalText.hasPrefix("invalid request: close_date") == true)
            #expect(sam.state[good[0].record]?["state"] == .member("pending"))
            var max = TestReplica(user: "max", token: f.tokens["max"]!, seed: 2)
            _ = try await max.handshake(c)
            try await max.pull(c)
            _ = try await max.push(c, [max.write(good[0].record, "state", .member("approved"), entity: "approval")])
            try await sam.pull(c)
            #expect(sam.state[deal.record]?["next_step"] == .text("null"))
            #expect(sam.state[good[0].record]?["decided_by"] == .text("max"))
        }
    }
}

/// A snapshot works out a record's relations, signature and hidden fields once per shape
/// (owner, creator, team membership, stage, entity): each must still be exactly the record's own,
/// whichever record of a shape comes first — a record on the user's team beside one that is not,
/// both managed, must not share a signature (one would be sent with the other's fields).
@Suite struct SnapshotShapeTests {
    @Test(arguments: [false, true])
    func recordsOfOneShapeButTheirTeamKeepTheirOwnSignature(teamFirst: Bool) throws {
        let f = try HubFixture()
        let store = try f.configuration.openStore()
        let engine = try HubEngine(store: store, configuration: f.configuration)
        let max = try #require(HubFixture.team.first { $0.name == "max" })
        let query = VisibilityQuery.make(user: max.name, role: max.role, workspace: engine.workspace, directory: engine.directory)
        let s = VisibilitySnapshot(head: 0, directory: engine.directory, role: max.role, workspaceVersion: engine.workspace.version, query: query)
        let onTeam = RecordID(high: 0x0190, low: 1), offTeam = RecordID(high: 0x0190, low: 2), other = RecordID(high: 0x0190, low: 3)
        for id in [onTeam, offTeam] { s.columns[id] = RecordColumns(entity: "opportunity", kind: 0, creator: "sam", owner: "sam", stage: "qualified", term: 7) }
        s.columns[other] = RecordColumns(entity: "opportunity", kind: 0, creator: "sam", owner: "sam", stage: "won", term: 9)
        s.myTeams = [onTeam]
        let order = teamFirst ? [onTeam, offTeam, other] : [offTeam, onTeam, other]
        try engine.refresh(order, in: s, user: max)
        for id in order {
            let c = try #require(s.columns[id])
            let rel = engine.relations(id, c, user: max.name, in: s)
            let own = engine.signature(
                role: max.role, relations: rel, stage: c.stage, entity: c.entity,
                hidden: engine.hiddenFields(entity: c.entity, stage: c.stage, actor: Actor(user: max.name, role: max.role), relations: rel))
            #expect(s.signatures[id] == own)
        }
        #expect(s.signatures[onTeam] != s.signatures[offTeam] && s.signatures[offTeam] != s.signatures[other])
        #expect(s.contributions == [onTeam: 7, offTeam: 7, other: 9] && s.sum == 23)
    }
}
