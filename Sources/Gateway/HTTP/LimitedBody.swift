import Hummingbird
import NIOCore

/// A request body read chunk by chunk as it arrives, failing with 413 once more than `limit`
/// bytes came: a chunked body declares no length that `ErrorMiddleware` could refuse up front.
struct LimitedBody<Base: AsyncSequence>: AsyncSequence where Base.Element == ByteBuffer {
    typealias Element = ByteBufferView

    let base: Base
    let limit: Int

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        let limit: Int
        var received = 0

        mutating func next() async throws -> ByteBufferView? {
            guard let chunk = try await base.next() else { return nil }
            received += chunk.readableBytes
            guard received <= limit else { throw APIError.payloadTooLarge(limit: limit) }
            return chunk.readableBytesView
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), limit: limit)
    }
}
