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
    func methods(matching path: String) -> [HTTPRequest.Method] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        return entries.filter { entry in
            let pattern = entry.path.split(separator: "/", omittingEmptySubsequences: true)
            guard pattern.count == segments.count else { return false }
            return zip(pattern, segments).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
        }.map(\.method)
    }
}

/// Adds a route to the router and records it in the table: the one way routes are registered.
struct RouteRegistrar {
    let router: Router<BasicRequestContext>
    let table: RouteTable

    func add(
        _ method: HTTPRequest.Method, _ path: String,
        _ handler: @escaping @Sendable (Request, BasicRequestContext) async throws -> Response
    ) {
        table.record(RouteTable.Entry(method: method, path: path))
        router.on(RouterPath(path), method: method, use: handler)
    }
}
