import Engine

/// One inbound request as a source sees it: raw body bytes and headers, live or from the archive
/// (for a replay). Header names are lower-cased.
struct InboundRequest: Sendable {
    let headers: [(name: String, value: String)]
    let body: [UInt8]
    let receivedAt: Timestamp

    /// The value of header `name` (lower-case); repeated headers are joined with ", " as HTTP does.
    func header(_ name: String) -> String? {
        let values = headers.filter { $0.name == name }.map(\.value)
        return values.isEmpty ? nil : values.joined(separator: ", ")
    }
}

/// Turns one source's payloads into Cortex's vocabulary. Pure: no I/O, so mappings are tested
/// from fixtures alone, and a replay re-runs exactly what a live delivery ran.
protocol InboundNormalizer: Sendable {
    /// The archive's `source` value, e.g. `postmark`.
    var name: String { get }

    /// The sender's event id, the dedupe key; `payload` is nil when the body is not JSON.
    func eventID(_ request: InboundRequest, payload: JSONObject?) -> String?

    /// Maps a payload to activities and suppression changes. An authentic payload of a kind the
    /// source does not map normalizes to nothing (archived, acknowledged, no activity).
    func normalize(_ payload: JSONObject, _ request: InboundRequest) throws(InputError) -> Normalization
}

/// A provider that calls `/webhooks/{name}` and proves who it is over the raw request.
protocol WebhookSource: InboundNormalizer {
    /// Throws before anything is parsed or stored; constant-time for every secret compared.
    func authenticate(_ request: InboundRequest) throws(WebhookAuthError)
}

extension WebhookAuthError {
    static func missingHeader(_ name: String) -> WebhookAuthError {
        WebhookAuthError(kind: .missingHeader, message: "the \(name) header is missing")
    }

    static func notConfigured(_ variable: String) -> WebhookAuthError {
        WebhookAuthError(kind: .auth, message: "no credential is configured for this endpoint (\(variable))")
    }
}
