/// One authenticated inbound request, as the store archives it (`inbound_events`).
public struct InboundDelivery: Sendable {
    /// `checkout`, `api`, ...
    public var source: String
    /// The sender's event id, the dedupe key within `source`; `nil` when the sender gave none.
    public var externalID: String?
    public var receivedAt: Timestamp
    /// Request headers with credentials and signatures already removed.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(
        source: String, externalID: String?, receivedAt: Timestamp, headers: [(name: String, value: String)],
        body: [UInt8]
    ) {
        self.source = source
        self.externalID = externalID
        self.receivedAt = receivedAt
        self.headers = headers
        self.body = body
    }

    /// The headers as a JSON object, as archived. A repeated header becomes one member whose
    /// values are joined by ", " (RFC 9110 §5.3), so the archive never holds a JSON object with
    /// a repeated key, which Cortex's own parser refuses.
    public var headersJSON: String {
        var members: [(key: String, value: JSON)] = []
        var positions: [String: Int] = [:]
        for header in headers {
            if let position = positions[header.name], case .string(let first) = members[position].value {
                members[position].value = .string(first + ", " + header.value)
            } else {
                positions[header.name] = members.count
                members.append((key: header.name, value: .string(header.value)))
            }
        }
        return JSON.object(JSONObject(members)).serialized()
    }
}

/// What became of an accepted delivery.
public struct IngestOutcome: Sendable, Equatable {
    /// The activities of this delivery; for a duplicate, those written by the first delivery.
    public var activityIDs: [Int64]
    /// True when the same `(source, externalID)` was accepted before and nothing new was written.
    public var duplicate: Bool
    /// The archive row of the accepted delivery.
    public var inboundID: Int64?

    public init(activityIDs: [Int64], duplicate: Bool, inboundID: Int64? = nil) {
        self.activityIDs = activityIDs
        self.duplicate = duplicate
        self.inboundID = inboundID
    }
}

/// The verdict recorded with an archived delivery.
public enum InboundVerdict: String, Sendable, CaseIterable {
    /// Authenticated and normalized (possibly into no activity).
    case accepted
    /// A repeat of an accepted delivery (same sender event id); nothing else was written.
    case duplicate
    /// Authenticated, but its payload could not be normalized (invalid JSON, bad email, ...).
    case rejected
}

/// A row of the raw archive.
public struct InboundEvent: Sendable, Equatable {
    public var id: Int64
    public var source: String
    public var externalID: String?
    public var receivedAt: Timestamp
    /// The archived headers (a JSON object); `{}` once pruned.
    public var headers: String
    /// What the archive keeps of the body: all of it, a prefix (a rejected delivery), or nothing
    /// once pruned.
    public var body: [UInt8]
    /// How many bytes were received; more than `body.count` when only a prefix is kept or the
    /// body was pruned.
    public var bodyLength: Int
    /// When retention removed the body and headers; `nil` while they are kept.
    public var bodyPrunedAt: Timestamp?
    public var verdict: InboundVerdict
    public var reason: String?
    /// For a duplicate: the accepted delivery it repeats.
    public var duplicateOf: Int64?

    /// Retention removed the body and headers.
    public var bodyPruned: Bool { bodyPrunedAt != nil }
    /// The archive keeps only a prefix of the body (a rejected delivery over the prefix limit).
    public var bodyTruncated: Bool { !bodyPruned && body.count < bodyLength }
    /// The body is archived whole, so it can be normalized again.
    public var bodyIsComplete: Bool { !bodyPruned && body.count == bodyLength }

    public init(
        id: Int64, source: String, externalID: String?, receivedAt: Timestamp, headers: String, body: [UInt8],
        verdict: InboundVerdict, reason: String?, duplicateOf: Int64? = nil, bodyLength: Int? = nil,
        bodyPrunedAt: Timestamp? = nil
    ) {
        self.bodyLength = bodyLength ?? body.count
        self.bodyPrunedAt = bodyPrunedAt
        self.duplicateOf = duplicateOf
        self.id = id
        self.source = source
        self.externalID = externalID
        self.receivedAt = receivedAt
        self.headers = headers
        self.body = body
        self.verdict = verdict
        self.reason = reason
    }
}

/// Which archived deliveries to list, newest first (by id).
public struct InboundQuery: Sendable, Equatable {
    public var source: String?
    public var verdict: InboundVerdict?
    public var limit: Int
    /// Only deliveries with an id below this (the previous page's last).
    public var before: Int64?

    public init(source: String? = nil, verdict: InboundVerdict? = nil, limit: Int = 50, before: Int64? = nil) {
        self.source = source
        self.verdict = verdict
        self.limit = limit
        self.before = before
    }
}
