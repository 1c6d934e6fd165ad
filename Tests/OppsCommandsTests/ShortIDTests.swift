import Foundation
import OppsCommands
import OppsCore
import Testing

@testable import OppsReplica

/// Issue 15 item 1: what a command prints to name a record types back, is short, stays the same
/// across syncs, and is unique among what the laptop holds — also for a deal and its account made
/// in the same millisecond, whose full ids share their first 12 hex digits.
@Suite struct ShortIDTests {
    @Test func codesComeFromTheRandomBitsNotTheClock() {
        var rng = SeededGenerator(seed: 9)
        let ms: Int64 = 1_795_000_000_000
        let a = UUID128.version7(milliseconds: ms, using: &rng), b = UUID128.version7(milliseconds: ms, using: &rng)
        #expect(a.hex.prefix(12) == b.hex.prefix(12))  // the old 8-hex display could not tell them apart
        #expect(ShortID.code(a).count == ShortID.fullLength)
        #expect(ShortID.code(a).prefix(8) != ShortID.code(b).prefix(8))
        #expect(ShortID.code(a) == ShortID.code(a))
        // 74 random bits: the top of rand_a is the first bit; all-ones random bits are all 'z' but the padding.
        let ones = UUID128(high: 0xFFFF_FFFF_FFFF_7FFF, low: 0xBFFF_FFFF_FFFF_FFFF)
        #expect(ShortID.code(ones) == String(repeating: "z", count: 14) + "y")
        #expect(ShortID.code(UUID128(high: 0x0000_0000_0000_7000, low: 0x8000_0000_0000_0000)) == String(repeating: "0", count: 15))
        #expect(ShortID.normalise("7KQ2-M9XD") == "7kq2m9xd")
        #expect(ShortID.normalise("IlO0") == "1100")
        #expect(ShortID.normalise("7kq2!") == nil)
        #expect(ShortID.normalise("uuuu") == nil)  // not in Crockford's alphabet
    }

