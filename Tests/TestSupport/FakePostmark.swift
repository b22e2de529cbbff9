import Engine
import Foundation
import HTTPTypes
import Hummingbird
import Synchronization

/// A local server that honours Postmark's documented batch Email API, for tests: token check,
/// required headers, the 500-message limit, per-message `ErrorCode`s, and whole-call failures.
/// Recipients steer it: `inactive…` → 406, `invalid…` → 300, `throttle…` → HTTP 429 with
/// `Retry-After: 7`, `down…` → HTTP 503.
public final class FakePostmark: Sendable {
    public static let token = "server-token-for-tests"
    private let received = Mutex<[JSON]>([])

    public var requests: [JSON] { received.withLock { $0 } }

    public init() {}

    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/email/batch") { request, _ -> Response in
            guard request.headers[.accept] == "application/json",
                request.headers[.contentType]?.hasPrefix("application/json") == true
            else { return Self.error(415, 0, "Missing Accept or Content-Type") }
            guard request.headers[HTTPField.Name("X-Postmark-Server-Token")!] == Self.token else {
                return Self.error(401, 10, "Bad or missing API token.")
            }
            var request = request
            let bytes = Array(try await request.collectBody(upTo: 50 << 20).readableBytesView)
            guard case .array(let items)? = try? JSONParser.parse(bytes) else { return Self.error(422, 402, "Invalid JSON") }
            guard items.count <= 500 else { return Self.error(422, 410, "Too many batch messages") }
            self.received.withLock { $0.append(.array(items)) }
            let recipients = items.map { $0.objectValue?["To"]?.stringValue ?? "" }
            if recipients.contains(where: { $0.hasPrefix("throttle") }) {
                var response = Self.error(429, 429, "Rate limit exceeded")
                response.headers[HTTPField.Name("Retry-After")!] = "7"
                return response
            }
            if recipients.contains(where: { $0.hasPrefix("down") }) { return Self.error(503, 100, "Maintenance") }
            let results: [JSON] = recipients.map { to in
                if to.hasPrefix("inactive") {
                    return .object([
                        "ErrorCode": .int(406),
                        "Message": .string("You tried to send to a recipient that has been marked as inactive. Found inactive addresses: \(to). "),
                    ])
                }
                if to.hasPrefix("invalid") {
                    return .object(["ErrorCode": .int(300), "Message": .string("Invalid 'To' address: '\(to)'.")])
                }
                return .object([
                    "ErrorCode": .int(0), "Message": .string("OK"), "MessageID": .string(UUID().uuidString.lowercased()),
                    "SubmittedAt": .string("2026-11-26T12:00:00.1234567-05:00"), "To": .string(to),
                ])
            }
            return Self.json(200, .array(results))
        }
        return router
    }

    static func error(_ status: Int, _ code: Int, _ message: String) -> Response {
        json(status, .object(["ErrorCode": .int(code), "Message": .string(message)]))
    }

    static func json(_ status: Int, _ value: JSON) -> Response {
        var bytes: [UInt8] = []
        value.write(into: &bytes)
        return Response(
            status: HTTPResponse.Status(code: status), headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
