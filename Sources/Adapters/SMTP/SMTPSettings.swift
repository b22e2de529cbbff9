import Foundation

/// Where and how the SMTP transport connects, from `CORTEX_SMTP_URL` and `CORTEX_SMTP_CA_FILE`.
///
/// `smtp://user:password@host:587` requires STARTTLS before anything else is said (no fallback
/// to cleartext); `smtps://user:password@host:465` speaks TLS from the first byte (RFC 8314).
/// Certificates are always verified, against the system's authorities plus the optional CA file.
public struct SMTPSettings: Sendable, Equatable {
    public enum Security: Sendable, Equatable {
        /// Port 587 style: plain connect, then STARTTLS, which must succeed.
        case startTLS
        /// Port 465 style: TLS from the first byte.
        case implicitTLS
    }

    public var host: String
    public var port: Int
    public var security: Security
    public var username: String?
    public var password: String?
    /// PEM certificates trusted in addition to the system's.
    public var extraTrustedPEM: [UInt8]?
    /// The name given in `EHLO`.
    public var heloName: String

    /// A setting that cannot work, with a message naming the variable.
    public struct Invalid: Error, Sendable, Equatable, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    public init(url: String, caFile: String? = nil, heloName: String = "localhost") throws(Invalid) {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else {
            throw Invalid("CORTEX_SMTP_URL must look like smtp://user:password@host:587 or smtps://user:password@host:465")
        }
        switch scheme {
        case "smtp": security = .startTLS
        case "smtps": security = .implicitTLS
        default: throw Invalid("CORTEX_SMTP_URL must start with smtp:// (STARTTLS) or smtps:// (TLS), not \(scheme)://")
        }
        guard let host = components.host, !host.isEmpty else { throw Invalid("CORTEX_SMTP_URL has no host") }
        guard components.path.isEmpty || components.path == "/", components.query == nil else {
            throw Invalid("CORTEX_SMTP_URL takes no path or query")
        }
        self.host = host
        port = components.port ?? (security == .startTLS ? 587 : 465)
        guard (1...65_535).contains(port) else { throw Invalid("CORTEX_SMTP_URL has an invalid port") }
        // URLComponents decodes percent-escapes, so a password may contain `@` or `:` as %40, %3A.
        username = components.user
        password = components.password
        guard (username == nil) == (password == nil) else {
            throw Invalid("CORTEX_SMTP_URL must give both a user name and a password, or neither")
        }
        self.heloName = heloName
        if let caFile {
            guard let data = FileManager.default.contents(atPath: caFile) else {
                throw Invalid("cannot read CORTEX_SMTP_CA_FILE \(caFile)")
            }
            guard String(decoding: data, as: UTF8.self).contains("-----BEGIN CERTIFICATE-----") else {
                throw Invalid("CORTEX_SMTP_CA_FILE \(caFile) holds no PEM certificate")
            }
            extraTrustedPEM = [UInt8](data)
        }
    }

    /// The URL libcurl connects to: no credentials in it, so it can appear in errors and logs.
    public var connectURL: String {
        let bracketedHost = host.contains(":") ? "[\(host)]" : host
        return "\(security == .startTLS ? "smtp" : "smtps")://\(bracketedHost):\(port)/\(heloName)"
    }

    /// The system's authorities followed by the extra ones, as one PEM bundle; `nil` keeps
    /// libcurl's default.
    func trustBundle() -> [UInt8]? {
        guard let extraTrustedPEM else { return nil }
        let systemBundles = [
            "/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem",
        ]
        var bundle: [UInt8] = []
        if let system = systemBundles.lazy.compactMap({ FileManager.default.contents(atPath: $0) }).first {
            bundle = [UInt8](system) + [0x0A]
        }
        return bundle + extraTrustedPEM
    }
}
