import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1

/// Cortex's HTTP/1.1 child channel: Hummingbird's `HTTP1Channel` with two handlers placed where
/// `additionalChannelHandlers` cannot put them, and a connection limit.
///
/// `ByteActivityHandler` goes first, to see raw bytes; `ConnectionGuardHandler` goes right after
/// NIO's request decoder, to see its errors before Hummingbird turns them into an empty 400
/// (additional handlers come after the HTTP types codec, which already passed the error on).
/// Beyond `limiter.maximum` connections, a connection gets only `ConnectionRefusalHandler`.
struct CortexHTTPChannel: ServerChildChannel {
    /// A served connection, or a refused one that answers 503 by itself and closes.
    enum Value: ServerChildChannelValue {
        case served(HTTP1Channel.Value)
        case refused(any Channel)

        var channel: any Channel {
            switch self {
            case .served(let value): value.channel
            case .refused(let channel): channel
            }
        }
    }

    let http: HTTP1Channel
    let timeouts: ConnectionGuard.Timeouts
    let limiter: ConnectionLimiter

    init(responder: @escaping HTTPChannelHandler.Responder, timeouts: ConnectionGuard.Timeouts, limiter: ConnectionLimiter) {
        // No idle timeout here: the guard owns every timeout, and two clocks would disagree.
        self.http = HTTP1Channel(responder: responder, configuration: .init())
        self.timeouts = timeouts
        self.limiter = limiter
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let timeouts = timeouts
        guard limiter.acquire() else {
            logger.debug("refusing a connection", metadata: ["max_connections": "\(limiter.maximum)"])
            return channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(
                    ConnectionRefusalHandler(linger: ConnectionGuardHandler.lingerBound(timeouts)))
                return .refused(channel)
            }
        }
        let limiter = limiter
        channel.closeFuture.whenComplete { _ in limiter.release() }
        do {
            try channel.pipeline.syncOperations.addHandler(ByteActivityHandler())
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        return http.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let decoder = try channel.pipeline.syncOperations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try channel.pipeline.syncOperations.addHandler(
                ConnectionGuardHandler(timeouts: timeouts, logger: logger), position: .after(decoder))
            return .served(value)
        }
    }

    func handle(value: Value, logger: Logger) async {
        switch value {
        case .served(let value):
            await http.handle(value: value, logger: logger)
        case .refused(let channel):
            try? await channel.closeFuture.get()
        }
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 with Cortex's timeouts and connection limit.
    static func cortex(timeouts: ConnectionGuard.Timeouts, maxConnections: Int) -> HTTPServerBuilder {
        let limiter = ConnectionLimiter(maximum: maxConnections)
        return HTTPServerBuilder { responder in
            CortexHTTPChannel(responder: responder, timeouts: timeouts, limiter: limiter)
        }
    }
}
