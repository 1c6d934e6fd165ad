import Foundation
import Testing

/// A deal given to someone else leaves its old owner's laptop at the next sync (visibility.md):
/// the rep is told which, by name — its id names nothing there any more — not left to find it
/// missing from the board. A request of theirs on it can no longer be carried out: when the
/// approver approves it anyway, the hub's refusal reads in the reader's words everywhere.
@Suite struct LeftSightTests {
    @Test func aDealGivenToAnotherRepIsSaidByNameWhenItLeavesTheLaptop() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            let given = try await f.samsDeal("Given away", initialising: url)
            #expect(await f.initReplica("tom", url).code == 0)
            let sam = f.home("sam"), tom = f.home("tom"), max = f.home("max")
            var others = [String]()
            for name in ["云帆 扩容", "Third deal"] {
                others.append(try #require(await opps("new", name, "--account", "ACME", "--home", sam, "--json").json?["id"]?.string))
            }
            // sam asks for a discount above his threshold on the first: the deal is locked.
            let asked = await opps("set", given, "discount=18", "--home", sam)
            #expect(asked.code == 0)
            let requestCode = String(asked.stdout.dropFirst("requested approval ".count).prefix(8))
            #expect(await opps("sync", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            func giveToTom(_ ids: [String]) async {
                for id in ids { #expect(await opps("set", id, "owner=tom", "--home", max).code == 0) }
                #expect(await opps("sync", "--home", max).code == 0)
            }

            await giveToTom([given])
            let told = await opps(["sync", "--home", sam], environment: ["LANG": "C"])
            #expect(
                told.stdout == "nothing to push; 1 update from others\n  Given away: taken off this laptop, no longer yours to see (its owner or team\n  changed)\n",
                "\(told.stdout)")
            #expect(await opps("show", given, "--home", sam).code == 1, "the deal is no longer here")

            // In Chinese, at 80 columns, two at once.
            await giveToTom([others[0]])
            let zh = await opps("sync", "--home", sam, "--locale", "zh-CN")
            #expect(zh.stdout == "没有待推送的修改；收到别人的 1 项修改\n  云帆 扩容：已从本机移除，你不再能看到它（负责人或团队有变化）\n", "\(zh.stdout)")
            await giveToTom([others[1]])
            let json = try #require(await opps("sync", "--home", sam, "--json").json)
            #expect(json["removed"]?.int == 1 && json["removed_deals"]?.array?.compactMap(\.string) == ["Third deal"], "\(json)")
            // Nothing said again, and nothing said of a deal that stays.
            let quiet = await opps(["sync", "--home", sam], environment: ["LANG": "C"])
            #expect(quiet.stdout == "nothing to push; nothing new from others\n", "\(quiet.stdout)")

            // tom, the new owner, reads the deal with sam's request on it, by what it asks.
            let handed = await opps("sync", "--home", tom, "--locale", "zh-CN")
            #expect(handed.stdout.contains(" Given away：新审批「折扣 → 18%」（sam）\n"), "\(handed.stdout)")
            // Locked for tom by sam's request: whose it is and who decides it (tom has no queue
            // where it shows, and cannot withdraw it).
            let locked = await opps(["set", given, "discount=5", "--home", tom], environment: ["LANG": "C", "COLUMNS": "200"])
            #expect(
                locked.code == 3
                    && locked.stderr.hasSuffix("\nit waits for sam's request \(requestCode) (discount → 18%), which a manager decides: change it once that is decided\n"),
                "\(locked.stderr)")
            let lockedZH = await opps(["set", given, "折扣=5", "--home", tom, "--locale", "zh-CN"], environment: ["COLUMNS": "200"])
            #expect(lockedZH.stderr.hasSuffix("\n它在等 sam 的审批 \(requestCode)（折扣 → 18%），由销售管理者审批：有结果后再改\n"), "\(lockedZH.stderr)")
            // max approves it anyway: sam may no longer change that deal's discount, so the hub
            // refuses it in its own words, which tom reads in his.
            let request = try #require(await opps("approvals", "--home", max, "--json").json?.array?.first?["id"]?.string)
            #expect(await opps("approve", request, "--home", max).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            let news = await opps("sync", "--home", tom, "--locale", "zh-CN")
            #expect(unspaced(news.stdout).contains(unspaced("Given away：服务器 驳回了申请（折扣 → 18%）：未执行：sam 已无权修改该记录的「折扣」\n")), "\(news.stdout)")
            #expect(!news.stdout.contains("not applied"), "\(news.stdout)")
            // max's refused approval names the request by what it asked, not by the hub's note.
            let conflicts = await opps("conflicts", "--home", max, "--locale", "zh-CN")
            #expect(conflicts.stdout.contains(" Given away · 审批「折扣 → 18%」 · 状态\n") && !conflicts.stdout.contains("not applied"), "\(conflicts.stdout)")
            // The deal is tom's to change now.
            #expect(await opps("set", given, "discount=5", "--home", tom).code == 0)
        }
    }
}
