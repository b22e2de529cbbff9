import Engine
import Foundation

/// The default transport: records every message as sent, with a generated message id, and
/// sends nothing. Lets a new installation run every flow end to end without a provider.
public struct DryRunTransport: MailTransport {
    public let name = "dry-run"
    public let maxBatchSize = 500

    public init() {}

    public func send(_ batch: [OutgoingEmail]) async throws(TransportError) -> [DeliveryResult] {
        batch.map { _ in .sent(messageID: "dry-run-" + UUID().uuidString.lowercased()) }
    }
}
