import NIOCore

/// First in the pipeline: announces every read of raw bytes to `ConnectionGuardHandler` before
/// the decoder consumes them. A partial head yields no decoded part, and a stalled body is a
/// silence in bytes, so the guard cannot see either from decoded parts alone.
final class ByteActivityHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// The user event fired ahead of each read; the guard consumes it.
    struct BytesReceived: Sendable {}

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireUserInboundEventTriggered(BytesReceived())
        context.fireChannelRead(data)
    }
}

@available(*, unavailable)
extension ByteActivityHandler: Sendable {}
