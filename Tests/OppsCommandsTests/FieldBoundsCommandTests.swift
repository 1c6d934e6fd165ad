import OppsCore
import Testing

@testable import OppsCommands

/// workspace-format.md `min`/`max`, as a rep meets them: `opps set` refuses a probability of
/// 300 before making the write, by the field's label, in the rep's language.
@Suite struct FieldBoundsCommandTests {
    @Test func aProbabilityOver100IsRefusedBeforeItIsMade() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            #expect(await f.initReplica("sam", url).code == 0)
            let home = f.home("sam")
            let id = try #require(await opps("new", "北辰物流", "--account", "北辰", "--home", home, "--json").json?["id"]?.string)
            let chinese = await opps("set", id, "probability=300", "--home", home, "--locale", "zh-CN")
            #expect(chinese.code == 1 && chinese.stderr == "opps: 赢率：超过上限 100%\n", "\(chinese.stderr)")
            let english = await opps("set", id, "amount=-5", "--home", home)
            #expect(english.code == 1 && english.stderr.contains("amount: less than 0, the least allowed"), "\(english.stderr)")
            #expect(await opps("set", id, "probability=100", "amount=0", "--home", home).code == 0)
            let shown = await opps("show", id, "--json", "--home", home).json?["fields"]
            #expect(shown?["probability"]?.int == 100 && shown?["amount"]?.string == "0.00", "\(String(describing: shown))")
            #expect(await opps("sync", "--home", home).code == 0)
            #expect(await opps("conflicts", "--home", home, "--json").json?.array?.isEmpty == true, "the hub applied both")
        }
    }
}
