import Engine
import Foundation

/// `POST /webhooks/stripe`. `Stripe-Signature: t=...,v1=...` is a hex HMAC-SHA256 over
/// `t.body`, keyed with the whole endpoint secret string. Any `v1` may match (secret rolling);
/// other schemes (`v0`) are ignored to prevent downgrades. The event `id` is the dedupe key.
struct StripeSource: WebhookSource {
    let name = "stripe"
    static let tolerance: Int64 = 300

    /// `nil` when `CORTEX_STRIPE_SECRET` is unset.
    let hmac: HexHMAC?

    init(secret: String?) {
        hmac = secret.map(HexHMAC.init(secret:))
    }

    func authenticate(_ request: InboundRequest) throws(WebhookAuthError) {
        guard let hmac else { throw .notConfigured("CORTEX_STRIPE_SECRET") }
        guard let header = request.header("stripe-signature"), !header.isEmpty else {
            throw .missingHeader("Stripe-Signature")
        }
        try WebhookAuthError.checkSignatureHeaderLength(header, name: "Stripe-Signature")
        var timestamp: Substring?
        var candidates: [[UInt8]] = []
        for element in header.split(separator: ",") {
            let pair = element.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            let key = pair[0].trimmingCharacters(in: .whitespaces)
            let value = pair[1].trimmingCharacters(in: .whitespaces)
            if key == "t" {
                timestamp = Substring(value)
            } else if key == "v1", let bytes = HexHMAC.bytes(fromHex: value) {
                candidates.append(bytes)
            }
        }
        guard let timestamp, !candidates.isEmpty else {
            throw WebhookAuthError(kind: .signature, message: "Stripe-Signature has no timestamp or no v1 signature")
        }
        guard timestamp.allSatisfy(\.isASCIIDigit), let seconds = Int64(timestamp) else {
            throw WebhookAuthError(kind: .timestamp, message: "the Stripe-Signature timestamp is not an integer")
        }
        // As Stripe's own libraries (stripe-go `webhook/client.go` `validatePayload`: `time.Since(t)
        // > tolerance`; stripe-python `stripe/_webhook.py`: `timestamp < time.time() - tolerance`;
        // stripe-node `src/Webhooks.ts`: `timestampAge > tolerance`), only a timestamp more than
        // five minutes old is refused: one in the future passes, so a sender whose clock runs
        // ahead of ours is not locked out. A replay of it is still a duplicate of its event id.
        guard request.receivedAt.seconds - seconds <= Self.tolerance else {
            throw WebhookAuthError(kind: .timestamp, message: "the Stripe-Signature timestamp is more than 5 minutes old")
        }
        let expected = hmac.signature(Array(timestamp.utf8), [UInt8(ascii: ".")], request.body)
        var matched = false
        for candidate in candidates where ConstantTime.equals(candidate, expected) {
            matched = true
        }
        guard matched else { throw WebhookAuthError(kind: .signature, message: "no v1 signature in Stripe-Signature matches") }
    }

    func eventID(_ request: InboundRequest, payload: JSONObject?) -> String? {
        payload?["id"]?.stringValue
    }

    func normalize(_ payload: JSONObject, _ request: InboundRequest) throws(InputError) -> Normalization {
        guard case .string(let type)? = payload["type"], !type.isEmpty else { throw .missingType }
        // Other event types are archived and acknowledged without an activity.
        guard type == "checkout.session.completed" else { return Normalization() }
        guard let session = payload["data"]?.objectValue?["object"]?.objectValue else {
            throw .invalidField("data.object", "must be the Checkout Session object")
        }
        let details = session["customer_details"]?.objectValue
        let rawEmail = details?["email"]?.stringValue ?? session["customer_email"]?.stringValue
        // `customer_details.email` can be null (setup mode): nothing to attribute.
        guard let rawEmail, let email = EmailAddress(rawEmail) else { return Normalization() }
        // A `created` that is no whole number, or no time RFC 3339 can write (one past year 9999
        // overflowed `Timestamp(seconds:)` and stopped the server), counts as absent.
        let created = payload["created"].flatMap { value -> Timestamp? in
            guard case .number(let text) = value, let seconds = Int64(text) else { return nil }
            return RFC3339.timestamp(unixSeconds: seconds)
        }
        var metadata = JSONObject()
        metadata.members = [
            ("event_id", payload["id"] ?? .null),
            ("session_id", session["id"] ?? .null),
            ("amount_total", session["amount_total"] ?? .null),
            ("currency", session["currency"] ?? .null),
            ("mode", session["mode"] ?? .null),
            ("payment_status", session["payment_status"] ?? .null),
            ("client_reference_id", session["client_reference_id"] ?? .null),
            ("customer_name", details?["name"] ?? .null),
            ("metadata", session["metadata"].flatMap { $0.isNull ? nil : $0 } ?? .object([:])),
            ("livemode", payload["livemode"] ?? .null),
        ]
        return Normalization(activities: [
            NewActivity(
                type: "checkout.completed", contactEmail: email, occurredAt: created ?? request.receivedAt,
                metadata: JSON.object(metadata).serialized())
        ])
    }
}
