import Engine
import Hummingbird

/// `POST /v1/contacts/import` (ENGINE.md §1): a CSV or NDJSON file of contacts, streamed from
/// the request body into the store a batch (``ContactImport/batchSize`` rows) per transaction,
/// so a 100,000-row file costs one batch of memory.
///
/// The format is the `Content-Type`'s (`text/csv`, `application/x-ndjson`), else detected from
/// the first byte. The body may be up to ``BodyLimit/importMaximumBytes``.
///
/// Answers `200 {"created", "updated", "failed", "failures": [{"line", "reason", "column"?}],
/// "failures_truncated"}`, with at most ``ContactImport/maximumFailures`` failures listed; or
/// `400 invalid_import` with the `line` and `column` when the header (or an empty body) makes
/// the file unreadable, before anything is written.
///
/// Batches commit as they fill: when the connection drops (or the body passes its limit, or the
/// database fails) mid-import, the batches already committed stay and the rest is not read.
/// Sending the file again is safe, as every row is an upsert.
struct ImportRoutes {
    let store: any ContactImporter
    let clock: any WallClock

    func register(on routes: RouteRegistrar) {
        routes.add(.post, BodyLimit.importPath) { request, _ in
            let format = request.headers[.contentType].flatMap(ContactImportFormat.init(contentType:))
            let body = LimitedBody(base: request.body, limit: BodyLimit.importMaximumBytes)
            do {
                let summary = try await ContactImport.run(body, format: format, into: store, clock: clock)
                return JSONResponse.make(.ok, summary.json)
            } catch let rejected as ContactImportRejected {
                return Self.invalidImport(rejected.failure)
            }
        }
    }

    /// The 400 for an unreadable file: the usual error object, plus where the fault is.
    static func invalidImport(_ failure: ContactImportFailure) -> Response {
        var error: [(key: String, value: JSON)] = [
            ("code", .string("invalid_import")), ("message", .string(failure.description)), ("line", .int(failure.line)),
        ]
        if let column = failure.column { error.append(("column", .string(column))) }
        return JSONResponse.make(.badRequest, .object(["error": .object(JSONObject(error))]))
    }
}
