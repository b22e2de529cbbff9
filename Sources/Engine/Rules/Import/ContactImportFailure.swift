/// Why one line of an import cannot become a contact, as the import answers it:
/// `{"line": 7, "reason": "..."}`.
public struct ContactImportFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The line the faulty record starts on (header row or first line = 1).
    public let line: Int
    /// A sentence for a person, naming the column or key at fault.
    public let reason: String
    /// The column or key at fault (`email`, `attributes.plan`), when one is.
    public let column: String?
    /// True when nothing after this failure can be read: a faulty header (wrong columns), or a
    /// quoted CSV cell never closed before the end of the file. The reader yields nothing more.
    public let endsImport: Bool

    public init(line: Int, reason: String, column: String? = nil, endsImport: Bool = false) {
        self.line = line
        self.reason = reason
        self.column = column
        self.endsImport = endsImport
    }

    public var description: String { "line \(line): \(reason)" }
}

/// The two file formats an import may use.
public enum ContactImportFormat: Sendable, Equatable {
    /// RFC 4180 CSV with a header row.
    case csv
    /// One JSON object per line.
    case ndjson

    /// The format a `Content-Type` names (`text/csv; charset=utf-8`, `application/x-ndjson`),
    /// or `nil` for any other media type, in which case the caller may let the reader detect it.
    public init?(contentType: String) {
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first.map(String.init) ?? ""
        switch mediaType.trimmingASCIIWhitespace().lowercased() {
        case "text/csv": self = .csv
        case "application/x-ndjson": self = .ndjson
        default: return nil
        }
    }
}
