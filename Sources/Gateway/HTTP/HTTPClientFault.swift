import NIOCore
import NIOHTTP1

/// A request the client got wrong at the HTTP/1 level: bad framing, oversized headers, an
/// unsupported transfer coding, a stall, or a disconnect mid-request.
///
/// These are the client's faults, never the server's: `APIError.from(_:)` maps each to a 4xx,
/// and they are logged at debug level. `ConnectionGuardHandler` raises them, either answering
/// itself (nothing reached the router yet) or failing the request body stream so that
/// `ErrorMiddleware` answers.
enum HTTPClientFault: Error, Equatable, Sendable {
    /// The request line, a header or the framing could not be parsed.
    case malformed(String)
    /// The header section is larger, or has more fields, than the decoder accepts.
    case headerTooLarge
    /// `Content-Length` is not a number, or conflicts with another length.
    case invalidContentLength
    /// A chunk-size line of a chunked body is not hexadecimal.
    case invalidChunk
    /// `Transfer-Encoding` names a coding other than `chunked` (answered 400, see `APIError`).
    case unsupportedTransferCoding(String)
    /// The head did not arrive within the header timeout, or the body stalled that long.
    case timeout
    /// The client closed or reset the connection before the request was complete.
    case disconnected

    /// Classifies an error from the channel; `nil` for errors that are not the client's doing.
    init?(channelError error: any Error) {
        switch error {
        case let error as HTTPParserError:
            self.init(error)
        case is IOError:
            // A read failing mid-request is a reset by the peer; there is nothing left to answer.
            self = .disconnected
        default:
            return nil
        }
    }

    init(_ error: HTTPParserError) {
        switch error {
        case .headerOverflow: self = .headerTooLarge
        case .invalidContentLength, .unexpectedContentLength: self = .invalidContentLength
        case .invalidChunkSize: self = .invalidChunk
        case .invalidEOFState: self = .disconnected
        default: self = .malformed(error.debugDescription)
        }
    }
}
