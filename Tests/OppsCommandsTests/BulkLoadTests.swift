import Foundation
import OppsCore
import OppsReplica
import OppsStore
import OppsTestSupport
import OppsWire
import SwiftProtobuf
import Testing

/// Looks at the replica's file through a connection of its own before each pull: which
/// secondary indexes `records` has and how many records it holds while pages are applied.
final class IndexWatchingTransport: Transport, @unchecked Sendable {
    let inner: HTTPTransport
    let path: String
    let lock = NSLock()
    var seen: [(records: Int, indexes: Set<String>)] = []

    init(_ inner: HTTPTransport, replicaFile: String) {
        self.inner = inner
        path = replicaFile
    }

    func send<Out: SwiftProtobuf.Message>(_ endpoint: String, body: [UInt8], token: String, as: Out.Type) async throws(TransportError) -> Out {
        if endpoint == Endpoint.pull, let db = try? Database(path: path, readOnly: true) {
            let records = (try? db.query("SELECT count(*) FROM records").first?[0].int).flatMap { $0 } ?? -1
            let names = (try? db.query("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'records' AND sql IS NOT NULL")) ?? []
            lock.withLock { seen.append((Int(records), Set(names.compactMap { $0[0].string }))) }
        }
        return try await inner.send(endpoint, body: body, token: token, as: Out.self)
    }
}

/// A replica filling from nothing leaves the secondary indexes of `records` out while it loads
/// and builds them at the end (`ReplicaStore.beginBulkLoad`); no outcome may tell.
@Suite(.serialized) struct BulkLoadTests {
    static let indexes: Set<String> = ["records_entity", "records_owner", "records_due", "records_parent", "records_made_here"]

    /// A hub holding 400 of sam's deals, and a new replica of sam's that has pulled nothing yet
    /// (50 records a page), over HTTP; `file` is the replica's SQLite file.
    static func withNewReplica(_ body: @escaping @Sendable (_ replica: Replica, _ http: HTTPTransport, _ file: String) async throws -> Void) async throws {
        let f = try CommandFixture()
        try seedDeals(f, count: 400)
        try await f.serving { url in
            let http = HTTPTransport(baseURL: url)
            let outcome: Result<Void, any Error>
            do {
                let replica = try await f.samsLaptop(url, http, pageSize: 50)
                try await body(replica, http, f.home("sam-laptop") + "/replica.sqlite")
                outcome = .success(())
            } catch {
                outcome = .failure(error)
            }
            await http.shutdown()
            try outcome.get()
        }
    }

    @Test func aFirstPullLoadsWithoutTheSecondaryIndexesAndEndsWithAllOfThem() async throws {
        try await Self.withNewReplica { replica, http, file in
            #expect(try replica.store.recordIndexNames() == Self.indexes)
            let watcher = IndexWatchingTransport(http, replicaFile: file)
            var steps = [SyncProgress]()
            _ = try await replica.sync(transport: watcher) { steps.append($0) }
            // The last step said the indexes were being built, after every record was in.
            #expect(steps.last?.indexing == true && steps.last?.received == 400)
            #expect(steps.dropLast().allSatisfy { !$0.indexing })
            // While pages were being applied (records already in), the indexes were not there…
            let during = watcher.lock.withLock { watcher.seen.filter { $0.records > 0 } }
            #expect(!during.isEmpty)
            #expect(during.allSatisfy { $0.indexes.isEmpty })
            // …and the finished replica has every one, and answers through them.
            #expect(try replica.store.recordIndexNames() == Self.indexes)
            #expect(try replica.store.meta("bulk_load") == nil)
            #expect(try replica.store.recordCount() == 400)
            #expect(try replica.store.list(entity: "opportunity", owner: "sam", workspace: replica.workspace).count == 400)
            #expect(try replica.store.database.query("PRAGMA integrity_check").first?[0].string == "ok")
        }
    }

    @Test func aFirstPullCutOffHalfWayStillLeavesEveryIndex() async throws {
        try await Self.withNewReplica { replica, http, file in
            await #expect(throws: ReplicaError.self) { _ = try await replica.sync(transport: FlakyTransport(http, pulls: 3)) }
            let partial = try replica.store.recordCount()
            #expect(partial > 0 && partial < 400)
            #expect(try replica.store.recordIndexNames() == Self.indexes)
            // The rest comes on the next sync; a replica that holds records loads with its indexes.
            let watcher = IndexWatchingTransport(http, replicaFile: file)
            _ = try await replica.sync(transport: watcher)
            #expect(watcher.lock.withLock { watcher.seen.allSatisfy { $0.indexes == Self.indexes } })
            #expect(try replica.store.recordCount() == 400)
        }
    }

    @Test func aProcessThatDiedMidLoadFindsItsIndexesBackWhenTheFileOpens() throws {
        let dir = Scratch.directory("opps-bulk")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/replica.sqlite"
        do {
            let store = try ReplicaStore(path: path)
            #expect(try store.beginBulkLoad())
            #expect(try store.recordIndexNames().isEmpty)
            // …and the process is killed here.
        }
        // While the loading process runs (here: this test's parent), another one opening the
        // file leaves the indexes to it.
        try Database(path: path).execute("UPDATE meta SET value = ? WHERE key = 'bulk_load'", [.text(String(getppid()))])
        #expect(try ReplicaStore(path: path).recordIndexNames().isEmpty)
        // Once it is gone (a process that has exited), the next open builds them.
        let gone = try ChildProcess("/bin/true", [])
        gone.waitUntilExit()
        try Database(path: path).execute("UPDATE meta SET value = ? WHERE key = 'bulk_load'", [.text(String(gone.processIdentifier))])
        let reopened = try ReplicaStore(path: path)
        #expect(try reopened.recordIndexNames() == Self.indexes)
        #expect(try reopened.meta("bulk_load") == nil)
        // A replica holding a record is no longer filling from nothing.
        try reopened.save(confirmed: nil, view: Self.localDeal(), workspace: .default)
        #expect(try !reopened.beginBulkLoad())
        #expect(try reopened.recordIndexNames() == Self.indexes)
    }

    static func localDeal() -> Record {
        var rng = SeededGenerator(seed: 7)
        let replica = ReplicaID.random(using: &rng)
        let created = FieldState(value: .member("discovery"), stamp: Stamp(hlc: HLC(rawValue: 1 << 20), replica: replica), author: "sam", authority: .own)
        var r = Record(id: RecordID.version4(using: &rng), entity: "opportunity", created: created)
        r.fields["name"] = FieldState(value: .text("本地商机"), stamp: Stamp(hlc: HLC(rawValue: (1 << 20) + 1), replica: replica), author: "sam", authority: .own)
        return r
    }
}
