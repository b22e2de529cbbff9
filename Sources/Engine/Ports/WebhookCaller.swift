/// Makes a webhook node's call (ENGINE.md §4): a Standard-Webhooks-signed POST.
public protocol WebhookCaller: Sendable {
    func call(_ call: WebhookCall) async -> WebhookResult
}

/// One call: its target, its `webhook-id` (the same on every retry, so the receiver can drop a
/// repeat), the moment it is signed for, the JSON body and the node's secret.
public struct WebhookCall: Sendable, Equatable {
    public var url: WebhookURL
    public var id: String
    public var timestamp: Timestamp
    public var body: [UInt8]
    public var secret: String?

    public init(url: WebhookURL, id: String, timestamp: Timestamp, body: [UInt8], secret: String?) {
        self.url = url
        self.id = id
        self.timestamp = timestamp
        self.body = body
        self.secret = secret
    }
}

public enum WebhookResult: Sendable, Equatable {
    /// A 2xx answer.
    case delivered(status: Int)
    /// No 2xx answer: `retryable` for a timeout, a refused connection, 408, 429 or 5xx; a refused
    /// address or another 4xx will not get better by waiting.
    case failed(reason: String, retryable: Bool)
}
