import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import OppsCore
import OppsStore
import OppsWire
import Testing

@testable import OppsHub

/// What a user with a valid token and bad intent can send (issue 13): each test reproduces one
/// hole on the old hub and holds the fix.
@Suite struct SecurityTests {
    /// A raw push of hand-made writes (a hostile client, not BatchCoding's output).
    static func rawPush(_ c: WireClient, _ replica: inout TestReplica, _ writes: [WireWrite]) async throws -> PushResponse {
        replica.batch += 1
        var r = PushRequest()
        r.replica = Data(replica.id.bytes)
        r.batch = replica.batch
        r.workspaceVersion = Workspace.default.version
        r.hlcBase = HLC(milliseconds: replica.physical, counter: 0).rawValue
        r.writes = writes
        return try await c.call(Endpoint.push, r, token: replica.token, as: PushResponse.self)
    }

    static func wire(_ record: RecordID, entity: UInt32, field: UInt32 = 0, kind: WireWriteKind = .set, value: WireValue? = nil, delta: UInt64) -> WireWrite {
        var w = WireWrite()
        w.record = Data(record.bytes)
        w.entity = entity
        w.field = field
        w.kind = kind
        if let value { w.value = value }
        w.hlcDelta = delta
        return w
    }

    // MARK: 1–2. Values out of range

    @Test(
        arguments: [
            (
                "timestamp 2^62",
                {
                    var v = WireValue(); v.timestamp = 1 << 62; return v
                }()
            ),
            (
                "timestamp -2^62",
                {
                    var v = WireValue(); v.timestamp = -(1 << 62); return v
                }()
            ),
            (
                "date Int32.max",
                {
                    var v = WireValue(); v.date = Int32.max; return v
                }()
            ),
            (
                "date year 0",
                {
                    var v = WireValue(); v.date = -719_163; return v
                }()
            ),
            (
                "decimal 19 digits",
                {
                    var v = WireValue(); var d = WireDecimal(); d.units = 1_000_000_000_000_000_000; d.scale = 2; v.decimal = d; return v
                }()
            ),
            (
                "member 257 bytes",
                {
                    var v = WireValue(); v.member = String(repeating: "m", count: 257); return v
                }()
            ),
        ] as [(String, WireValue)])
    func aValueOutOfRangeIsRefusedWholeAndTheHubLives(name: String, value: WireValue) async throws {
        let f = try HubFixture()
        try await f.application().test(.router) { client in
            let c = WireClient(client: client, media: .json)
            var sam = TestReplica(user: "sam", token: f.tokens["sam"]!, seed: 1)
            _ = try await sam.handshake(c)
            var rng = SeededGenerator(seed: 7)
            let activity = UUID128.version7(milliseconds: sam.physical, using: &rng)
            let headBefore = try await f.hub.head()
            do {
                // The issue's example: an activity created and its `at` (field 4) set to the value.
                _ = try await Self.rawPush(
                    c, &sam, [Self.wire(activity, entity: 4, kind: .create, delta: 1), Self.wire(activity, entity: 4, field: 4, value: value, delta: 2)])
                Issue.record("\(name) was accepted")
            } catch let e as WireClient.Failure {
                #expect(e.status == 400 && e.code == .invalidValue, "\(name): \(e)")
            }
            // Nothing of the batch was applied; the hub still answers everyone.
            #expect(try await f.hub.head() == headBefore)
            #expect(try SQLiteHubStore(path: f.configuration.databasePath).log(record: activity).isEmpty)
            _ = try await TestReplica(user: "tom", token: f.tokens["tom"]!, seed: 2).handshake(c)
        }
    }

    // MARK: 3, 6. Nothing a user may not read comes back; nothing they may not see is writable

    /// A text reaches colleagues' terminals (`opps show`): a push that puts an escape sequence in
    /// one — forged, not from our CLI, which refuses it first — has that write refused
    /// (`type-mismatch`), the batch's other writes applied, and nobody pulls the sequence.
    @Test func noEscapeSequenceRidesInAText() async throws {
        let f = try HubFixture()
        try await f.application().test(.router) { client in
            let c = WireClient(client: client)
            var rng = SeededGenerator(seed: 8)
            let team = try await f.replicas("sam", "max", client: c)
            var (sam, max) = (team[0], team[1])
            let deal = sam.create(using: &rng)
            let answer = try await sam.push(
                c,
                [
                    deal, sam.write(deal.record, "name", .text("北辰物流")),
                    sam.write(deal.record, "next_step", .text("call\u{1b}]0;PWNED\u{07}\u{1b}[2J")),
                    sam.write(deal.record, "needs", .text("第一行\r\n第二行")),
                ])
            #expect(answer.results.map(\.outcome) == [.applied, .applied, .rejected, .applied])
            #expect(answer.results[2].rule == RuleID.typeMismatch.rawValue)
            try await max.pull(c)
            let seen = try #require(max.state[deal.record])
            #expect(seen["name"] == .text("北辰物流"))
            #expect(seen.fields["next_step"] == nil, "the refused text was not kept")
            #expect(seen["needs"] == .text("第一行\n第二行"), "a Windows line break kept as a line break")
        }
    }

