import Engine
import FuzzSupport

/// `JSONParser`, the first step of every body Cortex reads (webhooks, the API, stored graphs and
/// filters). Any bytes must give a value or a `Failure` at an offset inside the input; a value
/// must serialize to compact JSON that parses back to the same value (stored metadata is that
/// text), and serializing again must give the same text.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let value: JSON
    do {
        value = try JSONParser.parse(bytes)
    } catch {
        FuzzCheck.require((0...size).contains(error.offset), "a failure's offset \(error.offset) lies in the \(size) bytes")
        FuzzCheck.require(!error.reason.isEmpty, "a failure says why")
        return 0
    }
    let text = value.serialized()
    let again: JSON
    do {
        again = try JSONParser.parse(Array(text.utf8))
    } catch {
        fatalError("broken promise: serialized JSON does not parse (\(error)): \(text.prefix(200))")
    }
    FuzzCheck.require(again == value, "serialized JSON parses back to the same value")
    FuzzCheck.require(again.serialized() == text, "serializing is stable")
    // The longest growth is an escape such as `\b` (2 bytes) written as `\u0008` (6 bytes).
    FuzzCheck.require(text.utf8.count <= size * 3, "compact JSON is at most three times its source")
    _ = value.containsNUL
    if let object = value.objectValue {
        for member in object.members.prefix(16) {
            FuzzCheck.require(object[member.key] != nil && object[ignoringCase: member.key] != nil, "every key is found")
            _ = object[ignoringCase: member.key.uppercased()]
        }
    }
    return 0
}
