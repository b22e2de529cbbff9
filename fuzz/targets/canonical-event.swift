import Engine
import FuzzSupport
@testable import Gateway

/// The canonical event, both ways it arrives: `/webhooks/checkout` (Standard Webhooks, then
/// `CanonicalEvent`) and `POST /v1/events` (API key, so straight to `CanonicalEvent`, where an
/// event must name its contact). `{sig}` in `webhook-signature` is the valid signature.
private let checkout = CheckoutSource(verifier: try! StandardWebhooksVerifier(secret: FuzzCredentials.checkoutSecret))
private let api = APIEventSource()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCanonicalEvent(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let request = FuzzRequest(UnsafeBufferPointer(start: data, count: size))
    let forged = !request.uses("{sig}")
    FuzzPipeline.run(checkout, forged ? request : FuzzCredentials.standardWebhooks(request, checkout.verifier!), forged: forged)
    FuzzPipeline.accept(api, request.inbound)
    if let event = try? CanonicalEvent.parse(request.body) {
        FuzzCheck.require(!event.type.isEmpty && event.type.utf8.count <= 200, "an event's type is 1 to 200 bytes")
        if let time = event.occurredAt { FuzzCheck.requireRoundTrip(time, "an event's timestamp") }
    }
    return 0
}
