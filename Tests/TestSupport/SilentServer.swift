import NIOCore
import NIOPosix

/// A loopback TCP server that accepts connections and never answers: a database server that
/// hangs, so every call to it waits for its deadline. (`TCPProxy` plays a server that is gone.)
public final class SilentServer: Sendable {
    private let channel: any Channel

    /// Listens on a free loopback port.
    public init() async throws {
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            // Accepted connections get no handler: what they send is read and dropped.
            .childChannelInitializer { channel in channel.eventLoop.makeSucceededVoidFuture() }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    public var port: Int { channel.localAddress?.port ?? 0 }

    /// Stops listening; the accepted connections are closed with it.
    public func stop() async throws {
        try await channel.close()
    }
}
