/// A broadcast to a smart list or a filter (ENGINE.md §5).
public struct Campaign: Sendable, Equatable {
    public var id: Int64
    public var definition: CampaignDefinition
    public var status: CampaignStatus
    /// When a scheduled campaign sends; when a sent one was sent.
    public var scheduledAt: Timestamp?
    public var createdAt: Timestamp
    public var updatedAt: Timestamp
    /// While its audience is still being fanned out, chunk by chunk: the contact id the next
    /// chunk starts after. `nil` before the first chunk and once the last is in the ledger.
    public var fanOutAfter: Int64?

    public init(
        id: Int64, definition: CampaignDefinition, status: CampaignStatus, scheduledAt: Timestamp?, createdAt: Timestamp,
        updatedAt: Timestamp, fanOutAfter: Int64? = nil
    ) {
        self.fanOutAfter = fanOutAfter
        self.id = id
        self.definition = definition
        self.status = status
        self.scheduledAt = scheduledAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// Where a campaign is in its life: edited while `draft` or `scheduled`; `sending` from the
/// moment the first chunk of its audience is fanned out into the ledger; `sent` (read, not
/// stored) once the fan-out is complete and no row is left to send; `cancelled` for good.
public enum CampaignStatus: String, Sendable, CaseIterable {
    case draft, scheduled, sending, sent, cancelled

    /// Whether its content and audience may still change (and it may be deleted).
    public var isEditable: Bool { self == .draft || self == .scheduled }
}

/// A campaign's stored columns, as both stores read them.
struct StoredCampaign {
    var id: Int64
    var definition: String
    var status: String
    var scheduledAt: Int64?
    var createdAt: Int64
    var updatedAt: Int64
    var fanOutAfter: Int64?

    /// Columns in the order the SQLite store selects them.
    static let columns = "id, definition, status, scheduled_at, created_at, updated_at, fanout_after"

    func campaign() throws -> Campaign {
        guard let status = CampaignStatus(rawValue: status) else {
            throw StoreError.invalid("campaign \(id) has an unknown status \(status)")
        }
        guard let object = try JSONParser.parse(Array(definition.utf8)).objectValue else {
            throw StoreError.invalid("campaign \(id) has a definition that is not an object")
        }
        // Stored definitions were valid when written; `from` is always present in them.
        let definition = try CampaignDefinition.parse(object, defaultFrom: nil)
        return Campaign(
            id: id, definition: definition, status: status, scheduledAt: scheduledAt.map(Timestamp.init(microseconds:)),
            createdAt: Timestamp(microseconds: createdAt), updatedAt: Timestamp(microseconds: updatedAt), fanOutAfter: fanOutAfter)
    }
}

/// One chunk of a campaign's fan-out: the rows it queued, and whether it was the last.
public struct CampaignFanOutStep: Sendable, Equatable {
    public var campaignID: Int64
    public var recipients: Int
    public var finished: Bool

    public init(campaignID: Int64, recipients: Int, finished: Bool) {
        self.campaignID = campaignID
        self.recipients = recipients
        self.finished = finished
    }
}

/// A campaign's first opens and first clicks in one span of time: each contact counts once per
/// kind, in the span of its first open (or click), so a timeline sums to the campaign's stats.
public struct CampaignEngagementBucket: Sendable, Equatable {
    /// The span's start, a multiple of its length since the Unix epoch.
    public var start: Timestamp
    public var opened: Int
    public var clicked: Int

    public init(start: Timestamp, opened: Int, clicked: Int) {
        self.start = start
        self.opened = opened
        self.clicked = clicked
    }

    /// Buckets from rows of (type, bucket start in seconds, count), in time order.
    static func buckets(_ rows: [(type: String, startSeconds: Int64, count: Int)]) -> [CampaignEngagementBucket] {
        var byStart: [Int64: CampaignEngagementBucket] = [:]
        for row in rows {
            var bucket = byStart[row.startSeconds] ?? CampaignEngagementBucket(start: Timestamp(seconds: row.startSeconds), opened: 0, clicked: 0)
            if row.type == "email.opened" { bucket.opened += row.count } else if row.type == "email.clicked" { bucket.clicked += row.count }
            byStart[row.startSeconds] = bucket
        }
        return byStart.keys.sorted().compactMap { byStart[$0] }
    }
}
