import Engine
import FuzzSupport

/// An inbound HTTP request read from a fuzz input: `name: value` header lines, an empty line,
/// then the raw body (an input without an empty line is all headers). Names are lower-cased, as
/// the pipeline hands them to a source.
///
/// Placeholders let the fuzzer reach what follows authentication, which it could never reach by
/// guessing a MAC: `{now}` becomes ``FuzzCheck/now`` in seconds, and each target replaces its own
/// credential placeholder (`{sig}`, `{basic}`) with the value a sender holding the secret would
/// send. An input without the placeholder must never authenticate.
struct FuzzRequest {
    var headers: [(name: String, value: String)] = []
    var body: [UInt8] = []

    init(_ data: UnsafeBufferPointer<UInt8>) {
        var lineStart = 0
        var index = 0
        var bodyStart = data.count
        while index < data.count {
            if data[index] == 0x0A {
                var end = index
                if end > lineStart, data[end - 1] == 0x0D { end -= 1 }
                if end == lineStart {
                    bodyStart = index + 1
                    break
                }
                addHeader(UnsafeBufferPointer(rebasing: data[lineStart..<end]))
                lineStart = index + 1
            }
            index += 1
        }
        if bodyStart == data.count, lineStart < data.count {
            addHeader(UnsafeBufferPointer(rebasing: data[lineStart..<data.count]))
        }
        if bodyStart < data.count { body = Array(UnsafeBufferPointer(rebasing: data[bodyStart..<data.count])) }
    }

    private mutating func addHeader(_ line: UnsafeBufferPointer<UInt8>) {
        let text = FuzzCheck.text(line)
        guard let colon = text.firstIndex(of: ":") else { return }
        let name = text[..<colon].lowercased()
        let value = String(text[text.index(after: colon)...]).trimmingASCIIWhitespace()
        headers.append((name: name, value: value.replacing("{now}", with: String(FuzzCheck.now.seconds))))
    }

    /// Whether any header holds `placeholder`.
    func uses(_ placeholder: String) -> Bool {
        headers.contains { $0.value.contains(placeholder) }
    }

    /// The request with `placeholder` replaced in every header value.
    func replacing(_ placeholder: String, with value: String) -> FuzzRequest {
        var copy = self
        copy.headers = headers.map { (name: $0.name, value: $0.value.replacing(placeholder, with: value)) }
        return copy
    }

    /// What the pipeline hands to a source, received at ``FuzzCheck/now``.
    var inbound: InboundRequest {
        InboundRequest(headers: headers, body: body, receivedAt: FuzzCheck.now)
    }
}
