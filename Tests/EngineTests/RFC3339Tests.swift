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

    @Test func formatAndParseRoundTrip() {
        for micros: Int64 in [0, 1, 951_782_400_000_000, 4_102_444_799_999_999, 1_795_709_115_691_353] {
            let time = Timestamp(microseconds: micros)
            #expect(RFC3339.parse(RFC3339.format(time)) == time)
        }
    }
}
