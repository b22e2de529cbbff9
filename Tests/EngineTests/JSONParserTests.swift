import Testing

@testable import Engine

@Suite struct JSONParserTests {
    private func parse(_ text: String) throws -> JSON {
        try JSONParser.parse(Array(text.utf8))
    }

    @Test func parsesEveryKindOfValue() throws {
        let value = try parse(#" {"a": [1, -2.5e3, true, false, null], "b": {"c": "d"}} "#)
        #expect(
            value
                == .object([
                    "a": .array([.number("1"), .number("-2.5e3"), .bool(true), .bool(false), .null]),
                    "b": .object(["c": .string("d")]),
                ]))
    }

    @Test func keepsLargeNumbersExactly() throws {
        let value = try parse(#"{"id": 12345678901234567890123, "amount": 0.10000000000000000001}"#)
        #expect(value.serialized() == #"{"id":12345678901234567890123,"amount":0.10000000000000000001}"#)
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        let value = try parse(#""a\"b\\c\/d\n\t\u00e9\ud83d\ude00""#)
        #expect(value == .string("a\"b\\c/d\n\té😀"))
    }

    @Test func replacesLoneSurrogates() throws {
        #expect(try parse(#""\ud800x""#) == .string("\u{FFFD}x"))
        #expect(try parse(#""\udc00""#) == .string("\u{FFFD}"))
    }

    @Test func serializationEscapesWhatJSONRequires() throws {
        let original = JSON.string("quote\" backslash\\ newline\n nul\u{0} tab\t é")
        #expect(try JSONParser.parse(Array(original.serialized().utf8)) == original)
    }

    @Test(arguments: [
        "", "{", "}", "[1,]", "{\"a\":1,}", "{a:1}", "01", "1.", "-", "1e", "+1", ".5", "tru", "nul",
        "\"unterminated", "\"bad \\x escape\"", "\"\\u12g4\"", "{\"a\" 1}", "[1 2]", "{} {}", "\"tab\tinside\"",
        "NaN", "Infinity",
    ])
    func rejectsMalformedDocuments(text: String) {
        #expect(throws: JSONParser.Failure.self) { try parse(text) }
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse([0x22, 0xFF, 0xFE, 0x22]) }
    }

    @Test func rejectsDeepNestingWithoutCrashing() {
        let hostile = [UInt8](repeating: UInt8(ascii: "["), count: 1 << 20)
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(hostile) }
        let deepest = String(repeating: "[", count: JSONParser.maximumDepth) + String(repeating: "]", count: JSONParser.maximumDepth)
        #expect(throws: Never.self) { try parse(deepest) }
    }

    @Test func skipsAByteOrderMark() throws {
        #expect(try JSONParser.parse([0xEF, 0xBB, 0xBF] + Array("{}".utf8)) == .object([:]))
    }

    @Test(arguments: [
        #"{"a":1,"a":2}"#, #"{"data":{"email":"b@x.io","email":"c@x.io"}}"#, #"[{"k":1},{"k":1,"k":1}]"#,
        #"{"a":1,"\u0061":2}"#,
        // Past the point where the parser switches from a scan to a set.
        "{" + (0..<20).map { "\"k\($0)\":\($0)" }.joined(separator: ",") + ",\"k19\":0}",
    ])
    func refusesRepeatedKeys(text: String) throws {
        let failure = try #require(throws: JSONParser.Failure.self) { try parse(text) }
        #expect(failure.isDuplicateKey)
        #expect(failure.reason.contains("appears twice"))
    }

    /// Numbers up to 400 digits written out in full: every double and 100-digit ids pass, and
    /// a short exponent can no longer stand for a huge number (PostgreSQL spells it out).
    @Test(arguments: [
        "1.7976931348623157e308", "-1e308", "5e-324", "1" + String(repeating: "0", count: 99), "-0", "-0.0", "0e0",
        String(repeating: "9", count: 400), "0." + String(repeating: "1", count: 399), "1e399", "1e-399", "12.5e-3",
    ])
    func acceptsNumbersOfAtMost400Digits(number: String) throws {
        #expect(try parse("[\(number)]") == .array([.number(number)]))
    }

    @Test(arguments: [
        "1e400", "1e-400", "-1e400", "1e200000", "1e" + String(repeating: "9", count: 10_000), "0e1000",
        String(repeating: "9", count: 401), "0." + String(repeating: "1", count: 400), "12.5e399",
    ])
    func refusesNumbersOfMoreThan400Digits(number: String) throws {
        let failure = try #require(throws: JSONParser.Failure.self) { try parse(#"{"n": \#(number)}"#) }
        #expect(failure.reason.contains("400 digits"))
        #expect(failure.offset == 6)
        #expect(!failure.isDuplicateKey)
    }

    @Test func theSameKeyInSiblingObjectsIsNoRepeat() throws {
        let many = "{" + (0..<20).map { "\"k\($0)\":{\"k\":\($0)}" }.joined(separator: ",") + "}"
        #expect(throws: Never.self) { try parse(many) }
        #expect(throws: Never.self) { try parse(#"[{"a":1},{"a":2}]"#) }
        #expect(throws: Never.self) { try parse(#"{"a":1,"A":2}"#) }
        #expect(try JSONParser.parse(Array("{}".utf8)) == .object([:]))
        let malformed = try #require(throws: JSONParser.Failure.self) { try parse("{") }
        #expect(!malformed.isDuplicateKey)
    }
}
