import Testing

@testable import Engine

@Suite struct ASCIISearchTests {
    @Test func findsBytesAnywhereAndOnlyWhole() {
        #expect("{\"marketing_opt_in\":true}".containsBytes(of: "marketing_opt_in"))
        #expect("abc".containsBytes(of: "abc"))
        #expect("xxabc".containsBytes(of: "abc"))
        #expect(!"ab".containsBytes(of: "abc"))
        #expect(!"abxc".containsBytes(of: "abc"))
        #expect("".containsBytes(of: ""))
        // Overlapping starts: the first partial match must not hide the real one.
        #expect("aaab".containsBytes(of: "aab"))
        #expect("Grüße".containsBytes(of: "üß"))
    }

    @Test func foldsASCIILettersOnlyWhenAsked() {
        #expect(!"X-Shop-Webhook-TOKEN".containsBytes(of: "token"))
        #expect("X-Shop-Webhook-TOKEN".containsBytes(of: "token", foldingASCIICase: true))
        #expect("AUTHORIZATION".containsBytes(of: "auth", foldingASCIICase: true))
        // Only A–Z fold: `[` (0x5B) is not `{`, and non-ASCII letters stay as they are.
        #expect(!"[".containsBytes(of: "{", foldingASCIICase: true))
        #expect(!"Ü".containsBytes(of: "ü", foldingASCIICase: true))
    }
}
