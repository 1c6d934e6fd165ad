import OppsCore
import Testing

/// `Workspace.anyoneSees(recordOf:…)`: whether a new deal would reach any enabled user
/// (what `opps-hub import` asks of every row it would create).
@Suite struct NewRecordAudienceTests {
    let ws = Workspace.default
    var deal: Entity { ws.entity("opportunity")! }

    func directory(successDisabled: Bool) -> Directory {
        Directory(users: [
            .init(name: "max", role: "manager"),
            .init(name: "sam", role: "sales", manager: "max"),
            .init(name: "mia", role: "marketing"),
            .init(name: "sue", role: "success", disabled: successDisabled),
        ])
    }

    @Test func aDealWithNoOwnerMadeByTheHubReachesNobodyBeforeItIsWon() {
        let d = directory(successDisabled: false)
        #expect(!ws.anyoneSees(recordOf: deal, stage: .member("discovery"), owner: nil, creator: "hub", directory: d))
        #expect(!ws.anyoneSees(recordOf: deal, stage: .member("lead"), owner: nil, creator: "hub", directory: d))
        // Success sees every won deal, with no relation to it; not when their only user is disabled.
        #expect(ws.anyoneSees(recordOf: deal, stage: .member("won"), owner: nil, creator: "hub", directory: d))
        #expect(!ws.anyoneSees(recordOf: deal, stage: .member("won"), owner: nil, creator: "hub", directory: directory(successDisabled: true)))
    }

    @Test func theOwnerTheCreatorOrAManagerAboveThemSeesIt() {
        let d = directory(successDisabled: true)
        #expect(ws.anyoneSees(recordOf: deal, stage: .member("discovery"), owner: "sam", creator: "hub", directory: d))
        // Marketing sees what it created, not what it owns; a creator with a manager is seen by them.
        #expect(ws.anyoneSees(recordOf: deal, stage: .member("lead"), owner: nil, creator: "mia", directory: d))
        #expect(!ws.anyoneSees(recordOf: deal, stage: .member("lead"), owner: "mia", creator: "hub", directory: d))
        #expect(ws.anyoneSees(recordOf: deal, stage: .member("discovery"), owner: nil, creator: "max", directory: d))
        // sales sees what it owns, not what it created; max manages sam, so sam's deal reaches max.
        #expect(ws.anyoneSees(recordOf: deal, stage: .member("discovery"), owner: nil, creator: "sam", directory: d))
        let alone = Directory(users: [.init(name: "sam", role: "sales")])
        #expect(!ws.anyoneSees(recordOf: deal, stage: .member("discovery"), owner: nil, creator: "sam", directory: alone))
        #expect(!ws.anyoneSees(recordOf: deal, stage: .member("discovery"), owner: "nobody", creator: "hub", directory: alone))
    }

    @Test func aRecordOfAnUnstagedTypeIsNotAsked() {
        #expect(ws.anyoneSees(recordOf: ws.entity("account")!, stage: .null, owner: nil, creator: "hub", directory: directory(successDisabled: true)))
    }
}
