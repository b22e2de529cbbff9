/// Reads a contact import (`POST /v1/contacts/import`, `cortex contacts import`) as it streams
/// in, turning each line into a ``ContactImportRow`` or a ``ContactImportFailure``.
///
/// Feed it the body's bytes in chunks of any size and call ``finish()`` at the end; it yields
/// results as records complete, and holds only the record being read (at most
/// ``maximumRecordBytes``), never the file, so the caller can store rows in batches while a
/// 100,000-row file streams through. Chunk boundaries never change the results: one byte at a
/// time and the whole file at once read the same.
///
/// The format is the one the caller names (from the `Content-Type`), else detected from the
/// first byte that is not whitespace: `{` is NDJSON, anything else CSV. A UTF-8 byte order mark
/// at the very start is skipped.
///
/// - CSV: RFC 4180 with a header row naming the columns `email` (required), `first_name`,
///   `last_name`, `external_id`, `timezone`, `tags` (`;`-separated), `consent`,
///   `attributes.<key>[.<key>...]`; names are trimmed, the fixed ones in any case. An unknown,
///   repeated or missing column ends the import with one failure at the header's line. Every
///   data row must have as many cells as the header; an empty cell means "not given".
/// - NDJSON: one object per line with the same keys, plus `"attributes": {...}`; `tags` is an
///   array of strings or a `;`-separated string; blank lines are skipped.
///
/// `line` is the physical line a record starts on, the header row (or first NDJSON line) being
/// 1; a CSV record whose quoted cells hold line breaks spans several lines and is reported at
/// its first. Blank lines count, so a line number is what an editor shows.
///
/// Bounds and resynchronisation: a record longer than ``maximumRecordBytes`` fails its line,
/// and reading resumes after the line break that ends it (outside quotes, so a long quoted cell
/// is skipped whole). A quoted cell never closed runs to the end of the file, as RFC 4180
/// reads it; that is one failure at the line the record starts on, marked
/// ``ContactImportFailure/endsImport``, naming the lines lost. A quote that is visibly broken
/// (`ab"c`, `"ab"c`) fails its record only.
///
/// The same email on two lines yields two rows, in file order; the store upserts them in that
/// order, so the later line wins for every field it gives.
public struct ContactImportReader: Sendable {
    /// The largest record (CSV) or line (NDJSON) read, in bytes.
    public static let maximumRecordBytes = 65_536

    /// The format being read: as given, or as detected once the first significant byte came.
    public private(set) var format: ContactImportFormat?

    private var csv: CSVRecordScanner
    private var ndjson: NDJSONLineScanner
    var columns: [ContactImportColumn]?
    /// Bytes of a possible byte order mark at the start, until it is whole or ruled out.
    private var bomPrefix: [UInt8] = []
    private var startChecked = false
    /// Line breaks seen while detecting the format, so lines keep their physical numbers.
    private var detectionLines = 0
    private var detectionLastWasCR = false
    private var ended = false
    private var finished = false

    /// A reader of the given format, or of the format the content shows when `format` is `nil`.
    public init(format: ContactImportFormat? = nil) {
        self.format = format
        self.csv = CSVRecordScanner(
            maximumRecordBytes: Self.maximumRecordBytes, cellLimit: ContactImportColumn.maximumColumns + 1)
        self.ndjson = NDJSONLineScanner(maximumLineBytes: Self.maximumRecordBytes)
    }

    /// Bytes the reader holds between calls: the record being read, never more than
    /// ``maximumRecordBytes`` (plus the three bytes of a byte order mark being checked).
    public var bufferedByteCount: Int {
        bomPrefix.count + csv.bufferedByteCount + ndjson.bufferedByteCount
    }

    /// Reads the next chunk of the file and returns the results of the records it completed,
    /// in file order. After a failure that ends the import, or after ``finish()``, nothing more
    /// is read.
    public mutating func feed(_ bytes: some Collection<UInt8>) -> [Result<ContactImportRow, ContactImportFailure>] {
        if let results = bytes.withContiguousStorageIfAvailable({ feed(buffer: $0) }) { return results }
        return Array(bytes).withUnsafeBufferPointer { feed(buffer: $0) }
    }

