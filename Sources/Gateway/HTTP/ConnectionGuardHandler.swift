import Engine
import Logging
import NIOCore
import NIOHTTP1

/// Enforces `ConnectionGuard`'s timeouts on one connection and turns HTTP/1 decoding faults into
/// JSON errors. It sits right after NIO's request decoder, so it sees every decoder error before
/// Hummingbird would answer it with an empty 400, and it can write a response below the
/// application when nothing reached the application yet.
///
/// `ByteActivityHandler`, at the front of the pipeline, tells it when raw bytes arrive: the
/// decoder emits nothing for a partial head, and a stalled body is a silence in bytes, not parts.
final class ConnectionGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let timeouts: ConnectionGuard.Timeouts
    private let logger: Logger
    private var machine: ConnectionGuard?
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?
    private var lingering = false
    private var inputClosed = false
    private var lingerTimer: Scheduled<Void>?

    init(timeouts: ConnectionGuard.Timeouts, logger: Logger) {
        self.timeouts = timeouts
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimers()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimers()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard machine != nil else { return context.fireChannelRead(data) }
        let now = NIODeadline.now()
        switch unwrapInboundIn(data) {
        case .head(let head):
            let coding = head.headers[canonicalForm: "transfer-encoding"].map(String.init)
            let (forward, action) = machine!.headReceived(
                transferEncoding: coding.isEmpty ? nil : coding.joined(separator: ", "), now: now)
            if forward { context.fireChannelRead(data) }
            perform(action, context)
        case .body(let part):
            machine!.bodyReceived(part.readableBytes)
            if machine!.phase != .faulted { context.fireChannelRead(data) }
        case .end:
            if machine!.endReceived(now: now) { context.fireChannelRead(data) }
        }
        armTimer(context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ByteActivityHandler.BytesReceived {
            machine?.bytesReceived(now: .now())
            return armTimer(context)
        }
        if (event as? ChannelEvent) == .inputClosed {
            inputClosed = true
            // The client has read the answer and closed its side.
            if lingering { context.close(promise: nil) }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if machine?.phase == .faulted {
            // After a fault the decoder refuses further bytes; those errors say nothing new.
            return logger.trace("error after HTTP client fault", metadata: ["error": "\(error)"])
        }
        guard machine != nil, let fault = HTTPClientFault(channelError: error) else {
            return context.fireErrorCaught(error)
        }
        logger.debug("HTTP client fault", metadata: ["fault": "\(fault)"])
        perform(machine!.faultRaised(fault), context)
        armTimer(context)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        context.write(data, promise: promise)
        guard case .end = unwrapOutboundIn(data), machine != nil else { return }
        perform(machine!.responseEnded(now: .now()), context)
        armTimer(context)
    }

    private func start(_ context: ChannelHandlerContext) {
        guard machine == nil else { return }
        machine = ConnectionGuard(timeouts: timeouts, now: .now())
        armTimer(context)
    }

    private func perform(_ action: ConnectionGuard.Action, _ context: ChannelHandlerContext) {
        switch action {
        case .none:
            break
        case .close:
            context.close(promise: nil)
        case .failRequest(let fault):
            // Fails the request body stream the route is reading; ErrorMiddleware answers.
            context.fireErrorCaught(fault)
        case .respond(let fault):
            logger.debug("answering HTTP client fault", metadata: ["fault": "\(fault)"])
            let error = APIError.from(fault)
            var body: [UInt8] = []
            error.body.write(into: &body)
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
            headers.add(name: "Content-Length", value: String(body.count))
            for field in error.headers { headers.add(name: field.name.rawName, value: field.value) }
            let head = HTTPResponseHead(
                version: .http1_1, status: HTTPResponseStatus(statusCode: Int(error.status.code)), headers: headers)
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            closeAfterAnswer(context)
        case .closeAfterAnswer:
            closeAfterAnswer(context)
        }
    }

    /// Closing with the client's bytes still unread makes the kernel send a reset, which can
    /// destroy the answer before the client reads it. So: send FIN, keep discarding input until
    /// the client closes, and close anyway after a bound.
    private func closeAfterAnswer(_ context: ChannelHandlerContext) {
        guard !lingering else { return }
        lingering = true
        guard !inputClosed else { return context.close(promise: nil) }
        context.close(mode: .output, promise: nil)
        lingerTimer = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: Self.lingerBound(timeouts)) {
            context.close(promise: nil)
        }
    }

    /// Short, so a client that never closes cannot hold the descriptor long.
    static func lingerBound(_ timeouts: ConnectionGuard.Timeouts) -> TimeAmount {
        min(timeouts.header, .seconds(2))
    }

    /// Keeps one timer, at the machine's deadline. A timer due earlier than needed is kept: when
    /// it fires the machine finds the deadline moved and it is re-armed (a body's every read
    /// moves its deadline; rescheduling on each would churn the event loop's timer heap).
    private func armTimer(_ context: ChannelHandlerContext) {
        guard let deadline = machine?.deadline else { return cancelTimer() }
        if let scheduled = timerDeadline, scheduled <= deadline { return }
        cancelTimer()
        timerDeadline = deadline
        timer = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(deadline: deadline) {
            self.timer = nil
            self.timerDeadline = nil
            guard self.machine != nil else { return }
            self.perform(self.machine!.timerFired(now: .now()), context)
            self.armTimer(context)
        }
    }

    private func cancelTimers() {
        lingerTimer?.cancel()
        lingerTimer = nil
        cancelTimer()
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
        timerDeadline = nil
    }
}

@available(*, unavailable)
extension ConnectionGuardHandler: Sendable {}
