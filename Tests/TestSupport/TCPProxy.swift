import NIOCore
import NIOPosix
import Synchronization

/// A loopback TCP forwarder that a test can cut and restore, to play a database outage without
/// touching the shared test server.
public final class TCPProxy: Sendable {
    public let targetHost: String
    public let targetPort: Int
    private let state = Mutex<(server: (any Channel)?, port: Int, connections: [any Channel])>((nil, 0, []))

    public init(targetHost: String, targetPort: Int) {
        self.targetHost = targetHost
        self.targetPort = targetPort
    }

    /// The port the proxy listens on (stable across `stop()` and `start()`).
    public var port: Int { state.withLock { $0.port } }

    /// Starts listening, on the previous port when restarted.
    public func start() async throws {
        let previousPort = port
        let host = targetHost
        let targetPort = targetPort
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { [self] inbound in
                ClientBootstrap(group: inbound.eventLoop).connect(host: host, port: targetPort).flatMap { outbound in
                    self.state.withLock { $0.connections += [inbound, outbound] }
                    return outbound.pipeline.addHandler(Forwarder(peer: inbound)).flatMap {
                        inbound.pipeline.addHandler(Forwarder(peer: outbound))
                    }
                }
            }
            .bind(host: "127.0.0.1", port: previousPort).get()
        state.withLock {
            $0.server = server
            $0.port = server.localAddress?.port ?? previousPort
        }
    }

    /// Stops listening and drops every forwarded connection, as a crashed server would.
    public func stop() async throws {
        let (server, connections) = state.withLock { current in
            defer {
                current.server = nil
                current.connections = []
            }
            return (current.server, current.connections)
        }
        for connection in connections {
            try? await connection.close()
        }
        try await server?.close()
    }
}

/// Writes what one side reads to the other, and closes the other when one side closes.
private final class Forwarder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    let peer: any Channel

    init(peer: any Channel) {
        self.peer = peer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        peer.writeAndFlush(unwrapInboundIn(data), promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        peer.close(promise: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
