import Engine
import Hummingbird

/// Every error Cortex answers with: an HTTP status and `{"error": {"code", "message"}}`.
///
/// All mapping from domain errors to HTTP happens here, so each status has one source.
struct APIError: Error, HTTPResponseError, Sendable {
    let status: HTTPResponse.Status
    let code: String
    let message: String
    var extraHeaders: HTTPFields = [:]
    /// Members of the error object beyond `code` and `message` (`node_id` of `invalid_graph`).
    var details: [(key: String, value: JSON)] = []

    init(_ status: HTTPResponse.Status, code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    var headers: HTTPFields { extraHeaders }

    var body: JSON {
        .object(["error": .object(JSONObject([(key: "code", value: .string(code)), (key: "message", value: .string(message))] + details))])
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = JSONResponse.make(status, body)
        response.headers.append(contentsOf: extraHeaders)
        return response
    }

    static func from(_ error: InputError) -> APIError {
        APIError(.badRequest, code: error.code, error.message)
    }

    /// A filter document that is not valid, naming the JSON pointer of the fault.
    static func from(_ error: FilterError) -> APIError {
        APIError(.unprocessableContent, code: "invalid_filter", error.description)
    }

    /// An automation graph that is not valid, naming the node at fault (`null` for the graph as
    /// a whole) so a canvas can highlight it.
    static func from(_ error: GraphError) -> APIError {
        var answer = APIError(.unprocessableContent, code: "invalid_graph", error.description)
        answer.details = [(key: "node_id", value: error.nodeID.map(JSON.string) ?? .null)]
        return answer
    }

    /// A store failure: only `unavailable` tells the client to retry. A conflict or refused data
    /// would be refused again, so they are 4xx; retrying them forever helps no one.

    static func from(_ error: StoreError) -> APIError {
        switch error.kind {
        case .unavailable: .databaseUnavailable
        case .notFound: .notFound(error.message)
        case .conflict: APIError(.conflict, code: "conflict", "the change conflicts with stored data: \(error.message)")
        case .invalid:
            APIError(.unprocessableContent, code: "invalid_data", "the database refused the data: \(error.message)")
        }
    }

    static func from(_ error: WebhookAuthError) -> APIError {
        switch error.kind {
        case .missingHeader: APIError(.badRequest, code: "missing_header", error.message)
        case .invalidHeader: APIError(.badRequest, code: "invalid_header", error.message)
        case .timestamp: APIError(.unauthorized, code: "timestamp", error.message)
        case .signature: APIError(.unauthorized, code: "signature", error.message)
        case .auth: APIError(.unauthorized, code: "auth", error.message)
        }
    }

    /// Client faults in HTTP/1 framing; each closes the connection, whose framing is now unknown.
    static func from(_ fault: HTTPClientFault) -> APIError {
        var error =
            switch fault {
            case .malformed(let detail): APIError(.badRequest, code: "invalid_request", "the request is not valid HTTP/1.1: \(detail)")
            case .headerTooLarge:
                APIError(
                    .init(code: 431, reasonPhrase: "Request Header Fields Too Large"), code: "header_too_large",
                    "the request header section is too large or has too many fields")
            case .invalidContentLength:
                APIError(.badRequest, code: "invalid_content_length", "Content-Length is not valid for this request")
            case .invalidChunk: APIError(.badRequest, code: "invalid_chunk", "the chunked body is malformed")
            // 400, not RFC 9112's suggested 501: a coding no client needs is the client's
            // doing, and a 5xx would count a hostile client's requests as server failures.
            case .unsupportedTransferCoding(let coding):
                APIError(
                    .badRequest, code: "unsupported_transfer_coding", "Transfer-Encoding \"\(coding)\" is not supported; use chunked")
            case .timeout: APIError(.requestTimeout, code: "request_timeout", "the request was not received in time")
            // Counted as a 400 in /metrics; the client is usually gone and never reads it.
            case .disconnected: APIError(.badRequest, code: "client_disconnected", "the client closed the connection mid-request")
            }
        error.extraHeaders[.connection] = "close"
        return error
    }

    static func notFound(_ what: String) -> APIError {
        APIError(.notFound, code: "not_found", what)
    }

    static func invalidParameter(_ name: String, _ expectation: String) -> APIError {
        APIError(.badRequest, code: "invalid_parameter", "query parameter \"\(name)\" \(expectation)")
    }

    static let payloadTooLarge = APIError(
        .contentTooLarge, code: "payload_too_large", "the body is larger than \(BodyLimit.maximumBytes) bytes")

    /// A body over `limit`, the limit of the route it was sent to.
    static func payloadTooLarge(limit: Int) -> APIError {
        APIError(.contentTooLarge, code: "payload_too_large", "the body is larger than \(limit) bytes")
    }

    static let tooManyConnections: APIError = {
        var error = APIError(
            .serviceUnavailable, code: "too_many_connections", "the server has too many open connections; retry shortly")
        error.extraHeaders[.connection] = "close"
        error.extraHeaders[.retryAfter] = "1"
        return error
    }()

    static let databaseUnavailable = APIError(
        .serviceUnavailable, code: "database_unavailable", "the database is not reachable; retry later")
}
