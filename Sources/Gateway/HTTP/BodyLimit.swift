import Hummingbird

/// The one limit on request bodies, and the reading of a body under it.
enum BodyLimit {
    /// 1 MiB: far above any provider's event, far below what could exhaust memory.
    static let maximumBytes = 1 << 20

    /// Whether a declared `Content-Length` already exceeds the limit of the request's path, so
    /// the body is never read.
    static func declaredTooLarge(_ request: Request) -> Bool {
        guard let declared = request.headers[.contentLength], let length = Int(declared) else { return false }
        return length > maximumBytes(forPath: request.uri.path)
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

extension BodyLimit {
    /// The path of the one route with its own, larger limit.
    static let importPath = "/v1/contacts/import"
    /// 64 MiB for `POST /v1/contacts/import`: the import is streamed into the store a batch at a
    /// time and never held, so its size costs time, not memory. About 500,000 typical CSV rows;
    /// larger files are split by the sender (or imported offline with `cortex contacts import`).
    static let importMaximumBytes = 64 << 20

    /// The limit on the body of a request to `path`.
    static func maximumBytes(forPath path: String) -> Int {
        path == importPath ? importMaximumBytes : maximumBytes
    }
}