    /// Reads the end of the file: the last record if no line break followed it, and the
    /// failures only the end reveals (no header, a quote never closed).
    public mutating func finish() -> [Result<ContactImportRow, ContactImportFailure>] {
        guard !finished else { return [] }
        finished = true
        var results: [Result<ContactImportRow, ContactImportFailure>] = []
        // A file shorter than a byte order mark: its bytes are content after all.
        if !startChecked {
            startChecked = true
            let prefix = bomPrefix
            bomPrefix = []
            results += prefix.withUnsafeBufferPointer { read($0) }
        }
        guard !ended else { return results }
        switch format {
        case nil:
            ended = true
            results.append(.failure(ContactImportFailure(
                line: 1, reason: "the file is empty; expected a CSV header row or NDJSON lines", endsImport: true)))
        case .csv:
            if let record = csv.finish() { append(csvResult(record), to: &results) }
            if columns == nil, !ended {
                ended = true
                results.append(.failure(ContactImportFailure(
                    line: 1, reason: "the file has no header row; the first line must name the columns, email among them",
                    column: "email", endsImport: true)))
            }
        case .ndjson:
            if let line = ndjson.finish() { append(ndjsonResult(line), to: &results) }
        }
        return results
    }

    private mutating func feed(buffer: UnsafeBufferPointer<UInt8>) -> [Result<ContactImportRow, ContactImportFailure>] {
        guard !finished, !ended else { return [] }
        var start = 0
        var results: [Result<ContactImportRow, ContactImportFailure>] = []
        if !startChecked {
            // The byte order mark may arrive split across chunks, one byte at a time.
            let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
            while start < buffer.count, !startChecked {
                if buffer[start] == bom[bomPrefix.count] {
                    bomPrefix.append(buffer[start])
                    start += 1
                    if bomPrefix.count == bom.count {
                        bomPrefix = []
                        startChecked = true
                    }
                } else {
                    startChecked = true
                    let prefix = bomPrefix
                    bomPrefix = []
                    results += prefix.withUnsafeBufferPointer { read($0) }
                }
            }
        }
        results += read(UnsafeBufferPointer(rebasing: buffer[start...]))
        return results
    }

    /// Reads content bytes (the byte order mark already skipped).
    private mutating func read(_ buffer: UnsafeBufferPointer<UInt8>) -> [Result<ContactImportRow, ContactImportFailure>] {
        var index = 0
        var results: [Result<ContactImportRow, ContactImportFailure>] = []
        if format == nil {
            // Whitespace before the first significant byte says nothing; count its lines.
            while index < buffer.count, format == nil {
                let byte = buffer[index]
                switch byte {
                case 0x20, 0x09:
                    detectionLastWasCR = false
                    index += 1
                case 0x0A, 0x0D:
                    if !(byte == 0x0A && detectionLastWasCR) { detectionLines += 1 }
                    detectionLastWasCR = byte == 0x0D
                    index += 1
                default:
                    format = byte == UInt8(ascii: "{") ? .ndjson : .csv
                    csv = CSVRecordScanner(
                        maximumRecordBytes: Self.maximumRecordBytes, cellLimit: ContactImportColumn.maximumColumns + 1,
                        firstLine: 1 + detectionLines)
                    ndjson = NDJSONLineScanner(maximumLineBytes: Self.maximumRecordBytes, firstLine: 1 + detectionLines)
                }
            }
        }
        switch format {
        case nil: break
        case .csv:
            while !ended, let record = csv.next(in: buffer, from: &index) {
                append(csvResult(record), to: &results)
            }
        case .ndjson:
            while !ended, let line = ndjson.next(in: buffer, from: &index) {
                append(ndjsonResult(line), to: &results)
            }
        }
        return results
    }

    private mutating func append(
        _ result: Result<ContactImportRow, ContactImportFailure>?, to results: inout [Result<ContactImportRow, ContactImportFailure>]
    ) {
        guard let result else { return }
        if case .failure(let failure) = result, failure.endsImport { ended = true }
        results.append(result)
    }
}
