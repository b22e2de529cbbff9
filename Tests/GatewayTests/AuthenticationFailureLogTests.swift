import CortexTestSupport
import Engine
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Gateway

/// A flood of failed authentications writes one log line per source per minute, while the
/// metrics counter still counts every failure.
@Suite struct AuthenticationFailureLogTests {
    @Test func aHundredBadSignaturesWriteOneLineAndTheNextLineCarriesTheCount() async throws {
        let recorder = LogRecorder()
        var configured = try await TestApp.make()
        configured.logger = recorder.logger()
        let app = configured
        let body = #"{"type":"checkout.completed","data":{"email":"a@example.com"}}"#
        try await app.test { client in
            func postBadSignature() async throws {
                var headers = try app.signed(body)
                headers[.webhookSignature] = "v1,bm90IHRoZSBzaWduYXR1cmU="
                let response = try await client.execute(uri: "/webhooks/checkout", method: .post, headers: headers, body: .init(body))
                #expect(response.status == .unauthorized)
            }
            for _ in 0..<100 { try await postBadSignature() }
            let first = recorder.lines("inbound authentication failed")
            #expect(first.count == 1)
            #expect(first.first?.metadata["source"] == "checkout")
            #expect(first.first?.metadata["suppressed"] == "0")

            // A minute later the next failure is logged with the 99 left out since.
            app.clock.advance(seconds: AuthenticationFailureLog.intervalSeconds)
            try await postBadSignature()
            let lines = recorder.lines("inbound authentication failed")
            #expect(lines.count == 2)
            #expect(lines.last?.metadata["suppressed"] == "99")
            #expect(lines.last?.metadata["reason"] == first.first?.metadata["reason"])

            let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            #expect(metrics.contains(#"cortex_inbound_verdicts_total{source="checkout",verdict="unauthenticated"} 101"#))
        }
    }
}
