import Engine
import Hummingbird

/// `GET /v1/campaigns/{id}/timeline?bucket=hour|day`: the campaign's opens and clicks over time,
/// for the console's chart. Each contact counts once per kind, in the hour (or day, UTC) of its
/// first open or click, so the series sum to the campaign's `opened` and `clicked` stats; only
/// spans with any are listed.
extension CampaignRoutes {
    static let timelineBuckets: [(name: String, seconds: Int64)] = [("hour", 3_600), ("day", 86_400)]

    func timeline(_ id: Int64, _ request: Request) async throws -> Response {
        let raw = request.uri.queryParameters["bucket"].map(String.init) ?? "hour"
        guard let bucket = Self.timelineBuckets.first(where: { $0.name == raw }) else {
            throw APIError.invalidParameter("bucket", "must be one of \(Self.timelineBuckets.map(\.name).joined(separator: ", "))")
        }
        _ = try await found(id)
        let buckets = try await store.campaignEngagementTimeline(id: id, bucketSeconds: bucket.seconds)
        return JSONResponse.make(
            .ok,
            .object([
                "bucket": .string(bucket.name),
                "data": .array(
                    buckets.map {
                        .object([
                            "at": .string(RFC3339.format($0.start)), "opened": .int(Int64($0.opened)), "clicked": .int(Int64($0.clicked)),
                        ])
                    }),
            ]))
    }
}
