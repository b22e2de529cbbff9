import Engine
import Hummingbird

/// One page of the contacts a filter selects, as every contact listing answers it:
/// `{"data": [contact], "next_cursor": "..." | null}`, with `limit` and `cursor` from the query.
enum ContactPage {
    static func json(
        _ filter: Filter, parameters: Parameters, store: any ContactDirectory, at now: Timestamp
    ) async throws -> JSON {
        let limit = try ListLimit.parse(parameters["limit"])
        var cursor: Int64?
        if let raw = parameters["cursor"], !raw.isEmpty {
            guard let value = Int64(raw), value >= 0 else { throw APIError.invalidParameter("cursor", "is not a cursor this API gave") }
            cursor = value
        }
        let page = try await store.contactEmails(matching: filter, after: cursor, limit: limit, at: now)
        return .object([
            "data": .array(try await contacts(page.emails, store: store)),
            "next_cursor": page.nextCursor.map { .string(String($0)) } ?? .null,
        ])
    }

    /// The contacts of these addresses, in order; one that was erased meanwhile is left out.
    static func contacts(_ emails: [EmailAddress], store: any ContactDirectory) async throws -> [JSON] {
        var data: [JSON] = []
        for email in emails {
            if let contact = try await store.contact(email: email) { data.append(ResourceJSON.contact(contact)) }
        }
        return data
    }
}
