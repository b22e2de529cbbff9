import Prometheus

/// The counters `/metrics` exposes, on a registry owned by the application (not the global
/// metrics system), so every test app has its own numbers.
final class CortexMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()

    func request(method: String, path: String, status: Int) {
        registry.makeCounter(
            name: "cortex_http_requests_total",
            labels: [("method", method), ("path", path), ("status", String(status))]
        ).increment()
    }

    /// `verdict` is accepted, duplicate, rejected or unauthenticated.
    func verdict(source: String, _ verdict: String) {
        registry.makeCounter(
            name: "cortex_inbound_verdicts_total", labels: [("source", source), ("verdict", verdict)]
        ).increment()
    }

    func activitiesWritten(source: String, count: Int) {
        guard count > 0 else { return }
        registry.makeCounter(name: "cortex_activities_written_total", labels: [("source", source)])
            .increment(by: Int64(count))
    }

    func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}
