import Hummingbird

/// Requires a valid API key before a `/v1` route's handler runs.
///
/// `RouteRegistrar` puts every `/v1` route behind it, so no handler can forget to check. It runs
/// before the handler, so a refused request has read no body and written nothing; it applies
/// to matched routes only, so unknown `/v1` paths and methods still answer 404 and 405.
struct APIKeyMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext

    let authenticator: APIKeyAuthenticator

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        try await authenticator.authenticate(request)
        return try await next(request, context)
    }
}
