import Testing

@testable import Engine

@Suite struct EmailAddressTests {
    @Test func normalizesByTrimmingAndLowerCasing() {
        #expect(EmailAddress("  Ada.Lovelace+news@Example.COM \n")?.value == "ada.lovelace+news@example.com")
    }

    @Test(arguments: [
        "", "ada", "ada@", "@example.com", "ada@example", "ada @example.com", "ada@exa mple.com",
        "ada@@example.com", "a,b@example.com", "ada@-example.com", "ada@example..com", ".ada@example.com",
        "<ada@example.com>", String(repeating: "a", count: 65) + "@example.com",
    ])
    func rejectsUnusableAddresses(raw: String) {
        #expect(EmailAddress(raw) == nil)
    }

    @Test(arguments: ["o'brien@example.ie", "x@sub.example.co.uk", "user_1-2@xn--bcher-kva.example", "a@b.io"])
    func acceptsOrdinaryAddresses(raw: String) {
        #expect(EmailAddress(raw) != nil)
    }
}
