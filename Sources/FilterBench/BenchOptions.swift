/// The command line of `filter-bench`. Parsed by hand: the target depends on Engine only (and
/// swift-log for the PostgreSQL store's logger), not on ArgumentParser.
struct BenchOptions {
    var databaseURL = ""
    var contacts = 100_000
    var activitiesPerContact = 10
    var runs = 20

    static let usage = """
        usage: filter-bench --database-url sqlite:PATH|postgres://... [--contacts N] [--runs N]
          --database-url URL   an empty store to migrate, seed and measure
          --contacts N         contacts to seed (default 100000); activities are 10 per contact
          --runs N             runs of each measured operation, the first discarded (default 20)
        Prints one JSON line on standard output; progress and query plans go to standard error.
        """

    struct UsageError: Error, CustomStringConvertible {
        let description: String
    }

    init(_ arguments: [String]) throws(UsageError) {
        var rest = arguments[...]
        func value(_ flag: String) throws(UsageError) -> String {
            guard let next = rest.popFirst() else { throw UsageError(description: "\(flag) needs a value") }
            return next
        }
        func count(_ flag: String, minimum: Int) throws(UsageError) -> Int {
            let text = try value(flag)
            guard let number = Int(text), number >= minimum else {
                throw UsageError(description: "\(flag) must be a whole number of at least \(minimum), got \(text)")
            }
            return number
        }
        while let flag = rest.popFirst() {
            switch flag {
            case "--database-url": databaseURL = try value(flag)
            case "--contacts": contacts = try count(flag, minimum: 100)
            case "--runs": runs = try count(flag, minimum: 2)
            default: throw UsageError(description: "unknown option \(flag)")
            }
        }
        guard !databaseURL.isEmpty else { throw UsageError(description: "--database-url is required") }
        // Activities are spread over contacts by a multiplicative step that must visit every
        // contact equally often (see DataSet); 7919 is prime, so any count it does not divide works.
        guard contacts % DataSet.contactStep != 0 else {
            throw UsageError(description: "--contacts must not be a multiple of \(DataSet.contactStep)")
        }
    }
}
