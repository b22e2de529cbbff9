import CortexTestSupport
import Foundation
import Engine
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Gateway

/// The send API under the hostile-input probe's requests: template bombs, header injection and
/// smuggled mailboxes are each a 400 naming the field, and nothing is queued.
@Suite struct MessageHardeningTests {
    static func bomb(depth: Int, inner: String = "") -> String {
        String(repeating: "{{#a}}", count: depth) + inner + String(repeating: "{{/a}}", count: depth)
    }

    static let tenItems = "[0,1,2,3,4,5,6,7,8,9]"

    @Test(arguments: [
        // The probe's CPU bomb (217 bytes, ~9 s of CPU before), in each templated field.
        (#"{"to":"a@b.io","subject":"s","text":"\#(bomb(depth: 7))","model":{"a":\#(tenItems)}}"#, "text"),
        (#"{"to":"a@b.io","subject":"s","html":"\#(bomb(depth: 7))","model":{"a":\#(tenItems)}}"#, "html"),
        (#"{"to":"a@b.io","subject":"\#(bomb(depth: 7))","text":"t","model":{"a":\#(tenItems)}}"#, "subject"),
        // The probe's output bomb: 293 bytes that rendered a 10 MB body.
        (#"{"to":"a@b.io","subject":"s","text":"\#(bomb(depth: 5, inner: String(repeating: "x", count: 100)))","model":{"a":\#(tenItems)}}"#, "text"),
        // A subject that renders past one header line's 998 octets.
        (#"{"to":"a@b.io","subject":"{{#a}}\#(String(repeating: "y", count: 100)){{/a}}","text":"t","model":{"a":\#(tenItems)}}"#, "subject"),
        // Nesting deeper than the bound, refused before any rendering.
        (#"{"to":"a@b.io","subject":"s","text":"\#(bomb(depth: 9))","model":{"a":true}}"#, "text"),
    ])
    func templatesOverABoundAreRefusedNamingTheField(body: String, field: String) async throws {
        let app = try await TestApp.make { $0.mailFrom = "shop@example.com" }
        try await app.test { client in
            let response = try await client.execute(uri: "/v1/messages", method: .post, headers: app.bearer, body: .init(body))
            #expect(response.status == .badRequest)
            #expect(response.errorCode == "template_too_large")
            #expect(response.json["error"]?["message"]?.stringValue?.hasPrefix("\"\(field)\"") == true)
            // In a batch, the bomb fails alone.
            let batch = "[\(body),{\"to\":\"c@d.io\",\"subject\":\"s\",\"text\":\"t\"}]"
            let results = try await client.execute(uri: "/v1/messages/batch", method: .post, headers: app.bearer, body: .init(batch))
            let items = results.json["data"]?.arrayValue ?? []
            #expect(items.count == 2)
            #expect(items.first?["error"]?["code"] == .string("template_too_large"))
            #expect(items.last?["status"] == .string("queued"))
        }
        #expect(try await app.store.emailJobs(EmailJobQuery()).map(\.message.recipient.value) == ["c@d.io"])
    }

    /// Every way to end a header line, literally and through the model, in the subject, the
    /// sender's name and a custom header's value.
    @Test(arguments: ["\\r\\n", "\\r", "\\n", "\\u000b", "\\u000c", "\\u0085", "\\u2028", "\\u2029", "\\u001b"])
    func lineBreaksOfEveryKindAreRefusedInHeaders(lineBreak: String) async throws {
        let app = try await TestApp.make { $0.mailFrom = "shop@example.com" }
        let bodies = [
            (#"{"to":"a@b.io","subject":"Hi\#(lineBreak)Bcc: evil@example.com","text":"t"}"#, "subject"),
            (#"{"to":"a@b.io","subject":"{{s}}","text":"t","model":{"s":"Hi\#(lineBreak)Bcc: evil@example.com"}}"#, "subject"),
            (#"{"to":"a@b.io","subject":"s","text":"t","from":"Shop\#(lineBreak)Bcc: evil@example.com <shop@example.com>"}"#, "from"),
            (#"{"to":"a@b.io","subject":"s","text":"t","headers":{"X-A":"one\#(lineBreak)Bcc: evil@example.com"}}"#, "headers"),
            (#"{"to":"a@b.io","subject":"s","text":"t","tag":"one\#(lineBreak)two"}"#, "tag"),
        ]
        try await app.test { client in
            for (body, field) in bodies {
                let response = try await client.execute(uri: "/v1/messages", method: .post, headers: app.bearer, body: .init(body))
                #expect(response.status == .badRequest, "\(body)")
                #expect(response.errorCode == "invalid_field", "\(body)")
                #expect(response.json["error"]?["message"]?.stringValue?.contains("\"\(field)\"") == true, "\(body)")
            }
        }
        #expect(try await app.store.emailJobs(EmailJobQuery()).isEmpty)
    }

    @Test(arguments: [
        "Shop <a@example.com>, Evil <e@example.com>",
        "a@example.com, e@example.com",
        "\"Shop\" <a@example.com>, \"Evil\" <e@example.com>",
        "a@example.com; e@example.com",
        "Shop <a@example.com> <e@example.com>",
        "Shop: a@example.com <e@example.com>",
    ])
    func fromIsExactlyOneMailbox(from: String) async throws {
        let app = try await TestApp.make { $0.mailFrom = "shop@example.com" }
        try await app.test { client in
            let body = #"{"to":"a@b.io","subject":"s","text":"t","from":"\#(from.replacingOccurrences(of: "\"", with: "\\\""))"}"#
            let response = try await client.execute(uri: "/v1/messages", method: .post, headers: app.bearer, body: .init(body))
            #expect(response.status == .badRequest)
            #expect(response.errorCode == "invalid_field")
            #expect(response.json["error"]?["message"]?.stringValue?.contains("\"from\"") == true)
        }
        #expect(try await app.store.emailJobs(EmailJobQuery()).isEmpty)
    }

    @Test(arguments: ["Shop <shop@example.com>", "\"Shop, Inc.\" <shop@example.com>", "Ada L. Lovelace <ada@example.com>", "shop@example.com"])
    func aSingleMailboxIsAccepted(from: String) async throws {
        let app = try await TestApp.make()
        try await app.test { client in
            let body = #"{"to":"a@b.io","subject":"s","text":"t","from":"\#(from.replacingOccurrences(of: "\"", with: "\\\""))"}"#
            let response = try await client.execute(uri: "/v1/messages", method: .post, headers: app.bearer, body: .init(body))
            #expect(response.status == .accepted)
            #expect(response.json["from"] == .string(from))
        }
    }

    @Test func aSubjectOverOneHeaderLineIsRefusedWithoutAModelToo() async throws {
        let app = try await TestApp.make { $0.mailFrom = "shop@example.com" }
        try await app.test { client in
            let long = String(repeating: "\u{00E9}", count: 500)  // 500 characters, 1,000 octets
            let refused = try await client.execute(
                uri: "/v1/messages", method: .post, headers: app.bearer, body: .init(#"{"to":"a@b.io","subject":"\#(long)","text":"t"}"#))
            #expect(refused.errorCode == "invalid_field")
            let fits = String(repeating: "\u{00E9}", count: 499)
            let accepted = try await client.execute(
                uri: "/v1/messages", method: .post, headers: app.bearer, body: .init(#"{"to":"a@b.io","subject":"\#(fits)","text":"t"}"#))
            #expect(accepted.status == .accepted)
        }
    }
}
