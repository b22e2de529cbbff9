/// Runs a contact import end to end (ENGINE.md §1): bytes in, ``ContactImportReader`` rows out,
/// rows applied by the store ``batchSize`` at a time, one transaction per batch. Shared by
/// `POST /v1/contacts/import` and `cortex contacts import`, so both answer alike.
///
/// Memory is bounded by one batch, the reader's one record, and at most ``maximumFailures``
/// kept failures, whatever the size of the file.
///
/// Batches commit as they fill: when the input stops early (a dropped connection, a body over
/// its limit, a database failure), the batches already committed stay, and the error is thrown.
/// Importing the same file again is safe, as every row is an upsert.
public enum ContactImport {
    /// Rows per transaction: large enough that a batch costs a handful of statements on
    /// PostgreSQL, small enough that a transaction holds its locks for milliseconds.
    public static let batchSize = 500
    /// The failures a summary lists; the rest are only counted (`failuresTruncated`).
    public static let maximumFailures = 1_000
    /// What an import writes as the consent source.
    public static let source = "import"

    /// Reads `chunks` as a contact import of `format` (detected when `nil`) and applies it.
    ///
    /// Throws ``ContactImportRejected`` when the file ends before any row could be read (a
    /// header fault, an empty file); nothing is written then. A fault that ends the import after
    /// rows were read (a quote never closed) is listed among the failures, and the rows before
    /// it are applied.
    public static func run<Chunks: AsyncSequence>(
        _ chunks: Chunks, format: ContactImportFormat?, into store: some ContactImporter, clock: some WallClock,
        batchSize: Int = ContactImport.batchSize
    ) async throws -> ContactImportSummary where Chunks.Element: Collection<UInt8> {
        let batchSize = max(1, batchSize)
        var reader = ContactImportReader(format: format)
        var summary = ContactImportSummary()
        var batch: [ContactImportRow] = []
        var batchFailures: [ContactImportFailure] = []
        var sawRow = false
        batch.reserveCapacity(batchSize)

        func take(_ results: [Result<ContactImportRow, ContactImportFailure>]) throws {
            for result in results {
                switch result {
                case .success(let row):
                    sawRow = true
                    batch.append(row)
                case .failure(let failure):
                    if failure.endsImport, !sawRow { throw ContactImportRejected(failure: failure) }
                    sawRow = true
                    batchFailures.append(failure)
                }
            }
        }
        func flush() async throws {
            guard !batch.isEmpty || !batchFailures.isEmpty else { return }
            var failures = batchFailures
            // One chunk may complete more rows than a batch holds; each slice is its own transaction.
            var start = 0
            while start < batch.count {
                let end = min(start + batchSize, batch.count)
                let outcome = try await store.importContacts(Array(batch[start..<end]), source: source, at: clock.now())
                summary.created += outcome.created
                summary.updated += outcome.updated
                failures += outcome.failures
                start = end
            }
            // The reader's failures and the store's interleave by line; the summary lists them in order.
            summary.record(failures.sorted { $0.line < $1.line })
            batch.removeAll(keepingCapacity: true)
            batchFailures.removeAll()
        }

        for try await chunk in chunks {
            try take(reader.feed(chunk))
            // Failures count towards the batch too, so a file of nothing but faulty lines is
            // still held a batch at a time.
            if batch.count + batchFailures.count >= batchSize { try await flush() }
        }
        try take(reader.finish())
        try await flush()
        return summary
    }
}

/// What a whole import did.
public struct ContactImportSummary: Sendable, Equatable {
    public var created = 0
    public var updated = 0
    /// Every line that failed, listed or not.
    public var failed = 0
    /// The first ``ContactImport/maximumFailures`` failures, in line order.
    public var failures: [ContactImportFailure] = []
    /// Failures counted in `failed` but left out of `failures`.
    public var failuresTruncated: Int { failed - failures.count }

    public init() {}

    mutating func record(_ new: [ContactImportFailure]) {
        failed += new.count
        failures += new.prefix(max(0, ContactImport.maximumFailures - failures.count))
    }
}

/// An import refused as a whole before any row was read: the header names no email column, an
/// unknown or repeated column, or the file is empty. Nothing was written.
public struct ContactImportRejected: Error, Sendable, Equatable, CustomStringConvertible {
    public let failure: ContactImportFailure

    public init(failure: ContactImportFailure) {
        self.failure = failure
    }

    public var description: String { failure.description }
}

extension ContactImportSummary {
    /// `{"created", "updated", "failed", "failures": [{"line", "reason", "column"?}], "failures_truncated"}`,
    /// as the API answers and the CLI prints.
    public var json: JSON {
        .object([
            "created": .int(created), "updated": .int(updated), "failed": .int(failed),
            "failures": .array(failures.map(\.json)), "failures_truncated": .int(failuresTruncated),
        ])
    }
}

extension ContactImportFailure {
    /// `{"line", "reason"}`, with `"column"` when one column is at fault.
    public var json: JSON {
        var members: [(key: String, value: JSON)] = [("line", .int(line)), ("reason", .string(reason))]
        if let column { members.append(("column", .string(column))) }
        return .object(JSONObject(members))
    }
}
