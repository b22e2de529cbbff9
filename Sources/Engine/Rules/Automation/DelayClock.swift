import Foundation

/// When a delay ends: a fixed wait, or the next wall-clock time of day in a timezone, on allowed
/// weekdays. Calendar arithmetic in the zone, so a delay until 09:00 is 09:00 local on either side
/// of a daylight-saving change, and a time the change skips (02:30 on a spring-forward night)
/// is the first moment after the gap.
enum DelayClock {
    static func wakeUp(_ delay: DelayStep, after now: Timestamp, timezone: String) -> Timestamp? {
        switch delay {
        case .seconds(let seconds):
            return now.adding(seconds: seconds)
        case .until(let hour, let minute, let weekdays):
            guard let zone = TimeZone(identifier: timezone) else { return nil }
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone
            let start = Date(timeIntervalSince1970: Double(now.microseconds) / 1_000_000)
            var from = start
            // At most a week of days to find an allowed weekday.
            for _ in 0..<8 {
                guard
                    let next = calendar.nextDate(
                        after: from, matching: DateComponents(hour: hour, minute: minute, second: 0),
                        matchingPolicy: .nextTime, repeatedTimePolicy: .first, direction: .forward)
                else { return nil }
                // ISO weekdays (1 = Monday) from Calendar's (1 = Sunday).
                let iso = (calendar.component(.weekday, from: next) + 5) % 7 + 1
                if weekdays?.contains(iso) ?? true {
                    return Timestamp(microseconds: Int64((next.timeIntervalSince1970 * 1_000_000).rounded()))
                }
                from = next
            }
            return nil
        }
    }
}
