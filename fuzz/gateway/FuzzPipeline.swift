import Engine
import FuzzSupport

/// The steps ``InboundPipeline`` takes with a source, without HTTP or a store: authenticate,
/// parse, find the event id, normalize; then the checks on what would be written.
enum FuzzPipeline {
    /// Runs `request` through `source`. `forged` is true when the input carried no credential
    /// placeholder, so authentication must fail: nothing but the secret's holder signs.
    static func run(_ source: some WebhookSource, _ request: FuzzRequest, forged: Bool) {
        let inbound = request.inbound
        do {
            try source.authenticate(inbound)
        } catch {
            FuzzCheck.require(!error.message.isEmpty, "\(source.name): an authentication failure says why")
            return
        }
        FuzzCheck.require(!forged, "\(source.name) accepted a request that carries no valid credential")
        accept(source, inbound)
    }

    /// What follows authentication (``InboundPipeline/accept(_:_:)``).
    static func accept(_ source: some InboundNormalizer, _ inbound: InboundRequest) {
        _ = CredentialHeaders.redacted(inbound.headers)
        let payload: JSONObject
        do {
            payload = try InboundPayload.parseObject(inbound.body)
        } catch {
            FuzzCheck.require(error.code == "invalid_json" || error.code == "duplicate_key" || error.code == "invalid_field",
                "\(source.name): an unparsable body is a 400 with a known code, not \(error.code)")
            _ = source.eventID(inbound, payload: nil)
            return
        }
        _ = source.eventID(inbound, payload: payload)
        let normalization: Normalization
        do {
            normalization = try source.normalize(payload, inbound)
        } catch {
            FuzzCheck.require(!error.code.isEmpty && !error.message.isEmpty, "\(source.name): a refusal names its code")
            return
        }
        check(normalization, source.name)
    }

    /// What a store would write must be storable and answerable.
    static func check(_ normalization: Normalization, _ name: String) {
        for activity in normalization.activities {
            FuzzCheck.require(!activity.type.isEmpty, "\(name): an activity has a type")
            FuzzCheck.require(EmailAddress(activity.contactEmail.value) == activity.contactEmail,
                "\(name): the contact's address is normalized")
            FuzzCheck.requireStorableObject(activity.metadata, "\(name): an activity's metadata")
            FuzzCheck.requireRoundTrip(activity.occurredAt, "\(name): an activity's occurred_at")
        }
        for change in normalization.suppressions {
            switch change {
            case .suppress(_, let reason, let time):
                FuzzCheck.require(!reason.isEmpty, "\(name): a suppression has a reason")
                FuzzCheck.requireRoundTrip(time, "\(name): a suppression's time")
            case .lift(_, let time):
                FuzzCheck.requireRoundTrip(time, "\(name): a lifted suppression's time")
            }
        }
    }
}
