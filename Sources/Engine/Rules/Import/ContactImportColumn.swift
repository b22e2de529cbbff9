/// A column of a CSV import's header, or a key of an NDJSON line: the fixed contact fields and
/// `attributes.<path>`.
enum ContactImportColumn: Hashable, Sendable {
    case email, firstName, lastName, externalID, timezone, tags, consent
    /// `attributes.address.city` → `["address", "city"]`.
    case attribute([String])
    /// NDJSON's `"attributes": {...}`; a CSV cell is text, so CSV has no such column.
    case attributes

    /// The most columns a header may name: a bound on what one row keeps per cell.
    static let maximumColumns = 1_000
    /// As in the filter language, whose `attributes.<path>` must be able to reach every attribute.
    static let maximumPathSegments = 8

    private static let fixed: [String: ContactImportColumn] = [
        "email": .email, "first_name": .firstName, "last_name": .lastName, "external_id": .externalID,
        "timezone": .timezone, "tags": .tags, "consent": .consent,
    ]

    /// The name as the documentation writes it, for reasons.
    var name: String {
        switch self {
        case .email: "email"
        case .firstName: "first_name"
        case .lastName: "last_name"
        case .externalID: "external_id"
        case .timezone: "timezone"
        case .tags: "tags"
        case .consent: "consent"
        case .attribute(let path): "attributes." + path.joined(separator: ".")
        case .attributes: "attributes"
        }
    }

    /// Reads one column name or key: trimmed, fixed names in any letter case, `attributes.`
    /// in any case followed by a dotted path whose keys keep their case. The error is a reason.
    static func named(_ raw: String, allowingAttributesObject: Bool) -> Result<ContactImportColumn, ImportFieldError> {
        let name = raw.trimmingASCIIWhitespace()
        let lowered = name.lowercased()
        if let column = fixed[lowered] { return .success(column) }
        if lowered == "attributes", allowingAttributesObject { return .success(.attributes) }
        let prefix = "attributes."
        guard lowered.hasPrefix(prefix) else {
            return .failure(ImportFieldError(
                column: shown(name),
                "is not a column; use email, first_name, last_name, external_id, timezone, tags, consent or attributes.<key>"))
        }
        let dotted = String(name.utf8.dropFirst(prefix.utf8.count))!
        let segments = dotted.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard !segments.contains(where: \.isEmpty), segments.count <= maximumPathSegments, dotted.utf8.count <= 255,
            !dotted.utf8.contains(where: { $0 == 0 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") })
        else {
            return .failure(ImportFieldError(
                column: shown(name),
                "is not an attribute path: dotted keys, at most \(maximumPathSegments) of them, none empty, without \" or \\"))
        }
        return .success(.attribute(segments))
    }

    /// Checks a set of columns as a whole: none twice, and no attribute path inside another
    /// (`attributes.address` holds a value, so it cannot also hold `city`).
    static func checkTogether(_ columns: [ContactImportColumn]) -> ImportFieldError? {
        var seen = Set<ContactImportColumn>()
        for column in columns where !seen.insert(column).inserted {
            return ImportFieldError(column: column.name, "appears twice")
        }
        for case .attribute(let path) in columns {
            for length in 1..<path.count where seen.contains(.attribute(Array(path[..<length]))) {
                let outer = ContactImportColumn.attribute(Array(path[..<length])).name
                return ImportFieldError(
                    column: ContactImportColumn.attribute(path).name, "is inside \(outer), which is given too")
            }
        }
        return nil
    }

    /// Reads a CSV header row into its columns, or the failure that ends the import at line 1.
    static func header(_ names: [String], line: Int) -> Result<[ContactImportColumn], ContactImportFailure> {
        func fatal(_ error: ImportFieldError) -> Result<[ContactImportColumn], ContactImportFailure> {
            .failure(ContactImportFailure(line: line, reason: "header: " + error.reason, column: error.column, endsImport: true))
        }
        guard names.count <= maximumColumns else {
            return fatal(ImportFieldError(column: nil, "names more than \(maximumColumns) columns"))
        }
        var columns: [ContactImportColumn] = []
        for (index, name) in names.enumerated() {
            // `email,,tags` or a trailing comma: say which, as there is no name to quote.
            guard !name.trimmingASCIIWhitespace().isEmpty else {
                return fatal(ImportFieldError(column: nil, "column \(index + 1) has no name"))
            }
            switch named(name, allowingAttributesObject: false) {
            case .success(let column): columns.append(column)
            case .failure(let error): return fatal(error)
            }
        }
        if let error = checkTogether(columns) { return fatal(error) }
        guard columns.contains(.email) else {
            return fatal(ImportFieldError(column: "email", "is missing; the header must name an email column"))
        }
        return .success(columns)
    }

    static func shown(_ text: String) -> String {
        text.count > 64 ? String(text.prefix(64)) + "..." : text
    }
}

/// A fault in one field, before it is placed on a line: `"timezone" is not an IANA time zone`.
struct ImportFieldError: Error, Sendable, Equatable {
    let column: String?
    let message: String

    init(column: String?, _ message: String) {
        self.column = column
        self.message = message
    }

    /// `"timezone" is not ...`, naming the column as ``InputError`` names fields.
    var reason: String { column.map { "\"\($0)\" \(message)" } ?? message }
}
