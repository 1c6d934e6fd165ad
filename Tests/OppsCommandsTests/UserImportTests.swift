import Foundation
import OppsConsole
import OppsCore
import OppsTestSupport
import Testing

/// `opps-hub user import`: a team added from one file, all or none; each token printed once works.
@Suite struct UserImportTests {
    @Test func aTeamIsAddedFromAFileAndEachTokenWorks() async throws {
        let f = try CommandFixture()
        let hub = f.root + "/hub"
        let team = f.root + "/team.csv"
        // Headers as a spreadsheet writes them; a role by its label; a manager from the hub and
        // one from the file itself (a later row).
        try "Name,Role,Team,Territory,Manager,Capacity\nzhou,manager,,,max,\nli,销售顾问,east,east,zhou,20\n"
            .write(toFile: team, atomically: true, encoding: .utf8)
        let added = await oppsHub("user", "import", team, "--data", hub)
        #expect(added.code == 0, "\(added.stderr)")
        let lines = added.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 3 && lines[0] == "name,token" && lines[1].hasPrefix("zhou,opps_") && lines[2].hasPrefix("li,opps_"), "\(added.stdout)")
        #expect(added.stderr.hasPrefix("added 2 users; their tokens (shown once) are on stdout"))
        let users = await oppsHub("user", "list", "--data", hub, "--json").json?.array ?? []
        let li = try #require(users.first { $0["name"]?.string == "li" })
        #expect(li["role"]?.string == "sales" && li["manager"]?.string == "zhou" && li["capacity"]?.int == 20 && li["territory"]?.string == "east")
        #expect(users.first { $0["name"]?.string == "zhou" }?["manager"]?.string == "max")
        let token = String(lines[2].dropFirst("li,".count))
        try await f.serving { url in
            let made = await opps("init", "--hub", url, "--token", token, "--home", f.root + "/li")
            #expect(made.code == 0 && made.stdout.contains("li"), "\(made.stderr)")
        }
    }

    @Test func oneBadRowAddsNobodyAndEachProblemIsNamed() async throws {
        let f = try CommandFixture()
        let hub = f.root + "/hub"
        let before = await oppsHub("user", "list", "--data", hub, "--json").json?.array?.count
        let team = f.root + "/团队.csv"
        try "用户名,角色,经理,容量\nsam,sales,max,\nchen,boss,nobody,\nchen,sales,,x\nwu,sales,,\nzhao,sales,zhao,\nli,sales,liu,\nliu,manager,li,\n".write(
            toFile: team, atomically: true, encoding: .utf8)
        let refused = await ProcessEnvironment.$pinned.withValue(["LANG": "zh_CN.UTF-8"]) { await oppsHub(["user", "import", team, "--data", hub]) }
        #expect(refused.code == 1 && refused.stdout.isEmpty)
        let lines = refused.stderr.split(separator: "\n").map(String.init)
        #expect(lines.count == 9, "\(refused.stderr)")
        #expect(lines.contains("\(team)：第 2 行，「用户名」列：用户「sam」已经存在"), "\(refused.stderr)")
        #expect(lines.contains { $0.hasPrefix("\(team)：第 3 行，「角色」列：没有角色「boss」（角色有：") }, "\(refused.stderr)")
        #expect(lines.contains("\(team)：第 3 行，「经理」列：经理「nobody」既不是已有的用户，也不在这个文件里"), "\(refused.stderr)")
        #expect(lines.contains("\(team)：第 4 行，「用户名」列：「chen」出现在不止一行"), "\(refused.stderr)")
        #expect(lines.contains("\(team)：第 4 行，「容量」列：「x」不是整数"), "\(refused.stderr)")
        #expect(lines.contains("\(team)：第 6 行，「经理」列：用户不能是自己的经理"), "\(refused.stderr)")
        // Two rows managing each other: a loop, refused at both.
        #expect(lines.contains("\(team)：第 7 行，「经理」列：「liu」已经在「li」之下：经理不能向下属汇报"), "\(refused.stderr)")
        #expect(lines.contains("\(team)：第 8 行，「经理」列：「li」已经在「liu」之下：经理不能向下属汇报"), "\(refused.stderr)")
        #expect(lines.last == "opps-hub：没有添加任何用户：6 行无效")
        // The same loop made by `user set`: max manages sam, so sam cannot manage max.
        let loop = await oppsHub("user", "set", "max", "--manager", "sam", "--data", hub)
        #expect(loop.code == 1 && loop.stderr == "opps-hub: sam is below max already: a manager cannot report to them\n", "\(loop.stderr)")
        // Nobody, not even the valid row's wu, was added.
        #expect(await oppsHub("user", "list", "--data", hub, "--json").json?.array?.count == before)
        let english = await oppsHub("user", "import", team, "--data", hub)
        #expect(english.stderr.contains("row 3, column 经理: manager \"nobody\" is neither a user nor a row of this file"), "\(english.stderr)")
        // A header it does not know: one line.
        let odd = f.root + "/odd.csv"
        try "name,role,email\nwu,sales,wu@example.com\n".write(toFile: odd, atomically: true, encoding: .utf8)
        #expect(
            await oppsHub("user", "import", odd, "--data", hub).stderr
                == "opps-hub: \(odd): row 1: unknown column \"email\" (name, role, team, territory, manager, capacity)\n")
        // The same column twice (by its name and its Chinese head): which one would count?
        try "name,role,用户名\nwu,sales,wu2\n".write(toFile: odd, atomically: true, encoding: .utf8)
        #expect(await oppsHub("user", "import", odd, "--data", hub).stderr == "opps-hub: \(odd): row 1: the column \"用户名\" appears twice\n")
    }
}
