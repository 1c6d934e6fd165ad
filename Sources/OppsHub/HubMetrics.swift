import CoreMetrics
import OppsCore
import Prometheus

/// The hub's metrics (docs/operator.md lists them), recorded through swift-metrics into a
/// Prometheus registry the hub owns — no global bootstrap, so tests and several hubs in one
/// process each have their own.
public struct HubMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory
    /// What every answered request records, made once: looking a metric up by its name and
    /// labels takes the registry's lock and hashes the strings, on every request (BENCHMARKS.md,
    /// thirtieth session: 2 % of a no-change sync). Other routes and statuses are looked up.
    let answered: [String: (requests: CoreMetrics.Counter, duration: CoreMetrics.Timer)]
    let bytesReceived: CoreMetrics.Counter, bytesSent: CoreMetrics.Counter, pullPages: CoreMetrics.Counter, pullRecords: CoreMetrics.Counter
    /// What every group commit records, made once too (on the hub's thread, on every push's way).
    let groups: CoreMetrics.Counter, groupPushes: CoreMetrics.Counter, sequencerWait: CoreMetrics.Timer, groupDuration: CoreMetrics.Timer
    /// Every sync of the commits to disk beside the hub's thread (SQLite): what the tail of the
    /// answers waits on when the disk stalls (BENCHMARKS.md, sixty-seventh session).
    let diskSync: CoreMetrics.Timer
    /// And every push: its batch, and its writes by outcome.
    let batches: CoreMetrics.Counter, batchesReplayed: CoreMetrics.Counter, fieldWrites: [Outcome: CoreMetrics.Counter]

    public init() {
        registry = PrometheusCollectorRegistry()
        var f = PrometheusMetricsFactory(registry: registry)
        f.defaultDurationHistogramBuckets = [
            .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
        ]
        factory = f
        // Every counter is made here, so every name is in /metrics from the first scrape.
        var fieldWrites = [Outcome: CoreMetrics.Counter]()
        for outcome in Outcome.allCases {
            fieldWrites[outcome] = Counter(label: "opps_field_writes_total", dimensions: [("outcome", outcome.rawValue)], factory: f)
        }
        self.fieldWrites = fieldWrites
        batches = Counter(label: "opps_push_batches_total", dimensions: [("replayed", "false")], factory: f)
        batchesReplayed = Counter(label: "opps_push_batches_total", dimensions: [("replayed", "true")], factory: f)
        groups = Counter(label: "opps_push_groups_total", factory: f)
        groupPushes = Counter(label: "opps_push_group_pushes_total", factory: f)
        sequencerWait = Timer(label: "opps_sequencer_wait_seconds", preferredDisplayUnit: .seconds, factory: f)
        groupDuration = Timer(label: "opps_push_group_duration_seconds", preferredDisplayUnit: .seconds, factory: f)
        diskSync = Timer(label: "opps_disk_sync_seconds", preferredDisplayUnit: .seconds, factory: f)
        Gauge(label: "opps_active_replicas", factory: f).record(0)
        var answered = [String: (CoreMetrics.Counter, CoreMetrics.Timer)]()
        for route in ["handshake", "push", "pull"] { answered[route] = (Self.requests(route, 200, f), Self.duration(route, f)) }
        self.answered = answered
        bytesReceived = Counter(label: "opps_bytes_received_total", factory: f)
        bytesSent = Counter(label: "opps_bytes_sent_total", factory: f)
        pullPages = Counter(label: "opps_pull_pages_total", factory: f)
        pullRecords = Counter(label: "opps_pull_records_total", factory: f)
        for counter in [batches, batchesReplayed, groups, groupPushes, bytesReceived, bytesSent, pullPages, pullRecords] + fieldWrites.values {
            counter.increment(by: 0)
        }
    }

    static func requests(_ route: String, _ status: Int, _ factory: PrometheusMetricsFactory) -> CoreMetrics.Counter {
        Counter(label: "opps_http_requests_total", dimensions: [("route", route), ("status", String(status))], factory: factory)
    }

    static func duration(_ route: String, _ factory: PrometheusMetricsFactory) -> CoreMetrics.Timer {
        Timer(label: "opps_http_request_duration_seconds", dimensions: [("route", route)], preferredDisplayUnit: .seconds, factory: factory)
    }

    func request(route: String, status: Int, duration: Duration) {
        if status == 200, let made = answered[route] {
            made.requests.increment()
            made.duration.recordNanoseconds(duration.nanoseconds)
            return
        }
        Self.requests(route, status, factory).increment()
        Self.duration(route, factory).recordNanoseconds(duration.nanoseconds)
    }

    func bytes(in received: Int, out sent: Int) {
        bytesReceived.increment(by: received)
        bytesSent.increment(by: sent)
    }

    func record(_ activity: HubActivity) {
        if !activity.outcomes.isEmpty || activity.replayed {
            (activity.replayed ? batchesReplayed : batches).increment()
        }
        for (outcome, n) in activity.outcomes {
            fieldWrites[outcome]!.increment(by: n)
        }
        if activity.pages > 0 {
            pullPages.increment(by: activity.pages)
            pullRecords.increment(by: activity.changes)
        }
    }

    /// One group commit (also one whose pushes all failed, or whose commit did).
    func record(group: GroupCommit) {
        groups.increment()
        groupPushes.increment(by: group.pushes)
        sequencerWait.recordNanoseconds(group.sequencerWait.nanoseconds)
        groupDuration.recordNanoseconds(group.duration.nanoseconds)
    }

    func activeReplicas(_ n: Int) {
        Gauge(label: "opps_active_replicas", factory: factory).record(n)
    }

    /// The Prometheus text exposition.
    public func exposition() -> [UInt8] { registry.emitToBuffer() }
}

extension Duration {
    var nanoseconds: Int64 {
        let (s, atto) = components
        return s * 1_000_000_000 + atto / 1_000_000_000
    }
}
