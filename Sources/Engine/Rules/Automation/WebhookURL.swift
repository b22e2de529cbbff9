import Foundation

/// A webhook node's target: an absolute `http` or `https` URL with a host, parsed once. Whether
/// the host may be called (no loopback, link-local or private address unless allowed) is decided
/// when the call is made, on the addresses the host resolves to then.
public struct WebhookURL: Sendable, Equatable {
    public let text: String
    public let isHTTPS: Bool
    public let host: String
    public let port: Int

    public init?(_ text: String) {
        guard text.utf8.count <= 2_048, let components = URLComponents(string: text),
            let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = components.host, !host.isEmpty, components.user == nil, components.password == nil
        else { return nil }
        self.text = text
        self.isHTTPS = scheme == "https"
        self.host = host
        self.port = components.port ?? (scheme == "https" ? 443 : 80)
    }
}
