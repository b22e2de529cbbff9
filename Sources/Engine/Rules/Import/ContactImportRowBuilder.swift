import Foundation

/// Validates the fields of one import line, column by column, into a ``ContactImportRow``.
///
/// Shared by the CSV and NDJSON paths so a value means the same in both: a CSV cell arrives as
/// text (``set(_:text:)``), an NDJSON value as JSON (``set(_:json:)``). Every fault names its
/// column; the first one fails the line.
struct ContactImportRowBuilder {
    let line: Int
    private var email: EmailAddress?
    private var firstName: String?
    private var lastName: String?
    private var externalID: String?
    private var timezone: String?
    private var tags: [String] = []
    private var consent: ConsentStatus?
    private var attributesObject: JSONObject?
    /// `attributes.<path>` values in the order given; placed after `attributesObject` so that
    /// the two NDJSON spellings merge the same whichever comes first on the line.
    private var dotted: [(path: [String], value: JSON)] = []

    init(line: Int) {
        self.line = line
    }

    /// Sets a column from text: a CSV cell, or an NDJSON string. Empty means "not given".
    mutating func set(_ column: ContactImportColumn, text: String) throws(ImportFieldError) {
        let name = column.name
        guard !text.utf8.contains(0) else { throw ImportFieldError(column: name, "contains U+0000") }
        switch column {
        case .email:
            let trimmed = text.trimmingASCIIWhitespace()
            guard !trimmed.isEmpty else { throw ImportFieldError(column: name, "is empty; every row needs an email address") }
            guard let address = EmailAddress(trimmed) else {
                throw ImportFieldError(column: name, "is not a valid email address (got \"\(Self.shown(trimmed))\")")
            }
            email = address
        case .firstName: firstName = try Self.text(text, column: name)
        case .lastName: lastName = try Self.text(text, column: name)
        case .externalID: externalID = try Self.text(text, column: name)
        case .timezone:
            let trimmed = text.trimmingASCIIWhitespace()
            guard !trimmed.isEmpty else { timezone = nil; return }
            // Foundation is what later reads the zone (local-time delays), so it is the judge;
            // the name is kept as written, as Foundation would rename `UTC` to `GMT`.
            guard TimeZone(identifier: trimmed) != nil else {
                throw ImportFieldError(
                    column: name, "is not an IANA time zone name such as Europe/Berlin (got \"\(Self.shown(trimmed))\")")
            }
            timezone = trimmed
        case .tags:
            try setTags(text.split(separator: ";", omittingEmptySubsequences: false).map(String.init))
        case .consent:
            let trimmed = text.trimmingASCIIWhitespace()
            guard !trimmed.isEmpty else { consent = nil; return }
            guard let value = ConsentStatus(rawValue: trimmed.lowercased()) else {
                throw ImportFieldError(column: name, "must be granted, revoked or unknown (got \"\(Self.shown(trimmed))\")")
            }
            consent = value
        case .attribute(let path):
            // A CSV row has every column; an empty cell leaves the attribute as it is, rather
            // than setting it to "".
            guard !text.isEmpty else { return }
            guard text.utf8.count <= ContactImportRow.maximumAttributeBytes else {
                throw ImportFieldError(column: name, "is longer than \(ContactImportRow.maximumAttributeBytes) bytes")
            }
            dotted.append((path, .string(text)))
        case .attributes:
            throw ImportFieldError(column: name, "must be an object")
        }
    }

    /// Sets a column from an NDJSON value. `null` means "not given" for the fixed fields; an
    /// attribute keeps any JSON value, `null` included.
    mutating func set(_ column: ContactImportColumn, json: JSON) throws(ImportFieldError) {
        let name = column.name
        switch (column, json) {
        case (.attribute(let path), _):
            try Self.checkAttribute(json, column: name)
            dotted.append((path, json))
        case (.attributes, .object(let object)):
            for member in object.members {
                try Self.checkAttribute(member.value, column: name + "." + member.key)
            }
            attributesObject = object
        case (.attributes, .null): return
        case (.attributes, _): throw ImportFieldError(column: name, "must be an object")
        case (.email, .null): throw ImportFieldError(column: name, "is null; every row needs an email address")
        case (_, .null): return
        case (_, .string(let text)): try set(column, text: text)
        // Exports from databases write numeric ids as numbers; the id is their exact text.
        case (.externalID, .number(let text)): try set(column, text: text)
        case (.tags, .array(let items)):
            var names: [String] = []
            for item in items {
                guard let text = item.stringValue else { throw ImportFieldError(column: name, "must hold only strings") }
                guard !text.utf8.contains(0) else { throw ImportFieldError(column: name, "contains U+0000") }
                names.append(text)
            }
            try setTags(names)
        case (.tags, _): throw ImportFieldError(column: name, "must be an array of strings or a ;-separated string")
        default: throw ImportFieldError(column: name, "must be a string")
        }
    }

