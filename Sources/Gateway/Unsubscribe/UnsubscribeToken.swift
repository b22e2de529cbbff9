import Crypto
import Engine
import Foundation

/// The opaque token of a one-click unsubscribe link (ENGINE.md §5): `<campaign>.<contact>.<mac>`,
/// the MAC an HMAC-SHA256 of the two ids under a key Cortex makes on first start and keeps in
/// the database. It names whom to unsubscribe and cannot be forged or altered; it holds no
/// address, so a link shared by mistake reveals nothing.
struct UnsubscribeToken: Equatable {
    let campaignID: Int64
    let contactID: Int64

    /// The token for these ids under `key`.
    func signed(with key: SymmetricKey) -> String {
        "\(campaignID).\(contactID)." + Base64URL.encode(Array(Self.mac(campaignID, contactID, key)))
    }

    /// The ids of a token signed with `key`; `nil` for anything else (forged, truncated, altered).
    static func verified(_ token: String, with key: SymmetricKey) -> UnsubscribeToken? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count <= 19, parts[1].count <= 19, let campaign = Int64(parts[0]), let contact = Int64(parts[1]),
            campaign > 0, contact > 0, let given = Self.decodeBase64URL(String(parts[2]))
        else { return nil }
        guard ConstantTime.equals(given, Array(mac(campaign, contact, key))) else { return nil }
        return UnsubscribeToken(campaignID: campaign, contactID: contact)
    }

    private static func mac(_ campaign: Int64, _ contact: Int64, _ key: SymmetricKey) -> HMAC<SHA256>.MAC {
        HMAC<SHA256>.authenticationCode(for: Array("unsubscribe.\(campaign).\(contact)".utf8), using: key)
    }


    private static func decodeBase64URL(_ text: String) -> [UInt8]? {
        guard text.count <= 64, text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            return nil
        }
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        standard += String(repeating: "=", count: (4 - standard.count % 4) % 4)
        return Data(base64Encoded: standard).map(Array.init)
    }
}

/// The unsubscribe key, read (or made) once from the store and kept.
actor UnsubscribeKey {
    static let secretName = "unsubscribe_hmac_key"
    private let store: any CampaignRepository
    private var key: SymmetricKey?

    init(store: any CampaignRepository) {
        self.store = store
    }

    func get() async throws -> SymmetricKey {
        if let key { return key }
        let text = try await store.secret(named: Self.secretName) {
            var generator = SystemRandomNumberGenerator()
            return Data((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }).base64EncodedString()
        }
        let loaded = SymmetricKey(data: Data(base64Encoded: text) ?? Data(text.utf8))
        key = loaded
        return loaded
    }
}

/// Links under `CORTEX_PUBLIC_URL`, signed with the store's key.
struct SignedUnsubscribeLinks: UnsubscribeLinks {
    let publicURL: String
    let key: UnsubscribeKey

    func url(campaignID: Int64, contactID: Int64) async throws -> String {
        publicURL + "/u/" + UnsubscribeToken(campaignID: campaignID, contactID: contactID).signed(with: try await key.get())
    }
}
