import Engine
import Foundation

/// The `limit` query parameter every listing takes.
enum ListLimit {
    static let `default` = 50
    static let maximum = 1000

    static func parse(_ raw: Substring?) throws -> Int {
        guard let raw else { return Self.default }
        guard let limit = Int(raw), (1...maximum).contains(limit) else {
            throw APIError.invalidParameter("limit", "must be an integer from 1 to \(maximum)")
        }
        return limit
    }
}

/// An email address in a path segment, percent-decoded and normalized.
enum PathEmail {
    static func parse(_ raw: String?) throws -> EmailAddress {
        let raw = raw ?? ""
        let decoded = raw.removingPercentEncoding ?? raw
        guard let email = EmailAddress(decoded) else {
            throw APIError(.badRequest, code: "invalid_email", "\"\(decoded)\" is not a valid email address")
        }
        return email
    }
}
