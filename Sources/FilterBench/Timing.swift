/// Wall-clock samples of one operation and their summary.
struct Timing {
    /// Milliseconds of each measured run (the warm-up run is not among them).
    private(set) var samples: [Double] = []

    mutating func add(_ duration: Duration) {
        let parts = duration.components
        samples.append(Double(parts.seconds) * 1_000 + Double(parts.attoseconds) / 1e15)
    }

    var median: Double { percentile(50) }
    var p95: Double { percentile(95) }

    /// Nearest-rank percentile: a value that was measured, never an interpolation (with 19
    /// samples the p95 is the slowest run).
    func percentile(_ p: Double) -> Double {
        guard !samples.isEmpty else { return .nan }
        let sorted = samples.sorted()
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }
}

/// Runs `body` `runs` times, the first as a warm-up whose time is dropped (it fills caches
/// and, on PostgreSQL, opens pooled connections); answers the timing and the last result.
func timed<T>(runs: Int, _ body: (Int) async throws -> T) async throws -> (Timing, T) {
    let clock = ContinuousClock()
    var timing = Timing()
    var last = try await body(0)
    for run in 1..<runs {
        let start = clock.now
        last = try await body(run)
        timing.add(clock.now - start)
    }
    return (timing, last)
}
