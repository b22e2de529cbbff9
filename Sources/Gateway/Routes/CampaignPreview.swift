import Engine
import HTTPTypes
import Hummingbird

/// `GET /v1/campaigns/{id}/preview`: the campaign's HTML as a sample contact ("Sample Contact")
/// would get it, for the console's design step. A document of its own, not JSON, so an email's
/// inline styles show: its own policy lets them, runs no script, loads nothing but images, and
/// sandboxes the page (the console frames it without scripts too).
struct CampaignPreview {
    let store: any CampaignRepository
    let clock: any WallClock
    let publicURL: String?

    static let policy =
        "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; font-src https: data:; frame-ancestors 'self'"

    func register(on routes: RouteRegistrar) {
        routes.add(.get, "/v1/campaigns/{id}/preview", preview)
    }

    @Sendable func preview(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let id = try PathID.parse(context, "campaign")
        guard let campaign = try await store.campaign(id: id) else { throw APIError.notFound("no campaign \(id)") }
        let sample = Contact(
            email: EmailAddress("sample@example.com")!, firstName: "Sample", lastName: "Contact", createdAt: clock.now(), tags: [],
            suppression: nil)
        // A sample link: a preview names no recipient, so nobody could be unsubscribed by it.
        switch CampaignMail.test(id, campaign.definition, to: sample, unsubscribeURL: (publicURL ?? "") + "/u/preview") {
        case .success(let message):
            return Response(
                status: .ok,
                headers: [
                    .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                    HTTPField.Name("Content-Security-Policy")!: Self.policy, HTTPField.Name("X-Content-Type-Options")!: "nosniff",
                ],
                body: .init(byteBuffer: ByteBuffer(string: message.html ?? "")))
        case .failure(let failure):
            throw InputError(code: "render_failed", message: failure.reason)
        }
    }
}
