/// Turning one record (a CSV record or an NDJSON line) into its result.
extension ContactImportReader {
    typealias Outcome = Result<ContactImportRow, ContactImportFailure>

    /// The result of a CSV record: the header sets the columns (and is no row), a data record
    /// is a row or a failure; `nil` for a header that is fine.
    mutating func csvResult(_ record: CSVRecord) -> Outcome? {
        guard let columns else { return csvHeader(record) }
        func fail(_ reason: String, column: String? = nil, endsImport: Bool = false) -> Outcome {
            .failure(ContactImportFailure(line: record.line, reason: reason, column: column, endsImport: endsImport))
        }
        func name(ofCell cell: Int) -> String? { cell < columns.count ? columns[cell].name : nil }
        switch record.fault {
        case .unterminatedQuote(let cell):
            return fail(
                "\(Self.quoted(name(ofCell: cell), cell)) is never closed: its quote runs to the end of the file, "
                    + "so lines \(record.line)–\(record.lastLine) could not be read",
                column: name(ofCell: cell), endsImport: true)
        case _ where record.tooLong:
            return fail("the record is longer than \(Self.maximumRecordBytes) bytes\(Self.span(record))")
        case .quoteInUnquotedCell(let cell):
            return fail(
                "\(Self.quoted(name(ofCell: cell), cell)) has a quote inside an unquoted cell; quote the whole cell and double each quote in it\(Self.span(record))",
                column: name(ofCell: cell))
        case .textAfterClosingQuote(let cell):
            return fail(
                "\(Self.quoted(name(ofCell: cell), cell)) has text after its closing quote; double each quote inside a quoted cell\(Self.span(record))",
                column: name(ofCell: cell))
        case nil:
            break
        }
        guard record.cellCount == columns.count else {
            return fail("has \(record.cellCount) cells; the header names \(columns.count) columns")
        }
        var builder = ContactImportRowBuilder(line: record.line)
        do throws(ImportFieldError) {
            for (index, column) in columns.enumerated() {
                guard let text = String(validating: record.cell(index), as: UTF8.self) else {
                    throw ImportFieldError(column: column.name, "is not valid UTF-8")
                }
                try builder.set(column, text: text)
            }
            return .success(try builder.build())
        } catch {
            return fail(error.reason, column: error.column)
        }
    }

    private mutating func csvHeader(_ record: CSVRecord) -> Outcome? {
        func fatal(_ reason: String) -> Outcome {
            .failure(ContactImportFailure(line: record.line, reason: "header: " + reason, endsImport: true))
        }
        if case .unterminatedQuote = record.fault { return fatal("a quoted column name is never closed") }
        if record.tooLong { return fatal("longer than \(Self.maximumRecordBytes) bytes") }
        if record.fault != nil { return fatal("a column name is quoted wrongly; quote whole names and double each quote") }
        guard record.cellCount <= ContactImportColumn.maximumColumns else {
            return fatal("names more than \(ContactImportColumn.maximumColumns) columns")
        }
        var names: [String] = []
        for index in 0..<record.cellCount {
            guard let name = String(validating: record.cell(index), as: UTF8.self) else {
                return fatal("column \(index + 1) is not valid UTF-8")
            }
            names.append(name)
        }
        switch ContactImportColumn.header(names, line: record.line) {
        case .success(let columns):
            self.columns = columns
            return nil
        case .failure(let failure):
            return .failure(failure)
        }
    }

    /// The result of a non-blank NDJSON line.
    mutating func ndjsonResult(_ line: NDJSONLine) -> Outcome {
        func fail(_ reason: String, column: String? = nil) -> Outcome {
            .failure(ContactImportFailure(line: line.line, reason: reason, column: column))
        }
        guard !line.tooLong else { return fail("the line is longer than \(Self.maximumRecordBytes) bytes") }
        let json: JSON
        do {
            json = try JSONParser.parse(line.bytes)
        } catch {
            return fail(error.isDuplicateKey ? "repeats a key: \(error.description)" : "is not valid JSON: \(error.description)")
        }
        guard let object = json.objectValue else { return fail("is not a JSON object; each line must be one contact object") }
        var builder = ContactImportRowBuilder(line: line.line)
        do throws(ImportFieldError) {
            var columns: [ContactImportColumn] = []
            for member in object.members {
                switch ContactImportColumn.named(member.key, allowingAttributesObject: true) {
                case .success(let column): columns.append(column)
                case .failure(let error): throw error
                }
            }
            // `Email` and `email` are one key to the import, so a line may not give both.
            if let error = ContactImportColumn.checkTogether(columns) { throw error }
            for (column, member) in zip(columns, object.members) {
                try builder.set(column, json: member.value)
            }
            return .success(try builder.build())
        } catch {
            return fail(error.reason, column: error.column)
        }
    }

    private static func span(_ record: CSVRecord) -> String {
        record.lastLine > record.line ? " (lines \(record.line)–\(record.lastLine))" : ""
    }

    private static func quoted(_ name: String?, _ cell: Int) -> String {
        name.map { "\"\($0)\"" } ?? "cell \(cell + 1)"
    }
}
