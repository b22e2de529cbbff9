import Engine
import Foundation

/// The real SMTP server the test script starts (`scripts/smtp_server.py`, aiosmtpd), found
/// through `CORTEX_TEST_SMTP_DIR`. Tests that need it are skipped when it is not running.
public struct SMTPTestServer: Sendable {
    public let starttlsPort: Int
    public let tlsPort: Int
    public let plainPort: Int
    public let user: String
    public let password: String
    public let caFile: String
    public let maildir: String

    /// The running server, or `nil` outside the test script.
    public static let current: SMTPTestServer? = {
        guard let dir = ProcessInfo.processInfo.environment["CORTEX_TEST_SMTP_DIR"], !dir.isEmpty,
            let data = FileManager.default.contents(atPath: dir + "/server.json"),
            let info = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let ports = info["ports"] as? [String: Int]
        else { return nil }
        return SMTPTestServer(
            starttlsPort: ports["starttls"] ?? 0, tlsPort: ports["tls"] ?? 0, plainPort: ports["plain"] ?? 0,
            user: info["user"] as? String ?? "", password: info["password"] as? String ?? "",
            caFile: info["ca_file"] as? String ?? "", maildir: info["maildir"] as? String ?? "")
    }()

    /// `smtp://user:password@127.0.0.1:PORT` for the STARTTLS listener.
    public var starttlsURL: String { "smtp://\(user):\(password)@127.0.0.1:\(starttlsPort)" }

    /// `smtps://user:password@127.0.0.1:PORT` for the implicit-TLS listener.
    public var tlsURL: String { "smtps://\(user):\(password)@127.0.0.1:\(tlsPort)" }

    /// What the server received for `recipient`, in arrival order: its summaries, parsed by
    /// Python's email package (see the server's docstring), with the raw bytes.
    public func received(by recipient: String) -> [SMTPReceivedMessage] {
        let folder = maildir + "/" + recipient.lowercased()
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
        return names.compactMap { name in
            guard let data = FileManager.default.contents(atPath: folder + "/" + name),
                let summary = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                let raw = FileManager.default.contents(atPath: folder + "/" + name.replacingOccurrences(of: ".json", with: ".eml"))
            else { return nil }
            return SMTPReceivedMessage(summary: summary, raw: [UInt8](raw))
        }
    }

    /// A recipient no other test uses.
    public static func uniqueRecipient(_ prefix: String = "to") -> String {
        "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())@example.com"
    }
}

/// One message as the SMTP server received and parsed it.
public struct SMTPReceivedMessage: @unchecked Sendable {
    // @unchecked: the summary is read-only JSON from the server.
    public let summary: [String: Any]
    public let raw: [UInt8]

    public var headers: [String: String] { summary["headers"] as? [String: String] ?? [:] }
    public var headerNames: [String] { summary["header_names"] as? [String] ?? [] }
    public var contentType: String { summary["content_type"] as? String ?? "" }
    public var encrypted: Bool { summary["encrypted"] as? Bool ?? false }
    public var authenticated: Bool { summary["authenticated"] as? Bool ?? false }
    public var listener: String { summary["listener"] as? String ?? "" }
    public var connection: Int { summary["connection"] as? Int ?? -1 }
    public var maxLineOctets: Int { summary["max_line_octets"] as? Int ?? .max }
    public var bareLineBreaks: Bool {
        (summary["bare_line_feed"] as? Bool ?? true) || (summary["bare_carriage_return"] as? Bool ?? true)
    }
    public var defects: [String] { summary["defects"] as? [String] ?? ["unreadable"] }
    public var mailFrom: String { summary["mail_from"] as? String ?? "" }

    /// The leaf parts in order: content type, transfer encoding and decoded text (line breaks as `\n`).
    public var parts: [(type: String, encoding: String, content: String)] {
        (summary["parts"] as? [[String: Any]] ?? []).map { part in
            (part["content_type"] as? String ?? "", part["transfer_encoding"] as? String ?? "",
             (part["content"] as? String ?? "").replacingOccurrences(of: "\r\n", with: "\n"))
        }
    }
}
