import Foundation
import OppsCommands
import OppsCore
import OppsReplica
import OppsWire
import SwiftProtobuf
import Testing

/// The hub's workspace moves while a replica pulls (sync-protocol.md §6.1, protocol 3): the next
/// page is refused `workspace-outdated`, the replica handshakes, takes the new workspace and goes
/// on from where it was — no repair, nothing pulled twice, the checkpoint verified.
final class WorkspaceChangingTransport: Transport, @unchecked Sendable {
    let inner: HTTPTransport
    let lock = NSLock()
    var pulls = 0
    var refusals = 0
    let change: @Sendable () async -> Void

    init(_ inner: HTTPTransport, change: @escaping @Sendable () async -> Void) {
        self.inner = inner
        self.change = change
    }

    func send<Out: SwiftProtobuf.Message>(_ endpoint: String, body: [UInt8], token: String, as: Out.Type) async throws(TransportError) -> Out {
        if endpoint == Endpoint.pull {
            let n = lock.withLock {
                pulls += 1; return pulls
            }
            if n == 2 { await change() }
        }
        do {
            return try await inner.send(endpoint, body: body, token: token, as: Out.self)
        } catch {
            if case let .refused(_, e) = error, e.code == .workspaceOutdated { lock.withLock { refusals += 1 } }
            throw error
        }
    }
}

@Suite(.serialized) struct WorkspaceDuringPullTests {
    /// The default workspace, one version on, with one more opportunity field.
    static func nextWorkspace() throws -> (document: String, version: UInt64) {
        var doc = try #require(try JSONSerialization.jsonObject(with: Data(Workspace.defaultDocument.utf8)) as? [String: Any])
        let version = (doc["version"] as? Int ?? 0) + 1
        doc["version"] = version
        var entities = try #require(doc["entities"] as? [[String: Any]])
        var fields = try #require(entities[0]["fields"] as? [[String: Any]])
        let highest = fields.compactMap { $0["number"] as? Int }.max() ?? 0
        var field = try #require(fields.first { $0["name"] as? String == "next_step" })
        field["name"] = "site_visit_notes"
        field["number"] = highest + 1
        field["labels"] = ["zh-CN": "现场记录"]
        fields.append(field)
        entities[0]["fields"] = fields
        doc["entities"] = entities
        let data = try JSONSerialization.data(withJSONObject: doc, options: [.sortedKeys])
        return (String(decoding: data, as: UTF8.self), UInt64(version))
    }

    /// `nextWorkspace()` written to a file in `f`'s root, for `opps-hub workspace apply`.
    static func nextWorkspaceFile(in f: CommandFixture) throws -> (path: String, version: UInt64) {
        let next = try nextWorkspace()
        let path = f.root + "/next-workspace.json"
        try next.document.write(toFile: path, atomically: true, encoding: .utf8)
        return (path, next.version)
    }

    @Test func aWorkspaceAppliedMidPullIsTakenAndThePullGoesOn() async throws {
        let f = try CommandFixture()
        try seedDeals(f, count: 300)
        let (file, nextVersion) = try Self.nextWorkspaceFile(in: f)
        try await f.serving { url in
            let http = HTTPTransport(baseURL: url)
            let replica = try await f.samsLaptop(url, http, pageSize: 50)
            let hubDirectory = f.root + "/hub"
            let transport = WorkspaceChangingTransport(http) {
                // The operator applies a new workspace from another process while the pull runs.
                let applied = await oppsHub("workspace", "apply", file, "--data", hubDirectory)
                #expect(applied.code == 0, "\(applied.stdout) \(applied.stderr)")
            }
            let outcome: Result<SyncReport, any Error>
            do { outcome = .success(try await replica.sync(transport: transport)) } catch { outcome = .failure(error) }
            await http.shutdown()
            let report = try outcome.get()
            #expect(transport.refusals >= 1, "the hub refused a page named by the old workspace")
            #expect(replica.workspace.version == nextVersion)
            #expect(replica.workspace.entity("opportunity")?.field("site_visit_notes") != nil)
            #expect(!report.repaired)
            #expect(try replica.store.list(entity: "opportunity", workspace: replica.workspace).count == 300)
        }
    }
}
