import CortexTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Engine
@testable import Gateway

/// `GET /v1/instance` says how Cortex is set up, for the console's settings page, and never
/// what a secret is.
@Suite struct InstanceAPITests {
    @Test func theSetUpIsShownWithoutItsSecrets() async throws {
        let app = try await TestApp.make {
            $0.mailProvider = .postmark
            $0.postmarkServerToken = "pm-server-token-not-to-be-shown"
            $0.postmarkAPIURL = "http://127.0.0.1:9"
            $0.mailFrom = "Shop <shop@example.com>"
            $0.sendRate = 500
            $0.publicURL = "https://crm.example.com"
            $0.stripeSecret = nil
        }
        try await app.test { client in
            #expect(try await client.execute(uri: "/v1/instance", method: .get).status == .unauthorized)
            let answer = try await client.execute(uri: "/v1/instance", method: .get, headers: app.bearer)
            #expect(answer.status == .ok)
            let json = answer.json
            #expect(json["database"] == .string("sqlite") && json["public_url"] == .string("https://crm.example.com"))
            #expect(json["mail"]?["provider"] == .string("postmark") && json["mail"]?["from"] == .string("Shop <shop@example.com>"))
            #expect(json["mail"]?["broadcast_stream"] == .string("broadcast") && json["mail"]?["send_rate"] == .number("500.0"))
            #expect(json["sender"] == .object(["state": .string("sending"), "paused_reason": .null]))
            #expect(json["inbound_sources"]?["stripe"] == .bool(false) && json["inbound_sources"]?["postmark"] == .bool(true))
            #expect(json["archive_retention_days"] == .int(30))
            let text = String(buffer: answer.body)
            for secret in ["pm-server-token-not-to-be-shown", TestApp.apiKey, TestApp.secret, TestApp.thinkificSecret]
                + TestApp.postmarkPasswords
            {
                #expect(!text.contains(secret), "GET /v1/instance shows a secret")
            }

            // The provider refused the configuration: the sender is paused, and the page says why.
            app.senderStatus.pause("Postmark refused the server token (401)")
            let paused = try await client.execute(uri: "/v1/instance", method: .get, headers: app.bearer).json["sender"]
            #expect(paused == .object(["state": .string("paused"), "paused_reason": .string("Postmark refused the server token (401)")]))
        }
    }
}
