import Engine
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Gateway

/// The console's preview of a campaign: its HTML rendered for a sample contact, served as a
/// sandboxed document whose own policy lets an email's inline styles show and runs no script.
@Suite struct CampaignPreviewAPITests {
    @Test func aCampaignIsRenderedForASampleContactInASandbox() async throws {
        let app = try await TestApp.make { $0.publicURL = "https://crm.example.com" }
        try await app.test { client in
            let created = try await client.execute(
                uri: "/v1/campaigns", method: .post, headers: app.bearer,
                body: ByteBuffer(string: #"{"name": "N", "subject": "Hi", "from": "shop@example.com", "html": "<p style=\"color:red\">Hi {{contact.first_name}}</p>", "filter": {"everyone": true}}"#))
            guard case .number(let id)? = created.json["id"] else { Issue.record("no id: \(created.json)"); return }
            let preview = try await client.execute(uri: "/v1/campaigns/\(id)/preview", method: .get, headers: app.bearer)
            #expect(preview.status == .ok && preview.headers[.contentType]?.hasPrefix("text/html") == true)
            let html = String(buffer: preview.body)
            #expect(html.contains("<p style=\"color:red\">Hi Sample</p>"))
            #expect(html.contains("https://crm.example.com/u/preview"), "the footer link, a sample")
            let policy = try #require(preview.headers[HTTPField.Name("Content-Security-Policy")!])
            #expect(policy.hasPrefix("sandbox;") && policy.contains("style-src 'unsafe-inline'") && !policy.contains("script-src"))
            #expect(try await client.execute(uri: "/v1/campaigns/999/preview", method: .get, headers: app.bearer).status == .notFound)
            #expect(try await client.execute(uri: "/v1/campaigns/\(id)/preview", method: .get).status == .unauthorized)
        }
    }
}