    /// A forged push with a probability of 300 % or a negative amount (workspace-format.md
    /// `min`/`max`): that write alone is rejected, the others of the batch applied.
    /// `recovered_from` (sync-protocol.md §5.5) names another replica of the batch's own user, or
    /// the batch is refused whole: naming another user's replica would let a batch's writes pass
    /// as duplicates of that user's, and a stamp base name their writes. The refused batch is not
    /// taken, so the same number goes again with a right one.
    @Test func anOlderCopyNamesAnotherReplicaOfItsOwnUser() async throws {
        let f = try HubFixture()
        try await f.application().test(.router) { client in
            let c = WireClient(client: client)
            var rng = SeededGenerator(seed: 12)
            let team = try await f.replicas("sam", "tom", client: c)
            var sam = team[0]
            let tom = team[1]
            let laptop = TestReplica(user: "sam", token: f.tokens["sam"]!, seed: 77)
            _ = try await laptop.handshake(c, version: ProtocolVersion.current)
            let deal = sam.create(using: &rng)
            let unknown = ReplicaID.random(using: &rng)
            for (named, status, code) in [
                (Data(tom.id.bytes), 403, WireError.Code.replicaNotYours), (Data(sam.id.bytes), 400, .malformedBody),
                (Data(unknown.bytes), 400, .malformedBody), (Data(repeating: 1, count: 15), 400, .invalidId),
            ] {
                var request = try sam.batch([deal])
                sam.batch -= 1
                request.recoveredFrom = named
                do {
                    _ = try await c.call(Endpoint.push, request, token: sam.token, as: PushResponse.self)
                    Issue.record("a batch naming \(named.count) bytes as its older copy was taken")
                } catch let e as WireClient.Failure {
                    #expect(e.status == status && e.code == code, "\(e)")
                }
            }
            var request = try sam.batch([deal])
            request.recoveredFrom = Data(laptop.id.bytes)
            let taken = try await c.call(Endpoint.push, request, token: sam.token, as: PushResponse.self)
            #expect(taken.results.map(\.outcome) == [.applied])
        }
    }

    @Test func aNumberOutsideItsBoundsIsRejected() async throws {
        let f = try HubFixture()
        try await f.application().test(.router) { client in
            let c = WireClient(client: client)
            var rng = SeededGenerator(seed: 9)
            let team = try await f.replicas("sam", "max", client: c)
            var (sam, max) = (team[0], team[1])
            let deal = sam.create(using: &rng)
            let answer = try await sam.push(
                c,
                [
                    deal, sam.write(deal.record, "probability", .integer(300)),
                    sam.write(deal.record, "amount", .decimal(ExactDecimal(units: -100, scale: 2))),
                    sam.write(deal.record, "discount", .decimal(ExactDecimal(units: 15000, scale: 1))),
                    sam.write(deal.record, "probability", .integer(100)),
                ])
            #expect(answer.results.map(\.outcome) == [.applied, .rejected, .rejected, .rejected, .applied])
            #expect(answer.results[1...3].allSatisfy { $0.rule == RuleID.typeMismatch.rawValue })
            #expect(answer.results[2].detail == "amount: less than 0, the least allowed", "\(answer.results[2].detail)")
            try await max.pull(c)
            let seen = try #require(max.state[deal.record])
            #expect(seen["probability"] == .integer(100), "the batch's write within the bounds applied")
            #expect(seen.fields["amount"] == nil && seen.fields["discount"] == nil)
        }
    }

