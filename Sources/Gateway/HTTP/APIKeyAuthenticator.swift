import Crypto
import Engine
import Foundation
import HTTPTypes
import Hummingbird

/// Checks a `/v1/*` request: `Authorization: Bearer <key>` against `CORTEX_API_KEYS` and the
/// stored keys not revoked (`cortex keys create`, `POST /v1/keys`), or else the console's session cookie (ENGINE.md §6),
/// whose writes must also carry the session's `X-CSRF-Token`.
///
/// Only SHA-256 hashes are kept in memory and in the database; configured keys are compared by
/// hash in constant time, stored keys are found by their hash. A session is checked against the
/// key that opened it on every request, so revoking the key ends its sessions.
struct APIKeyAuthenticator: Sendable {
    private let configuredHashes: [[UInt8]]
    private let store: any APIKeyRepository & ConsoleSessionRepository
    private let clock: any WallClock

    init(configuredKeys: [String], store: any APIKeyRepository & ConsoleSessionRepository, clock: any WallClock = SystemWallClock()) {
        self.configuredHashes = configuredKeys.map { Array(SHA256.hash(data: Array($0.utf8))) }
        self.store = store
        self.clock = clock
    }

    static func hashHex(_ key: String) -> String {
        HexHMAC.hex(Array(SHA256.hash(data: Array(key.utf8))))
    }


    /// The header a console write carries its session's CSRF token in.
    static let csrfHeader = HTTPField.Name("X-CSRF-Token")!

    func authenticate(_ request: Request) async throws {
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else {
                throw APIError(.unauthorized, code: "auth", "the Authorization header must be Bearer <API key>")
            }
            guard try await keyHash(ofValidKey: parts[1].trimmingCharacters(in: .whitespaces)) != nil else {
                throw APIError(.unauthorized, code: "auth", "the API key is not valid")
            }
            return
        }
        guard try await consoleSession(of: request) != nil else {
            throw APIError(.unauthorized, code: "auth", "missing Authorization: Bearer <API key>")
        }
    }

    /// The console session of the request's cookie (`nil` without one), its CSRF token checked
    /// when the request writes: the `/v1` routes and the console's own sign-out go through here.
    func consoleSession(of request: Request) async throws -> ConsoleSession? {
        guard let token = ConsoleCookie.token(in: request.headers) else { return nil }
        let session = try await consoleSession(token: token)
        if !Self.safeMethods.contains(request.method) {
            // The cookie goes with any request the browser makes; the token only with the
            // console's own, which read it from the session.
            let given = request.headers[Self.csrfHeader] ?? ""
            guard ConstantTime.equals(Array(given.utf8), Array(session.csrfToken.utf8)) else {
                throw APIError(.forbidden, code: "csrf", "a console write must carry its session's X-CSRF-Token header")
            }
        }
        return session
    }

    private static let safeMethods: Set<HTTPRequest.Method> = [.get, .head, .options]

    /// The SHA-256 (hex) of `key` when it is a valid API key, else `nil`.
    func keyHash(ofValidKey key: String) async throws -> String? {
        let digest = Array(SHA256.hash(data: Array(key.utf8)))
        return try await isValid(digest) ? HexHMAC.hex(digest) : nil
    }

    /// The console session of a cookie's token, while it lasts and its key is valid.
    func consoleSession(token: String) async throws -> ConsoleSession {
        guard let session = try await store.consoleSession(tokenHash: Self.hashHex(token), now: clock.now()),
            let digest = HexHMAC.bytes(fromHex: session.keyHash), digest.count == 32, try await isValid(digest)
        else { throw APIError(.unauthorized, code: "auth", "the console session has ended; sign in again") }
        return session
    }

    private func isValid(_ digest: [UInt8]) async throws -> Bool {
        // Check every configured key, without stopping at a match, so timing says nothing.
        var matched = false
        for hash in configuredHashes where ConstantTime.equals(hash, digest) {
            matched = true
        }
        if matched { return true }
        return try await store.apiKeyExists(keyHash: HexHMAC.hex(digest))
    }
}
