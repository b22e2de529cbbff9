/// The directory's rules that both stores share, free of I/O: attribute merging, tag identity,
/// the activities a change writes, and paging.
public enum DirectoryRules {
    /// The customer activity types as an SQL list of literals (fixed text, never input).
    static var customerTypesSQL: String {
        FilterCompiler.customerActivityTypes.map { "'\($0)'" }.joined(separator: ", ")
    }

    /// `stored` (a JSON object's text) with `changes` merged in key by key; a `null` removes a key.
    ///
    /// Changes that repeat a key (at any depth) are refused, as the HTTP API refuses such a
    /// document: merged key by key the last would win here, while each store's JSON functions
    /// (SQLite keeps text as it is, PostgreSQL's jsonb keeps the last) would read a nested one
    /// differently. Both stores merge through here, so they refuse alike.
    public static func merged(attributes stored: String, with changes: JSONObject) throws -> String {
        if let key = JSON.object(changes).firstRepeatedKey {
            throw InputError(code: "duplicate_key", message: "the attributes repeat the key \"\(key.prefix(64))\"")
        }
        var members = (try? JSONParser.parse(Array(stored.utf8)))?.objectValue?.members ?? []
        for change in changes.members {
            members.removeAll { $0.key == change.key }
            if !change.value.isNull { members.append(change) }
        }
        return JSON.object(JSONObject(members)).serialized()
    }

    /// Tags trimmed, without empties, one per ASCII-case-folded key, first spelling kept.
    public static func distinctTags(_ tags: [String]) -> [String] {
        var seen: Set<String> = []
        var distinct: [String] = []
        for raw in tags {
            let tag = raw.trimmingASCIIWhitespace()
            guard !tag.isEmpty, seen.insert(FilterCompiler.foldASCII(tag)).inserted else { continue }
            distinct.append(tag)
        }
        return distinct
    }

    static func tagMetadata(_ tag: String) -> String {
        JSON.object(["tag": .string(tag)]).serialized()
    }

    /// The activity a consent change writes; none for a return to `unknown`.
    static func consentActivityType(_ status: ConsentStatus) -> String? {
        switch status {
        case .granted: "consent.granted"
        case .revoked: "consent.revoked"
        case .unknown: nil
        }
    }

    static func consentMetadata(source: String?) -> String {
        JSON.object(source.map { ["source": .string($0)] } ?? [:]).serialized()
    }

    /// A page from `limit + 1` rows of `(id, email)`: the extra row only says another page exists.
    static func page(_ rows: [(Int64, String)], limit: Int) -> DirectoryPage {
        let shown = rows.prefix(limit)
        return DirectoryPage(
            emails: shown.compactMap { EmailAddress($0.1) },
            nextCursor: rows.count > limit ? shown.last?.0 : nil)
    }

    /// A smart list from its stored columns `(id, name, filter JSON text, created µs, updated µs)`.
    static func smartList(_ row: (Int64, String, String, Int64, Int64)) throws -> SmartList {
        SmartList(
            id: row.0, name: row.1, filter: try JSONParser.parse(Array(row.2.utf8)),
            createdAt: Timestamp(microseconds: row.3), updatedAt: Timestamp(microseconds: row.4))
    }

    /// Whether a consent given or revoked at `time` changes the contact's: it must differ, and
    /// be no older than the consent the contact has (events arrive out of order and twice).
    static func consentChanges(from current: String?, since: Timestamp?, to status: ConsentStatus, at time: Timestamp) -> Bool {
        guard status.rawValue != current else { return false }
        guard let since else { return true }
        return time >= since
    }
}
