import Foundation
import OppsCore
import OppsReplica
import OppsStore
import Testing

/// `opps connect`: a rotated token, a moved hub or a private CA never costs a rep their work.
@Suite struct ConnectTests {
    @Test func aRotatedTokenIsPutIntoTheReplicaKeepingPendingWork() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            let home = f.home("sam")
            #expect(await opps("init", "--hub", url, "--token", f.tokens["sam"]!, "--home", home).code == 0)
            let id = try #require(await opps("new", "Offline deal", "--account", "ACME", "--home", home, "--json").json?["id"]?.string)
            let newToken = try #require(await oppsHub("token", "rotate", "sam", "--data", f.root + "/hub", "--json").json?["token"]?.string)
            let refused = await opps("sync", "--home", home)
            #expect(refused.code == 4)
            #expect(refused.stderr.contains("opps connect --token"))
            // Another user's token is refused and changes nothing.
            let wrong = await opps("connect", "--token", f.tokens["tom"]!, "--home", home)
            #expect(wrong.code == 1 && wrong.stderr.contains("another user"), "\(wrong.stderr)")
            #expect(await opps("sync", "--home", home).code == 4)
            let connected = await opps("connect", "--token", newToken, "--home", home)
            #expect(connected.code == 0, "\(connected.stderr)")
            #expect(connected.stdout.contains("pending write"))
            #expect(await opps("sync", "--home", home).code == 0)
            // What was made offline reached the hub.
            let store = try SQLiteHubStore(path: f.root + "/hub/hub.sqlite")
            #expect(try store.record(RecordID(parsing: id)!, workspace: .default)?["name"] == .text("Offline deal"))
            #expect(await opps("connect", "--home", home).code == 1)  // nothing to change
        }
    }

    @Test func aPrivateCAIsTrustedOnlyWhenGivenAndACertificateErrorSaysSo() async throws {
        let f = try CommandFixture()
        let dir = f.root
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir + "/key.pem", "-out", dir + "/cert.pem", "-days", "1",
                             "-subj", "/CN=opps-hub", "-addext", "subjectAltName=IP:127.0.0.1"]
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        try #require(openssl.terminationStatus == 0)
        try await f.serving(tls: (dir + "/cert.pem", dir + "/key.pem")) { url in
            #expect(url.hasPrefix("https://"))
            let home = f.home("sam")
            let untrusted = await opps("init", "--hub", url, "--token", f.tokens["sam"]!, "--home", home)
            #expect(untrusted.code == 5, "\(untrusted.stderr)")
            #expect(untrusted.stderr.contains("certificate") && untrusted.stderr.contains("--ca"))
            #expect(!FileManager.default.fileExists(atPath: home + "/replica.sqlite"))
            let trusted = await opps("init", "--hub", url, "--token", f.tokens["sam"]!, "--ca", dir + "/cert.pem", "--home", home)
            #expect(trusted.code == 0, "\(trusted.stderr)")
            #expect(await opps("sync", "--home", home).code == 0)
            // Dropping the CA on the existing replica: refused before anything changes.
            #expect(await opps("connect", "--ca", "", "--home", home).code == 5)
            #expect(await opps("sync", "--home", home).code == 0)
        }
    }
}

/// Issue 15 items 2 and 9: messages that say what happened and what to do next.
@Suite struct RecoveryMessageTests {
    @Test func aDisabledUserIsToldSoAndKeepsTheirWork() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            let home = f.home("sam")
            #expect(await opps("init", "--hub", url, "--token", f.tokens["sam"]!, "--home", home).code == 0)
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

/// Issue 15 item 10: an activity records what happened; one dated in the future is refused on
/// the laptop at once, and at the hub by the same rule (`future-time`).
@Suite struct FutureActivityTests {
    @Test func anActivityDatedInTheFutureIsRefusedAndNothingIsMade() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            let home = f.home("sam")
            #expect(await opps("init", "--hub", url, "--token", f.tokens["sam"]!, "--home", home).code == 0)
            let id = try #require(await opps("new", "ACME", "--account", "ACME", "--home", home, "--json").json?["id"]?.string)
            let before = try Replica(home: home, clock: FixedClock(milliseconds: 0)).store.recordCount()
            let tomorrow = Timestamp(milliseconds: Int64(Date().timeIntervalSince1970 * 1000) + 86_400_000).description
            let r = await opps("log", id, "--kind", "visit", "--at", tomorrow, "--home", home)
            #expect(r.code == 1)
            #expect(r.stderr.contains("future"), "\(r.stderr)")
            #expect(try Replica(home: home, clock: FixedClock(milliseconds: 0)).store.recordCount() == before)
            let past = Timestamp(milliseconds: Int64(Date().timeIntervalSince1970 * 1000) - 3_600_000).description
            #expect(await opps("log", id, "--kind", "visit", "--at", past, "--home", home).code == 0)
        }
    }

    @Test func theHubAppliesTheSameRule() {
        let ws = Workspace.default
        let deal = Record(id: RecordID(high: 0x0190, low: 1), entity: "activity",
                          created: FieldState(value: .null, stamp: Stamp(hlc: HLC(milliseconds: 1_000_000, counter: 0), replica: ReplicaID(UUID128(high: 1, low: 1))),
                                              author: "sam", authority: .own))
        let context = RuleContext(workspace: ws, actor: Actor(user: "sam", role: "sales"), relations: [.creator], record: deal)
        func write(at: Int64) -> FieldWrite {
            FieldWrite(record: deal.id, entity: "activity", field: "at", value: .timestamp(Timestamp(milliseconds: at)), base: .none, author: "sam",
                       stamp: Stamp(hlc: HLC(milliseconds: 2_000_000, counter: 0), replica: ReplicaID(UUID128(high: 1, low: 1))))
        }
        #expect(resolve(current: nil, incoming: write(at: 2_000_000 + 300_001), context: context).rule == .futureTime)
        #expect(resolve(current: nil, incoming: write(at: 2_000_000 + 300_000), context: context).outcome == .applied)
        #expect(resolve(current: nil, incoming: write(at: 1_000), context: context).outcome == .applied)
    }
}

/// Issue 15 item 4, the part that is a hole: approving only the stage request of
/// `stage X lost --reason price` closed the deal without its required loss reason. An approved
/// stage move now passes the gates as the approver's own move would.
@Suite struct ApprovalGateTests {
    @Test func approvingALossWithoutItsReasonDoesNotCloseTheDeal() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            let sam = f.home("sam"), max = f.home("max")
            #expect(await opps("init", "--hub", url, "--token", f.tokens["sam"]!, "--home", sam).code == 0)
            #expect(await opps("init", "--hub", url, "--token", f.tokens["max"]!, "--home", max).code == 0)
            let id = try #require(await opps("new", "Doomed", "--account", "ACME", "--home", sam, "--json").json?["id"]?.string)
            #expect(await opps("stage", id, "lost", "--reason", "price", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", sam).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            let requests = await opps("approvals", "--home", max, "--json").json?.array ?? []
            let stageRequest = try #require(requests.first { $0["field"]?.string == "stage" }?["id"]?.string)
            #expect(await opps("approve", stageRequest, "--home", max).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            #expect(await opps("sync", "--home", max).code == 0)
            let deal = await opps("show", id, "--home", max, "--json").json
            #expect(deal?["fields"]?["stage"]?.string == "discovery", "the deal closed without a loss reason")
            let request = await opps("show", stageRequest, "--home", max, "--json").json?["fields"]
            #expect(request?["state"]?.string == "rejected")
            #expect(request?["note"]?.string?.contains("loss_reason") == true)
        }
    }
}
