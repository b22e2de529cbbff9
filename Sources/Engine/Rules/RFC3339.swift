/// RFC 3339 timestamps: parsing what senders write, formatting what Cortex answers.
public enum RFC3339 {
    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`.
    ///
    /// Accepts 0 to 9 fractional digits (digits past the sixth are truncated), `T`, `t` or a space
    /// between date and time, and `Z`, `z` or a numeric offset. Returns `nil` for anything else,
    /// including impossible dates such as February 30th and instants outside ``representable``
    /// (`9999-12-31T23:59:60Z`, `0001-01-01T00:00:00+01:00`).
    public static func parse(_ text: String) -> Timestamp? {
        let bytes = Array(text.utf8)
        var index = 0

        func number(_ digits: Int) -> Int? {
            guard index + digits <= bytes.count else { return nil }
            var value = 0
            for offset in 0..<digits {
                let byte = bytes[index + offset]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            index += digits
            return value
        }
        func expect(_ allowed: Set<UInt8>) -> Bool {
            guard index < bytes.count, allowed.contains(bytes[index]) else { return false }
            index += 1
            return true
        }

        guard let year = number(4), expect([UInt8(ascii: "-")]),
            let month = number(2), expect([UInt8(ascii: "-")]),
            let day = number(2), expect([UInt8(ascii: "T"), UInt8(ascii: "t"), UInt8(ascii: " ")]),
            let hour = number(2), expect([UInt8(ascii: ":")]),
            let minute = number(2), expect([UInt8(ascii: ":")]),
            let second = number(2)
        else { return nil }
        guard year >= 1, (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
            hour <= 23, minute <= 59, second <= 60
        else { return nil }

        var micros = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var digits = 0
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                if digits < 6 { micros = micros * 10 + Int(bytes[index] - UInt8(ascii: "0")) }
                digits += 1
                index += 1
            }
            guard (1...9).contains(digits) else { return nil }
            if digits < 6 {
                for _ in digits..<6 { micros *= 10 }
            }
        }

        var offsetSeconds = 0
        guard index < bytes.count else { return nil }
        switch bytes[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            index += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let sign = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            index += 1
            guard let offsetHours = number(2), expect([UInt8(ascii: ":")]), let offsetMinutes = number(2),
                offsetHours <= 23, offsetMinutes <= 59
            else { return nil }
            offsetSeconds = sign * (offsetHours * 3600 + offsetMinutes * 60)
        default:
            return nil
        }
        guard index == bytes.count else { return nil }

        let days = daysFromCivil(year: year, month: month, day: day)
        // A leap second (:60) is folded into the next second; nothing Cortex does needs more.
        let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offsetSeconds)
        let time = Timestamp(microseconds: seconds * 1_000_000 + Int64(micros))
        // A leap second or an offset can carry a valid text past year 9999 or before year 1, where
        // `format` could not answer it as RFC 3339 (a fifth year digit, year 0).
        return representable.contains(time) ? time : nil
    }

    /// The instants RFC 3339 can write, years 1 to 9999 in UTC: the only times Cortex accepts,
    /// since it answers every time it keeps in this form and must read its own answers back.
    public static let representable = Timestamp(microseconds: -62_135_596_800_000_000)...Timestamp(microseconds: 253_402_300_799_999_999)

    /// The instant `seconds` after the epoch (a Unix time, as Stripe sends `created`), or `nil`
    /// outside ``representable``; unlike `Timestamp(seconds:)`, no value overflows.
    public static func timestamp(unixSeconds seconds: Int64) -> Timestamp? {
        let bounds = representable.lowerBound.seconds...representable.upperBound.seconds
        return bounds.contains(seconds) ? Timestamp(seconds: seconds) : nil
    }

    /// Formats in UTC with exactly six fractional digits, e.g. `2021-02-21T16:22:10.000000Z`.
    public static func format(_ timestamp: Timestamp) -> String {
        let totalSeconds = timestamp.seconds
        let micros = Int(timestamp.microseconds - totalSeconds * 1_000_000)
        var days = Int(totalSeconds / 86_400)
        var secondsOfDay = Int(totalSeconds % 86_400)
        if secondsOfDay < 0 {
            secondsOfDay += 86_400
            days -= 1
        }
        let (year, month, day) = civilFromDays(days)
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondsOfDay / 3600, 2)):"
            + "\(pad(secondsOfDay / 60 % 60, 2)):\(pad(secondsOfDay % 60, 2)).\(pad(micros, 6))Z"
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    // Howard Hinnant's days_from_civil / civil_from_days: exact for the proleptic Gregorian calendar.
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    package static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
