import Prometheus

/// The counters `/metrics` exposes, on a registry owned by the application (not the global
/// metrics system), so every test app has its own numbers.
final class CortexMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()

    // Computed: the descriptor type is not Sendable, so it cannot be a stored static.
    private static var requests: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "cortex", metricName: "http_requests", unitName: "total",
            helpText: "HTTP requests by method, route and status.")
    }
    private static var verdicts: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "cortex", metricName: "inbound_verdicts", unitName: "total",
            helpText: "Inbound deliveries by source and verdict (accepted, duplicate, rejected, unauthenticated).")
    }
    private static var activities: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "cortex", metricName: "activities_written", unitName: "total",
            helpText: "Activities committed, by source.")
    }

    func request(method: String, path: String, status: Int) {
        registry.makeCounter(
            descriptor: Self.requests, labels: [("method", method), ("path", path), ("status", String(status))]
        ).increment()
    }

    /// `verdict` is accepted, duplicate, rejected or unauthenticated.
    func verdict(source: String, _ verdict: String) {
        registry.makeCounter(descriptor: Self.verdicts, labels: [("source", source), ("verdict", verdict)]).increment()
    }

    func activitiesWritten(source: String, count: Int) {
        guard count > 0 else { return }
        registry.makeCounter(descriptor: Self.activities, labels: [("source", source)]).increment(by: Int64(count))
    }

    func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}
