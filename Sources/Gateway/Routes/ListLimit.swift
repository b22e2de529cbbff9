import Engine
import Foundation
import Hummingbird

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

/// The `{id}` of a resource path: a positive integer, or a 404 naming what has no such id.
enum PathID {
    static func parse(_ context: BasicRequestContext, _ what: String) throws -> Int64 {
        guard let id = context.parameters.get("id").flatMap({ Int64($0) }), id > 0 else {
            throw APIError.notFound("no \(what) with that id")
        }
        return id
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
