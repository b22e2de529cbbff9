import NIOCore

/// The decisions of `ConnectionGuardHandler`, as a plain value: events go in, actions come out,
/// no I/O, so every timing rule is unit-tested with explicit instants.
///
/// Reading side: between requests (idle), reading a head (from its first byte), reading a body.
/// Response side: how many requests whose head reached the application still await the end of
/// their response. The deadline that applies:
///
/// - a fresh connection, or a head once its first byte arrived: the head must be complete
///   within `header` (a trickle of bytes does not extend it: slowloris);
/// - a body: no bytes for `header` is a stall, and past its first `header` it must keep an average
///   of `minimumBodyRate` bytes a second (a body dribbled a byte at a time never stalls, yet
///   would hold the connection for days: slowloris on the body);
/// - between requests, with every response written: `idle` (keep-alive);
/// - while the application works on a request it has read: none (the routes have their own).
struct ConnectionGuard {
    struct Timeouts: Sendable, Equatable {
        /// Bound on a request head from its first byte, and on a silence inside a body.
        var header: TimeAmount
        /// Bound on a keep-alive connection with nothing in flight.
        var idle: TimeAmount
    }

    enum Phase: Equatable {
        /// Before the first byte of the next request; `fresh` until the first request.
        case betweenRequests(since: NIODeadline, fresh: Bool)
        case head(since: NIODeadline)
        /// `received`: body bytes decoded so far (framing aside), for the average rate.
        case body(started: NIODeadline, lastByte: NIODeadline, received: Int)
        /// A fault was raised; nothing more is read from this connection.
        case faulted
    }

    enum Action: Equatable {
        case none
        /// Nothing reached the application for this request: write the fault as a JSON error
        /// response, then close.
        case respond(HTTPClientFault)
        /// The application is reading this request: fail its body with the fault, so the router
        /// answers it; the connection closes once that response is written.
        case failRequest(HTTPClientFault)
        case close
        /// An answer to a fault was written: stop sending and close once the client has read it.
        case closeAfterAnswer
    }

    /// The slowest average a body may keep once its first `header` seconds are over: 1 KiB/s,
    /// far below any real sender (a 1 MiB body at this rate takes 17 minutes), far above a
    /// dribble that holds a connection for nothing.
    static let minimumBodyRate = 1024

    let timeouts: Timeouts
    private(set) var phase: Phase
    /// Requests whose head was forwarded and whose response has not ended.
    private(set) var openResponses = 0
    /// A fault to answer as soon as the response in progress ends (pipelining).
    private var pendingFault: HTTPClientFault?
    private var closeAfterResponse = false

    init(timeouts: Timeouts, now: NIODeadline) {
        self.timeouts = timeouts
        self.phase = .betweenRequests(since: now, fresh: true)
    }

    /// When the timer must next fire, or `nil` for no timer.
    var deadline: NIODeadline? {
        switch phase {
        case .head(let since): return since + timeouts.header
        case .body(let started, let lastByte, let received):
            let earned = TimeAmount.nanoseconds(Int64(received) * 1_000_000_000 / Int64(Self.minimumBodyRate))
            return min(lastByte + timeouts.header, started + timeouts.header + earned)
        case .betweenRequests(let since, let fresh):
            guard openResponses == 0 else { return nil }
            return since + (fresh ? timeouts.header : timeouts.idle)
        case .faulted: return nil
        }
    }

    /// Bytes arrived from the client (before the decoder saw them).
    mutating func bytesReceived(now: NIODeadline) {
        switch phase {
        case .betweenRequests: phase = .head(since: now)
        case .body(let started, _, let received): phase = .body(started: started, lastByte: now, received: received)
        case .head, .faulted: break
        }
    }

    /// Body bytes were decoded (chunk framing aside): they count towards the body's average rate.
    mutating func bodyReceived(_ count: Int) {
        if case .body(let started, let lastByte, let received) = phase {
            phase = .body(started: started, lastByte: lastByte, received: received + count)
        }
    }

    /// A complete head was decoded. Returns whether to forward it, and what to do.
    mutating func headReceived(transferEncoding: String?, now: NIODeadline) -> (forward: Bool, action: Action) {
        guard phase != .faulted else { return (false, .none) }
        // llhttp only fails an unknown coding after the head went up, which would let a route
        // answer that has not read the body; refusing here gives every route the same 400.
        if let coding = transferEncoding, coding.trimmingCharacters(in: .whitespaces).lowercased() != "chunked" {
            return (false, raise(.unsupportedTransferCoding(coding), forwarded: false))
        }
        openResponses += 1
        phase = .body(started: now, lastByte: now, received: 0)
        return (true, .none)
    }

    /// The request's end was decoded.
    mutating func endReceived(now: NIODeadline) -> Bool {
        guard phase != .faulted else { return false }
        phase = .betweenRequests(since: now, fresh: false)
        return true
    }

    /// The application finished writing a response.
    mutating func responseEnded(now: NIODeadline) -> Action {
        openResponses = max(0, openResponses - 1)
        guard openResponses == 0 else { return .none }
        if let fault = pendingFault {
            pendingFault = nil
            return fault == .disconnected ? .close : .respond(fault)
        }
        if closeAfterResponse { return .closeAfterAnswer }
        if case .betweenRequests = phase { phase = .betweenRequests(since: now, fresh: false) }
        return .none
    }

    /// The decoder or the socket failed with a client fault.
    mutating func faultRaised(_ fault: HTTPClientFault) -> Action {
        guard phase != .faulted else { return .none }
        if case .body = phase { return raise(fault, forwarded: true) }
        // Between requests a disconnect is just the end of the connection.
        if fault == .disconnected, case .betweenRequests = phase { return .close }
        return raise(fault, forwarded: false)
    }

    /// The timer fired; a deadline that moved later (more body bytes) is simply re-armed.
    mutating func timerFired(now: NIODeadline) -> Action {
        guard let deadline, now >= deadline else { return .none }
        switch phase {
        case .betweenRequests:
            phase = .faulted
            return .close
        case .head:
            return raise(.timeout, forwarded: false)
        case .body:
            return raise(.timeout, forwarded: true)
        case .faulted:
            return .none
        }
    }

    /// `forwarded`: the request's head reached the application, which answers the fault itself.
    private mutating func raise(_ fault: HTTPClientFault, forwarded: Bool) -> Action {
        phase = .faulted
        if forwarded {
            // Its response may already be written (a 413 sent before reading): then only close.
            guard openResponses > 0 else { return .close }
            closeAfterResponse = true
            return .failRequest(fault)
        }
        guard openResponses == 0 else {
            // An earlier pipelined request is still being answered; never interleave with it.
            pendingFault = fault
            return .none
        }
        return fault == .disconnected ? .close : .respond(fault)
    }
}
