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
public struct HTTPWebhookCaller: WebhookCaller {
    let client: HTTPClient
    let timeout: TimeAmount
    let allowPrivate: Bool

    public init(allowPrivate: Bool, client: HTTPClient = .shared, timeout: TimeAmount = .seconds(10)) {
        self.allowPrivate = allowPrivate
        self.client = client
        self.timeout = timeout
    }

    public func call(_ call: WebhookCall) async -> WebhookResult {
        if !allowPrivate {
            let addresses = Self.resolve(call.url.host)
            guard !addresses.isEmpty else { return .failed(reason: "\(call.url.host) does not resolve", retryable: true) }
            if let refused = addresses.first(where: NetworkAddress.isInternal) {
                return .failed(
                    reason: "\(call.url.host) resolves to \(refused), an internal address (CORTEX_WEBHOOK_ALLOW_PRIVATE=1 allows it)",
                    retryable: false)
            }
        }
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
