import Foundation
import OppsCore
import OppsReplica
import OppsStore
import Testing

/// Issue 15 items 2 and 9: messages that say what happened and what to do next.
@Suite struct RecoveryMessageTests {
    @Test func aDisabledUserIsToldSoAndKeepsTheirWork() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            let home = f.home("sam")
            #expect(await f.initReplica("sam", url).code == 0)
            #expect(await opps("new", "Kept deal", "--account", "ACME", "--home", home).code == 0)
            #expect(await oppsHub("user", "disable", "sam", "--data", f.root + "/hub").code == 0)
            let refused = await opps("sync", "--home", home)
            #expect(refused.code == 4)
            #expect(refused.stderr.contains("disabled") && refused.stderr.contains("kept"), "\(refused.stderr)")
            #expect(await opps("status", "--home", home, "--json").json?["pending"]?.int ?? 0 > 0)
            #expect(await oppsHub("user", "enable", "sam", "--data", f.root + "/hub").code == 0)
            #expect(await opps("sync", "--home", home).code == 0)
            #expect(await opps("status", "--home", home, "--json").json?["pending"]?.int == 0)
        }
    }

    @Test func initWithTheHubDownSaysNothingWasMade() async throws {
        let f = try CommandFixture()
        // A port nothing listens on: the fixture's hub is not served.
        let home = f.home("sam")
        let r = await opps("init", "--hub", "http://127.0.0.1:9", "--token", f.tokens["sam"]!, "--home", home)
        #expect(r.code == 2)
        #expect(r.stderr.contains("no replica was made") && !r.stderr.contains("kept"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: home + "/replica.sqlite"))
    }
}
