import Synchronization

/// Lets one sender lane at a time hand a batch to the provider and record its outcome, first
/// come first served.
///
/// A batch handed over whose outcome is not yet recorded is what a crash sends twice (after
/// its lease, README "A crash while sending"); with two lanes each holding one there, a crash
/// sent two batches twice (`bench/send_crash.sh` counted 1,000 copies for one kill). Taking
/// turns keeps that to one batch, while the other lane still claims and renders its next batch
/// meanwhile.
final class ProviderTurn: Sendable {
    private let state = Mutex<(busy: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))

    init() {}

    /// Runs `body` once no other lane is inside it.
    func take<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let free = state.withLock { state -> Bool in
                guard state.busy else {
                    state.busy = true
                    return true
                }
                state.waiting.append(continuation)
                return false
            }
            if free { continuation.resume() }
        }
    }

    private func release() {
        // Handed straight to the next lane waiting (busy stays set), or freed.
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.waiting.isEmpty else {
                state.busy = false
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.resume()
    }
}
