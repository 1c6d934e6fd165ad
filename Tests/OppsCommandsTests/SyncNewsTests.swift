import Foundation
import Testing

@testable import OppsCommands

/// `opps sync` says what came from others. A laptop's own writes come back confirmed in the
/// pull; before, they were counted as "pulled 1" after every push, which read like news.
@Suite struct SyncNewsTests {
    @Test func aSyncCountsWhatOthersDidNotItsOwnWritesComingBack() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            #expect(await f.initReplica("sam", url).code == 0)
            #expect(await f.initReplica("max", url).code == 0)
            let sam = f.home("sam"), max = f.home("max")
            let id = try #require(await opps("new", "Beta rollout", "--account", "Beta", "--home", sam, "--json").json?["id"]?.string)

            // sam's new deal goes up and comes back confirmed: nothing from others.
            let pushed = await opps("sync", "--home", sam, "--json").json
            #expect(pushed?["pushed"]?.int ?? 0 > 0 && pushed?["pulled"]?.int ?? 0 > 0, "\(String(describing: pushed))")
            #expect(pushed?["from_others"]?.int == 0, "\(String(describing: pushed))")
            #expect(await opps(["sync", "--home", sam], environment: ["LANG": "C"]).stdout == "nothing to push; nothing new from others\n")

            // max, sam's manager, receives it: a record new on his laptop.
            let manager = await opps(["sync", "--home", max], environment: ["LANG": "C"])
            #expect(manager.stdout.hasPrefix("nothing to push; ") && manager.stdout.contains("from others"), "\(manager.stdout)")
            #expect(!manager.stdout.contains("nothing new"), "\(manager.stdout)")

            // sam's edit echoes back; max's edit of the same deal is news to sam, in his words.
            #expect(await opps("set", id, "amount=500.00", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", sam, "--json").json?["from_others"]?.int == 0)
            #expect(await opps("sync", "--home", max, "--json").json?["from_others"]?.int == 1)
            #expect(await opps("set", id, "next_step=call the CFO", "--home", max).code == 0)
            #expect(await opps("sync", "--home", max, "--json").json?["from_others"]?.int == 0)
            let news = await opps(["sync", "--home", sam], environment: ["LANG": "zh_CN.UTF-8"])
            #expect(news.stdout == "没有待推送的修改；收到别人的 1 项修改\n", "\(news.stdout)")
        }
    }

    /// A write the hub took can lose later: max's next step held when he synced, then sam's,
    /// made at the same time on the deal he owns, reached the hub and won. max's next sync says
    /// so — the conflict record was in `opps conflicts`, but the sync said only "1 change from
    /// others". A write lost at push time is counted once, not again when its record comes back.
    @Test func aWriteThatHeldAndLostLaterIsToldAtTheNextSync() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            #expect(await f.initReplica("sam", url).code == 0)
            #expect(await f.initReplica("max", url).code == 0)
            let sam = f.home("sam"), max = f.home("max")
            let id = try #require(await opps("new", "Beta rollout", "--account", "Beta", "--home", sam, "--json").json?["id"]?.string)
            #expect(await opps("sync", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)

            // Held, then overruled: told in words, then in JSON.
            for (round, step) in ["call the CFO", "send the quote", "book a visit"].enumerated() {
                #expect(await opps("set", id, "next_step=\(step) (max)", "--home", max).code == 0)
                #expect(await opps("set", id, "next_step=\(step) (sam)", "--home", sam).code == 0)
                let held = await opps("sync", "--home", max, "--json").json
                #expect(held?["applied"]?.int == 1 && held?["conflicts"]?.int == 0 && held?["overruled"]?.int == 0, "\(String(describing: held))")
                #expect(await opps("sync", "--home", sam, "--json").json?["applied"]?.int == 1)
                if round == 0 {
                    let told = await opps(["sync", "--home", max], environment: ["LANG": "C"])
                    #expect(
                        told.stdout == "nothing to push; 1 update from others\n1 write of yours did not hold: see opps conflicts (what holds now, and why)\n",
                        "\(told.stdout)")
                } else if round == 1 {
                    let told = await opps("sync", "--home", max, "--json").json
                    #expect(told?["overruled"]?.int == 1 && told?["conflicts"]?.int == 0, "\(String(describing: told))")
                } else {
                    let told = await opps(["sync", "--home", max], environment: ["LANG": "zh_CN.UTF-8"])
                    #expect(told.stdout == "没有待推送的修改；收到别人的 1 项修改\n你有 1 项修改未被采用：查看 opps conflicts（原因和现在的值）\n", "\(told.stdout)")
                }
            }
            let listed = await opps("conflicts", "--home", max, "--json").json?.array ?? []
            #expect(listed.count == 3, "\(listed)")

            // Lost at push time (sam's came first): counted as a conflict of the push, once.
            #expect(await opps("set", id, "next_step=book the demo (sam)", "--home", sam).code == 0)
            #expect(await opps("set", id, "next_step=book the demo (max)", "--home", max).code == 0)
            #expect(await opps("sync", "--home", sam).code == 0)
            let lost = await opps("sync", "--home", max, "--json").json
            #expect(lost?["conflicts"]?.int == 1 && lost?["overruled"]?.int == 0, "\(String(describing: lost))")
        }
    }
}
