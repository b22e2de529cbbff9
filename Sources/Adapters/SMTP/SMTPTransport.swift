import CCurlShim
import Engine
import Foundation

/// Mail over SMTP submission through libcurl: STARTTLS (required) on `smtp://`, TLS on
/// `smtps://`, certificates verified, AUTH after TLS, one connection reused across messages.
///
/// | the server says | meaning for Cortex |
/// |---|---|
/// | 250 after DATA | sent; the message's own `Message-ID` is the provider id |
/// | 4xx to a message (451, 452, ...) | deferred: retried with back-off |
/// | 5xx to a message (550, 553, 554, ...) | failed, with the server's reason |
/// | 421, no answer, connection lost | throttled: the batch backs off (messages already accepted stay sent) |
/// | AUTH refused, no STARTTLS, certificate not trusted | the configuration is wrong: sending pauses |
public struct SMTPTransport: MailTransport {
    public let name = "smtp"
    /// SMTP sends one message per transaction; this only bounds how many one pass claims.
    public let maxBatchSize = 100

    let settings: SMTPSettings
    private let session: CurlSMTPSession
    private let now: @Sendable () -> Timestamp

    public init(settings: SMTPSettings, now: @escaping @Sendable () -> Timestamp = { SystemWallClock().now() }) {
        self.settings = settings
        self.session = CurlSMTPSession(settings: settings)
        self.now = now
    }

    public func send(_ batch: [OutgoingEmail]) async throws(TransportError) -> [DeliveryResult] {
        var results: [DeliveryResult] = []
        var anySent = false
        for email in batch {
            let sender = Mailbox(email.message.sender)?.address.value ?? email.message.sender
            let domain = sender.split(separator: "@").last.map(String.init) ?? "cortex.invalid"
            let messageID = "\(UUID().uuidString.lowercased())@\(domain)"
            let bytes = MIMEMessage(
                email.message, messageID: "<\(messageID)>", date: now(),
                boundary: "=_cortex_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            ).rendered()
            let reply = await session.send(bytes, from: sender, to: email.message.recipient.value)
            switch Self.classify(reply) {
            case .accepted:
                anySent = true
                results.append(.sent(messageID: messageID))
            case .rejected(let reason):
                results.append(.rejected(reason: reason, suppressRecipient: false))
            case .deferred(let reason):
                results.append(.deferred(reason: reason, retryAfter: nil))
            case .connection(let reason):
                guard anySent else { throw TransportError(.throttled(retryAfter: nil), reason) }
                return results + Self.deferRest(of: batch, after: results, reason: reason)
            case .misconfigured(let reason):
                guard anySent else { throw TransportError(.misconfigured, reason) }
                return results + Self.deferRest(of: batch, after: results, reason: reason)
            }
        }
        return results
    }

    /// Messages the server already took must be recorded as sent, never resent, so once one is
    /// taken a failing connection defers the rest of the batch instead of failing the call.
    private static func deferRest(of batch: [OutgoingEmail], after results: [DeliveryResult], reason: String) -> [DeliveryResult] {
        Array(repeating: .deferred(reason: reason, retryAfter: nil), count: batch.count - results.count)
    }

    /// What one reply means.
    enum Verdict: Equatable {
        case accepted
        case rejected(String)
        case deferred(String)
        case connection(String)
        case misconfigured(String)
    }

    /// Classifies a reply by libcurl's code and the server's last reply code. Pure.
    static func classify(_ reply: CurlSMTPSession.Reply) -> Verdict {
        if reply.curlCode == Int(CURLE_OK.rawValue) { return .accepted }
        let reason = reply.smtpCode > 0 ? "SMTP \(reply.smtpCode): \(reply.detail)" : "SMTP: \(reply.detail)"
        let configurationCodes: Set<CURLcode> = [
            CURLE_LOGIN_DENIED, CURLE_USE_SSL_FAILED, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM,
            CURLE_SSL_CACERT_BADFILE, CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT,
        ]
        if configurationCodes.contains(CURLcode(UInt32(reply.curlCode))) { return .misconfigured(reason) }
        switch reply.smtpCode {
        // 530: authentication required; 535: credentials refused.
        case 530, 534, 535, 538: return .misconfigured(reason)
        // 421: the server is closing the connection (overloaded, shutting down).
        case 421: return .connection(reason)
        case 400..<500: return .deferred(reason)
        case 500..<600: return .rejected(reason)
        default: return .connection(reason)
        }
    }
}
