import Testing

@testable import Engine

@Suite struct RFC3339Tests {
    @Test(arguments: [
        ("2021-02-21T16:22:10Z", Int64(1_613_924_530_000_000)),
        ("2021-02-21T16:22:10.5Z", 1_613_924_530_500_000),
        ("2021-02-21T16:22:10.1234567Z", 1_613_924_530_123_456),
        ("2021-02-21T16:22:10.123456789Z", 1_613_924_530_123_456),
        ("2021-02-21t16:22:10z", 1_613_924_530_000_000),
        ("2021-02-21 16:22:10Z", 1_613_924_530_000_000),
        ("2021-02-21T17:22:10+01:00", 1_613_924_530_000_000),
        ("2021-02-21T11:22:10.000-05:00", 1_613_924_530_000_000),
        ("1970-01-01T00:00:00Z", 0),
        ("1969-12-31T23:59:59.999999Z", -1),
        ("2024-02-29T00:00:00Z", 1_709_164_800_000_000),
    ])
    func parsesValidTimestamps(text: String, microseconds: Int64) {
        #expect(RFC3339.parse(text) == Timestamp(microseconds: microseconds))
    }

    @Test(arguments: [
        "", "2021-02-21", "2021-02-21T16:22:10", "2021-02-30T00:00:00Z", "2023-02-29T00:00:00Z",
        "2021-13-01T00:00:00Z", "2021-02-21T24:00:00Z", "2021-02-21T16:60:00Z", "2021-02-21T16:22:10.Z",
        "2021-02-21T16:22:10.1234567890Z", "2021-02-21T16:22:10+0100", "2021-02-21T16:22:10Zjunk",
        "21-02-21T16:22:10Z", "2021-02-21T16:22:10+24:00", "１９７０-01-01T00:00:00Z",
    ])
    func rejectsInvalidTimestamps(text: String) {
        #expect(RFC3339.parse(text) == nil)
    }

    @Test func formatsInUTCWithMicroseconds() {
        #expect(RFC3339.format(Timestamp(microseconds: 1_613_924_530_123_456)) == "2021-02-21T16:22:10.123456Z")
        #expect(RFC3339.format(Timestamp(microseconds: -1)) == "1969-12-31T23:59:59.999999Z")
    }

    /// Found by fuzzing (fuzz/corpus/rfc3339): a leap second or an offset carried a valid text
    /// past 9999-12-31 or before 0001-01-01, which Cortex then answered as `10000-01-01T...` or
    /// `0000-12-31T...`, text it refuses itself.
    @Test(arguments: [
        "9999-12-31T23:59:60Z", "9999-12-31T23:59:59-00:01", "9999-12-31T23:59:60.999999999+00:00",
        "0001-01-01T00:00:00+00:01", "0001-01-01T00:59:59.999999+01:00",
    ])
    func rejectsInstantsOutsideTheYearsRFC3339Writes(text: String) {
        #expect(RFC3339.parse(text) == nil)
    }

    @Test(arguments: [
        "0001-01-01T00:00:00Z", "0001-01-01T00:00:00-23:59", "0001-01-01T01:00:00+01:00",
        "9999-12-31T23:59:59.999999Z", "9999-12-31T23:59:59+23:59", "9999-12-31T22:59:60-00:00",
    ])
    func acceptsTheFirstAndLastWritableInstants(text: String) throws {
        let time = try #require(RFC3339.parse(text))
        #expect(RFC3339.representable.contains(time))
        #expect(RFC3339.parse(RFC3339.format(time)) == time)
    }

    @Test func readsUnixSecondsOnlyInTheWritableYears() {
        #expect(RFC3339.timestamp(unixSeconds: 1_614_265_330) == Timestamp(seconds: 1_614_265_330))
        #expect(RFC3339.timestamp(unixSeconds: 253_402_300_799).map(RFC3339.format) == "9999-12-31T23:59:59.000000Z")
        #expect(RFC3339.timestamp(unixSeconds: -62_135_596_800).map(RFC3339.format) == "0001-01-01T00:00:00.000000Z")
        for seconds: Int64 in [253_402_300_800, -62_135_596_801, .max, .min, 99_999_999_999_999_999] {
            #expect(RFC3339.timestamp(unixSeconds: seconds) == nil)
        }
    }

    @Test func formatAndParseRoundTrip() {
        for micros: Int64 in [0, 1, 951_782_400_000_000, 4_102_444_799_999_999, 1_795_709_115_691_353] {
            let time = Timestamp(microseconds: micros)
            #expect(RFC3339.parse(RFC3339.format(time)) == time)
        }
    }
}
