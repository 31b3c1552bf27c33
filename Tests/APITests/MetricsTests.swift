import API
import Foundation
import JSON
import Postgres
import Store
import Testing
import TestSupport

/// `GET /metrics`: Prometheus text computed from the database at scrape time.
@Suite(.dedicatedThreads) struct MetricsTests {
    static let secret = Array("metrics-test-secret-of-at-least-32-bytes".utf8)

    /// An application on a database of its own, and a way to scrape it.
    struct Fixture {
        let conninfo: String
        let app: APIApplication

        init() throws {
            conninfo = try TestDatabase.migrated()
            app = APIApplication(configuration: APIConfiguration(databaseURL: conninfo, jwtSecret: MetricsTests.secret))
        }

        func database() throws -> Connection { try Connection(conninfo) }

        func scrape() throws -> Exposition {
            let response = app.handle(HTTPRequest(method: "GET", path: "/metrics"))
            #expect(response.status == 200, "\(String(decoding: response.body, as: UTF8.self))")
            #expect(response.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8")
            return try Exposition.parse(String(decoding: response.body, as: UTF8.self))
        }
    }

    @Test func anEmptyDatabaseGivesAValidExpositionWithEveryFamilyAndZeroCounts() throws {
        let metrics = try Fixture().scrape()
        for family in ["masterplan_plans", "masterplan_waves", "masterplan_atoms", "masterplan_atom_attempts",
                       "masterplan_atom_retries", "masterplan_atom_confidence", "masterplan_atom_confidence_average",
                       "masterplan_acceptance_test_runs_total", "masterplan_acceptance_pass_ratio",
                       "masterplan_gate_evaluations_total", "masterplan_reviews", "masterplan_review_queue",
                       "masterplan_jobs", "masterplan_plan_cost_usd", "masterplan_plans_cost_usd",
                       "masterplan_llm_calls_total", "masterplan_llm_tokens_total", "masterplan_llm_cost_usd_total",
                       "masterplan_llm_calls_estimated_usage_total", "masterplan_llm_cache_reported_input_tokens_total",
                       "masterplan_llm_cache_read_input_tokens_total", "masterplan_llm_cached_input_share"] {
            #expect(metrics.types[family] != nil, "no # TYPE for \(family)")
            #expect(metrics.help[family] != nil, "no # HELP for \(family)")
        }
        #expect(metrics.value("masterplan_atoms", ["status": "succeeded"]) == 0)
        #expect(metrics.value("masterplan_atoms", ["status": "failed"]) == 0)
        #expect(metrics.value("masterplan_review_queue", ["priority": "high"]) == 0)
        #expect(metrics.value("masterplan_jobs", ["kind": "execution", "state": "queued"]) == 0)
        #expect(metrics.value("masterplan_atom_attempts_count") == 0)
        #expect(metrics.value("masterplan_acceptance_pass_ratio")?.isNaN == true)
        #expect(metrics.value("masterplan_atom_confidence_average")?.isNaN == true)
        #expect(metrics.samples(named: "masterplan_plan_cost_usd").isEmpty)
        #expect(metrics.types["masterplan_atom_attempts"] == "histogram")
        #expect(metrics.types["masterplan_llm_calls_total"] == "counter")
    }

