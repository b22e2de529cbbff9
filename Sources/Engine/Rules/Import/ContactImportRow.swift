/// One contact as a line of an import file describes it (ENGINE.md §1, `POST /v1/contacts/import`),
/// every value already validated.
///
/// ``ContactImportReader`` is what validates; a row built with the public initializer (tests,
/// expected values) is only as valid as its maker. A field that is `nil` (or, for `tags` and `attributes`,
/// empty) was not given on that line: the store leaves what the contact already has, so a CSV
/// with only `email,tags` adds tags without erasing names.
public struct ContactImportRow: Sendable, Equatable {
    /// The line of the file the row starts on, counting the header row (CSV) or the first line
    /// (NDJSON) as 1, as the import's `failures[].line` does.
    public var line: Int
    /// The contact the row is about (trimmed, lower-cased); the only field every row must give.
    public var email: EmailAddress
    /// Trimmed, at most ``ContactImportRow/maximumTextBytes`` bytes; so are `lastName` and `externalID`.
    public var firstName: String?
    public var lastName: String?
    /// The id the contact has in the sender's system; a JSON number in NDJSON becomes its exact text.
    public var externalID: String?
    /// A time zone name that Foundation's `TimeZone(identifier:)` knows (`Europe/Berlin`), trimmed,
    /// as written.
    public var timezone: String?
    /// Trimmed, non-empty, at most ``ContactImportRow/maximumTagBytes`` bytes each, without repeats
    /// ignoring ASCII case (the first spelling is kept, as tags are everywhere in Cortex).
    public var tags: [String]
    /// `granted`, `revoked` or `unknown` in any letter case.
    public var consent: ConsentStatus?
    /// Built from the `attributes.<path>` columns or keys; nested along dotted paths. CSV values
    /// are strings; NDJSON values keep their JSON types, including `null` (which `PUT` treats as
    /// "remove this key", and the store applies the same way).
    public var attributes: JSONObject

    public init(
        line: Int, email: EmailAddress, firstName: String? = nil, lastName: String? = nil,
        externalID: String? = nil, timezone: String? = nil, tags: [String] = [], consent: ConsentStatus? = nil,
        attributes: JSONObject = JSONObject()
    ) {
        self.line = line
        self.email = email
        self.firstName = firstName
        self.lastName = lastName
        self.externalID = externalID
        self.timezone = timezone
        self.tags = tags
        self.consent = consent
        self.attributes = attributes
    }

    /// The longest name or external id accepted, in UTF-8 bytes.
    public static let maximumTextBytes = 1_000
    /// The longest tag accepted, in UTF-8 bytes.
    public static let maximumTagBytes = 255
    /// The most tags one row may carry.
    public static let maximumTags = 100
    /// The longest attribute value accepted, in UTF-8 bytes: of the text for a string (a CSV
    /// cell, an NDJSON string), of the compact JSON text for any other NDJSON value.
    public static let maximumAttributeBytes = 10_000
}
