import Crypto
import Engine
import Foundation
import Hummingbird

/// Checks `Authorization: Bearer <key>` on `/v1/*` against `CORTEX_API_KEYS` and the keys made
/// with `cortex keys create`.
///
/// Only SHA-256 hashes are kept in memory and in the database; configured keys are compared by
/// hash in constant time, stored keys are found by their hash.
struct APIKeyAuthenticator: Sendable {
    private let configuredHashes: [[UInt8]]
    private let store: any APIKeyRepository

    init(configuredKeys: [String], store: any APIKeyRepository) {
        self.configuredHashes = configuredKeys.map { Array(SHA256.hash(data: Array($0.utf8))) }
        self.store = store
    }

    static func hashHex(_ key: String) -> String {
        SHA256.hash(data: Array(key.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    func authenticate(_ request: Request) async throws {
        guard let header = request.headers[.authorization] else {
            throw APIError(.unauthorized, code: "auth", "missing Authorization: Bearer <API key>")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw APIError(.unauthorized, code: "auth", "the Authorization header must be Bearer <API key>")
        }
        let key = parts[1].trimmingCharacters(in: .whitespaces)
        let digest = Array(SHA256.hash(data: Array(key.utf8)))
        // Check every configured key, without stopping at a match, so timing says nothing.
        var matched = false
        for hash in configuredHashes where ConstantTime.equals(hash, digest) {
            matched = true
        }
        if matched { return }
        if try await store.apiKeyExists(keyHash: Self.hashHex(key)) { return }
        throw APIError(.unauthorized, code: "auth", "the API key is not valid")
    }
}
