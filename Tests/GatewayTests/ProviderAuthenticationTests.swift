import Engine
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import CortexTestSupport

@testable import Gateway

/// Every way a provider call can fail authentication: status, error code, and nothing written.
@Suite struct ProviderAuthenticationTests {
    static let postmarkBody = Array(#"{"RecordType":"Delivery","Recipient":"a@b.io","MessageID":"m1","DeliveredAt":"2021-02-25T15:02:10Z"}"#.utf8)
    static let stripeBody = Array(#"{"id":"evt_1","type":"checkout.session.completed","created":1614265330,"data":{"object":{"id":"cs_1","customer_details":{"email":"a@b.io"}}}}"#.utf8)
    static let thinkificBody = Array(#"{"id":"1","resource":"order","action":"created","created_at":"2021-02-25T15:02:10Z","payload":{"user":{"email":"a@b.io"}}}"#.utf8)

    struct Case: Sendable, CustomTestStringConvertible {
        let provider: String
        let name: String
        let status: Int
        let code: String?
        /// Turns valid headers and body into the request under test.
        let tamper: @Sendable (inout HTTPFields, inout [UInt8], Int64) -> Void

        var testDescription: String { "\(provider): \(name)" }
    }

    static func basic(_ user: String, _ password: String) -> String {
        "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
    }

    static let stripeSignature = HTTPField.Name("Stripe-Signature")!
    static let thinkificSignature = HTTPField.Name("X-Thinkific-Hmac-Sha256")!

    /// `header` with `wrong` wrong `v1` entries before its own.
    static func padded(_ header: String, now: Int64, wrong: Int) -> String {
        "t=\(now)," + String(repeating: "v1=\(String(repeating: "b", count: 64)),", count: wrong) + header.dropFirst("t=\(now),".count)
    }

    static func stripeHeader(_ secret: String, t: Int64, body: [UInt8]) -> String {
        "t=\(t),v1=" + HexHMAC.hex(HexHMAC(secret: secret).signature(Array("\(t).".utf8), body))
    }

    static let cases: [Case] = [
        Case(provider: "postmark", name: "valid, current password", status: 202, code: nil) { _, _, _ in },
        Case(provider: "postmark", name: "valid, old password during rotation", status: 202, code: nil) { headers, _, _ in
            headers[.authorization] = basic(TestApp.postmarkUser, TestApp.postmarkPasswords[0])
        },
        Case(provider: "postmark", name: "no credentials", status: 401, code: "auth") { headers, _, _ in headers[.authorization] = nil },
        Case(provider: "postmark", name: "wrong password", status: 401, code: "auth") { headers, _, _ in
            headers[.authorization] = basic(TestApp.postmarkUser, "guess")
        },
        Case(provider: "postmark", name: "wrong user", status: 401, code: "auth") { headers, _, _ in
            headers[.authorization] = basic("someone", TestApp.postmarkPasswords[1])
        },
        Case(provider: "postmark", name: "not basic", status: 401, code: "auth") { headers, _, _ in
            headers[.authorization] = "Bearer \(TestApp.postmarkPasswords[1])"
        },
        Case(provider: "postmark", name: "garbage base64", status: 401, code: "auth") { headers, _, _ in
            headers[.authorization] = "Basic !!!"
        },
        Case(provider: "stripe", name: "valid", status: 202, code: nil) { _, _, _ in },
        Case(provider: "stripe", name: "one of several v1 valid, v0 ignored", status: 202, code: nil) { headers, body, now in
            headers[stripeSignature] = "t=\(now),v0=\(String(repeating: "0", count: 64)),v1=\(String(repeating: "a", count: 64)),"
                + stripeHeader(TestApp.stripeSecret, t: now, body: body).dropFirst("t=\(now),".count)
        },
        Case(provider: "stripe", name: "missing header", status: 400, code: "missing_header") { headers, _, _ in
            headers[stripeSignature] = nil
        },
        Case(provider: "stripe", name: "wrong secret", status: 401, code: "signature") { headers, body, now in
            headers[stripeSignature] = stripeHeader("whsec_other", t: now, body: body)
        },
        Case(provider: "stripe", name: "tampered body", status: 401, code: "signature") { _, body, _ in
            body = Array(String(decoding: body, as: UTF8.self).replacingOccurrences(of: "a@b.io", with: "e@v.il").utf8)
        },
        Case(provider: "stripe", name: "only a v0 signature", status: 401, code: "signature") { headers, body, now in
            headers[stripeSignature] = stripeHeader(TestApp.stripeSecret, t: now, body: body).replacingOccurrences(of: "v1=", with: "v0=")
        },
        Case(provider: "stripe", name: "stale timestamp", status: 401, code: "timestamp") { headers, body, now in
            headers[stripeSignature] = stripeHeader(TestApp.stripeSecret, t: now - 301, body: body)
        },
        // Stripe's libraries refuse only old timestamps (see StripeSource): a future one passes.
        Case(provider: "stripe", name: "future timestamp", status: 202, code: nil) { headers, body, now in
            headers[stripeSignature] = stripeHeader(TestApp.stripeSecret, t: now + 301, body: body)
        },
        Case(provider: "stripe", name: "timestamp a day ahead", status: 202, code: nil) { headers, body, now in
            headers[stripeSignature] = stripeHeader(TestApp.stripeSecret, t: now + 86_400, body: body)
        },
        Case(provider: "stripe", name: "future timestamp, wrong secret", status: 401, code: "signature") { headers, body, now in
            headers[stripeSignature] = stripeHeader("whsec_other", t: now + 301, body: body)
        },
        Case(provider: "stripe", name: "non-numeric timestamp", status: 401, code: "timestamp") { headers, _, _ in
            headers[stripeSignature] = "t=soon,v1=\(String(repeating: "a", count: 64))"
        },
        Case(provider: "stripe", name: "no timestamp", status: 401, code: "signature") { headers, _, _ in
            headers[stripeSignature] = "v1=\(String(repeating: "a", count: 64))"
        },
        // A signature header is bounded (WebhookAuthError.signatureHeaderLimit): 60 wrong v1 entries
        // and the right one (4,160 bytes) are refused before any is checked; 59 (4,092 bytes) pass.
        Case(provider: "stripe", name: "header past 4,096 bytes", status: 400, code: "invalid_header") { headers, body, now in
            headers[stripeSignature] = padded(stripeHeader(TestApp.stripeSecret, t: now, body: body), now: now, wrong: 60)
        },
        Case(provider: "stripe", name: "header just under 4,096 bytes", status: 202, code: nil) { headers, body, now in
            headers[stripeSignature] = padded(stripeHeader(TestApp.stripeSecret, t: now, body: body), now: now, wrong: 59)
        },
        Case(provider: "thinkific", name: "valid", status: 202, code: nil) { _, _, _ in },
        Case(provider: "thinkific", name: "valid in upper-case hex", status: 202, code: nil) { headers, _, _ in
            headers[thinkificSignature] = headers[thinkificSignature]!.uppercased()
        },
        Case(provider: "thinkific", name: "missing header", status: 400, code: "missing_header") { headers, _, _ in
            headers[thinkificSignature] = nil
        },
        Case(provider: "thinkific", name: "wrong signature", status: 401, code: "signature") { headers, _, _ in
            headers[thinkificSignature] = String(repeating: "ab", count: 32)
        },
        Case(provider: "thinkific", name: "not hex", status: 401, code: "signature") { headers, _, _ in
            headers[thinkificSignature] = "zz"
        },
        Case(provider: "thinkific", name: "tampered body", status: 401, code: "signature") { _, body, _ in
            body.append(UInt8(ascii: " "))
        },
    ]

    static func body(for provider: String) -> [UInt8] {
        switch provider {
        case "postmark": postmarkBody
        case "stripe": stripeBody
        default: thinkificBody
        }
    }

    @Test(arguments: StoreBackend.enabled, cases)
    func authentication(backend: StoreBackend, of testCase: Case) async throws {
        try await TestApp.with(backend) { app in try await Self.check(testCase, app) }
    }

    static func check(_ testCase: Case, _ app: TestApp) async throws {
        var body = body(for: testCase.provider)
        var headers = try app.providerHeaders(testCase.provider, body: body)
        testCase.tamper(&headers, &body, app.clock.now().seconds)
        let (sentHeaders, sentBody) = (headers, body)
        try await app.test { client in
            let response = try await client.execute(
                uri: "/webhooks/\(testCase.provider)", method: .post, headers: sentHeaders, body: ByteBuffer(bytes: sentBody))
            #expect(Int(response.status.code) == testCase.status)
            #expect(response.errorCode == testCase.code)
        }
        let counts = try await app.counts()
        if testCase.status == 202 {
            #expect(counts == (1, 1))
        } else {
            #expect(counts == (0, 0), "a refused call must write nothing")
        }
    }

    @Test(arguments: ["postmark", "stripe", "thinkific"])
    func anUnconfiguredProviderRefusesEveryCall(provider: String) async throws {
        let app = try await TestApp.make {
            $0.postmarkCredentials = nil
            $0.stripeSecret = nil
            $0.thinkificSecret = nil
        }
        let body = Self.body(for: provider)
        let headers = try app.providerHeaders(provider, body: body)
        try await app.test { client in
            let response = try await client.execute(uri: "/webhooks/\(provider)", method: .post, headers: headers, body: ByteBuffer(bytes: body))
            #expect(response.status == .unauthorized)
            #expect(response.errorCode == "auth")
        }
        #expect(try await app.counts() == (0, 0))
    }
}
