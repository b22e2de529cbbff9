import NIOCore
import Testing

@testable import Gateway

/// The connection guard's decisions, with explicit instants and no sockets.
@Suite struct ConnectionGuardTests {
    let timeouts = ConnectionGuard.Timeouts(header: .seconds(30), idle: .seconds(75))
    let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000_000)

    func at(_ seconds: Int64) -> NIODeadline { t0 + .seconds(seconds) }

    @Test func aConnectionThatSendsNothingIsClosedAfterTheHeaderTimeout() {
        var machine = ConnectionGuard(timeouts: timeouts, now: t0)
        #expect(machine.deadline == at(30))
        #expect(machine.timerFired(now: at(29)) == .none)
        #expect(machine.timerFired(now: at(30)) == .close)
        #expect(machine.deadline == nil)
    }

    @Test func aTrickledHeadIsAnsweredWithATimeoutFromItsFirstByte() {
        var machine = ConnectionGuard(timeouts: timeouts, now: t0)
        machine.bytesReceived(now: at(10))
        #expect(machine.deadline == at(40))
        machine.bytesReceived(now: at(35))  // slowloris: more bytes do not extend the head's bound
        #expect(machine.deadline == at(40))
        #expect(machine.timerFired(now: at(40)) == .respond(.timeout))
    }

    @Test func aBodyMayContinueButNotStall() {
        var machine = ConnectionGuard(timeouts: timeouts, now: t0)
        machine.bytesReceived(now: at(1))
        #expect(machine.headReceived(transferEncoding: nil, now: at(1)) == (true, .none))
        machine.bytesReceived(now: at(20))
        machine.bodyReceived(64 * 1024)  // 64 KiB in 19 s: well above the minimum rate
        #expect(machine.timerFired(now: at(31)) == .none)  // the deadline moved: re-armed, not fired
        #expect(machine.deadline == at(50))
        #expect(machine.timerFired(now: at(50)) == .failRequest(.timeout))
        #expect(machine.responseEnded(now: at(50)) == .closeAfterAnswer)
    }

    /// Slowloris on the body: a byte every 20 s never stalls for the 30 s timeout, yet at that
    /// pace a 1 MiB body would hold the connection for eight months. Once the body's first 30 s
    /// are over, its average must be `minimumBodyRate`.
    @Test func aDribbledBodyIsCutOffByItsAverageRate() {
        var machine = ConnectionGuard(timeouts: timeouts, now: t0)
        _ = machine.headReceived(transferEncoding: nil, now: t0)
        machine.bytesReceived(now: at(20))
        machine.bodyReceived(1)
        #expect(machine.deadline == t0 + .seconds(30) + .nanoseconds(1_000_000_000 / Int64(ConnectionGuard.minimumBodyRate)))
        #expect(machine.timerFired(now: at(31)) == .failRequest(.timeout))
    }

    @Test func aBodyAtTheMinimumRateGoesOn() {
        var machine = ConnectionGuard(timeouts: timeouts, now: t0)
        _ = machine.headReceived(transferEncoding: nil, now: t0)
        // 10 s of silence at a time, each followed by 10 s worth of the minimum rate, for 10 minutes.
        for second in stride(from: Int64(10), through: 600, by: 10) {
            #expect(machine.timerFired(now: at(second)) == .none)
            machine.bytesReceived(now: at(second))
            machine.bodyReceived(10 * ConnectionGuard.minimumBodyRate)
        }
        #expect(machine.deadline == at(630))  // the 30 s grace plus what 600 s of bytes earned
        let ended = machine.endReceived(now: at(601))
        #expect(ended)
    }

    @Test func keepAliveIsIdleOnlyOnceTheResponseIsWritten() {
        var machine = ConnectionGuard(timeouts: timeouts, now: t0)
        machine.bytesReceived(now: at(1))
        _ = machine.headReceived(transferEncoding: nil, now: at(1))
        let ended = machine.endReceived(now: at(1))
        #expect(ended)
        #expect(machine.deadline == nil)  // the application works on it
        #expect(machine.responseEnded(now: at(100)) == .none)
        #expect(machine.deadline == at(175))
        #expect(machine.timerFired(now: at(174)) == .none)
        machine.bytesReceived(now: at(150))  // the next request starts: its head has 30 s
        #expect(machine.deadline == at(180))
    }

    @Test func anIdleConnectionIsClosedSilently() {
        var machine = ConnectionGuard(timeouts: timeouts, now: t0)
        machine.bytesReceived(now: at(1))
        _ = machine.headReceived(transferEncoding: nil, now: at(1))
        _ = machine.endReceived(now: at(1))
        _ = machine.responseEnded(now: at(2))
        #expect(machine.timerFired(now: at(77)) == .close)
    }

    @Test func onlyChunkedTransferCodingIsForwarded() {
        var machine = ConnectionGuard(timeouts: timeouts, now: t0)
        #expect(machine.headReceived(transferEncoding: " Chunked", now: t0) == (true, .none))
        var other = ConnectionGuard(timeouts: timeouts, now: t0)
        #expect(other.headReceived(transferEncoding: "bogus", now: t0) == (false, .respond(.unsupportedTransferCoding("bogus"))))
        var layered = ConnectionGuard(timeouts: timeouts, now: t0)
        #expect(layered.headReceived(transferEncoding: "gzip, chunked", now: t0).forward == false)
    }

    @Test func aFaultBeforeTheHeadIsAnsweredByTheGuard() {
        var machine = ConnectionGuard(timeouts: timeouts, now: t0)
        machine.bytesReceived(now: t0)
        #expect(machine.faultRaised(.headerTooLarge) == .respond(.headerTooLarge))
        #expect(machine.faultRaised(.invalidChunk) == .none)  // one fault per connection
        #expect(machine.timerFired(now: at(100)) == .none)
    }

    @Test func aFaultInABodyFailsTheRequestForTheRouterToAnswer() {
        var machine = ConnectionGuard(timeouts: timeouts, now: t0)
        _ = machine.headReceived(transferEncoding: "chunked", now: t0)
        #expect(machine.faultRaised(.invalidChunk) == .failRequest(.invalidChunk))
        #expect(machine.responseEnded(now: at(1)) == .closeAfterAnswer)
    }

    @Test func aFaultAfterTheResponseWasWrittenOnlyCloses() {
        var machine = ConnectionGuard(timeouts: timeouts, now: t0)
        _ = machine.headReceived(transferEncoding: nil, now: t0)
        #expect(machine.responseEnded(now: t0) == .none)  // e.g. a 413 before reading the body
        #expect(machine.faultRaised(.disconnected) == .close)
    }

    @Test func aPipelinedFaultWaitsForTheResponseInProgress() {
        var machine = ConnectionGuard(timeouts: timeouts, now: t0)
        _ = machine.headReceived(transferEncoding: nil, now: t0)
        _ = machine.endReceived(now: t0)
        machine.bytesReceived(now: at(1))
        #expect(machine.faultRaised(.invalidContentLength) == .none)
        #expect(machine.responseEnded(now: at(2)) == .respond(.invalidContentLength))
    }

    @Test func aDisconnectBetweenRequestsJustCloses() {
        var machine = ConnectionGuard(timeouts: timeouts, now: t0)
        #expect(machine.faultRaised(.disconnected) == .close)
    }
}
