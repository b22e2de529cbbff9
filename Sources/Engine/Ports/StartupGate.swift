import Synchronization

/// A latch that opens once: workers wait on it so they start only after the schema is migrated
/// (on PostgreSQL, migrations need the connection pool, which starts with them).
public final class StartupGate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    public init() {}

    public func open() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once the gate is open.
    public func wait() async {
        await withCheckedContinuation { continuation in
            let openNow = state.withLock { state -> Bool in
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if openNow { continuation.resume() }
        }
    }

    /// Waits until the gate opens, or the calling task is cancelled: a shutdown before
    /// migrations finish opens the gate, and the caller's loop then sees the cancellation and
    /// stops.
    public func waitUnlessCancelled() async {
        await withTaskCancellationHandler { await wait() } onCancel: { open() }
    }
}
