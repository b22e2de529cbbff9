import Synchronization

/// The missing activity ids the watcher has seen after its cursor, and since when (PostgreSQL
/// only: its ids are not committed in order).
///
/// Every gap ages from the pass that first saw it, all at once. They used to age one at a time
/// (a gap was noted only once every gap before it had been given up on): a `kill -9` during a
/// burst rolled back a group commit of 270 ids in a row, and the cursor then moved one id per
/// 30 s grace, with every activity past the watcher's batch unmatched for over two hours
/// (`bench/automations.sh --kill --backend postgres`). A gap is kept as a range, so a sequence
/// that jumped a million ids costs one entry, not a million.
struct ActivityGaps: Sendable {
    /// Open gaps in id order, each with the time a pass first saw any of its ids missing.
    private(set) var open: [(ids: ClosedRange<Int64>, since: Timestamp)] = []

    init() {}

    /// When the oldest open gap may be given up on.
    var earliestDeadline: Timestamp? {
        open.map(\.since).min().map { $0.adding(seconds: AutomationWatcher.gapGrace) }
    }

    /// The furthest cursor that passes no id which may still commit: `seen` are the ids read
    /// after `cursor`, in increasing order. A missing id is given up on (a rolled-back
    /// transaction) once it has been missing for `AutomationWatcher.gapGrace` seconds.
    mutating func safeCursor(after cursor: Int64, seen: [Int64], now: Timestamp) -> Int64 {
        var found: [(ids: ClosedRange<Int64>, since: Timestamp)] = []
        var known = open[...]
        var safe = cursor
        var blocked = false
        var previous = cursor
        for id in seen where id > previous {
            if id > previous + 1 {
                let missing = (previous + 1)...(id - 1)
                // Part of a gap seen before (a late commit may have split it) keeps its age.
                while let first = known.first, first.ids.upperBound < missing.lowerBound { known.removeFirst() }
                let since = known.prefix { $0.ids.lowerBound <= missing.upperBound }.map(\.since).min() ?? now
                found.append((missing, since))
                if now.microseconds - since.microseconds < AutomationWatcher.gapGrace * 1_000_000 { blocked = true }
            }
            if !blocked { safe = id }
            previous = id
        }
        open = found.filter { $0.ids.lowerBound > safe }
        return safe
    }
}

/// The watcher's `ActivityGaps`, shared by its passes.
final class WatcherGaps: Sendable {
    private let gaps = Mutex(ActivityGaps())

    var earliestDeadline: Timestamp? { gaps.withLock { $0.earliestDeadline } }

    func safeCursor(after cursor: Int64, seen: [Int64], now: Timestamp) -> Int64 {
        gaps.withLock { $0.safeCursor(after: cursor, seen: seen, now: now) }
    }
}
