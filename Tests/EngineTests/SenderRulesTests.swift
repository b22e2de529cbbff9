import Testing

@testable import Engine

@Suite struct TokenBucketTests {
    let t0 = Timestamp.at("2026-11-26T12:00:00Z")

    @Test func pacesToTheRateAfterTheBurst() {
        var bucket = TokenBucket(rate: 10)
        // Half a second's worth at once, then the rate.
        #expect(bucket.take(5, now: t0) == .zero)
        #expect(bucket.take(5, now: t0) == .milliseconds(500))
        // Half a second later the debt is paid; a second later five more (not ten) are available.
        #expect(bucket.take(5, now: t0.adding(seconds: 2)) == .zero)
        #expect(bucket.take(1, now: t0.adding(seconds: 2)) == .milliseconds(100))
    }

    @Test func backsOffAndRecoversUpToTheConfiguredRate() {
        var bucket = TokenBucket(rate: 100)
        bucket.backOff()
        #expect(bucket.rate == 50)
        bucket.backOff()
        #expect(bucket.rate == 25)
        for _ in 0..<20 { bucket.recover() }
        #expect(bucket.rate == 100)
    }
}

@Suite struct RetryPolicyTests {
    let t0 = Timestamp.at("2026-11-26T12:00:00Z")
    let policy = RetryPolicy(maxAttempts: 4, baseSeconds: 10, maxDelaySeconds: 30)

    @Test func growsExponentiallyWithJitterAndACap() {
        #expect(policy.nextAttempt(after: 1, now: t0, retryAfter: nil, jitter: 0) == t0.adding(seconds: 5))
        #expect(policy.nextAttempt(after: 1, now: t0, retryAfter: nil, jitter: 0.999_999) == Timestamp(microseconds: t0.microseconds + 9_999_995))
        #expect(policy.nextAttempt(after: 2, now: t0, retryAfter: nil, jitter: 1) == t0.adding(seconds: 20))
        #expect(policy.nextAttempt(after: 3, now: t0, retryAfter: nil, jitter: 1) == t0.adding(seconds: 30))
    }

    @Test func honoursALongerRetryAfterAndGivesUpAtTheLimit() {
        #expect(policy.nextAttempt(after: 1, now: t0, retryAfter: .seconds(120), jitter: 0) == t0.adding(seconds: 120))
        #expect(policy.nextAttempt(after: 4, now: t0, retryAfter: nil, jitter: 0) == nil)
    }
}
