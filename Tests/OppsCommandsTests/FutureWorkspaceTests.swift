import Foundation
import OppsCommands
import OppsConsole
import OppsCore
import OppsReplica
import OppsStore
import OppsWire
import SwiftProtobuf
import Testing

/// A hub whose workspace uses a key this build does not know (a newer format: workspace-format.md
/// reads documents strictly) answers every handshake with it.
final class FutureWorkspaceTransport: Transport, @unchecked Sendable {
    let inner: HTTPTransport
    init(_ inner: HTTPTransport) { self.inner = inner }

    func send<Out: SwiftProtobuf.Message>(_ endpoint: String, body: [UInt8], token: String, as: Out.Type) async throws(TransportError) -> Out {
        let answer = try await inner.send(endpoint, body: body, token: token, as: Out.self)
        guard var hello = answer as? HandshakeResponse, !hello.workspace.isEmpty else { return answer }
        let document = String(decoding: hello.workspace, as: UTF8.self)
        guard let open = document.firstIndex(of: "{") else { return answer }
        hello.workspace = Data((document[...open] + "\"quota_rules\": [], " + document[document.index(after: open)...]).utf8)
        return hello as! Out
    }
}

@Suite struct FutureWorkspaceTests {
    /// Said as what it is — this opps is older than the hub's workspace — at `init` and at a sync
    /// after the operator applied it, never as a pull that could not follow a change.
    /// A replica a newer opps opened (its file holds a migration this build does not know) is
    /// said as that, in the reader's language, with the work kept: not as a store error and its
    /// code. What to do is a line of its own, within 80 columns whatever the folder's path.
    @Test func aReplicaWrittenByANewerOppsAsksForIt() async throws {
        let f = try CommandFixture()
        try await f.serving { url in
            let http = HTTPTransport(baseURL: url)
            _ = try await f.samsLaptop(url, http)
            await http.shutdown()
        }
        let home = f.home("sam-laptop")
        let db = try Database(path: home + "/replica.sqlite")
        try db.execute("INSERT INTO schema_migrations (name, position) VALUES ('2099-01-01-replica-future', 99)")
        for (locale, line) in [
            ("en", "opps: the replica in \(home) was written by a newer opps:\nrun that version of opps (or a later one); your work is kept there"),
            ("zh-CN", "opps: \(home) 里的副本是更新版本的 opps 写的：\n请用那个版本（或更新的）opps 打开；本机的工作都保留着"),
        ] {
            let r = await opps("status", "--home", home, "--locale", locale)
            #expect(r.code == 1)
            #expect(r.stderr.trimmingCharacters(in: .newlines) == line, "\(r.stderr)")
            #expect(!r.stderr.contains("store error"))
            #expect(r.stderr.split(separator: "\n").last.map { String($0).displayWidth <= 80 } == true, "\(r.stderr)")
        }
    }

