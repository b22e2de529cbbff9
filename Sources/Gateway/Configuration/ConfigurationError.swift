/// A setting that cannot be used, named by its environment variable so the fix is obvious.
struct ConfigurationError: Error, CustomStringConvertible {
    let message: String

    init(_ message: String) {
        self.message = message
    }

    var description: String { message }
}
