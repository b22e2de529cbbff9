import Engine
import Foundation

/// Makes API keys: the one place a key is generated, named and stored, so `cortex keys create`
/// and `POST /v1/keys` make the same kind of key under the same rules.
enum APIKeyIssuer {
    /// The longest key name, in characters.
    static let maximumNameLength = 100

    /// A new key and its stored row. The key is for the one answer that shows it; only its
    /// SHA-256 hash and hint are stored, and it is never logged.
    struct Issued: Sendable {
        let record: APIKey
        let key: String
    }

    /// A new random key: `ck_` and 32 bytes from the system's cryptographic generator, base64url.
    static func makeKey() -> String {
        "ck_" + RandomToken.make(bytes: 32)
    }

    /// The part of a key shown to tell keys apart: its last 4 characters.
    static func hint(of key: String) -> String {
        String(key.suffix(4))
    }

    /// `raw` trimmed, when it is a name a key may have: 1 to 100 characters on one line. Control
    /// characters are refused too: a name is shown in tables and terminals.
    static func validName(_ raw: String) throws(InputError) -> String {
        let name = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        let oneLine = !name.unicodeScalars.contains { scalar in
            switch scalar.properties.generalCategory {
            case .control, .lineSeparator, .paragraphSeparator: true
            default: false
            }
        }
        guard oneLine, (1...maximumNameLength).contains(name.count) else {
            throw InputError.invalidField("name", "must be one line of 1 to \(maximumNameLength) characters")
        }
        return name
    }

    /// Generates a key and stores its hash and hint under `name` (already valid).
    static func issue(name: String, store: any APIKeyRepository, at time: Timestamp) async throws -> Issued {
        let key = makeKey()
        let record = try await store.createAPIKey(name: name, keyHash: APIKeyAuthenticator.hashHex(key), hint: hint(of: key), at: time)
        return Issued(record: record, key: key)
    }
}
