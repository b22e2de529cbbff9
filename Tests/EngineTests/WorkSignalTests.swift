import Testing

@testable import Engine

@Suite struct WorkSignalTests {
    @Test func aNotifyBeforeTheWaitIsNotLost() async throws {
        let signal = WorkSignal()
        signal.notify()
        try await withDeadline(.seconds(5)) { await signal.wait() }
    }

    @Test func aNotifyWakesEveryWaiter() async throws {
        let signal = WorkSignal()
        let (started, startedContinuation) = AsyncStream.makeStream(of: Void.self)
        let waiters = (0..<3).map { _ in
            Task {
                startedContinuation.yield()
                await signal.wait()
            }
        }
        var count = 0
        for await _ in started {
            count += 1
            if count == 3 { break }
        }
        // Each waiter registered or will find the pending flag; notify until all return.
        try await withDeadline(.seconds(5)) {
            await withTaskGroup(of: Void.self) { group in
                for waiter in waiters { group.addTask { await waiter.value } }
                group.addTask {
                    for _ in 0..<1000 where !Task.isCancelled {
                        signal.notify()
                        await Task.yield()
                    }
                }
                for _ in 0..<3 { await group.next() }
                group.cancelAll()
            }
        }
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
