import CortexTestSupport
import Testing

@testable import Engine

/// One rule for the JSON Cortex stores, on every store alike: no object repeats a key (SQLite
/// keeps JSON text as written, PostgreSQL's jsonb keeps the last of a repeated key, so the same
/// document would be two different contacts), and numbers stay within what both keep.
@Suite struct JSONRuleConformanceTests {
    static let now = Timestamp(seconds: 1_800_000_000)
    static let ada = EmailAddress("ada@example.com")!

    static func attributes(_ members: [(key: String, value: JSON)]) -> JSONObject { JSONObject(members) }

    @Test(arguments: StoreBackend.enabled)
    func attributeChangesThatRepeatAKeyAreRefusedAndChangeNothing(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let repeated = [
                Self.attributes([("plan", .string("free")), ("plan", .string("gold"))]),
                Self.attributes([("deep", .object(JSONObject([("a", .int(1)), ("a", .int(2))])))]),
                Self.attributes([("list", .array([.object(JSONObject([("k", .null), ("k", .int(1))]))]))]),
            ]
            // A new contact: refused, and not created either.
            for attributes in repeated {
                let error = await #expect(throws: InputError.self) {
                    try await store.saveContact(ContactUpdate(email: Self.ada, firstName: "Ada", attributes: attributes), at: Self.now)
                }
                #expect(error?.code == "duplicate_key")
            }
            #expect(try await store.contact(email: Self.ada) == nil)
            // An existing contact: refused, and left as it was.
            try await store.saveContact(
                ContactUpdate(email: Self.ada, attributes: Self.attributes([("plan", .string("pro"))])), at: Self.now)
            let before = try #require(try await store.contact(email: Self.ada))
            for attributes in repeated {
                let error = await #expect(throws: InputError.self) {
                    try await store.saveContact(ContactUpdate(email: Self.ada, firstName: "Eve", attributes: attributes), at: Self.now)
                }
                #expect(error?.code == "duplicate_key")
            }
            #expect(try await store.contact(email: Self.ada) == before)
        }
    }

    /// The largest numbers the rule lets in read back with the same value from every store
    /// (SQLite keeps their text; PostgreSQL's jsonb spells them out: `1e308` as 309 digits).
    @Test(arguments: StoreBackend.enabled)
    func numbersWithinTheRuleReadBackWithTheSameValue(backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let hundredDigits = "1" + String(repeating: "7", count: 99)
            let document = #"{"max": 1.7976931348623157e308, "tiny": 5e-324, "id": \#(hundredDigits), "zero": -0, "neg": -1e300}"#
            let changes = try #require(try JSONParser.parse(Array(document.utf8)).objectValue)
            try await store.saveContact(ContactUpdate(email: Self.ada, attributes: changes), at: Self.now)
            let stored = try #require(try await store.contact(email: Self.ada)?.attributes)
            let read = try #require(try JSONParser.parse(Array(stored.utf8)).objectValue)
            for key in ["max", "tiny", "zero", "neg"] {
                guard case .number(let sent)? = changes[key], case .number(let back)? = read[key] else {
                    Issue.record("\(key) is not a number in \(stored)")
                    continue
                }
                #expect(Double(back) == Double(sent), "\(key): \(back) != \(sent)")
            }
            #expect(read["id"] == .number(hundredDigits))
        }
    }
}
