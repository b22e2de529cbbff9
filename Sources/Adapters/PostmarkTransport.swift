import AsyncHTTPClient
import Engine
import Foundation
import NIOCore

/// Postmark's batch Email API: up to 500 messages per `POST /email/batch`, each answered with its
/// own `ErrorCode` inside a 200 response.
///
/// | answer | meaning for Cortex |
/// |---|---|
/// | item `ErrorCode` 0 | sent, with Postmark's `MessageID` |
/// | item 406 (inactive recipient) | failed, and the address suppressed |
/// | item 300 and other codes | failed, with Postmark's message |
/// | HTTP 401 / 422 for the call | the configuration is wrong: sending pauses |
/// | HTTP 429 / 5xx / network error | throttled: back off and retry (honouring `Retry-After`) |
public struct PostmarkTransport: MailTransport {
    public let name = "postmark"
    public let maxBatchSize = 500

    let baseURL: String
    let serverToken: String
    /// The message stream of broadcasts (campaigns): Postmark's default is `broadcast`; a server
    /// may name its own (`CORTEX_POSTMARK_BROADCAST_STREAM`).
    let broadcastStream: String
    let client: HTTPClient
    let timeout: TimeAmount

    public init(
        baseURL: String, serverToken: String, broadcastStream: String = "broadcast", client: HTTPClient = .shared,
        timeout: TimeAmount = .seconds(30)
    ) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.serverToken = serverToken
        self.broadcastStream = broadcastStream
        self.client = client
        self.timeout = timeout
    }

    public func send(_ batch: [OutgoingEmail]) async throws(TransportError) -> [DeliveryResult] {
        var request = HTTPClientRequest(url: baseURL + "/email/batch")
        request.method = .POST
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "X-Postmark-Server-Token", value: serverToken)
        var body: [UInt8] = []
        JSON.array(batch.map { Self.payload($0, broadcastStream: broadcastStream) }).write(into: &body)
        request.body = .bytes(ByteBuffer(bytes: body))

        let status: UInt
        let headers: [(String, String)]
        let bytes: [UInt8]
        do {
            let response = try await client.execute(request, timeout: timeout)
            status = response.status.code
            headers = response.headers.map { ($0.name.lowercased(), $0.value) }
            bytes = Array(try await response.body.collect(upTo: 16 << 20).readableBytesView)
        } catch {
            throw TransportError(.throttled(retryAfter: nil), "Postmark unreachable: \(error)")
        }
        let answer = try? JSONParser.parse(bytes)
        switch status {
        case 200:
            guard case .array(let items)? = answer else {
                throw TransportError(.throttled(retryAfter: nil), "Postmark answered 200 without a result array")
            }
            return batch.indices.map { index in
                index < items.count ? Self.result(items[index]) : .deferred(reason: "no result from Postmark", retryAfter: nil)
            }
        case 401, 422:
            throw TransportError(.misconfigured, "Postmark refused the call (HTTP \(status)): \(Self.describe(answer))")
        case 429, 500...599:
            let retryAfter = headers.first { $0.0 == "retry-after" }.flatMap { Int64($0.1) }.map { Duration.seconds($0) }
            throw TransportError(.throttled(retryAfter: retryAfter), "Postmark HTTP \(status): \(Self.describe(answer))")
        default:
            throw TransportError(.misconfigured, "Postmark answered HTTP \(status): \(Self.describe(answer))")
        }
    }

    /// One message as Postmark's Email API takes it.
    static func payload(_ email: OutgoingEmail, broadcastStream: String = "broadcast") -> JSON {
        let message = email.message
        var fields: [(key: String, value: JSON)] = [
            ("From", .string(message.sender)),
            ("To", .string(message.recipient.value)),
            ("Subject", .string(message.subject)),
            // Postmark's default transactional stream is `outbound`; bulk mail goes on the broadcast one.
            ("MessageStream", .string(message.stream == .broadcast ? broadcastStream : "outbound")),
            ("Metadata", (try? JSONParser.parse(Array(message.metadata.utf8))) ?? .object([:])),
        ]
        if let html = message.html { fields.append(("HtmlBody", .string(html))) }
        if let text = message.text { fields.append(("TextBody", .string(text))) }
        if let tag = message.tag { fields.append(("Tag", .string(tag))) }
        if let trackOpens = message.trackOpens { fields.append(("TrackOpens", .bool(trackOpens))) }
        if let trackLinks = message.trackLinks { fields.append(("TrackLinks", .string(trackLinks.rawValue))) }
        if !message.headers.isEmpty {
            fields.append(("Headers", .array(message.headers.map(\.json))))
        }
        return .object(JSONObject(fields))
    }

    static func result(_ item: JSON) -> DeliveryResult {
        let object = item.objectValue ?? JSONObject()
        let code: Int? =
            switch object[ignoringCase: "ErrorCode"] {
            case .number(let text)?: Int(text)
            default: nil
            }
        let message = object[ignoringCase: "Message"]?.stringValue ?? ""
        switch code {
        case 0?:
            guard let id = object[ignoringCase: "MessageID"]?.stringValue else {
                return .deferred(reason: "Postmark accepted the message without a MessageID", retryAfter: nil)
            }
            return .sent(messageID: id)
        case 406?:
            return .rejected(reason: "Postmark 406: \(message)", suppressRecipient: true)
        case 429?, 100?:
            return .deferred(reason: "Postmark \(code ?? 0): \(message)", retryAfter: nil)
        case let code?:
            return .rejected(reason: "Postmark \(code): \(message)", suppressRecipient: false)
        case nil:
            return .deferred(reason: "Postmark gave no ErrorCode", retryAfter: nil)
        }
    }

    private static func describe(_ answer: JSON?) -> String {
        guard let object = answer?.objectValue else { return "no details" }
        let code = object[ignoringCase: "ErrorCode"].map { $0.serialized() } ?? "?"
        return "ErrorCode \(code): \(object[ignoringCase: "Message"]?.stringValue ?? "")"
    }
}
