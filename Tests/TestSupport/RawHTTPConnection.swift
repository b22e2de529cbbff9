import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// A raw TCP connection to an HTTP server, for sending what no HTTP client would (partial heads,
/// stalled bodies, malformed framing) and observing exactly what comes back, including EOF.
///
/// Every wait is bounded and waits on the condition itself (bytes or a close arriving), never on
/// a fixed sleep.
public final class RawHTTPConnection: Sendable {
    /// One HTTP/1.1 response as received.
    public struct Response: Sendable {
        public let status: Int
        /// Field names lower-cased, in order.
        public let headers: [(name: String, value: String)]
        public let body: [UInt8]

        public func header(_ name: String) -> String? {
            headers.first { $0.name == name.lowercased() }?.value
        }
    }

    /// A bounded wait ran out; `received` is what had arrived unread, `closed` whether EOF had.
    public struct Timeout: Error, CustomStringConvertible {
        public let received: [UInt8]
        public let closed: Bool
        public var description: String {
            "timed out (closed: \(closed)) with \(received.count) unread bytes: \(String(decoding: received.prefix(300), as: UTF8.self))"
        }
    }

    private let channel: any Channel
    private let collector: Collector
    /// Bytes already returned as responses.
    private let consumed = Mutex(0)

    private init(channel: any Channel, collector: Collector) {
        self.channel = channel
        self.collector = collector
    }

    public static func connect(host: String = "localhost", port: Int) async throws -> RawHTTPConnection {
        let collector = Collector()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) }
            }
            .connect(host: host, port: port).get()
        return RawHTTPConnection(channel: channel, collector: collector)
    }

    public func send(_ text: String) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: text)).get()
    }

    /// The next complete response, within `bound`.
    public func response(within bound: TimeAmount = .seconds(10)) async throws -> Response {
        let start = consumed.withLock { $0 }
        let state = try await wait(within: bound) { bytes, _ in Self.parse(bytes, from: start) != nil }
        let (response, end) = Self.parse(state.bytes, from: start)!
        consumed.withLock { $0 = end }
        return response
    }

    /// Waits until the server closes the connection; returns the bytes not yet read as responses.
    @discardableResult
    public func closedByServer(within bound: TimeAmount) async throws -> [UInt8] {
        let start = consumed.withLock { $0 }
        let state = try await wait(within: bound) { _, closed in closed }
        return Array(state.bytes[start...])
    }

    /// Whether the server has closed the connection (as observed so far).
    public var isClosed: Bool {
        get async throws { try await channel.eventLoop.submit { self.collector.closed }.get() }
    }

    public func close() async {
        try? await channel.close()
    }

    private func wait(
        within bound: TimeAmount, until condition: @escaping @Sendable ([UInt8], Bool) -> Bool
    ) async throws -> (bytes: [UInt8], closed: Bool) {
        let loop = channel.eventLoop
        let promise = loop.makePromise(of: (bytes: [UInt8], closed: Bool).self)
        let collector = collector
        loop.execute { collector.addWaiter(condition, promise: promise, bound: bound) }
        return try await promise.futureResult.get()
    }

    /// A complete response starting at `offset`, and where it ends; `nil` if not all there yet.
    static func parse(_ bytes: [UInt8], from offset: Int) -> (Response, Int)? {
        let crlf2: [UInt8] = [13, 10, 13, 10]
        guard bytes.count >= offset + 4,
            let headEnd = (offset...(bytes.count - 4)).first(where: { Array(bytes[$0..<$0 + 4]) == crlf2 })
        else { return nil }
        let lines = String(decoding: bytes[offset..<headEnd], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { return nil }
        let headers = lines.dropFirst().compactMap { line -> (name: String, value: String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        var cursor = headEnd + 4
        var body: [UInt8] = []
        if headers.contains(where: { $0.name == "transfer-encoding" && $0.value.lowercased() == "chunked" }) {
            while true {
                guard let lineEnd = (cursor..<max(cursor, bytes.count - 1)).first(where: { bytes[$0] == 13 && bytes[$0 + 1] == 10 }),
                    let size = Int(String(decoding: bytes[cursor..<lineEnd], as: UTF8.self), radix: 16)
                else { return nil }
                let dataStart = lineEnd + 2
                guard bytes.count >= dataStart + size + 2 else { return nil }
                body += bytes[dataStart..<dataStart + size]
                cursor = dataStart + size + 2
                if size == 0 { break }
            }
        } else {
            let length = headers.first { $0.name == "content-length" }.flatMap { Int($0.value) } ?? 0
            guard bytes.count >= cursor + length else { return nil }
            body = Array(bytes[cursor..<cursor + length])
            cursor += length
        }
        return (Response(status: status, headers: headers, body: body), cursor)
    }
}

/// Collects what the server sends, on the channel's event loop; waiters are checked on every change.
private final class Collector: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer

    struct Waiter {
        let id: Int
        let condition: @Sendable ([UInt8], Bool) -> Bool
        let promise: EventLoopPromise<(bytes: [UInt8], closed: Bool)>
        var timer: Scheduled<Void>?
    }

    var bytes: [UInt8] = []
    var closed = false
    private var waiters: [Waiter] = []
    private var nextID = 0

    func addWaiter(
        _ condition: @escaping @Sendable ([UInt8], Bool) -> Bool,
        promise: EventLoopPromise<(bytes: [UInt8], closed: Bool)>, bound: TimeAmount
    ) {
        if condition(bytes, closed) { return promise.succeed((bytes, closed)) }
        let id = nextID
        nextID += 1
        let loop = promise.futureResult.eventLoop
        let timer = loop.scheduleTask(in: bound) {
            guard let index = self.waiters.firstIndex(where: { $0.id == id }) else { return }
            self.waiters.remove(at: index)
            promise.fail(RawHTTPConnection.Timeout(received: self.bytes, closed: self.closed))
        }
        waiters.append(Waiter(id: id, condition: condition, promise: promise, timer: timer))
    }

    private func check() {
        let ready = waiters.filter { $0.condition(bytes, closed) }
        waiters.removeAll { waiter in ready.contains { $0.id == waiter.id } }
        for waiter in ready {
            waiter.timer?.cancel()
            waiter.promise.succeed((bytes, closed))
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        bytes += unwrapInboundIn(data).readableBytesView
        check()
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        check()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A reset by the server counts as closed; what arrived before it stays readable.
        context.close(promise: nil)
    }
}
