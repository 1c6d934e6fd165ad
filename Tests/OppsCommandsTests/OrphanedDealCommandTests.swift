import Foundation
import OppsCore
import OppsStore
import Testing

/// merge-semantics.md I17 as a manager and an operator meet it: clearing the owner of an
/// imported deal (made by the hub) would leave it to nobody, the manager included; the hub
/// refuses it, the manager's replica keeps the deal and shows the refusal as a conflict, in
/// Chinese too, and the operator cannot restore the cleared value either.
@Suite struct OrphanedDealCommandTests {
    @Test func aManagerClearingTheOwnerOfAnImportedDealIsRefusedAndKeepsTheDeal() async throws {
        let f = try CommandFixture()
        let hub = f.root + "/hub"
        let deals = f.root + "/deals.csv"
        try "名称,阶段,负责人\n华为试点,需求挖掘,sam\n".write(toFile: deals, atomically: true, encoding: .utf8)
        #expect(await oppsHub("import", deals, "--type", "商机", "--data", hub).code == 0)
        let zh = ["LANG": "zh_CN.UTF-8", "OPPS_HOME": f.home("max")]
        try await f.serving { url in
            #expect(await opps("init", "--hub", url, "--token", f.tokens["max"]!, "--home", f.home("max")).code == 0)
            let id = try #require(await opps("list", "--home", f.home("max"), "--json").json?.array?.first?["id"]?.string)
            let short = ShortID.shown(try #require(RecordID(parsing: id)))
            // Accepted on the laptop (it holds no org chart), refused by the hub at the sync.
            #expect(await opps(["set", short, "负责人="], environment: zh).stdout == "已修改 负责人：（空）（待同步）\n")
            let synced = await opps(["sync"], environment: zh)
            #expect(synced.code == 0 && synced.stdout.hasPrefix("已推送 1 条记录的修改（0 项生效，1 项冲突）；"), "\(synced.stdout)")
            // The deal is still max's to see, with its owner, and the refusal says how to mend it.
            let shown = await opps(["show", short], environment: zh)
            #expect(shown.code == 0 && shown.stdout.contains("负责人           sam"), "\(shown.stdout)")
            let conflicts = await opps(["conflicts", "--json"], environment: zh).json?.array ?? []
            #expect(conflicts.map { $0["rule"]?.string } == ["orphaned"], "\(conflicts)")
            #expect(conflicts.first?["winner"]?.string == "sam")
            let told = await opps(["conflicts"], environment: zh).stdout.replacingOccurrences(of: "\n    ", with: "")
            #expect(told.contains("max 的（空）被拒绝（这样修改后没有用户能看到这条「商机」：请给它指定一个能看到它的「负责人」）"), "\(told)")
            #expect(told.contains("当时的值：「sam」（服务器）"), "\(told)")
            let inEnglish = await opps("conflicts", "--home", f.home("max")).stdout
            #expect(
                unspaced(inEnglish).contains(
                    unspaced(
                        "max's (empty) rejected (no user would see this opportunity after the change: set its owner to someone who sees it) held: \"sam\" by the hub, ")
                ),
                "\(inEnglish)")
            // Giving it to tom instead holds.
            #expect(await opps("set", short, "owner=tom", "--home", f.home("max")).code == 0)
            #expect(await opps("sync", "--home", f.home("max")).stdout.hasPrefix("pushed changes to 1 record, all applied;"))
        }
        // The operator sees the cleared value as such, and cannot restore it.
        let listed = await oppsHub("conflicts", "--data", hub)
        #expect(
            unspaced(listed.stdout).contains(
                unspaced("max wrote (empty): rejected (no user would see this opportunity after the change: set its owner to someone who sees it)")),
            "\(listed.stdout)")
        let restored = await oppsHub("conflicts", "restore", "1", "--as", "max", "--data", hub)
        #expect(restored.code == 1)
        #expect(restored.stderr == "opps-hub: no user would see this opportunity after the restore: give it an owner who sees it instead\n")
        let store = try SQLiteHubStore(path: hub + "/hub.sqlite")
        #expect(try store.openConflicts(user: nil).map(\.conflict.id) == [1], "the refused restore leaves the conflict open")
    }
}
