import Foundation
import OppsCore
import OppsReplica
import OppsStore
import Testing

/// Issue 15 item 4, the part that is a hole: approving only the stage request of
/// `stage X lost --reason price` closed the deal without its required loss reason. An approved
/// stage move now passes the gates as the approver's own move would.
@Suite struct ApprovalGateTests {
    @Test func approvingALossWithoutItsReasonDoesNotCloseTheDeal() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            let sam = f.home("sam"), max = f.home("max")
            #expect(await f.initReplica("sam", url).code == 0)
            #expect(await f.initReplica("max", url).code == 0)
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
