/// Base64url without padding (RFC 4648 §5): unsubscribe tokens and console session tokens.
/// Written by hand: a campaign signs one token per recipient, and Foundation's
/// encode-then-replace took most of the time of rendering a message.
enum Base64URL {
    static func encode(_ bytes: some Collection<UInt8>) -> String {
        let bytes = Array(bytes)
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var index = 0
        while index < bytes.count {
            let count = min(3, bytes.count - index)
            var word = UInt32(bytes[index]) << 16
            if count > 1 { word |= UInt32(bytes[index + 1]) << 8 }
            if count > 2 { word |= UInt32(bytes[index + 2]) }
            for shift in [18, 12, 6, 0].prefix(count + 1) { out.append(alphabet[Int((word >> UInt32(shift)) & 63)]) }
            index += count
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
}