    @Test func refusedWritesDoNotRevealTheValueTheyWereRefusedFor() async throws {
        let f = try HubFixture()
        try await f.application().test(.router) { client in
            let c = WireClient(client: client)
            var rng = SeededGenerator(seed: 3)
            let team = try await f.replicas("sam", "tom", "mia", client: c)
            var (sam, tom, mia) = (team[0], team[1], team[2])
            // Sam's deal, with an account only Sam's deal references.
            let account = sam.create("account", stage: nil, using: &rng)
            let deal = sam.create(using: &rng)
            _ = try await sam.push(
                c,
                [
                    account, sam.write(account.record, "name", .text("Secret Corp"), entity: "account"), deal,
                    sam.write(deal.record, "name", .text("Secret deal")), sam.write(deal.record, "amount", .decimal(ExactDecimal(units: 99_000_000, scale: 2))),
                    sam.write(deal.record, "account", .reference(account.record)),
                ])
            // Tom, on another deal, writes Sam's amount with a stale base, and creates a record with Sam's id.
            var stale = tom.write(deal.record, "amount", .decimal(ExactDecimal(units: 1, scale: 2)))
            stale.base = .sequence(1)
            let forgedCreate = FieldWrite(record: deal.record, entity: "opportunity", kind: .create, value: .member("discovery"), author: "tom", stamp: tom.stamp())
            let renamed = tom.write(account.record, "name", .text("pwned"), entity: "account")
            let answer = try await tom.push(c, [stale, forgedCreate, renamed])
            #expect(answer.results.map(\.outcome) == [.rejected, .rejected, .rejected])
            for r in answer.results {
                #expect(!r.hasWinner, "a refused write revealed \(r.winner)")
                #expect(!r.detail.contains("discovery") && !r.detail.contains("Secret"))
            }
            #expect(answer.results[2].rule == RuleID.notVisible.rawValue)
            // Tom's own deal may not point at Sam's account (it would become visible to Tom).
            let own = tom.create(using: &rng)
            let pointed = try await tom.push(c, [own, tom.write(own.record, "account", .reference(account.record))])
            #expect(pointed.results[1].outcome == .rejected && pointed.results[1].rule == RuleID.notVisible.rawValue)
            try await tom.pull(c)
            #expect(tom.state[account.record] == nil)
            let pulled = tom.conflicts.filter { $0.record == Data(deal.record.bytes) || $0.record == Data(account.record.bytes) }
            #expect(pulled.count == 3)  // the stale write, the create, the rename: each Tom's conflict
            for conflict in pulled { #expect(!conflict.hasWinner, "a pulled conflict revealed \(conflict.winner)") }
            // Tom gets his own value back, and nothing of Sam's.
            #expect(pulled.contains { $0.hasValue && $0.value.text == "pwned" })
            // The account is as Sam named it.
            #expect(try SQLiteHubStore(path: f.configuration.databasePath).log(record: account.record).contains { $0.entry.value == Value.text("pwned") } == false)
            // Marketing writes the discount of a deal it cannot see the terms of: no value back.
            var lead = mia.create(stage: "lead", using: &rng)
            lead.stamp = mia.stamp()
            let hidden = try await mia.push(c, [lead, mia.write(lead.record, "discount", .decimal(ExactDecimal(units: 500, scale: 2)))])
            #expect(hidden.results[1].outcome == .rejected && !hidden.results[1].hasWinner)
        }
    }

    /// "Not shown" and "nothing holds" differ on the wire: a refused write to a field its writer
    /// may read but nobody set gets an empty `winner` (present, no kind); a withheld one none.
    @Test func anEmptyWinnerIsToldApartFromAWithheldOne() async throws {
        let f = try HubFixture()
        try await f.application().test(.router) { client in
            let c = WireClient(client: client)
            var rng = SeededGenerator(seed: 31)
            let team = try await f.replicas("sam", "eve", "mia", client: c)
            var (sam, eve, mia) = (team[0], team[1], team[2])
            let deal = sam.create(using: &rng)
            _ = try await sam.push(c, [deal])
            // Mia (marketing) may not see Sam's deal: her write's answer shows nothing.
            let blind = try await mia.push(c, [mia.write(deal.record, "discount", .decimal(ExactDecimal(units: 5, scale: 0)))])
            #expect(blind.results[0].outcome == .rejected && !blind.results[0].hasWinner)
            // Sam may read the discount nobody set, but proposes above the threshold: empty, present.
            let proposed = try await sam.push(c, [sam.write(deal.record, "discount", .decimal(ExactDecimal(units: 1500, scale: 2)))])
            #expect(proposed.results[0].outcome == .proposal)
            #expect(proposed.results[0].hasWinner && proposed.results[0].winner.kind == nil)
            // The same in the pulled conflict record.
            try await sam.pull(c)
            let mine = try #require(sam.conflicts.first { $0.record == Data(deal.record.bytes) && $0.rule == RuleID.approvalRequired.rawValue })
            #expect(mine.hasWinner && mine.winner.kind == nil)
            _ = eve
        }
    }

    // MARK: 4–5. Approvals and memberships are what their approver saw

    /// A lead Mia (marketing) made and handed off; the hub assigns it to Ann (the first rep).
    static func handedOffDeal(_ c: WireClient, f: HubFixture, mia: inout TestReplica, territory: String? = nil, rng: inout SeededGenerator) async throws -> RecordID {
        let account = mia.create("account", stage: nil, using: &rng)
        let contact = mia.create("contact", stage: nil, using: &rng)
        let lead = mia.create(stage: "lead", using: &rng)
        var writes = [account, contact, lead]
        let fields: [(String, Value)] =
            [
                ("name", .text("Pilot")), ("account", .reference(account.record)), ("contact", .reference(contact.record)),
                ("lead_source", .member("event")), ("qualification", .text("budget ok")), ("check_need", .boolean(true)),
                ("check_budget", .boolean(true)), ("check_timing", .boolean(true)), ("check_contact", .boolean(true)),
            ]
            + (territory.map { [("territory", Value.text($0))] } ?? [])
        for (name, value) in fields { writes.append(mia.write(lead.record, name, value)) }
        writes.append(
            FieldWrite(
                record: lead.record, entity: "opportunity", field: "stage", value: .member("qualified"), base: .stamp(lead.stamp),
                author: "mia", stamp: mia.stamp()))
        let answer = try await mia.push(c, writes)
        #expect(answer.results.allSatisfy { $0.outcome == .applied }, "\(answer.results.map(\.rule))")
        return lead.record
    }

    /// Ann's approval request for `field` = `value` on `target` (of `deal`): the writes `opps` makes.
    /// The writes that make `user` an active expert on `deal`'s team, by `manager`, and the
    /// membership's id.
    static func activeMember(_ manager: inout TestReplica, _ user: String, on deal: RecordID, rng: inout SeededGenerator) -> (RecordID, [FieldWrite]) {
        let membership = manager.create("membership", stage: nil, using: &rng)
        var writes = [membership]
        for (name, v) in [("opportunity", Value.reference(deal)), ("user", .text(user)), ("role", .member("expert")), ("state", .member("active"))] {
            writes.append(manager.write(membership.record, name, v, entity: "membership"))
        }
        return (membership.record, writes)
    }

    static func request(
        _ ann: inout TestReplica, deal: RecordID, target: RecordID, field: String, value: String, kind: String,
        rng: inout SeededGenerator
    ) -> (RecordID, [FieldWrite]) {
        let create = ann.create("approval", stage: nil, using: &rng)
        var writes = [create]
        for (name, v) in [
            ("opportunity", Value.reference(deal)), ("kind", .member(kind)), ("requested", .text("\(field) → \(value)")),
            ("target", .text(target.description)), ("field", .text(field)), ("value", .text(value)),
        ] {
            writes.append(ann.write(create.record, name, v, entity: "approval"))
        }
        return (create.record, writes)
    }

    @Test func anApprovalRequestCannotBeRedirectedAndIsRecheckedWhenDecided() async throws {
        let f = try HubFixture()
        try await f.application().test(.router) { client in
            let c = WireClient(client: client)
            var rng = SeededGenerator(seed: 4)
            let team = try await f.replicas("mia", "ann", "sam", "max", client: c)
            var (mia, ann, sam, max) = (team[0], team[1], team[2], team[3])
            let deal = try await Self.handedOffDeal(c, f: f, mia: &mia, rng: &rng)
            try await ann.pull(c)
            #expect(ann.state[deal]?.owner == "ann")
            let samsDeal = sam.create(using: &rng)
            _ = try await sam.push(c, [samsDeal, sam.write(samsDeal.record, "amount", .decimal(ExactDecimal(units: 500_000, scale: 2)))])

            // Ann asks for a 15.00 discount; once pending she tries to point it at Sam's amount.
            let (req, writes) = Self.request(&ann, deal: deal, target: deal, field: "discount", value: "15.00", kind: "discount", rng: &rng)
            _ = try await ann.push(c, writes)
            try await ann.pull(c)
            #expect(ann.state[req]?["state"] == .member("pending"))
            let redirect = try await ann.push(
                c,
                [
                    ann.write(req, "target", .text(samsDeal.record.description), entity: "approval"),
                    ann.write(req, "field", .text("amount"), entity: "approval"),
                    ann.write(req, "value", .text("1.00"), entity: "approval"),
                ])
            #expect(redirect.results.allSatisfy { $0.outcome == .rejected && $0.rule == RuleID.writeOnce.rawValue })
            // Max approves what he saw: exactly that is written, and Sam's deal is untouched.
            try await max.pull(c)
            _ = try await max.push(c, [max.write(req, "state", .member("approved"), entity: "approval")])
            try await max.pull(c)
            #expect(max.state[deal]?["discount"] == .decimal(ExactDecimal(units: 1500, scale: 2)))
            try await sam.pull(c)
            #expect(sam.state[samsDeal.record]?["amount"] == .decimal(ExactDecimal(units: 500_000, scale: 2)))

            // Marketing sees the request on its lead, but not the discount it asks for.
            try await mia.pull(c)
            #expect(mia.state[req] != nil)
            #expect(mia.state[req]?["value"] == .null && mia.state[req]?["requested"] == .null)
            #expect(mia.checkpoints.last?.checksum == mia.checksum.value)

            // A second request, then the deal moves to Tom before Max decides: Ann may no longer
            // set the discount, so no one could carry it out. The hub settles it with the owner's
            // change (§7.1): rejected with its note, Ann's value her conflict, the deal unlocked
            // for Tom; Max's approval after it is refused and kept as his.
            let (second, more) = Self.request(&ann, deal: deal, target: deal, field: "discount", value: "20.00", kind: "discount", rng: &rng)
            _ = try await ann.push(c, more)
            try await max.pull(c)
            #expect(max.state[deal]?["approval_state"] == .member("pending"))
            _ = try await max.push(c, [max.write(deal, "owner", .text("tom"))])
            try await max.pull(c)
            #expect(max.state[second]?["state"] == .member("rejected"))
            #expect(max.state[second]?["note"] == .text("not applied: ann may no longer change discount of that record"))
            #expect(max.state[second]?["decided_by"] == .null)
            #expect(max.state[deal]?["approval_state"] == .member("none"))
            let late = try await max.push(c, [max.write(second, "state", .member("approved"), entity: "approval")])
            #expect(late.results.first?.rule == RuleID.alreadyDecided.rawValue)
            try await max.pull(c)
            #expect(max.state[deal]?["discount"] == .decimal(ExactDecimal(units: 1500, scale: 2)))
            #expect(max.conflicts.contains { $0.record == Data(second.bytes) && $0.rule == RuleID.alreadyDecided.rawValue })
            try await ann.pull(c)
            let asked = ann.conflicts.first { $0.record == Data(deal.bytes) && $0.rule == RuleID.requestInvalid.rawValue }
            #expect(asked?.outcome == WireOutcome(.rejected) && asked?.value == WireValue(.decimal(ExactDecimal(units: 2000, scale: 2))), "\(ann.conflicts)")
            // The deal is out of her sight: neither its discount now nor who wrote it.
            #expect(asked?.hasWinner == false && asked?.winnerAuthor == 0, "\(String(describing: asked))")
        }
    }

    /// A team change settles what a member taken off still asked (§7.1): eve, off the deal's team,
    /// no longer sees it, so no approver could carry out her proposal. It is rejected in the
    /// batch that took her off, with the hub's note; her value is her conflict, withheld winner.
    @Test func aMemberTakenOffTheTeamHasWhatSheAskedSettled() async throws {
        let f = try HubFixture()
        try await f.application().test(.router) { client in
            let c = WireClient(client: client)
            var rng = SeededGenerator(seed: 6)
            let team = try await f.replicas("sam", "max", "eve", client: c)
            var (sam, max, eve) = (team[0], team[1], team[2])
            let deal = sam.create(using: &rng)
            _ = try await sam.push(c, [deal])
            try await max.pull(c)
            let (membership, writes) = Self.activeMember(&max, "eve", on: deal.record, rng: &rng)
            _ = try await max.push(c, writes)
            try await eve.pull(c)
            #expect(eve.state[deal.record] != nil, "on the team, she sees the deal")
            // She proposes the next stage (an expert's stage is a proposal), then a second on a
            // deal she stays on is untouched (below).
            let (req, asked) = Self.request(&eve, deal: deal.record, target: deal.record, field: "stage", value: "solution", kind: "change", rng: &rng)
            _ = try await eve.push(c, asked)
            try await max.pull(c)
            #expect(max.state[req]?["state"] == .member("pending"))
            // Taken off the team in one batch with another write: settled in that batch.
            let removed = try await max.push(
                c, [max.write(deal.record, "next_step", .text("Review")), max.write(membership, "state", .member("removed"), entity: "membership")])
            #expect(removed.results.allSatisfy { $0.outcome == .applied }, "\(removed.results)")
            try await max.pull(c)
            #expect(max.state[req]?["state"] == .member("rejected"))
            #expect(max.state[req]?["note"] == .text("not applied: eve may no longer change stage of that record"))
            #expect(max.state[req]?["decided_by"] == .null)
            #expect(max.state[deal.record]?["stage"] == .member("discovery"))
            let late = try await max.push(c, [max.write(req, "state", .member("approved"), entity: "approval")])
            #expect(late.results.first?.rule == RuleID.alreadyDecided.rawValue)
            try await eve.pull(c)
            #expect(eve.state[deal.record] == nil, "off the team, the deal left her replica")
            let hers = eve.conflicts.first { $0.record == Data(deal.record.bytes) && $0.rule == RuleID.requestInvalid.rawValue }
            #expect(hers?.outcome == WireOutcome(.rejected) && hers?.value == WireValue(.member("solution")), "\(eve.conflicts)")
            #expect(hers?.hasWinner == false && hers?.winnerAuthor == 0)
        }
    }

    /// A user on a deal's team twice (two active memberships, as two managers adding her at once
    /// make) stays on it when one is taken off: her request is not settled as stranded, and the
    /// deal stays on her replica. The batch's own reading of the team took her off.
    @Test func aMemberOnTheTeamTwiceStaysOnWhenOneMembershipIsTakenOff() async throws {
        let f = try HubFixture()
        try await f.application().test(.router) { client in
            let c = WireClient(client: client)
            var rng = SeededGenerator(seed: 9)
            let team = try await f.replicas("sam", "max", "eve", client: c)
            var (sam, max, eve) = (team[0], team[1], team[2])
            let deal = sam.create(using: &rng)
            _ = try await sam.push(c, [deal])
            try await max.pull(c)
            var memberships = [RecordID]()
            for _ in 0..<2 {
                let (membership, writes) = Self.activeMember(&max, "eve", on: deal.record, rng: &rng)
                _ = try await max.push(c, writes)
                memberships.append(membership)
            }
            try await eve.pull(c)
            let (req, asked) = Self.request(&eve, deal: deal.record, target: deal.record, field: "stage", value: "solution", kind: "change", rng: &rng)
            _ = try await eve.push(c, asked)
            try await max.pull(c)
            #expect(max.state[req]?["state"] == .member("pending"))
            let removed = try await max.push(c, [max.write(memberships[0], "state", .member("removed"), entity: "membership")])
            #expect(removed.results.allSatisfy { $0.outcome == .applied }, "\(removed.results)")
            try await max.pull(c)
            #expect(max.state[req]?["state"] == .member("pending"), "still on the team by her other membership: \(String(describing: max.state[req]))")
            #expect(max.state[req]?["note"] == .null)
            try await eve.pull(c)
            #expect(eve.state[deal.record] != nil, "the deal stays on her replica")
            #expect(!eve.conflicts.contains { $0.rule == RuleID.requestInvalid.rawValue }, "\(eve.conflicts)")
            #expect(eve.checkpoints.last?.checksum == eve.checksum.value)
            // Her second membership taken off too: now she is off, and what she asked is settled.
            _ = try await max.push(c, [max.write(memberships[1], "state", .member("removed"), entity: "membership")])
            try await max.pull(c)
            #expect(max.state[req]?["state"] == .member("rejected"))
            #expect(max.state[req]?["note"] == .text("not applied: eve may no longer change stage of that record"))
        }
    }

    /// A disabled user may no longer act (DOMAIN.md approvals): a request of theirs is not
    /// written in their stead when approved — rejected with the hub's note, the deal unlocked.
    @Test func aDisabledUsersRequestIsNotWrittenInTheirStead() async throws {
        let f = try HubFixture()
        try await f.application().test(.router) { client in
            let c = WireClient(client: client)
            var rng = SeededGenerator(seed: 7)
            let team = try await f.replicas("sam", "max", client: c)
            var (sam, max) = (team[0], team[1])
            let deal = sam.create(using: &rng)
            _ = try await sam.push(c, [deal])
            let (req, asked) = Self.request(&sam, deal: deal.record, target: deal.record, field: "discount", value: "15.00", kind: "discount", rng: &rng)
            _ = try await sam.push(c, asked)
            try await max.pull(c)
            #expect(max.state[deal.record]?["approval_state"] == .member("pending"))
            // sam leaves; the operator disables him (another process on the hub's file).
            let store = try SQLiteHubStore(path: f.configuration.databasePath)
            _ = try HubEngine(store: store, configuration: f.configuration).updateUser("sam") { $0.disabled = true }
            let approved = try await max.push(c, [max.write(req, "state", .member("approved"), entity: "approval")])
            #expect(approved.results.first?.outcome == .applied)
            try await max.pull(c)
            #expect(max.state[req]?["state"] == .member("rejected"))
            // Said as a right lost: whether sam is disabled is not the deal's other readers' to learn (visibility.md §5).
            #expect(max.state[req]?["note"] == .text("not applied: sam may no longer change discount of that record"))
            #expect(max.state[deal.record]?["discount"] == .null)
            #expect(max.state[deal.record]?["approval_state"] == .member("rejected"), "no longer pending: unlocked")
        }
    }

    /// A record that hangs off a deal (a task) belongs to it for good (merge-semantics.md I14):
    /// a writer who may edit a colleague's task must not take it off the deal — out of sight of
    /// the deal's owner and manager, who then could not even see it to restore it — nor move it
    /// onto a deal whose readers never saw it. Only a merge (the hub's re-pointing) moves it.
    @Test func aTaskStaysOnTheDealItWasMadeOn() async throws {
        let f = try HubFixture()
        try await f.application().test(.router) { client in
            let c = WireClient(client: client)
            var rng = SeededGenerator(seed: 6)
            let team = try await f.replicas("sam", "tom", "max", client: c)
            var (sam, tom, max) = (team[0], team[1], team[2])
            let deal = sam.create(using: &rng)
            let other = sam.create(using: &rng)
            let task = sam.create("task", stage: nil, using: &rng)
            _ = try await sam.push(
                c,
                [
                    deal, other, task, sam.write(task.record, "opportunity", .reference(deal.record), entity: "task"),
                    sam.write(task.record, "text", .text("send the quote"), entity: "task"),
                ])
            let tomsDeal = tom.create(using: &rng)
            _ = try await tom.push(c, [tomsDeal])
            // Max puts tom on sam's deal's team: tom may now write the deal's tasks (sales: write).
            let membership = max.create("membership", stage: nil, using: &rng)
            var joins = [membership]
            for (name, v) in [("opportunity", Value.reference(deal.record)), ("user", .text("tom")), ("role", .member("sales")), ("state", .member("active"))] {
                joins.append(max.write(membership.record, name, v, entity: "membership"))
            }
            let joined = try await max.push(c, joins)
            #expect(joined.results.allSatisfy { $0.outcome == .applied })
            try await tom.pull(c)
            #expect(tom.state[task.record]?["opportunity"] == .reference(deal.record))
            let edited = try await tom.push(c, [tom.write(task.record, "text", .text("send the quote today"), entity: "task")])
            #expect(edited.results[0].outcome == .applied, "tom may edit the task")

            // Moved onto tom's own deal, or taken off every deal: refused, the task stays.
            for value in [Value.reference(tomsDeal.record), .null] {
                let moved = try await tom.push(c, [tom.write(task.record, "opportunity", value, entity: "task")])
                #expect(moved.results[0].outcome == .rejected && moved.results[0].rule == RuleID.writeOnce.rawValue, "\(value)")
            }
            // Not even by its creator, nor by a manager: a task belongs to one deal.
            try await sam.pull(c)
            let bySam = try await sam.push(c, [sam.write(task.record, "opportunity", .reference(other.record), entity: "task")])
            #expect(bySam.results[0].rule == RuleID.writeOnce.rawValue)
            try await max.pull(c)
            let byMax = try await max.push(c, [max.write(task.record, "opportunity", .reference(other.record), entity: "task")])
            #expect(byMax.results[0].rule == RuleID.writeOnce.rawValue)

            try await sam.pull(c)
            #expect(sam.state[task.record]?["opportunity"] == .reference(deal.record))
            #expect(sam.state[task.record]?["text"] == .text("send the quote today"))
            let store = try SQLiteHubStore(path: f.configuration.databasePath)
            #expect(try store.record(task.record, workspace: .default)?["opportunity"] == .reference(deal.record))
        }
    }

    @Test func anApprovedMembershipCannotBeMovedToAnotherUser() async throws {
        let f = try HubFixture()
        try await f.application().test(.router) { client in
            let c = WireClient(client: client)
            var rng = SeededGenerator(seed: 5)
            let team = try await f.replicas("sam", "max", client: c)
            var (sam, max) = (team[0], team[1])
            let deal = sam.create(using: &rng)
            let membership = sam.create("membership", stage: nil, using: &rng)
            var writes = [deal, membership]
            for (name, v) in [("opportunity", Value.reference(deal.record)), ("user", .text("eve")), ("role", .member("expert"))] {
                writes.append(sam.write(membership.record, name, v, entity: "membership"))
            }
            _ = try await sam.push(c, writes)
            let (req, asked) = Self.request(&sam, deal: deal.record, target: membership.record, field: "state", value: "active", kind: "team", rng: &rng)
            _ = try await sam.push(c, asked)
            try await max.pull(c)
            _ = try await max.push(c, [max.write(req, "state", .member("approved"), entity: "approval")])
            let store = try SQLiteHubStore(path: f.configuration.databasePath)
            #expect(try store.team(of: deal.record) == ["eve"])
            try await sam.pull(c)
            let moved = try await sam.push(c, [sam.write(membership.record, "user", .text("sue"), entity: "membership")])
            #expect(moved.results[0].outcome == .rejected && moved.results[0].rule == RuleID.writeOnce.rawValue)
            #expect(try store.team(of: deal.record) == ["eve"])
        }
    }

    // MARK: 9. The rest

    @Test func theHubsOwnReplicaIdCannotBeClaimed() async throws {
        let f = try HubFixture()
        try await f.application().test(.router) { client in
            let c = WireClient(client: client)
            var h = HandshakeRequest()
            h.minVersion = 1
            h.maxVersion = 2
            h.replica = Data(f.hub.hubID.bytes)
            do {
                _ = try await c.call(Endpoint.handshake, h, token: f.tokens["sam"], as: HandshakeResponse.self)
                Issue.record("a user claimed the hub's replica id")
            } catch let e as WireClient.Failure {
                #expect(e.status == 403 && e.code == .replicaNotYours)
            }
        }
    }

    @Test func aStampFarAheadOfTheHubIsRefusedAndTheAuthorToldWhy() async throws {
        let f = try HubFixture { $0.clock = FixedClock(milliseconds: 1_795_000_000_000) }
        try await f.application().test(.router) { client in
            let c = WireClient(client: client)
            var rng = SeededGenerator(seed: 6)
            var sam = TestReplica(user: "sam", token: f.tokens["sam"]!, seed: 1)
            _ = try await sam.handshake(c)
            let deal = sam.create(using: &rng)
            _ = try await sam.push(c, [deal])
            sam.physical = 253_402_300_799_000  // 9999-12-31
            let answer = try await sam.push(c, [sam.write(deal.record, "next_step", .text("forever"))])
            #expect(answer.results[0].outcome == .rejected && answer.results[0].rule == RuleID.clockAhead.rawValue)
            // The clock set right, but to local time as if it were UTC (UTC+14): within the day.
            sam.clock = HybridLogicalClock()
            sam.physical = 1_795_000_000_000 + 3_600_000 * 14
            let ok = try await sam.push(c, [sam.write(deal.record, "next_step", .text("call"))])
            #expect(ok.results[0].outcome.coreOutcome?.holds == true)
        }
    }

    @Test func theBearerSchemeIsCaseInsensitiveAndOtherMethodsAre405() async throws {
        let f = try HubFixture()
        try await f.application().test(.router) { client in
            let sam = TestReplica(user: "sam", token: f.tokens["sam"]!, seed: 1)
            var h = HandshakeRequest()
            h.minVersion = 1
            h.maxVersion = 2
            h.replica = Data(sam.id.bytes)
            for scheme in ["bearer", "BEARER", "Bearer"] {
                let r = try await client.executeRequest(
                    uri: Endpoint.handshake, method: .post,
                    headers: [.contentType: WireFormat.protobuf.rawValue, .authorization: "\(scheme) \(sam.token)"],
                    body: ByteBuffer(bytes: try BodyCodec.encode(h, as: .protobuf)))
                #expect(r.status == .ok, "\(scheme)")
            }
            for (path, method) in [
                (Endpoint.push, HTTPRequest.Method.put), (Endpoint.pull, .delete), (Endpoint.handshake, .get), (Endpoint.health, .post), (Endpoint.metrics, .patch),
            ] {
                let r = try await client.executeRequest(uri: path, method: method, headers: [.contentType: WireFormat.protobuf.rawValue], body: nil)
                #expect(r.status.code == 405, "\(method) \(path)")
                let body = try BodyCodec.decode(ErrorBody.self, from: Array(r.body.readableBytesView), as: .protobuf)
                #expect(body.code == WireError.Code.methodNotAllowed.rawValue)
            }
        }
    }

    /// A small pull's body is read before its token is checked (one hop to the hub's thread),
    /// but nothing of it is inflated or decoded until the token is good: a stranger's garbage or
    /// deflate bomb is 401, not 400 or 413; a user's garbage is 400, and a user's bomb stops at
    /// what a pull may inflate to on the hub's thread (413), far below the hub's general limit.
    @Test func aPullIsDecodedOnlyAfterItsTokenIsChecked() async throws {
        let f = try HubFixture()
        #expect(HubServer.pullInflatedOnHubThread < f.configuration.maxDecompressedBytes)
        try await f.live { client in
            let sam = TestReplica(user: "sam", token: f.tokens["sam"]!, seed: 1)
            let garbage: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x42]
            let bomb = ContentCoding.deflate.compress([UInt8](repeating: 0, count: 8 << 20), level: 9)  // 8 KiB, inflating to 8 MiB
            #expect(bomb.count <= HubServer.bodyReadBeforeAuthentication, "the bomb takes the one-hop path")
            func pull(_ body: [UInt8], token: String, deflated: Bool = false) async throws -> (Int, String) {
                var headers: HTTPFields = [.contentType: WireFormat.protobuf.rawValue, .authorization: "Bearer \(token)", .contentLength: String(body.count)]
                if deflated { headers[.contentEncoding] = "deflate" }
                let r = try await client.executeRequest(uri: Endpoint.pull, method: .post, headers: headers, body: ByteBuffer(bytes: body))
                let e = try? BodyCodec.decode(ErrorBody.self, from: Array(r.body.readableBytesView), as: .protobuf)
                return (Int(r.status.code), e?.code ?? "")
            }
            let stranger = try await pull(garbage, token: "opps_not_a_token"), strangersBomb = try await pull(bomb, token: "opps_not_a_token", deflated: true)
            let user = try await pull(garbage, token: sam.token), usersBomb = try await pull(bomb, token: sam.token, deflated: true)
            #expect(stranger == (401, "unauthenticated"))
            #expect(strangersBomb == (401, "unauthenticated"))
            #expect(user == (400, "malformed-body"))
            #expect(usersBomb == (413, "decompressed-too-large"))
        }
    }

