import Foundation
import OppsCore
import OppsReplica
import OppsStore
import OppsTestSupport
import OppsWire
import Testing

@testable import OppsHub

/// The users' names reach the replica (protocol 6, sync-protocol.md §6.2 `users`), so a user
/// field's value is checked on the laptop as the hub checks it (`unknown-user`).
struct UserNamesTests: ReplicaSyncSuite {
    let fixture: ReplicaSyncFixture
    init() throws { fixture = try ReplicaSyncFixture("opps-names") }

    /// What the hub answers a pull naming `directory` as the list the replica holds.
    func page(_ r: Replica, directory: UInt64) throws -> PullResponse {
        let user = try #require(try engine.store.user(named: r.user))
        var request = PullRequest()
        request.replica = Data(r.id.bytes)
        request.workspaceVersion = engine.workspace.version
        request.cursor = try r.store.sync(.cursor)
        request.token = try r.store.sync(.pullToken)
        request.ack = request.cursor
        request.directory = directory
        var activity = HubActivity()
        return try engine.pull(user: user, request: request, activity: &activity)
    }

    /// Something in the log, so a replica's cursor moves and its syncs may skip the handshake.
    func logNotEmpty() async throws {
        let tom = try await replica("tom")
        var rng = SystemRandomNumberGenerator()
        _ = try tom.create(entity: "opportunity", stage: "discovery", fields: [("name", .text("中粮"))], using: &rng)
        _ = try await tom.sync(transport: transport)
    }

    @Test func aPullBringsEveryNameOnceAndAgainAfterAUserIsAdded() async throws {
        try await logNotEmpty()
        let sam = try await replica("sam")
        _ = try await sam.sync(transport: transport)
        let names = try #require(try sam.userNames())
        #expect(names.names == ["max", "sam", "tom"])
        #expect(names.digest == UserNames(["tom", "max", "sam"]).digest)

        // The hub sends the list only when the request names another digest.
        let same = try page(sam, directory: names.digest)
        #expect(same.users.isEmpty && same.directory == 0)
        let other = try page(sam, directory: names.digest &+ 1)
        #expect(other.users == ["max", "sam", "tom"] && other.directory == names.digest)

        // A disabled user keeps their name: a user field may still hold it (the hub's rule).
        _ = try engine.updateUser("tom") { $0.disabled = true }
        #expect(try page(sam, directory: names.digest).directory == 0)

        // A user added: the next sync brings the new list, in UTF-8 order, under a new digest.
        var rng = SystemRandomNumberGenerator()
        _ = try engine.addUser(HubUser(name: "王伟", role: "sales", manager: "max"), rng: &rng)
        _ = try engine.addUser(HubUser(name: "amy", role: "expert", manager: "max"), rng: &rng)
        transport.reset()
        _ = try await sam.sync(transport: transport)
        #expect(transport.endpoints == [Endpoint.pull], "the list rides on the sync's one pull")
        let now = try #require(try sam.userNames())
        #expect(now.names == ["amy", "max", "sam", "tom", "王伟"])
        #expect(now.digest != names.digest)
        #expect(try page(sam, directory: now.digest).users.isEmpty, "the replica echoes the digest it stored")
    }

    /// A replica whose handshake settled below 6 gets no list (it would not know the fields),
    /// whatever digest its pull names.
    @Test func noListForAnOlderReplica() async throws {
        let sam = try await replica("sam")
        _ = try await sam.sync(transport: transport)
        var row = try #require(try engine.store.replica(sam.id))
        row.protocolVersion = 5
        try engine.store.transaction { try engine.store.saveReplica(row) }
        for named in [0, 1, try #require(try sam.userNames()).digest] {
            let answer = try page(sam, directory: named)
            #expect(answer.users.isEmpty && answer.directory == 0, "\(named)")
        }
    }

    /// A pull of several pages carries the list on its last page only.
    @Test func theListComesOnTheLastPage() async throws {
        let max = try await replica("max")
        var rng = SystemRandomNumberGenerator()
        for i in 0..<30 { _ = try max.create(entity: "opportunity", stage: "discovery", fields: [("name", .text("deal \(i)"))], using: &rng) }
        _ = try await max.sync(transport: transport)
        let sam = try await replica("sam")
        sam.pageSize = 5
        _ = try await sam.sync(transport: transport)
        #expect(try sam.userNames()?.names == ["max", "sam", "tom"])
        let user = try #require(try engine.store.user(named: "max"))
        var request = PullRequest()
        request.replica = Data(max.id.bytes)
        request.workspaceVersion = engine.workspace.version
        request.maxChanges = 5
        var activity = HubActivity()
        let first = try engine.pull(user: user, request: request, activity: &activity)
        #expect(first.more && first.users.isEmpty && first.directory == 0)
    }

