import Engine
import FuzzSupport
@testable import Gateway

/// `/webhooks/thinkific` whole: the body's HMAC in `X-Thinkific-Hmac-Sha256`, then the
/// normalization of enrollments, completions and orders. `{sig}` is the valid HMAC.
private let source = ThinkificSource(secret: FuzzCredentials.thinkificSecret)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzThinkific(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let request = FuzzRequest(UnsafeBufferPointer(start: data, count: size))
    let forged = !request.uses("{sig}")
    FuzzPipeline.run(source, forged ? request : FuzzCredentials.thinkific(request), forged: forged)
    return 0
}
