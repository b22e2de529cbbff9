import Engine
import Hummingbird

/// Cursor paging of the listings read newest first (`/v1/activities`, `/v1/messages`,
/// `/v1/inbound`, `/v1/executions`): `cursor` is the id of the previous page's last row, and an
/// answer carries `next_cursor` while more rows follow.
///
/// A route asks the store for one row more than `limit`: that row is not shown, it only says
/// another page exists, so the last page never ends with a cursor to an empty one.
enum CursorPage {
    /// The `cursor` query parameter: `nil` without one, else a positive integer (400 otherwise).
    static func cursor(_ parameters: Parameters) throws -> Int64? {
        guard let raw = parameters["cursor"] else { return nil }
        guard let before = Int64(raw), before > 0 else { throw APIError.invalidParameter("cursor", "must be a cursor from next_cursor") }
        return before
    }

    /// `{"data": [...], "next_cursor": "..." | null}` of `rows`, read with a limit of `limit + 1`.
    static func json<Row>(_ rows: [Row], limit: Int, id: (Row) -> Int64, _ item: (Row) -> JSON) -> JSON {
        let page = rows.prefix(limit)
        return .object([
            "data": .array(page.map(item)),
            "next_cursor": rows.count > limit ? (page.last.map { .string(String(id($0))) } ?? .null) : .null,
        ])
    }
}
