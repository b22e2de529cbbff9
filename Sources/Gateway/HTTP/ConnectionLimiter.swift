import Synchronization

/// Counts the connections being served, shared by every child channel of one server, so the
/// server refuses (rather than queues) connections beyond `maximum`.
final class ConnectionLimiter: Sendable {
    let maximum: Int
    private let open = Atomic<Int>(0)

    init(maximum: Int) {
        self.maximum = maximum
    }

    /// Takes a slot; `false` when all are taken (nothing taken then).
    func acquire() -> Bool {
        let count = open.wrappingAdd(1, ordering: .relaxed).newValue
        guard count <= maximum else {
            _ = open.wrappingSubtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    func release() {
        _ = open.wrappingSubtract(1, ordering: .relaxed)
    }

    /// Connections being served now.
    var current: Int { open.load(ordering: .relaxed) }
}
