import Synchronization
import Testing

@testable import Engine

@Suite struct WorkSignalTests {
    @Test func aNotifyBeforeTheWaitIsNotLost() async throws {
        let signal = WorkSignal()
        signal.notify()
        try await withDeadline(.seconds(5)) { await signal.wait() }
    }

    @Test func oneNotifyWakesEveryWaiter() async throws {
        let signal = WorkSignal()
        let waiters = (0..<3).map { _ in Task { await signal.wait() } }
        try await withDeadline(.seconds(5)) {
            while signal.waiterCount < 3 { await Task.yield() }
        }
        signal.notify()
        try await withDeadline(.seconds(5)) {
            for waiter in waiters { await waiter.value }
        }
    }

    @Test func aWakeUpForOneTopicIsNeverTakenByAnother() async throws {
        let signals = WorkSignals()
        // Mail is queued while the sender is busy: its wake-up waits for it.
        signals[.email].notify()
        // The walker goes idle first; it must wait, not take the sender's wake-up.
        let tookIt = Mutex(false)
        let jobsWorker = Task {
            await signals[.executions].wait()
            tookIt.withLock { $0 = true }
        }
        try await withDeadline(.seconds(5)) {
            while signals[.executions].waiterCount == 0, !tookIt.withLock({ $0 }) { await Task.yield() }
        }
        #expect(!tookIt.withLock { $0 })
        try await withDeadline(.seconds(5)) { await signals[.email].wait() }
        jobsWorker.cancel()
        await jobsWorker.value
    }

    @Test func cancellingAWaiterReturnsIt() async throws {
        let signal = WorkSignal()
        let waiter = Task { await signal.wait() }
        waiter.cancel()
        try await withDeadline(.seconds(5)) { await waiter.value }
    }
}

@Suite struct StartupGateTests {
    @Test func waitersProceedOnlyOnceTheGateOpensAndLateComersPassAtOnce() async throws {
        let gate = StartupGate()
        let passed = WorkSignal()
        let waiter = Task {
            await gate.wait()
            passed.notify()
        }
        gate.open()
        try await withDeadline(.seconds(5)) { await passed.wait() }
        try await withDeadline(.seconds(5)) { await gate.wait() }
        await waiter.value
    }
}
