import AsyncHTTPClient
import Crypto
import Engine
import Foundation
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// Webhook nodes' calls over HTTP (ENGINE.md §4): a POST of the JSON body signed as Standard
/// Webhooks does it (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<HMAC-SHA256>`),
/// with a timeout. A graph must not make Cortex call into its own network, so a host that
/// resolves to a loopback, link-local, private or unspecified address is refused unless
/// `allowPrivate` (`CORTEX_WEBHOOK_ALLOW_PRIVATE=1`).
///
/// The call connects to the very address that was checked (the client's DNS override), so a
/// name that resolves to a public address for the check and to an internal one a moment later
/// (DNS rebinding) cannot slip through; and it never follows a redirect, which could point
/// anywhere: a 3xx is an answer like any other.
public struct HTTPWebhookCaller: WebhookCaller {
    let timeout: TimeAmount
    let allowPrivate: Bool
    let resolve: @Sendable (String) -> [String]
    let isInternal: @Sendable (String) -> Bool

    /// For calls that may go anywhere (`allowPrivate`): redirects off, as for every call. It
    /// lives as long as the process, so it is never shut down.
    static let unpinned = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration(pinning: [:]))

    public init(allowPrivate: Bool, timeout: TimeAmount = .seconds(10)) {
        self.init(allowPrivate: allowPrivate, timeout: timeout, resolve: Self.resolve, isInternal: NetworkAddress.isInternal)
    }

    /// With the name lookup and the address judgement given, for tests.
    init(
        allowPrivate: Bool, timeout: TimeAmount = .seconds(10), resolve: @escaping @Sendable (String) -> [String],
        isInternal: @escaping @Sendable (String) -> Bool
    ) {
        self.allowPrivate = allowPrivate
        self.timeout = timeout
        self.resolve = resolve
        self.isInternal = isInternal
    }

    static func configuration(pinning overrides: [String: String]) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.dnsOverride = overrides
        return configuration
    }

    public func call(_ call: WebhookCall) async -> WebhookResult {
        guard !allowPrivate else { return await send(call, with: Self.unpinned) }
        let addresses = resolve(call.url.host)
        guard let checked = addresses.first else { return .failed(reason: "\(call.url.host) does not resolve", retryable: true) }
        if let refused = addresses.first(where: isInternal) {
            return .failed(
                reason: "\(call.url.host) resolves to \(refused), an internal address (CORTEX_WEBHOOK_ALLOW_PRIVATE=1 allows it)",
                retryable: false)
        }
        let bare = call.url.host.hasPrefix("[") ? String(call.url.host.dropFirst().dropLast()) : call.url.host
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: Self.configuration(pinning: [bare: checked]))
        let result = await send(call, with: client)
        try? await client.shutdown()
        return result
    }

    private func send(_ call: WebhookCall, with client: HTTPClient) async -> WebhookResult {
        var request = HTTPClientRequest(url: call.url.text)
        request.method = .POST
        let timestamp = String(call.timestamp.microseconds / 1_000_000)
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "Cortex-Webhooks")
        request.headers.add(name: "webhook-id", value: call.id)
        request.headers.add(name: "webhook-timestamp", value: timestamp)
        if let secret = call.secret {
            request.headers.add(name: "webhook-signature", value: "v1," + Self.signature(secret: secret, id: call.id, timestamp: timestamp, body: call.body))
        }
        request.body = .bytes(ByteBuffer(bytes: call.body))
        do {
            let response = try await client.execute(request, timeout: timeout)
            _ = try? await response.body.collect(upTo: 64 << 10)
            let status = Int(response.status.code)
            switch status {
            case 200..<300: return .delivered(status: status)
            case 408, 429, 500...599: return .failed(reason: "HTTP \(status)", retryable: true)
            default: return .failed(reason: "HTTP \(status)", retryable: false)
            }
        } catch {
            return .failed(reason: "\(error)", retryable: true)
        }
    }

    /// Standard Webhooks' v1 signature: base64 of HMAC-SHA256 over `id.timestamp.body`, keyed by
    /// the base64 after `whsec_` (or the secret's bytes when it has no such prefix).
    static func signature(secret: String, id: String, timestamp: String, body: [UInt8]) -> String {
        let key = secret.hasPrefix("whsec_").then { Data(base64Encoded: String(secret.dropFirst(6))) } ?? Data(secret.utf8)
        var hmac = HMAC<SHA256>(key: SymmetricKey(data: key))
        hmac.update(data: Array("\(id).\(timestamp).".utf8))
        hmac.update(data: body)
        return Data(hmac.finalize()).base64EncodedString()
    }

    /// The addresses `host` resolves to now, as text (an IP literal is itself).
    static func resolve(_ host: String) -> [String] {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(bare, nil, &hints, &list) == 0, let first = list else { return [] }
        defer { freeaddrinfo(list) }
        var addresses: [String] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            var text = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(entry.pointee.ai_addr, entry.pointee.ai_addrlen, &text, socklen_t(text.count), nil, 0, NI_NUMERICHOST) == 0 {
                addresses.append(String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
            cursor = entry.pointee.ai_next
        }
        return addresses
    }
}

extension Bool {
    fileprivate func then<T>(_ value: () -> T?) -> T? { self ? value() : nil }
}

/// Which addresses a webhook may not reach without `CORTEX_WEBHOOK_ALLOW_PRIVATE=1`.
enum NetworkAddress {
    static func isInternal(_ address: String) -> Bool {
        if address.contains(":") { return isInternalV6(address.lowercased()) }
        let parts = address.split(separator: ".").compactMap { UInt8($0) }
        guard parts.count == 4 else { return true }  // Not an address we can judge: refuse.
        switch (parts[0], parts[1]) {
        case (0, _), (10, _), (127, _): return true  // unspecified, private, loopback
        case (169, 254): return true  // link-local (cloud metadata lives here)
        case (172, 16...31), (192, 168): return true  // private
        case (100, 64...127): return true  // carrier-grade NAT
        case (224...255, _): return true  // multicast and reserved
        default: return false
        }
    }

    private static func isInternalV6(_ address: String) -> Bool {
        if address == "::" || address == "::1" { return true }
        if address.hasPrefix("fe8") || address.hasPrefix("fe9") || address.hasPrefix("fea") || address.hasPrefix("feb") { return true }
        if address.hasPrefix("fc") || address.hasPrefix("fd") || address.hasPrefix("ff") { return true }
        if let mapped = address.split(separator: ":").last, address.hasPrefix("::ffff:"), mapped.contains(".") {
            return isInternal(String(mapped))
        }
        return false
    }
}
