import Engine
import FuzzSupport
@testable import Gateway

/// `/webhooks/stripe` whole: the signature, then the event's normalization (Checkout Sessions
/// become `checkout.completed`). `{sig}` in `Stripe-Signature` is the valid `v1`.
private let source = StripeSource(secret: FuzzCredentials.stripeSecret)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzStripe(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let request = FuzzRequest(UnsafeBufferPointer(start: data, count: size))
    let forged = !request.uses("{sig}")
    FuzzPipeline.run(source, forged ? request : FuzzCredentials.stripe(request), forged: forged)
    return 0
}
