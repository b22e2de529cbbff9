/// Why an inbound payload cannot be accepted. Each case maps to a 400 with a stable `code`.
///
/// Kept in Engine because the rules that raise it (event normalization) live here; the HTTP
/// mapping lives in one place in Gateway.
public struct InputError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The stable machine-readable code, e.g. `invalid_json`.
    public let code: String
    /// A sentence for a person, naming the field at fault.
    public let message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }

    public static func invalidJSON(_ detail: String) -> InputError {
        InputError(code: "invalid_json", message: "the body is not valid JSON: \(detail)")
    }
    /// A JSON parse failure as the 400 it becomes: `duplicate_key` for a repeated object key
    /// (the document is well-formed, but ambiguous), `invalid_json` for anything else.
    public static func json(_ failure: JSONParser.Failure) -> InputError {
        failure.isDuplicateKey
            ? InputError(code: "duplicate_key", message: "the body repeats a key: \(failure.description)")
            : .invalidJSON(failure.description)
    }
    public static let missingType = InputError(code: "missing_type", message: "the event has no \"type\" string")
    public static let missingEmail = InputError(code: "missing_email", message: "the event has no \"data.email\"")
    public static func invalidEmail(_ field: String) -> InputError {
        InputError(code: "invalid_email", message: "\"\(field)\" is not a valid email address")
    }
    public static func invalidField(_ field: String, _ expectation: String) -> InputError {
        InputError(code: "invalid_field", message: "\"\(field)\" \(expectation)")
    }
    public static func invalidTimestamp(_ field: String) -> InputError {
        InputError(code: "invalid_timestamp", message: "\"\(field)\" is not an RFC 3339 timestamp")
    }
}
