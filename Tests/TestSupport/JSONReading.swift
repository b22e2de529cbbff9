import Engine

/// Reading nested JSON in assertions: `body["data"]?["id"]`.
extension JSON {
    public subscript(key: String) -> JSON? { objectValue?[key] }

    public var arrayValue: [JSON]? {
        if case .array(let items) = self { return items }
        return nil
    }
}
