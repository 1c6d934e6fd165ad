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
}
