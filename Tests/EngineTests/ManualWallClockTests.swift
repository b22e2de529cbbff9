import Synchronization
import Testing

@testable import Engine

final class WakeLog: Sendable {
    private let log = Mutex<[Int]>([])
    func record(_ number: Int) { log.withLock { $0.append(number) } }
    var numbers: [Int] { log.withLock { $0 } }
}

@Suite struct ManualWallClockTests {
    static let t0 = Timestamp(seconds: 1_800_000_000)

    @Test func sleepersWakeWhenTheClockReachesTheirDeadlineAndNotBefore() async throws {
        let clock = ManualWallClock(Self.t0)
        let woke = WakeLog()
        let sleepers = [(1, 5), (2, 10)].map { number, seconds in
            Task {
                try await clock.sleep(until: Self.t0.adding(seconds: Int64(seconds)))
                woke.record(number)
            }
        }
        try await withDeadline(.seconds(5)) { while clock.sleeperCount < 2 { await Task.yield() } }
        #expect(clock.earliestDeadline == Self.t0.adding(seconds: 5))
        clock.advance(seconds: 4)
        #expect(clock.sleeperCount == 2)
        clock.advance(seconds: 1)
        try await withDeadline(.seconds(5)) { try await sleepers[0].value }
        #expect(woke.numbers == [1])
        #expect(clock.sleeperCount == 1)
        clock.advance(.seconds(5))
        try await withDeadline(.seconds(5)) { try await sleepers[1].value }
        #expect(woke.numbers == [1, 2])
    }

    @Test func aDeadlineAlreadyPassedReturnsAtOnceAndCancellingASleeperThrows() async throws {
        let clock = ManualWallClock(Self.t0)
        try await withDeadline(.seconds(5)) { try await clock.sleep(until: Self.t0) }
        try await withDeadline(.seconds(5)) { try await clock.sleep(for: .zero) }
        let sleeper = Task { try await clock.sleep(until: Self.t0.adding(seconds: 60)) }
        try await withDeadline(.seconds(5)) { while clock.sleeperCount == 0 { await Task.yield() } }
        sleeper.cancel()
        let result = await sleeper.result
        #expect(throws: CancellationError.self) { try result.get() }
        #expect(clock.sleeperCount == 0)
    }

    @Test func aDurationRoundsUpToTheMicrosecond() {
        #expect(Self.t0.adding(.nanoseconds(1)) == Timestamp(microseconds: Self.t0.microseconds + 1))
        #expect(Self.t0.adding(.milliseconds(1500)) == Timestamp(microseconds: Self.t0.microseconds + 1_500_000))
    }
}
