/// A set of contacts, as the filter language describes it (smart lists, automation triggers and
/// conditions, campaign audiences). Built only by ``FilterParser``, so every value is valid.
public indirect enum Filter: Sendable, Equatable {
    case all([Filter])
    case any([Filter])
    /// The exact complement: a missing key never makes a comparison "unknown".
    case not(Filter)
    case everyone
    /// Contacts with this tag (matched ignoring case).
    case tag(String)
    /// Members of another smart list.
    case list(Int64)
    case field(FieldCondition)
    case activity(ActivityCondition)
}

/// A comparison of one contact field or attribute with a value.
public struct FieldCondition: Sendable, Equatable {
    public var field: ContactField
    public var comparison: Comparison
}

/// A contact field the filter language can read.
public enum ContactField: Sendable, Equatable {
    case email, firstName, lastName, externalID, timezone, lifecycle, consent
    case createdAt, lastActivityAt
    case suppressed
    /// `attributes.<key>[.<key>...]`: a path into the contact's attributes JSON.
    case attribute([String])

    /// Names as documents write them, for the fixed fields.
    static let named: [String: ContactField] = [
        "email": .email, "first_name": .firstName, "last_name": .lastName, "external_id": .externalID,
        "timezone": .timezone, "lifecycle": .lifecycle, "consent": .consent, "created_at": .createdAt,
        "last_activity_at": .lastActivityAt, "suppressed": .suppressed,
    ]

    /// What values the field holds, which decides the operators and values it takes.
    var kind: Kind {
        switch self {
        case .email, .firstName, .lastName, .externalID, .timezone, .lifecycle, .consent: .text
        case .createdAt, .lastActivityAt: .time
        case .suppressed: .boolean
        case .attribute: .json
        }
    }

    enum Kind { case text, time, boolean, json }
}

/// An operator with its operand, already checked against the field's kind.
public enum Comparison: Sendable, Equatable {
    /// Type-aware equality: `4900` is not `"4900"`.
    case eq(FilterValue)
    case neq(FilterValue)
    case `in`([FilterValue])
    case notIn([FilterValue])
    /// Case-insensitive substring tests on text.
    case contains(String)
    case startsWith(String)
    case endsWith(String)
    /// Ordering of numbers as numbers and times as times.
    case gt(FilterValue)
    case gte(FilterValue)
    case lt(FilterValue)
    case lte(FilterValue)
    case exists
    case notExists
}

/// A scalar a filter compares with.
public enum FilterValue: Sendable, Equatable {
    case string(String)
    /// A JSON number, kept as its text and as a `Double` for ordering.
    case number(String, Double)
    case bool(Bool)
    /// An RFC 3339 time, for `created_at`, `last_activity_at` and activity windows.
    case time(Timestamp)
}

/// "Has at least one (or a counted number of) activities like this".
public struct ActivityCondition: Sendable, Equatable {
    /// The activity `type`; `nil` means any type.
    public var type: String?
    /// Conditions on metadata paths, all of which must hold.
    public var conditions: [MetadataCondition]
    /// Only activities that occurred at or after this time (from `since` or `within_days`).
    public var since: Timestamp?
    /// `within_days` is relative to the moment the filter is evaluated; kept so that a stored
    /// filter stays relative.
    public var withinDays: Int?
    /// Only activities that occurred before this time.
    public var until: Timestamp?
    /// How many matching activities; `nil` means at least one.
    public var count: CountBound?
}

/// A condition on one metadata path of an activity.
public struct MetadataCondition: Sendable, Equatable {
    public var path: [String]
    public var comparison: Comparison
}

/// `{"gte": n}`, `{"lte": n}` or `{"eq": n}` on a count of activities.
public enum CountBound: Sendable, Equatable {
    case gte(Int)
    case lte(Int)
    case eq(Int)
}
