@testable import Engine
import Testing

/// The streaming reader of contact imports (ENGINE.md §1): CSV and NDJSON, every per-line fault
/// with its line and column, header faults, chunking, and the memory bound.
@Suite struct ContactImportReaderTests {
    typealias Outcome = Result<ContactImportRow, ContactImportFailure>

    /// Feeds `bytes` in chunks of `chunk` bytes (all at once when `nil`), then finishes.
    static func read(_ bytes: [UInt8], format: ContactImportFormat? = nil, chunk: Int? = nil) -> [Outcome] {
        var reader = ContactImportReader(format: format)
        var results: [Outcome] = []
        let size = max(1, chunk ?? bytes.count)
        var start = 0
        while start < bytes.count {
            let end = min(start + size, bytes.count)
            results += reader.feed(bytes[start..<end])
            start = end
        }
        return results + reader.finish()
    }

    static func read(_ text: String, format: ContactImportFormat? = nil, chunk: Int? = nil) -> [Outcome] {
        read(Array(text.utf8), format: format, chunk: chunk)
    }

    static func rows(_ results: [Outcome]) -> [ContactImportRow] {
        results.compactMap { if case .success(let row) = $0 { row } else { nil } }
    }

    static func failures(_ results: [Outcome]) -> [ContactImportFailure] {
        results.compactMap { if case .failure(let failure) = $0 { failure } else { nil } }
    }

    static func email(_ text: String) -> EmailAddress { EmailAddress(text)! }

    /// One faulty input with the column and words its failure must carry; labelled by the
    /// words, as some inputs are 10,000 bytes long.
    struct FaultCase: Sendable, CustomTestStringConvertible {
        let input: String
        let column: String?
        let reason: String
        var testDescription: String { reason }

        init(_ input: String, _ column: String?, _ reason: String) {
            self.input = input
            self.column = column
            self.reason = reason
        }
    }

    // MARK: - CSV

    /// BOM, CRLF, a quoted comma, a quoted line break and `""`, tags, attributes, consent and
    /// time zone, and a second row whose line number counts the embedded line break.
    static let richCSV =
        "\u{FEFF}Email, First_Name ,last_name,external_id,timezone,tags,consent,attributes.plan,attributes.address.city\r\n"
        + "Ada@Example.com,\"Lovelace, Ada\",\"Byron\r\nKing\",u-1,Europe/Berlin,\" P2P ; vip;p2p;;VIP \",GRANTED,pro,\"Lon\"\"don\"\r\n"
        + "bob@example.com,,,,,,,,\r\n"
        + "\r\n"
        + "carl@example.com,Carl,,,UTC,Canva,revoked,,Paris"

