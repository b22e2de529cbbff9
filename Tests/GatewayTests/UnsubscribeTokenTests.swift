import Crypto
import Foundation
import Testing

@testable import Gateway

/// The one-click unsubscribe token: its MAC written as unpadded base64url (RFC 4648 §5), and
/// only the exact token a key signed accepted.
@Suite struct UnsubscribeTokenTests {
    let key = SymmetricKey(data: Data((0..<32).map { UInt8($0 * 7 % 256) }))

    @Test func theMacIsUnpaddedBase64URL() throws {
        for (campaign, contact) in [(1, 1), (7, 123_456), (Int64.max, Int64.max), (42, 9)] as [(Int64, Int64)] {
            let token = UnsubscribeToken(campaignID: campaign, contactID: contact).signed(with: key)
            let mac = HMAC<SHA256>.authenticationCode(for: Array("unsubscribe.\(campaign).\(contact)".utf8), using: key)
            let expected = Data(mac).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            #expect(token == "\(campaign).\(contact).\(expected)")
            #expect(UnsubscribeToken.verified(token, with: key) == UnsubscribeToken(campaignID: campaign, contactID: contact))
        }
    }

    @Test func anAlteredTokenIsRefused() {
        let token = UnsubscribeToken(campaignID: 3, contactID: 5).signed(with: key)
        let other = SymmetricKey(data: Data(repeating: 1, count: 32))
        #expect(UnsubscribeToken.verified(token, with: other) == nil)
        #expect(UnsubscribeToken.verified(String(token.dropLast()), with: key) == nil)
        #expect(UnsubscribeToken.verified(token + "A", with: key) == nil)
        #expect(UnsubscribeToken.verified(token.replacingOccurrences(of: "3.5.", with: "3.6."), with: key) == nil)
        var flipped = Array(token)
        flipped[flipped.count - 5] = flipped[flipped.count - 5] == "A" ? "B" : "A"
        #expect(UnsubscribeToken.verified(String(flipped), with: key) == nil)
    }
}
