import Testing

@testable import Engine

/// The watcher's rule for missing activity ids on PostgreSQL, where ids are not committed in
/// order: a missing id may still commit for `AutomationWatcher.gapGrace` seconds after a pass
/// first saw it missing, then it is given up on.
@Suite struct ActivityGapsTests {
    static let t0 = Timestamp(seconds: 1_800_000_000)
    static let grace = AutomationWatcher.gapGrace

    @Test func everyGapSeenInOnePassAgesFromThatPass() {
        var gaps = ActivityGaps()
        // What a kill -9 leaves: a group commit of 270 ids rolled back, then 5 more gaps.
        let seen: [Int64] = [101, 102] + Array(373...380) + [382, 384, 386, 388, 390]
        #expect(gaps.safeCursor(after: 100, seen: seen, now: Self.t0) == 102)
        #expect(gaps.open.count == 5 + 1)
        #expect(gaps.earliestDeadline == Self.t0.adding(seconds: Self.grace))
        #expect(gaps.safeCursor(after: 102, seen: Array(seen.dropFirst(2)), now: Self.t0.adding(seconds: Self.grace - 1)) == 102)
        // All of them at once, not one per grace.
        #expect(gaps.safeCursor(after: 102, seen: Array(seen.dropFirst(2)), now: Self.t0.adding(seconds: Self.grace)) == 390)
        #expect(gaps.open.isEmpty && gaps.earliestDeadline == nil)
    }

    @Test func aGapPartlyFilledByALateCommitKeepsItsAge() {
        var gaps = ActivityGaps()
        #expect(gaps.safeCursor(after: 0, seen: [1, 10], now: Self.t0) == 1)
        // Id 5 commits late: 2...4 and 6...9 are what is left of the gap first seen at t0.
        let later = Self.t0.adding(seconds: 20)
        #expect(gaps.safeCursor(after: 1, seen: [5, 10], now: later) == 1)
        #expect(gaps.open.map(\.ids) == [2...4, 6...9] && gaps.open.allSatisfy { $0.since == Self.t0 })
        #expect(gaps.safeCursor(after: 1, seen: [5, 10], now: Self.t0.adding(seconds: Self.grace)) == 10)
    }

    @Test func aGapFirstSeenLaterWaitsItsOwnGraceAndHoldsTheCursorThere() {
        var gaps = ActivityGaps()
        #expect(gaps.safeCursor(after: 0, seen: [1, 3], now: Self.t0) == 1)
        let later = Self.t0.adding(seconds: 20)
        #expect(gaps.safeCursor(after: 1, seen: [3, 4, 7], now: later) == 1)
        let first = Self.t0.adding(seconds: Self.grace)
        #expect(gaps.safeCursor(after: 1, seen: [3, 4, 7], now: first) == 4)
        #expect(gaps.earliestDeadline == later.adding(seconds: Self.grace))
        #expect(gaps.safeCursor(after: 4, seen: [7], now: later.adding(seconds: Self.grace)) == 7)
    }

    @Test func aSequenceThatJumpedAMillionIdsIsOneGap() {
        var gaps = ActivityGaps()
        #expect(gaps.safeCursor(after: 0, seen: [1, 1_000_002], now: Self.t0) == 1)
        #expect(gaps.open.map(\.ids) == [2...1_000_001])
        #expect(gaps.safeCursor(after: 1, seen: [1_000_002], now: Self.t0.adding(seconds: Self.grace)) == 1_000_002)
    }

    @Test func withoutGapsTheCursorMovesToTheLastIdRead() {
        var gaps = ActivityGaps()
        #expect(gaps.safeCursor(after: 7, seen: [8, 9, 10], now: Self.t0) == 10)
        #expect(gaps.safeCursor(after: 10, seen: [], now: Self.t0) == 10)
        #expect(gaps.open.isEmpty)
    }
}