    @Test func readsQuotedCommasLineBreaksBOMTagsAndAttributes() {
        let results = Self.read(Self.richCSV)
        #expect(results == [
            .success(ContactImportRow(
                line: 2, email: Self.email("ada@example.com"), firstName: "Lovelace, Ada", lastName: "Byron\r\nKing",
                externalID: "u-1", timezone: "Europe/Berlin", tags: ["P2P", "vip"], consent: .granted,
                attributes: ["plan": .string("pro"), "address": .object(["city": .string("Lon\"don")])])),
            // Empty cells are "not given": no names, no tags, no attributes (not "").
            .success(ContactImportRow(line: 4, email: Self.email("bob@example.com"))),
            // Line 5 is blank and skipped, but still counted.
            .success(ContactImportRow(
                line: 6, email: Self.email("carl@example.com"), firstName: "Carl", timezone: "UTC", tags: ["Canva"],
                consent: .revoked, attributes: ["address": .object(["city": .string("Paris")])])),
        ])
    }

    /// Faults of every kind in one file, so chunking is checked across all the reader's states.
    static let faultyCSV =
        "\u{FEFF}email,first_name,tags,attributes.a\r\n"
        + "a@x.com,\"multi\r\nline, \"\"quoted\"\"\",t1;T1,\"x\"\n"
        + "b@x.com,broken\"quote,,\n"
        + "c@x.com,\"closed\"then,,\n"
        + "nope,,,\r"
        + "d@x.com,too,many,cells,here\r\n"
        + "e@x.com,,,\"\"\n"
        + "f@x.com,\"last\",,"

    @Test(arguments: [1, 2, 3, 7, 64 * 1024])
    func chunkBoundariesDoNotChangeResults(chunk: Int) {
        for text in [Self.richCSV, Self.faultyCSV, Self.ndjson] {
            let whole = Self.read(text)
            #expect(Self.read(text, chunk: chunk) == whole, "chunk \(chunk)")
        }
        // And the faulty file reads as intended, so the comparison above compares something.
        let results = Self.read(Self.faultyCSV)
        #expect(Self.rows(results).map(\.line) == [2, 8, 9])
        #expect(Self.failures(results).map(\.line) == [4, 5, 6, 7])
    }

    @Test(arguments: [
        // (data line, column named, words of the reason)
        ("x@example.com,\"Ada\",\"Lovelace", "last_name", "\"last_name\" is never closed"),
        ("x@example.com,Ada", nil, "has 2 cells; the header names 6 columns"),
        ("x@example.com,Ada,Lovelace,Europe/Berlin,granted,v,extra", nil, "has 7 cells"),
        ("x@example.com,Ad\"a,Lovelace,,,", "first_name", "quote inside an unquoted cell"),
        ("x@example.com,\"Ada\"x,Lovelace,,,", "first_name", "text after its closing quote"),
        ("not-an-address,Ada,,,,", "email", "\"email\" is not a valid email address (got \"not-an-address\")"),
        (" ,Ada,,,,", "email", "\"email\" is empty"),
        ("x@example.com,,,Mars/Olympus,,", "timezone", "\"timezone\" is not an IANA time zone name"),
        ("x@example.com,,,,maybe,", "consent", "\"consent\" must be granted, revoked or unknown (got \"maybe\")"),
        ("x@example.com,\(String(repeating: "a", count: 1_001)),,,,", "first_name", "\"first_name\" is longer than 1000 bytes"),
        ("x@example.com,,\(String(repeating: "é", count: 501)),,,", "last_name", "\"last_name\" is longer than 1000 bytes"),
        ("x@example.com,,,,,\(String(repeating: "v", count: 10_001))", "attributes.note", "\"attributes.note\" is longer than 10000 bytes"),
        ("x@example.com,A<NUL>da,,,,", "first_name", "\"first_name\" contains U+0000"),
    ].map(FaultCase.init))
    func aFaultyLineFailsAloneNamingItsColumn(_ fault: FaultCase) {
        let (line, column, reason) = (fault.input, fault.column, fault.reason)
        let csv = "email,first_name,last_name,timezone,consent,attributes.note\n"
            + "a@example.com,\"two\nlines\",,,,\n"
            // <NUL> stands for U+0000, which would garble the test's own output as an argument.
            + line.replacing("<NUL>", with: "\u{0}") + "\n"
            + "z@example.com,,,,,\n"
        let results = Self.read(csv)
        let failures = Self.failures(results)
        #expect(failures.count == 1)
        #expect(failures.first?.line == 4)
        #expect(failures.first?.column == column)
        #expect(failures.first?.reason.contains(reason) == true, "\(failures.first?.reason ?? "no failure")")
        if reason.contains("never closed") {
            // The quote swallows the rest of the file, and the reader says it cannot go on.
            #expect(failures.first?.endsImport == true)
            #expect(failures.first?.reason.contains("lines 4–5") == true)
            #expect(Self.rows(results).map(\.line) == [2])
        } else {
            #expect(failures.first?.endsImport == false)
            #expect(Self.rows(results).map(\.line) == [2, 5])
        }
    }

    @Test func invalidUTF8FailsItsLineNamingTheColumn() {
        var bytes = Array("email,first_name\nx@example.com,A".utf8)
        bytes += [0xC3, 0x28]
        bytes += Array("\ny@example.com,B\n".utf8)
        let results = Self.read(bytes)
        #expect(Self.failures(results) == [
            ContactImportFailure(line: 2, reason: "\"first_name\" is not valid UTF-8", column: "first_name"),
        ])
        #expect(Self.rows(results).map(\.line) == [3])
    }

    @Test func tagsAreTrimmedDeduplicatedIgnoringCaseAndBounded() {
        let results = Self.read(
            "email,tags\n"
                + "a@x.com, P2P ;;p2p; Canva ;CANVA;Ärger;ärger\n"
                + "b@x.com,ok;\(String(repeating: "t", count: 256))\n"
                + "c@x.com,\((1...101).map { "t\($0)" }.joined(separator: ";"))\n")
        // ASCII case only: Ä and ä are two tags.
        #expect(Self.rows(results).map(\.tags) == [["P2P", "Canva", "Ärger", "ärger"]])
        #expect(Self.failures(results).map(\.line) == [3, 4])
        #expect(Self.failures(results).allSatisfy { $0.column == "tags" })
        #expect(Self.failures(results).first?.reason.contains("longer than 255 bytes") == true)
    }

    @Test func theSameEmailTwiceYieldsBothRowsInFileOrder() {
        let rows = Self.rows(Self.read("email,first_name\nada@x.com,Ada\nADA@x.com,Augusta\n"))
        #expect(rows.map(\.email) == [Self.email("ada@x.com"), Self.email("ada@x.com")])
        #expect(rows.map(\.firstName) == ["Ada", "Augusta"])
    }

    @Test func aTooLongRecordFailsAndReadingResumesAfterIt() {
        // A quoted cell of 100,000 bytes holding commas and line breaks: skipped whole.
        let huge = String(repeating: "ab,\n", count: 25_000)
        let csv = "email,first_name\na@x.com,A\nb@x.com,\"\(huge)\"\nc@x.com,C\n"
        let results = Self.read(csv, chunk: 4_096)
        #expect(Self.rows(results).map(\.line) == [2, 25_004])
        #expect(Self.failures(results) == [
            ContactImportFailure(line: 3, reason: "the record is longer than 65536 bytes (lines 3–25003)"),
        ])
    }

    @Test(arguments: [
        ("email,first_name,nickname\na@x.com,A,B\n", "nickname", "header: \"nickname\" is not a column"),
        ("first_name,last_name\nA,B\n", "email", "header: \"email\" is missing"),
        ("email,EMAIL\na@x.com,a@x.com\n", "email", "header: \"email\" appears twice"),
        ("email,attributes.plan,attributes.plan\na@x.com,a,b\n", "attributes.plan", "appears twice"),
        ("email,attributes.address,attributes.address.city\na@x.com,a,b\n", "attributes.address.city", "is inside attributes.address"),
        ("email,attributes.\na@x.com,a\n", "attributes.", "is not an attribute path"),
        ("email,attributes.a..b\na@x.com,a\n", "attributes.a..b", "is not an attribute path"),
        ("email,attributes\na@x.com,{}\n", "attributes", "is not a column"),
        ("email,\"first\"name\na@x.com,a\n", nil, "quoted wrongly"),
        ("email,,tags\na@x.com,,\n", nil, "column 2 has no name"),
        ("", nil, "the file is empty"),
    ].map(FaultCase.init))
    func aFaultyHeaderEndsTheImportAtLineOne(_ fault: FaultCase) {
        let (csv, column, reason) = (fault.input, fault.column, fault.reason)
        let results = Self.read(csv)
        #expect(results.count == 1)
        #expect(Self.failures(results).first?.line == 1)
        #expect(Self.failures(results).first?.column == column)
        #expect(Self.failures(results).first?.endsImport == true)
        #expect(Self.failures(results).first?.reason.contains(reason) == true, "\(Self.failures(results).first?.reason ?? "")")
    }

    @Test func aHeaderAloneIsAnImportOfNothing() {
        #expect(Self.read("email,tags\r\n").isEmpty)
        #expect(Self.failures(Self.read("\u{FEFF}", format: .csv)).first?.reason.contains("no header row") == true)
    }

    // MARK: - NDJSON

    static let ndjson =
        "{\"email\": \"Ada@example.com\", \"first_name\": \"Ada\", \"tags\": [\"P2P\", \"p2p\", \" vip \"],"
        + " \"attributes\": {\"seats\": 3, \"plan\": {\"tier\": \"pro\"}}, \"attributes.plan.since\": 2024,"
        + " \"attributes.beta\": true, \"attributes.old\": null, \"consent\": \"unknown\", \"external_id\": 12345678901234567890}\r\n"
        + "\n"
        + "   \r\n"
        + "{\"email\": \"bob@example.com\", \"tags\": \"a;b\", \"timezone\": \"America/New_York\", \"last_name\": null}\n"
        + "{\"email\": \"c@example.com\", \"email\": \"d@example.com\"}\n"
        + "[\"e@example.com\"]\n"
        + "{\"email\": \"f@example.com\",}\n"
        + "{\"EMAIL\": \"g@example.com\"}"

    @Test func readsNDJSONKeepingJSONTypesAndSkippingBlankLines() {
        let results = Self.read(Self.ndjson)
        #expect(Self.rows(results) == [
            ContactImportRow(
                line: 1, email: Self.email("ada@example.com"), firstName: "Ada", externalID: "12345678901234567890",
                tags: ["P2P", "vip"], consent: .unknown,
                attributes: [
                    "seats": .number("3"), "plan": .object(["tier": .string("pro"), "since": .number("2024")]),
                    "beta": .bool(true), "old": .null,
                ]),
            ContactImportRow(line: 4, email: Self.email("bob@example.com"), timezone: "America/New_York", tags: ["a", "b"]),
            ContactImportRow(line: 8, email: Self.email("g@example.com")),
        ])
        let failures = Self.failures(results)
        #expect(failures.map(\.line) == [5, 6, 7])
        #expect(failures[0].reason.contains("repeats a key: the key \"email\" appears twice"))
        #expect(failures[1].reason.contains("is not a JSON object"))
        #expect(failures[2].reason.contains("is not valid JSON"))
    }

    @Test(arguments: [
        ("{\"email\": \"x@example.com\", \"nickname\": \"X\"}", "nickname", "is not a column"),
        ("{\"first_name\": \"X\"}", "email", "is missing"),
        ("{\"email\": null}", "email", "is null"),
        ("{\"email\": 42}", "email", "must be a string"),
        ("{\"email\": \"x@\"}", "email", "is not a valid email address"),
        ("{\"email\": \"x@example.com\", \"Email\": \"y@example.com\"}", "email", "appears twice"),
        ("{\"email\": \"x@example.com\", \"tags\": [\"a\", 1]}", "tags", "must hold only strings"),
        ("{\"email\": \"x@example.com\", \"tags\": {\"a\": 1}}", "tags", "must be an array of strings or a ;-separated string"),
        ("{\"email\": \"x@example.com\", \"timezone\": \"Nowhere/Land\"}", "timezone", "is not an IANA time zone name"),
        ("{\"email\": \"x@example.com\", \"consent\": true}", "consent", "must be a string"),
        ("{\"email\": \"x@example.com\", \"attributes\": [1]}", "attributes", "must be an object"),
        ("{\"email\": \"x@example.com\", \"attributes\": {\"plan\": 1}, \"attributes.plan\": 2}", "attributes.plan", "is given twice"),
        ("{\"email\": \"x@example.com\", \"attributes.plan\": 1, \"attributes.plan.tier\": 2}", "attributes.plan.tier", "is inside attributes.plan"),
        ("{\"email\": \"x@example.com\", \"attributes.note\": \"\(String(repeating: "n", count: 10_001))\"}", "attributes.note", "is longer than 10000 bytes"),
        ("{\"email\": \"x@example.com\", \"attributes\": {\"k\": \"a\\u0000b\"}}", "attributes.k", "contains U+0000"),
        ("{\"email\": \"x@example.com\", \"external_id\": \"\(String(repeating: "9", count: 1_001))\"}", "external_id", "is longer than 1000 bytes"),
    ].map(FaultCase.init))
    func aFaultyNDJSONLineFailsAloneNamingItsKey(_ fault: FaultCase) {
        let (line, column, reason) = (fault.input, fault.column, fault.reason)
        let text = "{\"email\": \"a@example.com\"}\n\n" + line + "\n{\"email\": \"z@example.com\"}\n"
        let results = Self.read(text)
        #expect(Self.failures(results).count == 1)
        #expect(Self.failures(results).first?.line == 3)
        #expect(Self.failures(results).first?.column == column)
        #expect(Self.failures(results).first?.reason.contains(reason) == true, "\(Self.failures(results).first?.reason ?? "")")
        #expect(Self.rows(results).map(\.line) == [1, 4])
    }

    @Test func aTooLongNDJSONLineFailsAndReadingResumes() {
        let long = "{\"email\": \"b@x.com\", \"attributes.n\": \"\(String(repeating: "n", count: 70_000))\"}"
        let results = Self.read("{\"email\": \"a@x.com\"}\n" + long + "\n{\"email\": \"c@x.com\"}\n", chunk: 1_000)
        #expect(Self.rows(results).map(\.line) == [1, 3])
        #expect(Self.failures(results) == [ContactImportFailure(line: 2, reason: "the line is longer than 65536 bytes")])
    }

    // MARK: - Format

    @Test func theFormatIsDetectedOrGiven() {
        var reader = ContactImportReader()
        _ = reader.feed(Array(" \n\t".utf8))
        #expect(reader.format == nil)
        // Leading blank lines count: the object is on line 3.
        let results = reader.feed(Array("\n{\"email\": \"a@x.com\"}\n".utf8))
        #expect(reader.format == .ndjson)
        #expect(Self.rows(results).map(\.line) == [3])
        #expect(Self.read("email\na@x.com\n").count == 1)
        // Given as CSV, a JSON line is a header naming an unknown column.
        #expect(Self.failures(Self.read("{\"email\": \"a@x.com\"}\n", format: .csv)).first?.endsImport == true)
        #expect(Self.read("", format: .ndjson).isEmpty)
        #expect(ContactImportFormat(contentType: "text/csv; charset=utf-8") == .csv)
        #expect(ContactImportFormat(contentType: "Application/X-NDJSON") == .ndjson)
        #expect(ContactImportFormat(contentType: "application/json") == nil)
    }

    // MARK: - Memory

    /// 100,000 rows in 64 KiB chunks: the reader never holds more than one record (plus a chunk,
    /// the bound the caller can see), every row comes out, and a 512 KiB record in the middle is
    /// not kept either.
    @Test func aHundredThousandRowsStreamThroughABoundedBuffer() {
        let chunkSize = 64 * 1024
        let bound = ContactImportReader.maximumRecordBytes + chunkSize
        var reader = ContactImportReader()
        var rows = 0
        var failures: [ContactImportFailure] = []
        var chunk: [UInt8] = []
        chunk.reserveCapacity(chunkSize)
        var maximumBuffered = 0
        func flush() {
            for result in reader.feed(chunk) {
                switch result {
                case .success: rows += 1
                case .failure(let failure): failures.append(failure)
                }
            }
            maximumBuffered = max(maximumBuffered, reader.bufferedByteCount)
            chunk.removeAll(keepingCapacity: true)
        }
        func write(_ text: String) {
            for byte in text.utf8 {
                chunk.append(byte)
                if chunk.count == chunkSize { flush() }
            }
        }
        write("email,first_name,tags,attributes.n\r\n")
        for index in 1...100_000 {
            write("user\(index)@example.com,\"Name, \(index)\",a;b,\(index)\r\n")
            if index == 50_000 { write("big@example.com,\"\(String(repeating: "x,\n", count: 180_000))\",,\r\n") }
        }
        flush()
        for result in reader.finish() {
            if case .success = result { rows += 1 }
        }
        #expect(rows == 100_000)
        #expect(failures.map(\.line) == [50_002])
        #expect(maximumBuffered <= bound)
        #expect(maximumBuffered > 0)
    }
}
