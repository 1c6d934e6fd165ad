import OppsCore

/// How a hub runs. Only executables read flags, files and the environment; the library takes
/// this struct (STYLE.md).
public struct HubConfiguration: Sendable {
    /// The hub database directory (`hub.sqlite` inside), when the store is SQLite.
    public var dataDirectory: String
    /// The hub's PostgreSQL database (`postgres://…`) instead of `dataDirectory`: several hubs
    /// may serve one (docs/operator.md).
    public var storeURL: String?
    public var host: String
    /// 0 picks a free port.
    public var port: Int
    /// Largest accepted request body, as sent (compressed).
    public var maxBodyBytes: Int
    /// Largest request body once decompressed (a decompression bomb stops here).
    public var maxDecompressedBytes: Int
    public var maxBatchWrites: Int
    public var maxPageChanges: Int
    public var maxPageBytes: Int
    /// Whole records sent per pull page (first syncs, records entering visibility).
    public var maxEnteredPerPage: Int
    /// Responses larger than this are compressed when the client accepts it.
    public var compressAbove: Int
    /// zlib level (1–9) for responses; pull pages are most of what a hub sends. Level 1: a cold
    /// sync of 100,000 deals sent 13.6 MiB instead of 12.7 at level 6, and took 5.5 s instead of
    /// 8.2 — compression was on the critical path of every page (BENCHMARKS.md).
    public var compressionLevel: Int32 = 1
    public var clock: any PhysicalClock
    /// How far ahead of the hub's clock a write's stamp may be (merge-semantics.md I15): a
    /// day, so a laptop whose clock was set to local time as if it were UTC (UTC+14 at most)
    /// still syncs, while a clock set to a far year cannot win every conflict for good.
    public var maxClockAheadMilliseconds: Int64 = 86_400_000
    /// Seconds a connection may stay silent before the hub closes it.
    public var idleTimeoutSeconds = 30
    /// Open connections at most (and never more than the open-file limit allows, less 64).
    public var maxConnections = 10_000
    /// When set, `GET /metrics` answers only `Authorization: Bearer <this>` (401 otherwise):
    /// the metrics name no user, but they tell an outsider how busy the hub is.
    public var metricsToken: String?
    /// Check every brought-forward visibility snapshot against a full build, refusing the pull
    /// when they differ (tests and the simulator turn it on; it costs a full build per pull).
    public var verifySnapshots = false
    /// Memory for the per-user and per-replica caches (visibility snapshots, what each replica
    /// holds), least recently used dropped first. A miss costs a rebuild from the store, not an error.
    public var cacheBytes = 256 << 20
    /// A push of at least this many writes has its rows written on a second thread while the
    /// rest of it is decided (SQLite only; `RowWriter`). Below it, handing rows over costs more
    /// than it saves. Tests set 1 to take that path with every push.
    public var rowsBesideDecisionsFrom = 256
    /// A push group's commit is made durable on a thread of its own while the hub's thread goes
    /// on with the pulls the pushes carry; every answer waits for it (`CommitSyncer`; SQLite
    /// only). Off, the commit waits for the disk on the hub's thread, as before the thirty-seventh
    /// session: the benchmark turns it off to compare.
    public var syncCommitsBeside = true
    /// PostgreSQL only: how long the serving hub waits for the database to take or answer
    /// anything before it gives the connection up (`PostgresSQLConnection.answerLimit`): the
    /// request fails as 503 `store_unavailable`, and the next opens a new connection. Above the
    /// 20 s `lock_timeout` the hub sets, so a statement waiting for another hub's lock fails
    /// by that first. The operator's commands wait as long as their statements take.
    public var storeAnswerLimit: Duration? = .seconds(30)

    public init(
        dataDirectory: String, host: String = "127.0.0.1", port: Int = 8080, maxBodyBytes: Int = 8 << 20,
        maxDecompressedBytes: Int = 64 << 20, maxBatchWrites: Int = 5000, maxPageChanges: Int = 5000,
        maxPageBytes: Int = 4 << 20, maxEnteredPerPage: Int = 5000, compressAbove: Int = 1024,
        clock: any PhysicalClock = SystemClock()
    ) {
        self.dataDirectory = dataDirectory
        self.host = host
        self.port = port
        self.maxBodyBytes = maxBodyBytes
        self.maxDecompressedBytes = maxDecompressedBytes
        self.maxBatchWrites = maxBatchWrites
        self.maxPageChanges = maxPageChanges
        self.maxPageBytes = maxPageBytes
        self.maxEnteredPerPage = maxEnteredPerPage
        self.compressAbove = compressAbove
        self.clock = clock
    }

    public var databasePath: String { dataDirectory + "/hub.sqlite" }
}
