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

    public init() {
        registry = PrometheusCollectorRegistry()
        var f = PrometheusMetricsFactory(registry: registry)
        f.defaultDurationHistogramBuckets = [
            .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
        ]
        factory = f
        // Register the counters up front so every name is in /metrics from the first scrape.
        for outcome in Outcome.allCases {
            Counter(label: "opps_field_writes_total", dimensions: [("outcome", outcome.rawValue)], factory: f).increment(by: 0)
        }
        for replayed in ["false", "true"] {
            Counter(label: "opps_push_batches_total", dimensions: [("replayed", replayed)], factory: f).increment(by: 0)
        }
        for name in [
            "opps_pull_pages_total", "opps_pull_records_total", "opps_bytes_received_total", "opps_bytes_sent_total", "opps_push_groups_total",
            "opps_push_group_pushes_total",
        ] {
            Counter(label: name, factory: f).increment(by: 0)
        }
        Gauge(label: "opps_active_replicas", factory: f).record(0)
        var answered = [String: (CoreMetrics.Counter, CoreMetrics.Timer)]()
        for route in ["handshake", "push", "pull"] { answered[route] = (Self.requests(route, 200, f), Self.duration(route, f)) }
        self.answered = answered
        bytesReceived = Counter(label: "opps_bytes_received_total", factory: f)
        bytesSent = Counter(label: "opps_bytes_sent_total", factory: f)
        pullPages = Counter(label: "opps_pull_pages_total", factory: f)
        pullRecords = Counter(label: "opps_pull_records_total", factory: f)
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
            Counter(label: "opps_push_batches_total", dimensions: [("replayed", String(activity.replayed))], factory: factory).increment()
        }
        for (outcome, n) in activity.outcomes {
            Counter(label: "opps_field_writes_total", dimensions: [("outcome", outcome.rawValue)], factory: factory).increment(by: n)
        }
        if activity.pages > 0 {
            pullPages.increment(by: activity.pages)
            pullRecords.increment(by: activity.changes)
        }
    }

    /// One group commit (also one whose pushes all failed, or whose commit did).
    func record(group: GroupCommit) {
        Counter(label: "opps_push_groups_total", factory: factory).increment()
        Counter(label: "opps_push_group_pushes_total", factory: factory).increment(by: group.pushes)
        Timer(label: "opps_sequencer_wait_seconds", preferredDisplayUnit: .seconds, factory: factory).recordNanoseconds(group.sequencerWait.nanoseconds)
        Timer(label: "opps_push_group_duration_seconds", preferredDisplayUnit: .seconds, factory: factory).recordNanoseconds(group.duration.nanoseconds)
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