    /// The row, or the first fault that keeps the line from being one.
    func build() throws(ImportFieldError) -> ContactImportRow {
        guard let email else { throw ImportFieldError(column: "email", "is missing; every row needs an email address") }
        var attributes = attributesObject ?? JSONObject()
        for (path, value) in dotted {
            guard let merged = Self.inserting(value, at: path[...], into: attributes) else {
                throw ImportFieldError(
                    column: ContactImportColumn.attribute(path).name, "is given twice, or inside a value that is not an object")
            }
            attributes = merged
        }
        return ContactImportRow(
            line: line, email: email, firstName: firstName, lastName: lastName, externalID: externalID,
            timezone: timezone, tags: tags, consent: consent, attributes: attributes)
    }

    private mutating func setTags(_ names: [String]) throws(ImportFieldError) {
        var kept: [String] = []
        var seen = Set<String>()
        for raw in names {
            let tag = raw.trimmingASCIIWhitespace()
            guard !tag.isEmpty else { continue }
            guard tag.utf8.count <= ContactImportRow.maximumTagBytes else {
                throw ImportFieldError(
                    column: "tags", "holds a tag longer than \(ContactImportRow.maximumTagBytes) bytes (\"\(Self.shown(tag))\")")
            }
            // Tags match ignoring case everywhere in Cortex; the first spelling is the one kept.
            guard seen.insert(Self.asciiLowercased(tag)).inserted else { continue }
            kept.append(tag)
        }
        guard kept.count <= ContactImportRow.maximumTags else {
            throw ImportFieldError(column: "tags", "holds more than \(ContactImportRow.maximumTags) tags")
        }
        tags = kept
    }

    private static func text(_ raw: String, column: String) throws(ImportFieldError) -> String? {
        let trimmed = raw.trimmingASCIIWhitespace()
        guard trimmed.utf8.count <= ContactImportRow.maximumTextBytes else {
            throw ImportFieldError(column: column, "is longer than \(ContactImportRow.maximumTextBytes) bytes")
        }
        return trimmed.isEmpty ? nil : trimmed
    }

    private static func checkAttribute(_ value: JSON, column: String) throws(ImportFieldError) {
        guard !value.containsNUL else { throw ImportFieldError(column: column, "contains U+0000") }
        // A string is measured as text, as a CSV cell is; anything else as its JSON text.
        var size = 0
        if case .string(let text) = value {
            size = text.utf8.count
        } else {
            var text: [UInt8] = []
            value.write(into: &text)
            size = text.count
        }
        guard size <= ContactImportRow.maximumAttributeBytes else {
            throw ImportFieldError(column: column, "is longer than \(ContactImportRow.maximumAttributeBytes) bytes")
        }
    }

    /// `object` with `value` placed at `path`, creating objects on the way; `nil` when the path
    /// is already set or runs through a value that is not an object.
    private static func inserting(_ value: JSON, at path: ArraySlice<String>, into object: JSONObject) -> JSONObject? {
        guard let key = path.first else { return nil }
        var object = object
        let index = object.members.firstIndex { $0.key == key }
        if path.count == 1 {
            guard index == nil else { return nil }
            object.members.append((key: key, value: value))
        } else if let index {
            guard case .object(let inner) = object.members[index].value,
                let updated = inserting(value, at: path.dropFirst(), into: inner)
            else { return nil }
            object.members[index].value = .object(updated)
        } else {
            guard let inner = inserting(value, at: path.dropFirst(), into: JSONObject()) else { return nil }
            object.members.append((key: key, value: .object(inner)))
        }
        return object
    }

    private static func asciiLowercased(_ text: String) -> String {
        String(decoding: text.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }, as: UTF8.self)
    }

    static func shown(_ text: String) -> String {
        text.count > 64 ? String(text.prefix(64)) + "..." : text
    }
}
