import Engine
import FuzzSupport
@testable import Gateway

/// The `Stripe-Signature` header (`t=...,v1=...`, several `v1` while a secret rolls) over the raw
/// body, alone. `{sig}` in a header is the valid hex `v1` of `{now}.body`; an input without it
/// must never authenticate.
private let source = StripeSource(secret: FuzzCredentials.stripeSecret)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzStripeSignature(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var request = FuzzRequest(UnsafeBufferPointer(start: data, count: size))
    let forged = !request.uses("{sig}")
    if !forged { request = FuzzCredentials.stripe(request) }
    do {
        try source.authenticate(request.inbound)
    } catch {
        FuzzCheck.require(!error.message.isEmpty, "a refusal says why")
        return 0
    }
    FuzzCheck.require(!forged, "a request without a valid v1 signature authenticated")
    return 0
}