    @Test func aUserFieldNamingNobodyIsRefusedOnTheLaptop() async throws {
        let sam = try await replica("sam")
        var rng = SystemRandomNumberGenerator()
        let deal = try sam.create(entity: "opportunity", stage: "discovery", fields: [("name", .text("华北电网"))], using: &rng).record
        _ = try await sam.sync(transport: transport)
        let pending = try sam.store.outboxCount()

        // A typo: the close name is offered; nothing is written.
        #expect {
            try sam.addTask(deal: deal, text: "回访", due: "2026-12-09", assignee: "tmo")
        } throws: { e in
            guard case let ReplicaError.badValue(_, field, .user(close, all), text) = e else { return false }
            return field == "assignee" && close == ["tom"] && all.isEmpty && text == "tmo"
        }
        // Nobody close: a small hub's names are all listed.
        #expect {
            try sam.addTask(deal: deal, text: "回访", due: "2026-12-09", assignee: "王伟")
        } throws: { e in
            guard case let ReplicaError.badValue(_, _, .user(close, all), _) = e else { return false }
            return close.isEmpty && all == ["max", "sam", "tom"]
        }
        #expect(try sam.store.outboxCount() == pending)
        // The same on any user field, through edit.
        #expect(throws: ReplicaError.self) { try sam.edit(deal, [("owner", .text("nobody"))]) }

        // Added at the hub: refused here until a sync brings the name, then taken.
        _ = try engine.addUser(HubUser(name: "王伟", role: "sales", manager: "max"), rng: &rng)
        #expect(throws: ReplicaError.self) { try sam.addTask(deal: deal, text: "回访", due: "2026-12-09", assignee: "王伟") }
        _ = try await sam.sync(transport: transport)
        let task = try sam.addTask(deal: deal, text: "回访", due: "2026-12-09", assignee: "王伟").record
        let report = try await sam.sync(transport: transport)
        #expect(report.conflicts == 0 && report.applied == report.pushed)
        #expect(try sam.store.confirmed(task, workspace: engine.workspace)?["assignee"] == .text("王伟"))
    }

    /// A replica that holds no list (its hub spoke an older protocol) checks nothing itself;
    /// the hub refuses the name at sync, as before, and the rep gets the conflict.
    @Test func withoutAListTheHubStillRefuses() async throws {
        let sam = try await replica("sam")
        var rng = SystemRandomNumberGenerator()
        let deal = try sam.create(entity: "opportunity", stage: "discovery", fields: [("name", .text("华北电网"))], using: &rng).record
        _ = try await sam.sync(transport: transport)
        try sam.store.setMeta("directory", "")
        #expect(try sam.userNames() == nil)
        _ = try sam.addTask(deal: deal, text: "回访", due: "2026-12-09", assignee: "tmo")
        var row = try #require(try engine.store.replica(sam.id))
        row.protocolVersion = 5
        try engine.store.transaction { try engine.store.saveReplica(row) }
        let report = try await sam.sync(transport: transport)
        #expect(report.conflicts == 1)
        #expect(try sam.store.conflicts().contains { $0.rule == RuleID.unknownUser.rawValue })
        #expect(try sam.userNames() == nil, "an older hub's page leaves the replica without a list")
    }

    /// A replica updated to a newer protocol handshakes once, so the hub answers in it.
    @Test func aReplicaOfANewerProtocolHandshakesOnce() async throws {
        try await logNotEmpty()
        let sam = try await replica("sam")
        _ = try await sam.sync(transport: transport)
        // As a replica of the previous build left it: version 5 settled, nothing about what it offered.
        try sam.store.setMeta("protocol", "5")
        try sam.store.setMeta("protocol_offered", "")
        try sam.store.setMeta("directory", "")
        var row = try #require(try engine.store.replica(sam.id))
        row.protocolVersion = 5
        try engine.store.transaction { try engine.store.saveReplica(row) }
        transport.reset()
        _ = try await sam.sync(transport: transport)
        #expect(transport.endpoints == [Endpoint.handshake, Endpoint.pull])
        #expect(try engine.store.replica(sam.id)?.protocolVersion == ProtocolVersion.current)
        #expect(try sam.userNames()?.names == ["max", "sam", "tom"])
        transport.reset()
        _ = try await sam.sync(transport: transport)
        #expect(transport.endpoints == [Endpoint.pull])
    }
}

struct UserNamesCoreTests {
    @Test func closeNamesAreTyposAndPartsBestFirst() {
        let names = UserNames(["sam", "tom", "samantha", "王伟", "王伟伟", "王玮", "李娜", "Max"])
        #expect(names.names == ["Max", "sam", "samantha", "tom", "李娜", "王伟", "王伟伟", "王玮"], "UTF-8 order")
        #expect(names.close(to: "tmo") == ["tom"])
        #expect(names.close(to: "max") == ["Max"], "letters without case")
        #expect(names.close(to: "王伟") == ["王伟", "王玮", "王伟伟"], "the same, then one character off, shorter first")
        #expect(names.close(to: "sama") == ["sam", "samantha"])
        #expect(names.close(to: "zhang").isEmpty)
        #expect(names.close(to: "").isEmpty)
        #expect(UserNames(["b", "a"]).digest == UserNames(["a", "b", "a"]).digest)
        #expect(UserNames(["a", "b"]).digest != UserNames(["a", "c"]).digest)
        #expect(UserNames(["ab"]).digest != UserNames(["a", "b"]).digest)
    }

    @Test func theRuleAsksOnlyAUserFieldsText() {
        let known: (String) -> Bool = { $0 == "sam" }
        #expect(UserNames.namesUnknownUser(.user, .text("tom"), known: known))
        #expect(!UserNames.namesUnknownUser(.user, .text("sam"), known: known))
        #expect(!UserNames.namesUnknownUser(.user, .null, known: known))
        #expect(!UserNames.namesUnknownUser(.text(maxLength: 100), .text("tom"), known: known))
        #expect(!UserNames.namesUnknownUser(nil, .text("tom"), known: known))
    }
}
