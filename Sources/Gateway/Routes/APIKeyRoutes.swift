import Engine
import Hummingbird

/// Stored API keys, for the console's settings page: list them, make one (shown once), revoke
/// one. Keys from `CORTEX_API_KEYS` are configuration: counted, never listed or revoked here.
///
/// A revoked key stops opening `/v1` at once, and so do the console sessions it opened:
/// ``APIKeyAuthenticator`` checks a session's key on every request.
struct APIKeyRoutes {
    let store: any APIKeyRepository
    /// How many keys `CORTEX_API_KEYS` holds.
    let configuredKeys: Int
    let clock: any WallClock

    func register(on routes: RouteRegistrar) {
        routes.add(.get, "/v1/keys") { _, _ in
            JSONResponse.make(
                .ok,
                .object([
                    "data": .array(try await store.apiKeys().map(ResourceJSON.apiKey)),
                    "configured_keys": .int(configuredKeys),
                ]))
        }
        routes.add(.post, "/v1/keys") { request, _ in
            let object = try InboundPayload.parseObject(try await BodyLimit.collect(request))
            guard let raw = object["name"]?.stringValue else {
                throw InputError.invalidField("name", "must be one line of 1 to \(APIKeyIssuer.maximumNameLength) characters")
            }
            let issued = try await APIKeyIssuer.issue(name: try APIKeyIssuer.validName(raw), store: store, at: clock.now())
            var body = ResourceJSON.apiKey(issued.record).objectValue ?? JSONObject()
            body.members.append((key: "key", value: .string(issued.key)))
            var response = JSONResponse.make(.created, .object(body))
            // The only answer that carries the key: no cache may keep a copy.
            response.headers[.cacheControl] = "no-store"
            return response
        }
        routes.add(.delete, "/v1/keys/{id}") { _, context in
            let id = try PathID.parse(context, "API key")
            guard let key = try await store.revokeAPIKey(id: id, at: clock.now()) else {
                throw APIError.notFound("no API key \(id)")
            }
            return JSONResponse.make(.ok, ResourceJSON.apiKey(key))
        }
    }
}
