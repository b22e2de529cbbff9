/// Marketing consent carried by an event: the checkout form's opt-in box arrives as
/// `"marketing_opt_in": true | false` in the event's data (the activity's metadata).
public enum ConsentSignal {
    public static let key = "marketing_opt_in"

    /// The consent an activity states, or `nil` when it says nothing (or something not boolean).
    public static func of(_ activity: NewActivity) -> ConsentStatus? {
        guard activity.metadata.utf8.count > key.utf8.count, activity.metadata.containsBytes(of: key),
            let metadata = (try? JSONParser.parse(Array(activity.metadata.utf8)))?.objectValue,
            case .bool(let optIn)? = metadata[key]
        else { return nil }
        return optIn ? .granted : .revoked
    }

    /// The directory updates the activities' consent signals ask for, in order.
    public static func updates(_ activities: [NewActivity], source: String) -> [ContactUpdate] {
        activities.compactMap { activity in
            of(activity).map {
                ContactUpdate(email: activity.contactEmail, consent: $0, consentSource: source, consentAt: activity.occurredAt)
            }
        }
    }
}
