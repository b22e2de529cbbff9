import Engine
import Hummingbird

/// One-click unsubscribe (RFC 8058, ENGINE.md §5), without a bearer key: the token is the proof.
/// `POST /u/{token}` (what a mail client sends for `List-Unsubscribe-Post`) unsubscribes at once
/// and answers 200, no redirect; `GET /u/{token}` (a person following the link, or a link
/// scanner) only answers a page whose button POSTs, so scanners unsubscribe nobody. Both are
/// idempotent; an invalid token is a 404 page.
struct UnsubscribeRoutes {
    let store: any CampaignRepository
    let key: UnsubscribeKey
    let clock: any WallClock

    func register(on routes: RouteRegistrar) {
        routes.add(.get, "/u/{token}") { _, context in
            guard try await token(context) != nil else { return Self.page(.notFound, Self.invalid) }
            let action = "/u/" + (context.parameters.get("token") ?? "")
            return Self.page(
                .ok,
                """
                <h1>Unsubscribe?</h1>
                <p>You will get no more newsletters from us. Messages about your orders still arrive.</p>
                <form method="post" action="\(CampaignMail.attribute(action))">
                <input type="hidden" name="List-Unsubscribe" value="One-Click">
                <button type="submit">Unsubscribe</button></form>
                """)
        }
        routes.add(.post, "/u/{token}") { request, context in
            guard let token = try await token(context) else { return Self.page(.notFound, Self.invalid) }
            // The body (`List-Unsubscribe=One-Click`) carries nothing the token does not: read
            // and drop it, bounded, whatever a client sends.
            _ = try? await BodyLimit.collect(request)
            guard try await store.unsubscribe(contactID: token.contactID, campaignID: token.campaignID, at: clock.now()) != nil else {
                return Self.page(.notFound, Self.invalid)
            }
            return Self.page(.ok, "<h1>You are unsubscribed</h1><p>You will get no more newsletters from us.</p>")
        }
    }

    private func token(_ context: BasicRequestContext) async throws -> UnsubscribeToken? {
        guard let text = context.parameters.get("token") else { return nil }
        return UnsubscribeToken.verified(text, with: try await key.get())
    }

    static let invalid = "<h1>This link is not valid</h1><p>It may have been copied incompletely.</p>"

    /// A small self-contained page (no scripts, no external assets).
    static func page(_ status: HTTPResponse.Status, _ body: String) -> Response {
        let html = """
            <!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">\
            <meta name="robots" content="noindex"><title>Unsubscribe</title>\
            <style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}\
            button{font-size:1rem;padding:.5rem 1rem}</style></head><body>\(body)</body></html>
            """
        return Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}
