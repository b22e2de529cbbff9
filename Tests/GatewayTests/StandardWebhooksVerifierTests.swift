import Engine
import Testing

@testable import Gateway

@Suite struct StandardWebhooksVerifierTests {
    static let body = Array(#"{"test": 2432232314}"#.utf8)
    static let id = "msg_p5jXN8AQM9LWM0D4loKWxJek"
    static let time: Int64 = 1_614_265_330
    static let expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

    let verifier = try! StandardWebhooksVerifier(secret: TestApp.secret)

    @Test func signsThePublishedTestVector() {
        #expect(verifier.signature(id: Self.id, timestamp: Self.time, body: Self.body) == Self.expected)
    }

    @Test func verifiesThePublishedTestVector() throws {
        try verifier.verify(
            id: Self.id, timestamp: String(Self.time), signatures: Self.expected, body: Self.body,
            now: Timestamp(seconds: Self.time))
    }

    @Test func acceptsAnyValidSignatureAmongSeveral() throws {
        let list = "v1a,AAAA v1,bm90IHRoZSByaWdodCBvbmU= garbage \(Self.expected)"
        try verifier.verify(
            id: Self.id, timestamp: String(Self.time), signatures: list, body: Self.body,
            now: Timestamp(seconds: Self.time + 299))
    }

    /// Bounded at `WebhookAuthError.signatureHeaderLimit` bytes, refused before any entry is decoded.
    @Test func aSignatureHeaderPast4096BytesIsRefusedBeforeItsEntriesAreChecked() throws {
        let wrong = "v1,bm90IHRoZSByaWdodCBvbmU= "  // 28 bytes
        let under = String(repeating: wrong, count: 144) + Self.expected  // 4,079 bytes
        let over = String(repeating: wrong, count: 145) + Self.expected  // 4,107 bytes
        try verifier.verify(
            id: Self.id, timestamp: String(Self.time), signatures: under, body: Self.body, now: Timestamp(seconds: Self.time))
        #expect(throws: WebhookAuthError(kind: .invalidHeader, message: "webhook-signature is longer than 4096 bytes")) {
            try verifier.verify(
                id: Self.id, timestamp: String(Self.time), signatures: over, body: Self.body, now: Timestamp(seconds: Self.time))
        }
    }

    @Test func acceptsASecretWithoutPaddingOrPrefix() throws {
        let bare = try StandardWebhooksVerifier(secret: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        #expect(bare.signature(id: Self.id, timestamp: Self.time, body: Self.body) == Self.expected)
    }

    @Test(arguments: ["", "whsec_", "whsec_!!!notbase64", "whsec_===="])
    func rejectsUnusableSecrets(secret: String) {
        #expect(throws: ConfigurationError.self) { try StandardWebhooksVerifier(secret: secret) }
    }

    @Test(arguments: [
        (Self.expected, Self.time + 301, WebhookAuthError.Kind.timestamp),
        (Self.expected, Self.time - 301, .timestamp),
        ("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE", Self.time, .signature),
        ("v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", Self.time, .signature),
        ("g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", Self.time, .signature),
        ("v1,", Self.time, .signature),
        (",,, ,", Self.time, .signature),
    ])
    func rejects(signatures: String, now: Int64, kind: WebhookAuthError.Kind) {
        #expect {
            try verifier.verify(
                id: Self.id, timestamp: String(Self.time), signatures: signatures, body: Self.body,
                now: Timestamp(seconds: now))
        } throws: { error in
            (error as? WebhookAuthError)?.kind == kind
        }
    }
}
