import Testing

@testable import Engine

@Suite struct RejectedBodyPrefixTests {
    @Test func aBodyWithinTheLimitIsKeptWhole() {
        let body = Array("hello".utf8)
        #expect(RejectedBodyPrefix.of(body, limit: 5) == body)
        #expect(RejectedBodyPrefix.of([], limit: 5) == [])
    }

    @Test func aLongerBodyIsCutAtTheLimit() {
        #expect(RejectedBodyPrefix.of(Array("abcdefgh".utf8), limit: 5) == Array("abcde".utf8))
    }

    @Test(arguments: [1, 2, 3])
    func theCutNeverSplitsAUTF8Character(bytesBeforeTheLimit: Int) {
        // "€" is three bytes, "😀" four: place each so the limit falls inside it.
        for character in ["é", "€", "😀"] where bytesBeforeTheLimit < character.utf8.count {
            let prefix = String(repeating: "a", count: 10 - bytesBeforeTheLimit)
            let body = Array((prefix + character + "zz").utf8)
            let kept = RejectedBodyPrefix.of(body, limit: 10)
            #expect(kept == Array(prefix.utf8), "\(character) cut after \(bytesBeforeTheLimit) of its bytes")
            #expect(String(validating: kept, as: UTF8.self) != nil)
        }
    }

    @Test func aCharacterEndingExactlyAtTheLimitIsKept() {
        let body = Array("aaaaaaa€zz".utf8)  // 7 + 3 bytes: "€" ends at the limit
        #expect(RejectedBodyPrefix.of(body, limit: 10) == Array("aaaaaaa€".utf8))
    }
}
