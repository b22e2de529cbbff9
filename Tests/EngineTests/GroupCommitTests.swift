import CortexTestSupport
import Synchronization
import Testing

@testable import Engine

@Suite struct GroupCommitTests {
    /// A commit function that records its batches and holds the first one until released, so
    /// the test controls what queues up behind it (no sleeping).
    final class Recorder: Sendable {
        let batches = Mutex<[[Int]]>([])
        let firstBatchStarted = StartupGate()
        let releaseFirst = StartupGate()

        func commit(_ items: [Int]) async -> [Result<String, any Error>] {
            let isFirst = batches.withLock { batches in
                batches.append(items)
                return batches.count == 1
            }
            if isFirst {
                firstBatchStarted.open()
                await releaseFirst.wait()
            }
            return items.map { $0 == 13 ? .failure(StoreError.unavailable("unlucky \($0)")) : .success("done \($0)") }
        }
    }

    @Test func waitingCallersShareTheNextCommitAndEachGetsItsOwnResult() async throws {
        let recorder = Recorder()
        let queue = GroupCommit<Int, String>(maxBatch: 8) { await recorder.commit($0) }
        try await withThrowingTaskGroup(of: (Int, Result<String, any Error>).self) { group in
            group.addTask { (0, await Result(catching: { try await queue.submit(0) })) }
            await recorder.firstBatchStarted.wait()
            // Twenty callers arrive while the first commit is in progress.
            for item in 1...20 {
                group.addTask { (item, await Result(catching: { try await queue.submit(item) })) }
            }
            while queue.waitingCount < 20 { await Task.yield() }
            recorder.releaseFirst.open()
            var answers: [Int: Result<String, any Error>] = [:]
            for try await (item, result) in group { answers[item] = result }
            for item in 0...20 where item != 13 {
                #expect((try? answers[item]?.get()) == "done \(item)")
            }
            #expect(throws: StoreError.self) { try answers[13]?.get() }
        }
        let batches = recorder.batches.withLock { $0 }
        #expect(batches.first == [0])
        // The twenty waiting callers went in batches of at most the maximum size.
        #expect(batches.dropFirst().map(\.count) == [8, 8, 4])
        #expect(batches.flatMap { $0 }.sorted() == Array(0...20))
    }

    @Test func severalBatchesAreInFlightAtOnceAndAllCallersAreAnswered() async throws {
        let inFlight = Mutex((now: 0, most: 0))
        let threeAtOnce = StartupGate()
        let queue = GroupCommit<Int, Int>(maxBatch: 4, maxConcurrentBatches: 3) { items in
            let running = inFlight.withLock { state -> Int in
                state.now += 1
                state.most = max(state.most, state.now)
                return state.now
            }
            if running == 3 { threeAtOnce.open() }
            // Every batch holds until three run together: batches run one at a time would never
            // get there, and the deadline below would fail the test.
            await threeAtOnce.wait()
            inFlight.withLock { $0.now -= 1 }
            return items.map { .success($0 + 1) }
        }
        let sums = try await withDeadline(.seconds(10)) {
            try await withThrowingTaskGroup(of: Int.self) { group in
                for item in 0..<200 { group.addTask { try await queue.submit(item) - item } }
                return try await group.reduce(0, +)
            }
        }
        #expect(sums == 200)
        #expect(inFlight.withLock { $0.most } == 3)
        #expect(queue.waitingCount == 0)
    }

    @Test func aLoneCallerCommitsAtOnce() async throws {
        let queue = GroupCommit<Int, Int>(maxBatch: 8) { items in items.map { .success($0 * 2) } }
        #expect(try await queue.submit(21) == 42)
        #expect(try await queue.submit(5) == 10)
        #expect(queue.waitingCount == 0)
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
