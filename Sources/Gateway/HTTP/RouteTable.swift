import Hummingbird
import Synchronization

/// The routes Cortex serves. Filled while the router is built, then read: it answers "405 or
/// 404?" for unmatched requests and lets tests compare the API with its OpenAPI spec.
final class RouteTable: Sendable {
    struct Entry: Sendable, Hashable {
        let method: HTTPRequest.Method
        /// The path pattern, with `{name}` for parameters, as in OpenAPI.
        let path: String
    }

    private let storage = Mutex<[Entry]>([])

    var entries: [Entry] { storage.withLock { $0 } }

    func record(_ entry: Entry) {
        storage.withLock { $0.append(entry) }
    }

    /// The methods served at a concrete request path, for a 405's `Allow` header.
    ///
    /// Only the most specific patterns count, as the router matches them: a constant segment
    /// wins over a parameter, so `/v1/contacts/import` is POST's alone, not also
    /// `/v1/contacts/{email}`'s GET and PUT.
    func methods(matching path: String) -> [HTTPRequest.Method] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        let matching = entries.compactMap { entry -> (parameters: [Bool], method: HTTPRequest.Method)? in
            let pattern = entry.path.split(separator: "/", omittingEmptySubsequences: true)
            guard pattern.count == segments.count,
                zip(pattern, segments).allSatisfy({ $0.hasPrefix("{") || $0 == $1 })
            else { return nil }
            return (pattern.map { $0.hasPrefix("{") }, entry.method)
        }
        // Segment by segment, a constant (false) sorts before a parameter (true).
        guard let best = matching.map(\.parameters).min(by: { $0.lexicographicallyPrecedes($1) { !$0 && $1 } }) else {
            return []
        }
        let methods = matching.filter { $0.parameters == best }.map(\.method)
        // Every GET route answers HEAD too (`RouteRegistrar.add`).
        return methods.flatMap { $0 == .get ? [.get, .head] : [$0] }
    }
}

/// Adds a route to the router and records it in the table: the one way routes are registered.
///
/// Every route whose path is under `/v1` is registered in a router group behind
/// `APIKeyMiddleware`, so a `/v1` route cannot be added without authentication; other routes
/// (webhooks, which authenticate by their own signatures, and health checks) are not.
struct RouteRegistrar {
    /// The first path segment of the bearer-key API.
    static let apiSegment = "v1"

    /// The router being filled; only `buildRouter` reads it, to serve it.
    let router: Router<BasicRequestContext>
    let table: RouteTable
    /// The routes behind the API key. Its path is empty: routes keep their full paths, so the
    /// table, the metrics' endpoint paths and the router's own list all read `/v1/...`.
    private let authenticated: RouterGroup<BasicRequestContext>

    init(router: Router<BasicRequestContext>, table: RouteTable, authenticator: APIKeyAuthenticator) {
        self.router = router
        self.table = table
        self.authenticated = router.group().add(middleware: APIKeyMiddleware(authenticator: authenticator))
    }

    /// Whether `path` is under `/v1` and so needs the API key. Read by segments and in any letter
    /// case, so `v1/x`, `//v1/x` and `/V1/x` count too: erring towards a key is the safe side.
    static func requiresAPIKey(_ path: String) -> Bool {
        path.split(separator: "/", omittingEmptySubsequences: true).first?.lowercased() == apiSegment
    }

    func add(
        _ method: HTTPRequest.Method, _ path: String,
        _ handler: @escaping @Sendable (Request, BasicRequestContext) async throws -> Response
    ) {
        table.record(RouteTable.Entry(method: method, path: path))
        on(method, path, handler)
        if method == .get {
            // RFC 9110 §9.3.2: HEAD is GET without the body, and a server must support both. The
            // router matches the method before any middleware runs, so each GET route gets its
            // HEAD twin here (not in the table: the OpenAPI spec lists GET).
            on(.head, path) { request, context in try await handler(request, context).createHeadResponse() }
        }
    }

    private func on(
        _ method: HTTPRequest.Method, _ path: String,
        _ handler: @escaping @Sendable (Request, BasicRequestContext) async throws -> Response
    ) {
        if Self.requiresAPIKey(path) {
            authenticated.on(RouterPath(path), method: method, use: handler)
        } else {
            router.on(RouterPath(path), method: method, use: handler)
        }
    }
}