    @Test func countsFollowTheRowsInsertedSinceTheLastScrape() throws {
        let fixture = try Fixture()
        let db = try fixture.database()
        let before = try fixture.scrape()
        #expect(before.value("masterplan_plans", ["status": "executing"]) == 0)

        let owner = try UserStore(db).create(email: "metrics-\(UUID().uuidString.prefix(8))@example.org", passwordHash: "x").id
        let planID = try PlanFixture.insert(db, owner: owner, status: .executing)
        try PlanFixture.addExecution(db, planID: planID)  // wave 1 passed, wave 2 running; atoms: 1 attempt 0.92, 3 attempts 0.55
        try db.execute(
            "UPDATE acceptance_tests SET sha256 = encode(sha256(convert_to(code, 'UTF8')), 'hex'), frozen_at = now() WHERE plan_id = $1",
            [planID])
        try db.execute(
            """
            INSERT INTO test_runs (plan_id, test_id, test_sha256, wave_id, status, exit_code, duration_ms)
            SELECT $1, t.id, t.sha256, w.id, CASE WHEN t.name = 'test_health' THEN 'pass' ELSE 'fail' END, 0, 12
            FROM acceptance_tests t, waves w WHERE t.plan_id = $1 AND w.plan_id = $1 AND w.number = 1
            """, [planID])
        try db.execute(
            """
            INSERT INTO llm_calls (owner_id, plan_id, purpose, provider, model, input_tokens, output_tokens, cached_tokens,
                                   cost_usd, latency_ms, status, error)
            VALUES ($1, $2, 'atom', 'openai-compatible', 'demo', 1000, 200, 0, 0.25, 40, 'ok', NULL),
                   ($1, $2, 'atom', 'openai-compatible', 'demo', 500, 100, 50, 0.125, 40, 'ok', NULL),
                   ($1, $2, 'discovery', 'openai-compatible', 'local', NULL, NULL, NULL, NULL, 40, 'error', 'HTTP 500')
            """, [owner, planID])

        let after = try fixture.scrape()
        #expect(after.value("masterplan_plans", ["status": "executing"]) == 1)
        #expect(after.value("masterplan_waves", ["status": "passed"]) == 1)
        #expect(after.value("masterplan_waves", ["status": "running"]) == 1)
        #expect(after.value("masterplan_atoms", ["status": "succeeded"]) == 1)
        #expect(after.value("masterplan_atoms", ["status": "needs_review"]) == 1)
        // Attempts: one atom with 1, one with 3.
        #expect(after.value("masterplan_atom_attempts_bucket", ["le": "1"]) == 1)
        #expect(after.value("masterplan_atom_attempts_bucket", ["le": "2"]) == 1)
        #expect(after.value("masterplan_atom_attempts_bucket", ["le": "3"]) == 2)
        #expect(after.value("masterplan_atom_attempts_bucket", ["le": "+Inf"]) == 2)
        #expect(after.value("masterplan_atom_attempts_sum") == 4)
        #expect(after.value("masterplan_atom_retries") == 2)
        // Confidence 0.92 and 0.55.
        #expect(after.value("masterplan_atom_confidence_bucket", ["le": "0.5"]) == 0)
        #expect(after.value("masterplan_atom_confidence_bucket", ["le": "0.7"]) == 1)
        #expect(after.value("masterplan_atom_confidence_count") == 2)
        #expect(abs((after.value("masterplan_atom_confidence_average") ?? 0) - 0.735) < 1e-9)
        // Acceptance: one pass, one fail; one passing gate.
        #expect(after.value("masterplan_acceptance_test_runs_total", ["status": "pass"]) == 1)
        #expect(after.value("masterplan_acceptance_test_runs_total", ["status": "fail"]) == 1)
        #expect(after.value("masterplan_acceptance_pass_ratio") == 0.5)
        #expect(after.value("masterplan_gate_evaluations_total", ["result": "passed"]) == 1)
        // The review queue: one medium-priority review.
        #expect(after.value("masterplan_review_queue", ["priority": "medium"]) == 1)
        #expect(after.value("masterplan_reviews", ["status": "pending"]) == 1)
        // LLM usage by purpose; the unknown usage is counted apart, not as zero.
        #expect(after.value("masterplan_llm_calls_total", ["purpose": "atom", "status": "ok"]) == 2)
        #expect(after.value("masterplan_llm_calls_total", ["purpose": "discovery", "status": "error"]) == 1)
        #expect(after.value("masterplan_llm_tokens_total", ["purpose": "atom", "type": "input"]) == 1500)
        #expect(after.value("masterplan_llm_tokens_total", ["purpose": "atom", "type": "output"]) == 300)
        #expect(after.value("masterplan_llm_tokens_total", ["purpose": "atom", "type": "cached"]) == 50)
        #expect(after.value("masterplan_llm_cost_usd_total", ["purpose": "atom"]) == 0.375)
        #expect(after.value("masterplan_llm_calls_unknown_usage_total", ["purpose": "discovery"]) == 1)
        #expect(after.value("masterplan_llm_calls_unknown_cost_total", ["purpose": "discovery"]) == 1)
        // Cost per plan (the ledger's trigger adds each call's cost to the plan).
        let plan = planID.uuidString.lowercased()
        #expect(after.value("masterplan_plan_cost_usd", ["plan_id": plan]) == 0.375)
        #expect(after.value("masterplan_plan_budget_usd", ["plan_id": plan]) == 5)
        #expect(after.value("masterplan_plans_cost_usd_sum") == 0.375)
        #expect(after.value("masterplan_plans_cost_usd_count") == 1)
        // Completed plans say how they were proven; none has completed here.
        #expect(after.value("masterplan_completed_plans", ["verification": "verified"]) == 0)
        #expect(after.value("masterplan_completed_plans", ["verification": "accepted_with_waivers"]) == 0)
        // No per-atom label anywhere.
        for sample in after.samples {
            #expect(Set(sample.labels.keys).isSubset(of: ["status", "priority", "kind", "state", "le", "plan_id", "purpose", "type", "result",
                                                          "verification"]),
                    "\(sample.name) has unexpected labels \(sample.labels.keys)")
        }
    }

    @Test func estimatedUsageAndTheCachedInputShareHaveTheirOwnSeries() throws {
        let fixture = try Fixture()
        let db = try fixture.database()
        let owner = try UserStore(db).create(email: "metrics-\(UUID().uuidString.prefix(8))@example.org", passwordHash: "x").id
        try db.execute(
            """
            INSERT INTO llm_calls (owner_id, purpose, provider, model, input_tokens, output_tokens, cached_tokens, cost_usd,
                                   usage_estimated, latency_ms, status, error)
            VALUES ($1, 'atom', 'anthropic', 'claude', 4000, 200, 3000, 0.25, false, 40, 'ok', NULL),
                   ($1, 'atom', 'anthropic', 'claude', 1000, 100, 0, 0.125, false, 40, 'ok', NULL),
                   ($1, 'atom', 'openai-compatible', 'local', 900, 90, NULL, NULL, true, 40, 'ok', NULL),
                   ($1, 'chat', 'openai-compatible', 'local', 100, 10, NULL, NULL, true, 40, 'ok', NULL),
                   ($1, 'discovery', 'openai-compatible', 'local', NULL, NULL, NULL, NULL, false, 40, 'error', 'HTTP 500')
            """, [owner])
        let metrics = try fixture.scrape()
        #expect(metrics.types["masterplan_llm_calls_estimated_usage_total"] == "counter")
        #expect(metrics.value("masterplan_llm_calls_estimated_usage_total", ["purpose": "atom"]) == 1)
        #expect(metrics.value("masterplan_llm_calls_estimated_usage_total", ["purpose": "chat"]) == 1)
        #expect(metrics.value("masterplan_llm_calls_estimated_usage_total", ["purpose": "discovery"]) == 0)
        // The estimated call is in the token totals, and not in the share's pair (it knows nothing of the cache).
        #expect(metrics.value("masterplan_llm_tokens_total", ["purpose": "atom", "type": "input"]) == 5900)
        #expect(metrics.value("masterplan_llm_tokens_total", ["purpose": "atom", "type": "cached"]) == 3000)
        #expect(metrics.value("masterplan_llm_cache_reported_input_tokens_total", ["purpose": "atom"]) == 5000)
        #expect(metrics.value("masterplan_llm_cache_read_input_tokens_total", ["purpose": "atom"]) == 3000)
        #expect(metrics.value("masterplan_llm_cached_input_share", ["purpose": "atom"]) == 0.6)
        #expect(metrics.value("masterplan_llm_cache_reported_input_tokens_total", ["purpose": "chat"]) == 0)
        #expect(metrics.value("masterplan_llm_cached_input_share", ["purpose": "chat"])?.isNaN == true)
        // A failed call without usage is still unknown, not estimated.
        #expect(metrics.value("masterplan_llm_calls_unknown_usage_total", ["purpose": "discovery"]) == 1)
        #expect(metrics.value("masterplan_llm_calls_unknown_usage_total", ["purpose": "atom"]) == 0)
        #expect(metrics.types["masterplan_llm_cached_input_share"] == "gauge")
    }

    @Test func servedThroughNginxToLocalAddressesWithoutAToken() throws {
        let stack = try SharedStack.get()
        let response = try stack.call("GET", "/metrics")
        #expect(response.status == 200, "\(response.text)")
        #expect(response.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
        let metrics = try Exposition.parse(response.text)
        #expect(metrics.types["masterplan_plans"] == "gauge")
    }

    @Test func labelValuesAndHelpAreEscapedAndSpecialFloatsSpelledAsPrometheusReadsThem() throws {
        var text = PrometheusText()
        text.family("x_total", .counter, "Line one\nback\\slash")
        text.sample("x_total", [("a", "quote \" back \\ new\nline")], 1)
        text.sample("x_total", [("a", "nan")], .nan)
        text.sample("x_total", [("a", "inf")], .infinity)
        text.sample("x_total", [("a", "small")], 0.000001)
        #expect(text.output == """
            # HELP x_total Line one\\nback\\\\slash
            # TYPE x_total counter
            x_total{a="quote \\" back \\\\ new\\nline"} 1
            x_total{a="nan"} NaN
            x_total{a="inf"} +Inf
            x_total{a="small"} 1e-06

            """)
        let parsed = try Exposition.parse(text.output)
        #expect(parsed.samples.first?.labels["a"] == "quote \" back \\ new\nline")
        #expect(parsed.value("x_total", ["a": "small"]) == 0.000001)
    }

    @Test(arguments: [
        "x 1\n",                                        // a sample before its TYPE
        "# TYPE x gauge\nx{a=\"1\"} one\n",             // not a number
        "# TYPE x gauge\n# TYPE x gauge\nx 1\n",        // a family typed twice
        "# TYPE 1x gauge\n1x 1\n",                      // an invalid metric name
        "# TYPE x gauge\nx{a=\"1\"} 1\nx{a=\"1\"} 2\n", // the same series twice
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n", // buckets decrease
    ])
    func theCheckerRejectsBrokenExpositions(_ text: String) {
        #expect(throws: Exposition.Invalid.self) { try Exposition.parse(text) }
    }
}

/// A strict reader of Prometheus text format 0.0.4, for the tests: every line must be a HELP, a
/// TYPE or a sample of a family typed before it; names, labels and values must be well-formed; a
/// series appears once; histogram buckets are cumulative and end with `+Inf` equal to `_count`.
struct Exposition {
    struct Sample {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    struct Invalid: Error, CustomStringConvertible {
        var line: Int
        var reason: String
        var description: String { "line \(line): \(reason)" }
    }

    var samples: [Sample] = []
    var types: [String: String] = [:]
    var help: [String: String] = [:]

    func samples(named name: String) -> [Sample] { samples.filter { $0.name == name } }

    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }

    static func isMetricName(_ name: Substring) -> Bool {
        guard let first = name.first, first.isASCII, first.isLetter || first == "_" || first == ":" else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == ":") }
    }

    static func isLabelName(_ name: String) -> Bool {
        guard let first = name.first, first.isASCII, first.isLetter || first == "_" else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }

    static func parseValue(_ text: Substring) -> Double? {
        switch text {
        case "NaN": return .nan
        case "+Inf": return .infinity
        case "-Inf": return -.infinity
        default:
            guard text.allSatisfy({ $0.isNumber || "+-.eE".contains($0) }) else { return nil }
            return Double(text)
        }
    }

    /// The family a sample belongs to: its own name, or the name without a histogram's or summary's suffix.
    func family(of name: String) -> String? {
        if types[name] != nil { return name }
        for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
            let base = String(name.dropLast(suffix.count))
            if let type = types[base], type == "histogram" || (type == "summary" && suffix != "_bucket") { return base }
        }
        return nil
    }

    static func parse(_ text: String) throws -> Exposition {
        var result = Exposition()
        var seen: Set<String> = []
        guard text.isEmpty || text.hasSuffix("\n") else { throw Invalid(line: 0, reason: "the text does not end with a newline") }
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().enumerated() {
            let number = index + 1
            if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
                guard parts.count >= 3, isMetricName(parts[2]) else { throw Invalid(line: number, reason: "bad metric name in \(line)") }
                let name = String(parts[2])
                if parts[1] == "TYPE" {
                    guard parts.count == 4, ["counter", "gauge", "histogram", "summary", "untyped"].contains(String(parts[3])) else {
                        throw Invalid(line: number, reason: "bad type in \(line)")
                    }
                    guard result.types[name] == nil else { throw Invalid(line: number, reason: "\(name) typed twice") }
                    guard !result.samples.contains(where: { $0.name == name }) else {
                        throw Invalid(line: number, reason: "TYPE of \(name) after its samples")
                    }
                    result.types[name] = String(parts[3])
                } else {
                    result.help[name] = parts.count == 4 ? String(parts[3]) : ""
                }
                continue
            }
            guard !line.hasPrefix("#") else { continue }
            guard !line.isEmpty else { throw Invalid(line: number, reason: "empty line") }
            // name{labels} value
            var rest = line[...]
            let nameEnd = rest.firstIndex { $0 == "{" || $0 == " " } ?? rest.endIndex
            let name = rest[..<nameEnd]
            guard isMetricName(name) else { throw Invalid(line: number, reason: "bad metric name \(name)") }
            rest = rest[nameEnd...]
            var labels: [String: String] = [:]
            if rest.first == "{" {
                rest = rest.dropFirst()
                while rest.first != "}" {
                    guard let equals = rest.firstIndex(of: "=") else { throw Invalid(line: number, reason: "bad labels") }
                    let label = String(rest[..<equals])
                    guard isLabelName(label), labels[label] == nil else { throw Invalid(line: number, reason: "bad label name \(label)") }
                    rest = rest[rest.index(after: equals)...]
                    guard rest.first == "\"" else { throw Invalid(line: number, reason: "unquoted label value") }
                    rest = rest.dropFirst()
                    var value = ""
                    while true {
                        guard let c = rest.first else { throw Invalid(line: number, reason: "unterminated label value") }
                        rest = rest.dropFirst()
                        if c == "\"" { break }
                        if c == "\\" {
                            guard let escaped = rest.first else { throw Invalid(line: number, reason: "dangling escape") }
                            rest = rest.dropFirst()
                            switch escaped {
                            case "n": value.append("\n")
                            case "\\": value.append("\\")
                            case "\"": value.append("\"")
                            default: throw Invalid(line: number, reason: "bad escape \\\(escaped)")
                            }
                        } else {
                            value.append(c)
                        }
                    }
                    labels[label] = value
                    if rest.first == "," { rest = rest.dropFirst() }
                }
                rest = rest.dropFirst()
            }
            guard rest.first == " ", let value = parseValue(rest.dropFirst()) else {
                throw Invalid(line: number, reason: "bad value in \(line)")
            }
            guard result.family(of: String(name)) != nil else {
                throw Invalid(line: number, reason: "sample \(name) before a TYPE of its family")
            }
            let key = String(name) + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            guard seen.insert(key).inserted else { throw Invalid(line: number, reason: "series \(key) appears twice") }
            result.samples.append(Sample(name: String(name), labels: labels, value: value))
        }
        // Histograms: cumulative buckets, +Inf equal to _count.
        for (family, type) in result.types where type == "histogram" {
            let buckets = result.samples(named: family + "_bucket")
            let groups = Dictionary(grouping: buckets) { $0.labels.filter { $0.key != "le" }.sorted { $0.key < $1.key }.map { "\($0)" }.joined() }
            for (_, group) in groups {
                let ordered = group.sorted { (parseValue($0.labels["le"]![...]) ?? 0) < (parseValue($1.labels["le"]![...]) ?? 0) }
                for (a, b) in zip(ordered, ordered.dropFirst()) where b.value < a.value {
                    throw Invalid(line: 0, reason: "\(family) buckets decrease at le=\(b.labels["le"]!)")
                }
                guard ordered.last?.labels["le"] == "+Inf" else { throw Invalid(line: 0, reason: "\(family) has no +Inf bucket") }
                let count = result.samples.first { $0.name == family + "_count" }?.value
                guard count == ordered.last?.value else { throw Invalid(line: 0, reason: "\(family)_count differs from its +Inf bucket") }
            }
        }
        return result
    }
}
