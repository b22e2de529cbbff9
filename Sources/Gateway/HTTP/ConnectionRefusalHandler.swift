import Engine
import NIOCore

/// The whole pipeline of a connection beyond `CORTEX_HTTP_MAX_CONNECTIONS`: it answers
/// `503 too_many_connections` at once, without parsing anything, and closes.
///
/// The answer is written as soon as the connection is up, even before the client's request: a
/// refused client should learn it now, and nothing it sends would change the answer.
final class ConnectionRefusalHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let linger: TimeAmount
    private var lingerTimer: Scheduled<Void>?
    private var answered = false

    /// `linger`: how long to wait for the client to close after the answer.
    init(linger: TimeAmount) {
        self.linger = linger
    }

    /// The complete HTTP/1.1 response, `Connection: close` and `Retry-After` included.
    static let answer: [UInt8] = {
        let error = APIError.tooManyConnections
        var body: [UInt8] = []
        error.body.write(into: &body)
        var head = "HTTP/1.1 \(error.status.code) \(error.status.reasonPhrase)\r\n"
        head += "Content-Type: application/json; charset=utf-8\r\nContent-Length: \(body.count)\r\n"
        for field in error.headers { head += "\(field.name.rawName): \(field.value)\r\n" }
        return Array((head + "\r\n").utf8) + body
    }()

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { answer(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        answer(context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Discarded: reading on (instead of closing with unread bytes, which resets the
        // connection) lets the client receive the answer.
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if (event as? ChannelEvent) == .inputClosed { context.close(promise: nil) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        lingerTimer?.cancel()
        lingerTimer = nil
        context.fireChannelInactive()
    }

    private func answer(_ context: ChannelHandlerContext) {
        guard !answered else { return }
        answered = true
        context.writeAndFlush(NIOAny(context.channel.allocator.buffer(bytes: Self.answer)), promise: nil)
        context.close(mode: .output, promise: nil)
        lingerTimer = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: linger) {
            context.close(promise: nil)
        }
    }
}

@available(*, unavailable)
extension ConnectionRefusalHandler: Sendable {}
