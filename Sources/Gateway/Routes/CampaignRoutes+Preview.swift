import Engine
import HTTPTypes
import Hummingbird

/// `GET /v1/campaigns/{id}/preview`: the campaign's HTML as a sample contact ("Sample Contact")
/// would get it, for the console's design step. A document of its own, not JSON, so an email's
/// inline styles show: its own policy lets them, runs no script, loads nothing but images, and
/// sandboxes the page (the console frames it without scripts too).
extension CampaignRoutes {
    static let previewPolicy =
        "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; font-src https: data:; frame-ancestors 'self'"

    func preview(_ id: Int64) async throws -> Response {
        let campaign = try await found(id)
        // A sample link: a preview names no recipient, so nobody could be unsubscribed by it.
        let rendered = CampaignMail.test(
            id, campaign.definition, to: sampleContact(EmailAddress("sample@example.com")!), unsubscribeURL: (publicURL ?? "") + "/u/preview")
        switch rendered {
        case .success(let message):
            return Response(
                status: .ok,
                headers: [
                    .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                    HTTPField.Name("Content-Security-Policy")!: Self.previewPolicy, HTTPField.Name("X-Content-Type-Options")!: "nosniff",
                ],
                body: .init(byteBuffer: ByteBuffer(string: message.html ?? "")))
        case .failure(let failure):
            throw InputError(code: "render_failed", message: failure.reason)
        }
    }
}
