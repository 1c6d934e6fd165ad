import Foundation
import OppsCore
import OppsReplica
import Testing

@testable import OppsCommands

/// Issue 15 item 3: the progress bar was full from its first frame (a restart's first page carries
/// the head as its cursor). It now counts records received of those the hub says the user may see.
@Suite(.serialized) struct ProgressTests {
    @Test func aColdSyncReportsRecordsOfTheTotal() async throws {
        let f = try CommandFixture()
        try seedDeals(f, count: 600)
        try await f.serving { url in
            let http = HTTPTransport(baseURL: url)
            let replica = try await f.samsLaptop(url, http, pageSize: 50)
            nonisolated(unsafe) var seen = [SyncProgress]()
            let outcome: Result<SyncReport, any Error>
            do { outcome = .success(try await replica.sync(transport: http) { seen.append($0) }) } catch { outcome = .failure(error) }
            await http.shutdown()
            _ = try outcome.get()
            #expect(seen.count >= 12)
            #expect(seen.allSatisfy { $0.total == 600 && $0.start == 0 })
            let first = try #require(seen.first), last = try #require(seen.last)
            #expect(first.done < 0.2, "the first frame is not full: \(first.done)")
            #expect(last.done == 1)
            #expect(zip(seen, seen.dropFirst()).allSatisfy { $0.done <= $1.done })
            #expect(progressLine(first, elapsed: 1).contains("of 600 records"))
        }
    }

    @Test func theLineSaysWhatIsDoneOfWhatAndHowLong() {
        let p = SyncProgress(received: 30_000, pages: 6, cursor: 1_000_000, head: 1_000_000, total: 100_000, start: 0)
        let line = progressLine(p, elapsed: 3)
        #expect(line == "[#########.....................] 30,000 of 100,000 records, 10,000/s, 7 s left")
        // An incremental sync moves by the cursor from where it started.
        let q = SyncProgress(received: 500, pages: 1, cursor: 1_500, head: 2_000, total: 100_000, start: 1_000)
        #expect(q.done == 0.5)
        #expect(progressLine(q, elapsed: 1, bar: false) == "pulled 500 records and changes, 500/s, 1 s left")
        // The last step of a first sync: the pages are in, the replica builds its indexes.
        let i = SyncProgress(received: 100_000, pages: 50, cursor: 1_000_000, head: 1_000_000, indexing: true)
        #expect(progressLine(i, elapsed: 9, bar: false) == "pulled 100,000 records, building indexes…")
        // A reader in Chinese reads the same figures in Chinese.
        let zh = Phrases(chinese: true)
        #expect(progressLine(p, elapsed: 3, say: zh) == "[#########.....................] 30,000 / 100,000 条记录，每秒 10,000 条，还需 7 秒")
        #expect(progressLine(q, elapsed: 1, bar: false, say: zh) == "已拉取 500 条记录和变更，每秒 500 条，还需 1 秒")
        #expect(progressLine(i, elapsed: 9, bar: false, say: zh) == "已拉取 100,000 条记录，正在建立索引…")
        #expect(progressLine(i, elapsed: 9).hasSuffix("] 100,000 records pulled, building indexes…"))
        #expect(progressLine(i, elapsed: 9).count <= 80)
        #expect(progressLine(SyncProgress(received: 10_000_000, pages: 5000, cursor: 1, head: 1, indexing: true), elapsed: 9).count <= 80)
        #expect(grouped(1_234_567) == "1,234,567" && grouped(12) == "12" && grouped(-1000) == "-1,000")
    }

    /// What a command waiting on the hub names: its host and port, without path or credentials.
    @Test func theWaitingLineNamesTheHubsHostAndPort() {
        let en = Phrases(chinese: false), zh = Phrases(chinese: true)
        #expect(en.connecting(hub: "https://hub.example.com/opps/") == "waiting for the hub at hub.example.com…")
        #expect(en.connecting(hub: "http://127.0.0.1:8080") == "waiting for the hub at 127.0.0.1:8080…")
        #expect(zh.connecting(hub: "https://ops:secret@hub.example.com:8443/") == "正在等待服务器 hub.example.com:8443 应答…")
    }
}
