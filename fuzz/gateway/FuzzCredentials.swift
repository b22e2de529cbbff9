import Engine
import FuzzSupport
import Foundation

/// The secrets the webhook targets are configured with, and the credentials a sender holding
/// them sends: what replaces a target's placeholder in a fuzz input.
enum FuzzCredentials {
    static let checkoutSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    static let stripeSecret = "whsec_stripe_fuzz"
    static let thinkificSecret = "thinkific-api-key"
    static let postmarkUser = "postmark"
    static let postmarkPasswords = ["hook-pass", "rotated-pass"]

    /// `{sig}`: the `v1` base64 signature of the request's `webhook-id`, `webhook-timestamp`
    /// (when it is an integer, else `{now}`) and body.
    static func standardWebhooks(_ request: FuzzRequest, _ verifier: StandardWebhooksVerifier) -> FuzzRequest {
        let inbound = request.inbound
        let id = inbound.header("webhook-id") ?? ""
        let timestamp = inbound.header("webhook-timestamp").flatMap { Int64($0) } ?? FuzzCheck.now.seconds
        let signature = verifier.signature(id: id, timestamp: timestamp, body: request.body)
        return request.replacing("{sig}", with: String(signature.dropFirst("v1,".count)))
    }

    /// `{sig}`: the hex `v1` of `{now}.body` under the Stripe secret.
    static func stripe(_ request: FuzzRequest) -> FuzzRequest {
        let signature = HexHMAC(secret: stripeSecret).signature(Array("\(FuzzCheck.now.seconds).".utf8), request.body)
        return request.replacing("{sig}", with: HexHMAC.hex(signature))
    }

    /// `{sig}`: the hex HMAC of the body under the Thinkific key.
    static func thinkific(_ request: FuzzRequest) -> FuzzRequest {
        request.replacing("{sig}", with: HexHMAC.hex(HexHMAC(secret: thinkificSecret).signature(request.body)))
    }

    /// `{basic}`: `Basic` and the base64 of the Postmark user and its first password.
    static func postmark(_ request: FuzzRequest) -> FuzzRequest {
        let pair = Data("\(postmarkUser):\(postmarkPasswords[0])".utf8).base64EncodedString()
        return request.replacing("{basic}", with: "Basic \(pair)")
    }
}