    /// The code, compared and grouped as a number, is the one the bit-by-bit reading of issue 15
    /// gives, for every prefix length, on random ids.
    @Test func theCodesBitsAreItsCharacters() {
        func reference(_ id: UUID128) -> String {
            let randA = id.high & 0xFFF, randB = id.low & 0x3FFF_FFFF_FFFF_FFFF
            let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz")
            return String(
                (0..<15).map { i -> Character in
                    var v: UInt64 = 0
                    for b in (i * 5)..<(i * 5 + 5) {
                        v = v << 1 | (b < 12 ? (randA >> UInt64(11 - b)) & 1 : b < 74 ? (randB >> UInt64(61 - (b - 12))) & 1 : 0)
                    }
                    return alphabet[Int(v)]
                })
        }
        var rng = SeededGenerator(seed: 31)
        let ids = (0..<2000).map { _ in UUID128.version4(using: &rng) }
        let short = ShortIDs(ids)
        for id in ids {
            let code = reference(id)
            #expect(ShortID.code(id) == code)
            #expect(short(id) == String(code.prefix(ShortID.length)))
            for n in [1, 4, 8, 15] { #expect(ShortID.code(of: id, startsWith: String(code.prefix(n)))) }
            #expect(!ShortID.code(of: id, startsWith: String(code.prefix(7)) + (code.dropFirst(7).first == "0" ? "1" : "0")))
            #expect(short.matching(String(code.prefix(8))) == [id])
        }
        #expect(short.matching(String(reference(ids[0]).prefix(1))).count == ids.count(where: { reference($0).first == reference(ids[0]).first }))
        #expect(!ShortID.code(of: ids[0], startsWith: reference(ids[0]) + "0"), "longer than a code")
    }

    /// A replica reads its short ids once while nothing changes, and again after any change:
    /// its own (a deal made here) or another connection's (`opps` in a terminal beside the web
    /// app) — a record made since is never missing from them, nor one deleted still there.
    @Test func shortIDsAreReadAgainAfterAnyChange() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            #expect(await f.initReplica("sam", url).code == 0)
            let here = try Replica(home: f.home("sam"), clock: FixedClock(milliseconds: 1_795_000_000_000))
            let beside = try Replica(home: f.home("sam"), clock: FixedClock(milliseconds: 1_795_000_000_000))
            var rng = SeededGenerator(seed: 5)
            let before = try here.shortIDs()
            #expect(try here.shortIDs().count == before.count, "read once while nothing changes")
            let mine = try here.newOpportunity(name: "Made here", account: "ACME", using: &rng).record
            #expect(try here.shortIDs().matching(ShortID.shown(mine)) == [mine])
            let theirs = try beside.newOpportunity(name: "Made beside", account: "Globex", using: &rng).record
            #expect(try here.shortIDs().matching(ShortID.shown(theirs)) == [theirs])
            #expect(try here.shortIDs().count == before.count + 4, "two deals and their accounts")
        }
    }

    /// Codes with ids added (`adding`) are the codes of every id read again: the same ids in
    /// the same order, grouped the same where eight characters are shared — among them ids made
    /// to share them with a held one, with another new one, and with a group already there.
    @Test func codesWithIdsAddedAreTheCodesReadAgain() {
        var rng = SeededGenerator(seed: 69)
        func random() -> UUID128 { UUID128(high: rng.next(), low: rng.next()) }
        // Sharing `id`'s first eight characters (40 bits: its 12 high random bits, then 28 of the low).
        func alike(_ id: UUID128) -> UUID128 { UUID128(high: id.high, low: (id.low & ~0x0000_0003_FFFF_FFFF) | (rng.next() & 0x0000_0003_FFFF_FFFF)) }
        var held = (0..<2_000).map { _ in random() }
        held.append(alike(held[7]))
        for round in 0..<40 {
            var new = (0..<Int.random(in: 0...3, using: &rng)).map { _ in random() }
            if round % 3 == 0 { new.append(alike(held[Int.random(in: 0..<held.count, using: &rng)])) }
            if round % 5 == 0, let first = new.first { new.append(alike(first)) }
            if round % 7 == 0 { new.append(alike(held[7])) }
            let before = ShortIDs(held.sorted())
            held += new
            let all = ShortIDs(held.sorted())
            let added = before.adding(new)
            #expect(added == all, "round \(round)")
            #expect(held.allSatisfy { added($0) == all($0) }, "round \(round)")
        }
        #expect(ShortIDs(held.sorted()).adding(held.prefix(3)) == ShortIDs(held.sorted()), "an id held already is not added twice")
    }

    /// A replica keeps the codes it read and adds what it makes itself; anything else (a record
    /// removed, another connection's write) reads every id again. Either way they are the codes
    /// a replica opened afresh reads.
    @Test func codesKeptAcrossAddsAreTheOnesReadAfresh() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            #expect(await f.initReplica("sam", url).code == 0)
            let home = f.home("sam")
            let here = try Replica(home: home, clock: FixedClock(milliseconds: 1_795_000_000_000))
            var rng = SeededGenerator(seed: 6)
            func fresh() throws -> ShortIDs { try Replica(home: home, clock: FixedClock(milliseconds: 1_795_000_000_000)).shortIDs() }
            _ = try here.shortIDs()
            let deal = try here.newOpportunity(name: "Made here", account: "ACME", using: &rng).record
            #expect(try here.shortIDs() == (try fresh()))
            _ = try here.logActivity(deal: deal, kind: "call", at: .timestamp(Timestamp(milliseconds: 1_795_000_000_000)), note: "one", place: nil)
            #expect(try here.shortIDs() == (try fresh()))
            #expect(here.shortIDsReadWhole == 1, "the deal, its account and the activity were added to the codes held")
            // Taken back: the activity's row is gone, and every id is read again.
            _ = try here.undo(try #require(try here.lastEdit()))
            #expect(try here.shortIDs() == (try fresh()))
            #expect(here.shortIDsReadWhole == 2)
        }
    }

    @Test func recordsSharingEightCharactersArePrintedLongerAndApart() {
        // Two ids whose codes share the first 10 characters (50 bits) but not 12.
        let a = UUID128(high: 0x0190_0000_0000_7000, low: 0x8000_0000_0000_0000)
        let b = UUID128(high: 0x0190_0000_0000_7000, low: 0x8000_0000_0000_0100)
        let c = UUID128(high: 0x0190_0000_0000_7FFF, low: 0x8000_0000_0000_0000)
        let short = ShortIDs([a, b, c])
        #expect(short(c).count == ShortID.length)
        #expect(short(a) != short(b))
        #expect(short(a).count > ShortID.length && short(b).count > ShortID.length)
        #expect(short.matching(ShortID.normalise(short(a))!) == [a])
    }

    @Test func everyIdACommandPrintsTypesBack() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            for u in ["sam", "max"] { #expect(await f.initReplica(u, url).code == 0) }
            let sam = f.home("sam"), max = f.home("max")
            let made = await opps("new", "北辰物流 续约", "--account", "北辰物流", "--amount", "120000.00", "--currency", "CNY", "--home", sam)
            #expect(made.code == 0)
            let printed = try #require(made.stdout.split(separator: " ").first.map(String.init))
            #expect(printed.count == ShortID.length, "new prints the short id first: \(made.stdout)")
            #expect(await opps("new", "ACME rollout", "--account", "ACME", "--home", sam).code == 0)

            // list prints the same code; it types back in either case, and by a prefix of 4.
            let list = await opps("list", "--home", sam)
            let row = try #require(list.stdout.split(separator: "\n").first { $0.contains("北辰物流") })
            let code = String(row.split(separator: " ").first!)
            #expect(code == printed)
            for typed in [code, code.uppercased(), String(code.prefix(4))] {
                let shown = await opps("show", typed, "--home", sam)
                #expect(shown.code == 0 && shown.stdout.contains("北辰物流 续约"), "\(typed): \(shown.stderr)")
            }
            // A name types back too: the deal by its name, the account by its own.
            #expect(await opps("show", "acme rollout", "--home", sam).stdout.contains("opportunity"))
            #expect(await opps("show", "北辰物流", "--home", sam).stdout.contains("account"))
            let unknown = await opps("show", "zzzz9999", "--home", sam)
            #expect(unknown.code == 1 && unknown.stderr.contains("opps list"))
            // Part of a name is never taken as the record (an edit must not land on a guess),
            // but the records it could mean are named, with the ids to type.
            let part = await opps("set", "续约", "amount=1.00", "--home", sam)
            #expect(part.code == 1, "\(part.stdout)")
            #expect(part.stderr == "opps: no record is named \"续约\"; one name contains it (\(code) opportunity \"北辰物流 续约\"): use the id\n", "\(part.stderr)")
            // Only to read it, the one record whose name holds the words is the one meant; two
            // are named for the reader to choose.
            let one = await opps("show", "rollout", "--home", sam)
            #expect(one.code == 0 && one.stdout.hasPrefix("opportunity ") && one.stdout.contains("ACME rollout"), "\(one.stdout) \(one.stderr)")
            #expect(await opps("history", "续约", "--home", sam).code == 0)
            #expect(await opps("set", "rollout", "amount=1.00", "--home", sam).stderr.contains("no record is named \"rollout\"; one name contains it"))
            let two = await opps("show", "物流", "--home", sam)
            #expect(two.code == 1 && two.stderr.contains("2 names contain it"), "\(two.stderr)")

            // The same code after a sync, and on the manager's laptop.
            #expect(await opps("sync", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            #expect(await opps("list", "--home", sam).stdout.contains(code))
            #expect(await opps("list", "--home", max).stdout.contains(code))

            // An approval request's printed id types back into approve.
            let asked = await opps("set", code, "discount=15.00", "--home", sam)
            let request = try #require(asked.stdout.split(separator: " ").dropFirst(2).first.map(String.init), "\(asked.stdout)")
            #expect(asked.stdout.hasPrefix("requested approval"), "\(asked.stdout)")
            #expect(await opps("sync", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            let waiting = await opps("approvals", "--home", max)
            #expect(waiting.stdout.contains(request), "\(waiting.stdout)")
            #expect(await opps("approve", request, "--home", max).code == 0)

            // --json keeps full ids.
            let json = await opps("list", "--home", sam, "--json")
            #expect(json.json?.array?.allSatisfy { ($0["id"]?.string).flatMap(UUID128.init(parsing:)) != nil } == true)
        }
    }

    /// A name that happens to begin another record's short id names the record asked for: an
    /// account called as a deal's short id begins (`Acme` on a laptop of 100,000 deals, one of
    /// whose ids began ACME) is that account to `opps account show`; a whole short id is still
    /// its record whatever it is.
    @Test func aNameThatBeginsAnotherRecordsShortIDNamesTheRecordAskedFor() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            #expect(await f.initReplica("sam", url).code == 0)
            let sam = f.home("sam")
            let deal = await opps("new", "Prefix pilot", "--account", "Globex", "--home", sam)
            let code = String(deal.stdout.prefix(ShortID.length))
            let prefix = String(code.prefix(4))
            #expect(await opps("account", "new", prefix.uppercased(), "--home", sam).code == 0)
            let shown = await opps("account", "show", prefix, "--home", sam, "--locale", "en")
            #expect(
                shown.code == 0 && shown.stdout.hasPrefix("account ") && shown.stdout.contains("  name             \(prefix.uppercased())"),
                "\(shown.stdout) \(shown.stderr)")
            // The whole short id is the deal, for the caller to say what it is not.
            let whole = await opps("account", "show", code, "--home", sam, "--locale", "en")
            #expect(whole.code == 1 && whole.stderr == "opps: \(code) is not an account\n", "\(whole.stderr)")
            // Where deals are meant too, the prefix is still the deal's.
            #expect(await opps("show", prefix, "--home", sam, "--json").json?["fields"]?["name"]?.string == "Prefix pilot")
        }
    }
}
