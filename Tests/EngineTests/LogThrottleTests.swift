import CortexTestSupport
import Testing

@testable import Engine

@Suite struct LogThrottleTests {
    static let t0 = Timestamp.at("2026-11-26T12:00:00Z")

    @Test func logsTheFirstEventThenOneLinePerIntervalWithTheCountLeftOut() {
        let clock = ManualWallClock(Self.t0)
        var throttle = LogThrottle(intervalSeconds: 60)
        #expect(throttle.record("checkout", at: clock.now()) == 0)
        for _ in 0..<99 { #expect(throttle.record("checkout", at: clock.now()) == nil) }
        clock.advance(seconds: 59)
        #expect(throttle.record("checkout", at: clock.now()) == nil)
        clock.advance(seconds: 1)
        // 99 + 1 left out since the first line.
        #expect(throttle.record("checkout", at: clock.now()) == 100)
        #expect(throttle.record("checkout", at: clock.now()) == nil)
        clock.advance(seconds: 600)
        #expect(throttle.record("checkout", at: clock.now()) == 1)
    }

    @Test func eachKeyHasItsOwnInterval() {
        var throttle = LogThrottle(intervalSeconds: 60)
        #expect(throttle.record("checkout", at: Self.t0) == 0)
        #expect(throttle.record("stripe", at: Self.t0) == 0)
        #expect(throttle.record("checkout", at: Self.t0.adding(seconds: 1)) == nil)
        #expect(throttle.record("stripe", at: Self.t0.adding(seconds: 30)) == nil)
        #expect(throttle.record("checkout", at: Self.t0.adding(seconds: 60)) == 1)
        #expect(throttle.record("stripe", at: Self.t0.adding(seconds: 60)) == 1)
    }

    @Test func aClockSetBackOpensANewIntervalInsteadOfSilencingTheKey() {
        var throttle = LogThrottle(intervalSeconds: 60)
        #expect(throttle.record("checkout", at: Self.t0) == 0)
        #expect(throttle.record("checkout", at: Self.t0.adding(seconds: 10)) == nil)
        #expect(throttle.record("checkout", at: Self.t0.adding(seconds: -3_600)) == 1)
        #expect(throttle.record("checkout", at: Self.t0.adding(seconds: -3_590)) == nil)
    }
}
