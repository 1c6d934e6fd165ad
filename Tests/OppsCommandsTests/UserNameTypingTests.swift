import Foundation
import OppsCore
import Testing

/// A user's name typed on the laptop is checked against the hub's names the last sync brought
/// (protocol 6): a filter naming nobody is refused with the name it could mean, instead of
/// printing an empty list or report; so is a team member or an assignee.
@Suite struct UserNameTypingTests {
    @Test func aNameNobodyHasIsRefusedWhereverAUserIsTyped() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            #expect(await f.initReplica("max", url).code == 0)
            let max = f.home("max")
            let deal = try #require(await opps("new", "ACME rollout", "--account", "ACME", "--home", max, "--json").json?["id"]?.string)
            let said = "owner: tmo is not a user of the hub (did you mean tom?); a user added since your last sync is known after opps sync\n"
            let list = await opps("list", "--owner", "tmo", "--home", max)
            #expect(list.code == 1 && list.stdout.isEmpty && list.stderr == "opps: " + said, "\(list.stderr)")
            for report in [["funnel"], ["board"], ["forecast"], ["report", "follow-up"]] {
                let run = await opps(report + ["--owner", "tmo", "--home", max])
                #expect(run.code == 1 && run.stderr == "opps: " + said, "\(report): \(run.stderr)")
            }
            #expect(await opps("list", "--owner", "tom", "--home", max).code == 0, "a user with no deals here is an empty list, not an error")
            let team = await opps("team", "add", deal, "eev", "--role", "expert", "--home", max)
            #expect(team.code == 1 && team.stderr.contains("eev is not a user of the hub (did you mean eve?)"), "\(team.stderr)")
            let chinese = await opps("list", "--owner", "汤姆", "--home", max, "--locale", "zh-CN")
            #expect(chinese.stderr == "opps: 负责人：「汤姆」不是服务器上的用户（用户有：eve、max、mia、sam、tom）；刚加的用户要先运行 opps sync 才能用\n", "\(chinese.stderr)")
        }
    }
}