    /// A hub database a newer opps-hub opened is said as that by every command that opens it,
    /// in one line and the operator's language, the file left as it was: not as a store error.
    @Test func aHubDatabaseWrittenByANewerOppsHubAsksForIt() async throws {
        let f = try CommandFixture()
        let directory = f.root + "/hub"
        let db = try Database(path: directory + "/hub.sqlite")
        try db.execute("INSERT INTO schema_migrations (name, position) VALUES ('2099-01-01-hub-future', 99)")
        let migrations = try db.query("SELECT count(*) FROM schema_migrations")
        for args in [
            ["status", "--data", directory], ["serve", "--port", "0", "--data", directory], ["user", "list", "--data", directory],
            ["compact", "--data", directory], ["migrate", "--from", directory, "--to", "postgres://opps@127.0.0.1:1/opps"],
        ] {
            let english = await oppsHub(args)
            #expect(english.code == 1, "\(args): \(english.stderr)")
            #expect(
                english.stderr.hasSuffix(": it was written by a newer opps-hub: run that version of opps-hub (or a later one); nothing in it was changed\n"),
                "\(args): \(english.stderr)")
            #expect(english.stderr.split(separator: "\n").count == 1 && !english.stderr.contains("store error"), "\(english.stderr)")
        }
        let chinese = await ProcessEnvironment.$pinned.withValue(["LANG": "zh_CN.UTF-8"]) { await oppsHub(["status", "--data", directory]) }
        #expect(chinese.code == 1)
        #expect(chinese.stderr == "opps-hub：无法打开 \(directory) 里的服务器数据库：它是更新版本的 opps-hub 写的：请用那个版本（或更新的）opps-hub；其中的数据没有改动\n", "\(chinese.stderr)")
        #expect(try db.query("SELECT count(*) FROM schema_migrations") == migrations)
    }

    /// A damaged hub database is said as that, with the way back (the last backup), in the
    /// operator's language: not as SQLite's "file is not a database" alone.
    @Test func aDamagedHubDatabaseSaysToRestoreTheLastBackup() async throws {
        let f = try CommandFixture()
        let directory = f.root + "/hub"
        let handle = try #require(FileHandle(forWritingAtPath: directory + "/hub.sqlite"))
        try handle.write(contentsOf: Data(repeating: 0x5A, count: 4096))
        try handle.close()
        for name in ["hub.sqlite-wal", "hub.sqlite-shm"] { try? FileManager.default.removeItem(atPath: directory + "/" + name) }
        let english = await oppsHub(["status", "--data", directory])
        #expect(
            english.code == 1 && english.stderr.hasPrefix("opps-hub: cannot open the hub database in \(directory): it is damaged (")
                && english.stderr.hasSuffix("): stop the hub and restore the last backup (opps-hub restore)\n"), "\(english.stderr)")
        let chinese = await ProcessEnvironment.$pinned.withValue(["LANG": "zh_CN.UTF-8"]) { await oppsHub(["user", "list", "--data", directory]) }
        #expect(chinese.code == 1 && chinese.stderr.hasSuffix("：请停止服务器并恢复最近的备份（opps-hub restore）\n"), "\(chinese.stderr)")
        // Given as a backup to restore, the same file is no backup — not a hub to restore in turn.
        let other = try CommandFixture()
        let restore = await oppsHub(["restore", "--from", directory + "/hub.sqlite", "--data", other.root + "/hub"])
        #expect(
            restore.code == 1 && restore.stderr.hasPrefix("opps-hub: \(directory)/hub.sqlite is not a usable hub backup: ")
                && !restore.stderr.contains("restore the last backup"),
            "\(restore.stderr)")
    }

    @Test func aWorkspaceOfANewerFormatAsksForANewerOpps() async throws {
        let f = try CommandFixture()
        let (file, _) = try WorkspaceDuringPullTests.nextWorkspaceFile(in: f)
        try await f.serving { url in
            let future = FutureWorkspaceTransport(HTTPTransport(baseURL: url))
            do {
                _ = try await Replica.create(
                    home: f.home("new-laptop"), hubURL: url, token: f.tokens["tom"]!, transport: future, clock: FixedClock(milliseconds: 1_795_000_000_000))
                Issue.record("a replica was made")
            } catch let e as ReplicaError {
                #expect("\(e)".contains("this opps cannot read the hub's workspace (unknown key \"quota_rules\")"), "\(e)")
                #expect("\(e)".hasSuffix("run opps init again; no replica was made"), "\(e)")
            }
            #expect(!FileManager.default.fileExists(atPath: f.home("new-laptop") + "/replica.sqlite"))

            let http = HTTPTransport(baseURL: url)
            let replica = try await f.samsLaptop(url, http)
            let before = replica.workspace.version
            #expect(await oppsHub("workspace", "apply", file, "--data", f.root + "/hub").code == 0)
            do {
                _ = try await replica.sync(transport: FutureWorkspaceTransport(http))
                Issue.record("the sync went on")
            } catch let e as ReplicaError {
                guard case let .invalid(english, chinese) = e else {
                    Issue.record("\(e)")
                    return
                }
                #expect(english.contains("update opps to the version the hub runs") && english.hasSuffix("sync again; your work is kept"), "\(english)")
                #expect(chinese?.hasPrefix("这个版本的 opps 读不懂中心的工作区（没有键「quota_rules」）") == true, "\(chinese ?? "")")
            }
            #expect(replica.workspace.version == before, "the replica keeps the workspace it can read")
            // With an opps that reads it, the same sync takes it.
            _ = try await replica.sync(transport: http)
            #expect(replica.workspace.version == before + 1)
            await http.shutdown()
            await future.inner.shutdown()
        }
    }
}
