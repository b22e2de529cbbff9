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

    init(_ status: HTTPResponse.Status, code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    var headers: HTTPFields { extraHeaders }

    var body: JSON {
        .object(["error": .object(["code": .string(code), "message": .string(message)])])
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = JSONResponse.make(status, body)
        response.headers.append(contentsOf: extraHeaders)
        return response
    }

    static func from(_ error: InputError) -> APIError {
        APIError(.badRequest, code: error.code, error.message)
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

    static func notFound(_ what: String) -> APIError {
        APIError(.notFound, code: "not_found", what)
    }

    static func invalidParameter(_ name: String, _ expectation: String) -> APIError {
        APIError(.badRequest, code: "invalid_parameter", "query parameter \"\(name)\" \(expectation)")
    }

    static let payloadTooLarge = APIError(
        .contentTooLarge, code: "payload_too_large", "the body is larger than \(BodyLimit.maximumBytes) bytes")

    static let databaseUnavailable = APIError(
        .serviceUnavailable, code: "database_unavailable", "the database is not reachable; retry later")
}