    @Test func theHubDatabaseIsPrivateAndAddingAUserIsAudited() throws {
        let f = try HubFixture()
        let attributes = try FileManager.default.attributesOfItem(atPath: f.configuration.databasePath)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let store = try SQLiteHubStore(path: f.configuration.databasePath)
        let log = try store.adminLog(subject: "sam")
        #expect(log.contains { $0.action == "user" && $0.subject == "sam" && $0.detail.contains("added") })
    }

    @Test func metricsCanRequireTheirOwnToken() async throws {
        let secret = "m" + String(UInt64.random(in: 0...UInt64.max), radix: 16) + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let f = try HubFixture { $0.metricsToken = secret }
        try await f.application().test(.router) { client in
            #expect(try await client.executeRequest(uri: Endpoint.metrics, method: .get, headers: [:], body: nil).status.code == 401)
            // A user's token is not the metrics token.
            let user = try await client.executeRequest(uri: Endpoint.metrics, method: .get, headers: [.authorization: "Bearer \(f.tokens["sam"]!)"], body: nil)
            #expect(user.status.code == 401)
            let ok = try await client.executeRequest(uri: Endpoint.metrics, method: .get, headers: [.authorization: "bearer \(secret)"], body: nil)
            #expect(ok.status == .ok)
            #expect(String(buffer: ok.body).contains("opps_http_requests_total"))
        }
        // Without one, /metrics stays open (for a scraper on a private network).
        let open = try HubFixture()
        try await open.application().test(.router) { client in
            let answer = try await client.executeRequest(uri: Endpoint.metrics, method: .get, headers: [:], body: nil)
            #expect(answer.status == .ok)
        }
    }

    @Test func onePullCannotAskToForgetMoreThanTheLimit() async throws {
        let f = try HubFixture()
        try await f.application().test(.router) { client in
            let c = WireClient(client: client)
            let sam = TestReplica(user: "sam", token: f.tokens["sam"]!, seed: 1)
            _ = try await sam.handshake(c)
            var r = sam.pullRequest(maxChanges: 0)
            var g = SeededGenerator(seed: 9)
            r.forget = (0...ProtocolLimits.maxForget).map { _ in Data(UUID128.version4(using: &g).bytes) }
            do {
                _ = try await c.call(Endpoint.pull, r, token: sam.token, as: PullResponse.self)
                Issue.record("a pull forgot \(r.forget.count) records")
            } catch let e as WireClient.Failure {
                #expect(e.status == 413 && e.code == .batchTooLarge)
            }
            r.forget.removeLast()
            _ = try await c.call(Endpoint.pull, r, token: sam.token, as: PullResponse.self)
        }
    }
}
