import Engine
import Foundation

/// One filter of the issue.
struct BenchFilter {
    let name: String
    let document: String
}

/// One benchmark run on one store: migrate, seed, measure, explain.
struct FilterBenchRun {
    let store: any BenchStore
    let options: BenchOptions

    static let filters = [
        BenchFilter(
            name: "p2p_not_canva",
            document: #"{"all":[{"activity":{"type":"checkout.completed","where":{"product":"P2P"}}},{"not":{"activity":{"type":"checkout.completed","where":{"product":"Canva"}}}}]}"#
        ),
        BenchFilter(
            name: "three_clause",
            document: #"{"all":[{"tag":"VIP"},{"activity":{"type":"checkout.completed","within_days":30}},{"field":"attributes.plan","op":"eq","value":"pro"}]}"#
        ),
    ]

    /// The issue's bars in milliseconds, compared with each operation's median.
    static let bars: [String: Double] = ["count": 300, "page": 50, "match": 2]
    static let pageSize = 100
    /// A fixed moment, so the data set and every window are the same on both stores and in
    /// every run.
    static let now = Timestamp(seconds: 1_800_000_000)

    var dataSet: DataSet {
        DataSet(contacts: options.contacts, activities: options.contacts * options.activitiesPerContact, now: Self.now)
    }

    func run() async throws -> JSON {
        let now = Self.now
        let clock = ContinuousClock()
        try await store.migrate()
        let existing = try await store.countContacts(matching: .everyone, at: now)
        guard existing == 0 else {
            throw BenchFailure("the store already holds \(existing) contacts; filter-bench seeds an empty one")
        }

        progress("seeding \(dataSet.contacts) contacts and \(dataSet.activities) activities into \(store.description)")
        let seedStart = clock.now
        for statement in dataSet.statements(store.dialect) { try await store.execute(rawSQL: statement) }
        let seeded = clock.now - seedStart
        let analyzeStart = clock.now
        for statement in dataSet.analyze(store.dialect) { try await store.execute(rawSQL: statement) }
        let analyzed = clock.now - analyzeStart
        progress("seeded in \(seeded), analyzed in \(analyzed)")
        let total = try await store.countContacts(matching: .everyone, at: now)
        guard total == dataSet.contacts else { throw BenchFailure("seeded \(total) contacts, expected \(dataSet.contacts)") }

        // The machine is shared: say how busy it was when the measurements started.
        let loadBefore = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?
            .split(separator: " ").first.map { JSON.number(String($0)) } ?? .null
        var results: [(key: String, value: JSON)] = []
        var plans: [(key: String, value: JSON)] = []
        var missed: [JSON] = []
        for benchFilter in Self.filters {
            let filter = try FilterParser.parse(try JSONParser.parse(Array(benchFilter.document.utf8)))
            let measured = try await measure(filter, named: benchFilter.name)
            for (operation, timing, detail) in measured {
                let key = "\(operation)_\(benchFilter.name)"
                let bar = Self.bars[operation] ?? .infinity
                if timing.median >= bar { missed.append(.string(key)) }
                var fields: [(key: String, value: JSON)] = [
                    (key: "median_ms", value: number(timing.median)), (key: "p95_ms", value: number(timing.p95)),
                    (key: "bar_ms", value: number(bar, places: 0)),
                ]
                fields.append(detail)
                results.append((key: key, value: .object(JSONObject(fields))))
            }
            plans.append(contentsOf: try await explain(filter, named: benchFilter.name))
        }

        return .object(
            JSONObject([
                (key: "backend", value: .string(store.dialect == .sqlite ? "sqlite" : "postgres")),
                (key: "contacts", value: .int(dataSet.contacts)), (key: "activities", value: .int(dataSet.activities)),
                (key: "runs", value: .int(options.runs - 1)),
                (key: "seed_s", value: number(seconds(seeded), places: 1)),
                (key: "analyze_s", value: number(seconds(analyzed), places: 1)),
                (key: "results", value: .object(JSONObject(results))),
                (key: "bars_missed", value: .array(missed)),
                (key: "load_before", value: loadBefore),
                (key: "plans", value: .object(JSONObject(plans))),
            ]))
    }

    /// The contact the match test asks about in a given run: another one each run, so no run
    /// finds the previous run's pages in the cache.
    private func email(_ run: Int) -> EmailAddress {
        EmailAddress("user\((run * DataSet.contactStep) % dataSet.contacts + 1)@example.com")!
    }

    /// Times count, first page and one-contact match of `filter`, through the directory.
    private func measure(_ filter: Filter, named name: String) async throws -> [(String, Timing, (key: String, value: JSON))] {
        let now = Self.now
        let (countTiming, count) = try await timed(runs: options.runs) { _ in
            try await store.countContacts(matching: filter, at: now)
        }
        let (pageTiming, page) = try await timed(runs: options.runs) { _ in
            try await store.contactEmails(matching: filter, after: nil, limit: Self.pageSize, at: now)
        }
        var matched = 0
        let (matchTiming, _) = try await timed(runs: options.runs) { run in
            let matches = try await store.contact(email(run), matches: filter, at: now)
            if matches && run > 0 { matched += 1 }
            return matches
        }
        guard page.emails.count == min(Self.pageSize, count) else {
            throw BenchFailure("\(name): the first page holds \(page.emails.count) contacts of \(count)")
        }
        progress(
            "\(name): \(count) contacts; medians: count \(ms(countTiming.median)) ms, page \(ms(pageTiming.median)) ms, "
                + "match \(ms(matchTiming.median)) ms")
        return [
            ("count", countTiming, (key: "result", value: .int(count))),
            ("page", pageTiming, (key: "result", value: .int(page.emails.count))),
            ("match", matchTiming, (key: "matched", value: .int(matched))),
        ]
    }

    /// The plans of the statements just measured, with the same bindings, printed and kept.
    private func explain(_ filter: Filter, named name: String) async throws -> [(key: String, value: JSON)] {
        let dialect = store.dialect
        let set = try FilterCompiler.compile(filter, dialect: dialect, shape: .set, now: Self.now)
        let one = try FilterCompiler.compile(filter, dialect: dialect, shape: .oneContact, now: Self.now)
        let wanted = Self.pageSize + 1
        // A members page runs the window's probes, then (only when they did not fill the page)
        // sets after the window: both plans are shown.
        var plans: [(key: String, value: JSON)] = []
        for (operation, statement) in [
            ("count", DirectoryStatement.count(set)),
            ("page_window", DirectoryStatement.members(one, after: 0, through: Int64(MemberPageWalk.probeWindow), limit: wanted, dialect)),
            ("page_rest", DirectoryStatement.members(set, after: Int64(MemberPageWalk.probeWindow), limit: wanted, dialect)),
            ("match", DirectoryStatement.oneContact(one, email: email(1).value, dialect)),
        ] {
            let plan = try await store.queryPlan(of: statement)
            progress("plan of \(operation)_\(name):\n    " + plan.joined(separator: "\n    "))
            plans.append((key: "\(operation)_\(name)", value: .array(plan.map(JSON.string))))
        }
        return plans
    }
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func ms(_ value: Double) -> String { String(format: "%.2f", value) }

/// A JSON number with `places` decimals.
func number(_ value: Double, places: Int = 3) -> JSON {
    .number(String(format: "%.\(places)f", value))
}
