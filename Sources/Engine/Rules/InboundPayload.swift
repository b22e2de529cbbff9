/// The first step for every JSON webhook body, shared by all sources.
public enum InboundPayload {
    /// Parses `body` as a JSON object that Cortex can store.
    public static func parseObject(_ body: [UInt8]) throws(InputError) -> JSONObject {
        let root: JSON
        do {
            root = try JSONParser.parse(body)
        } catch {
            throw .json(error)
        }
        guard let object = root.objectValue else { throw .invalidJSON("the top level must be an object") }
        // PostgreSQL cannot store U+0000 in text or jsonb; refuse it on every backend alike.
        guard !root.containsNUL else {
            throw .invalidField("body", "contains a U+0000 character in a string, which Cortex cannot store")
        }
        return object
    }
}
