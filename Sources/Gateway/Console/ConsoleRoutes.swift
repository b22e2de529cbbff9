import Crypto
import Engine
import Hummingbird

/// The web console (ENGINE.md §6): its page at `/`, its assets (embedded in the binary, named by
/// content hash so they are cached for good), and its sign-in. The console is a client of the
/// `/v1` API: after signing in with an API key it sends the session cookie instead of the key,
/// and its writes carry the session's CSRF token (checked by ``APIKeyAuthenticator``).
struct ConsoleRoutes {
    let store: any ConsoleSessionRepository
    let authenticator: APIKeyAuthenticator
    let clock: any WallClock
    /// Whether Cortex is served over https (`CORTEX_PUBLIC_URL`): the cookie is then `Secure`.
    let secure: Bool

    func register(on routes: RouteRegistrar) {
        routes.add(.get, "/") { _, _ in ConsoleAssets.page() }
        routes.add(.get, "/console/{asset}") { _, context in
            ConsoleAssets.asset(named: context.parameters.get("asset") ?? "")
        }
        routes.add(.post, "/console/session", signIn)
        routes.add(.get, "/console/session", currentSession)
        routes.add(.delete, "/console/session", signOut)
    }

    /// `{"api_key"}` → a session: its cookie, and the CSRF token the page keeps in memory.
    @Sendable func signIn(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let object = try InboundPayload.parseObject(try await BodyLimit.collect(request))
        guard case .string(let key)? = object["api_key"], !key.isEmpty, key.utf8.count <= 512 else {
            throw InputError.invalidField("api_key", "must be an API key")
        }
        guard let keyHash = try await authenticator.keyHash(ofValidKey: key) else {
            throw APIError(.unauthorized, code: "auth", "the API key is not valid")
        }
        let now = clock.now()
        let token = ConsoleCookie.randomToken()
        let session = ConsoleSession(
            keyHash: keyHash, csrfToken: ConsoleCookie.randomToken(), expiresAt: now.adding(seconds: ConsoleCookie.lifetimeSeconds))
        try await store.createConsoleSession(tokenHash: APIKeyAuthenticator.hashHex(token), session, at: now)
        var response = JSONResponse.make(.ok, Self.json(session))
        response.headers[.setCookie] = ConsoleCookie.set(token, secure: secure)
        response.headers[.cacheControl] = "no-store"
        return response
    }

    /// The session of the cookie (a reloaded page gets its CSRF token back), or 401.
    @Sendable func currentSession(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        guard let session = try await authenticator.consoleSession(of: request) else {
            throw APIError(.unauthorized, code: "auth", "not signed in")
        }
        var response = JSONResponse.make(.ok, Self.json(session))
        response.headers[.cacheControl] = "no-store"
        return response
    }

    /// Ends the session (its CSRF token required, as for every write) and removes the cookie.
    @Sendable func signOut(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        guard try await authenticator.consoleSession(of: request) != nil, let token = ConsoleCookie.token(in: request.headers) else {
            throw APIError(.unauthorized, code: "auth", "not signed in")
        }
        try await store.deleteConsoleSession(tokenHash: APIKeyAuthenticator.hashHex(token))
        var response = Response(status: .noContent)
        response.headers[.setCookie] = ConsoleCookie.clear(secure: secure)
        return response
    }

    private static func json(_ session: ConsoleSession) -> JSON {
        .object(["csrf_token": .string(session.csrfToken), "expires_at": .string(RFC3339.format(session.expiresAt))])
    }
}
