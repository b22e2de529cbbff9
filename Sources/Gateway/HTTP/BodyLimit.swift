import Hummingbird

/// The one limit on request bodies, and the reading of a body under it.
enum BodyLimit {
    /// 1 MiB: far above any provider's event, far below what could exhaust memory.
    static let maximumBytes = 1 << 20

    /// Whether a declared `Content-Length` already exceeds the limit, so the body is never read.
    static func declaredTooLarge(_ request: Request) -> Bool {
        guard let declared = request.headers[.contentLength], let length = Int(declared) else { return false }
        return length > maximumBytes
    }

    /// Reads the whole body, failing with 413 past the limit (also for chunked bodies).
    static func collect(_ request: Request) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared <= maximumBytes {
            bytes.reserveCapacity(declared)
        }
        for try await chunk in request.body {
            guard bytes.count + chunk.readableBytes <= maximumBytes else { throw APIError.payloadTooLarge }
            bytes.append(contentsOf: chunk.readableBytesView)
        }
        return bytes
    }
}
