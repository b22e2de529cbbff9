import Engine
import FuzzSupport
@testable import Gateway

/// The Standard Webhooks verifier (`/webhooks/checkout`): the `webhook-id`, `webhook-timestamp`
/// and `webhook-signature` headers over the raw body. `{sig}` in a header is the valid `v1`
/// signature of the request; an input without it must never verify.
private let verifier = try! StandardWebhooksVerifier(secret: FuzzCredentials.checkoutSecret)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzStandardWebhooks(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var request = FuzzRequest(UnsafeBufferPointer(start: data, count: size))
    let forged = !request.uses("{sig}")
    if !forged { request = FuzzCredentials.standardWebhooks(request, verifier) }
    let inbound = request.inbound
    do {
        try verifier.verify(
            id: inbound.header("webhook-id"), timestamp: inbound.header("webhook-timestamp"),
            signatures: inbound.header("webhook-signature"), body: inbound.body, now: FuzzCheck.now)
    } catch {
        FuzzCheck.require(!error.message.isEmpty, "a refusal says why")
        return 0
    }
    FuzzCheck.require(!forged, "a request without a valid signature verified")
    return 0
}
