import Engine
import FuzzSupport
@testable import Gateway

/// `/webhooks/postmark` whole: basic auth (Postmark does not sign), then the normalization of
/// every record type, with keys in any letter case. `{basic}` in `Authorization` is the valid
/// credential.
private let source = PostmarkSource(
    credentials: BasicCredentials(user: FuzzCredentials.postmarkUser, passwords: FuzzCredentials.postmarkPasswords))

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPostmark(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let request = FuzzRequest(UnsafeBufferPointer(start: data, count: size))
    let forged = !request.uses("{basic}")
    FuzzPipeline.run(source, forged ? request : FuzzCredentials.postmark(request), forged: forged)
    return 0
}
