import JSON

/// The verdict of one acceptance-test run, read from the per-test report the engine's harness wrote,
/// never from the runner's exit status.
///
/// The harness writes JSON lines to a descriptor of its own, each carrying the run's nonce (lines
/// without it are ignored: anything else in the process could have written them):
/// - `expected` first, before any code of the workspace runs: the test ids of the frozen file, read
///   from its source (`file::name`, `file::Class::name`);
/// - `result` per collected test (`nodeid`, `outcome`: passed, failed, error, skipped, xfailed or
///   xpassed, `duration`, `text`);
/// - `collect_error` when the file could not be collected (an import error);
/// - `tamper` when the run saw the runner patched, a foreign plugin registered, or a refused call;
/// - `end` when the runner finished normally.
///
/// The run passes only when every expected id was reported exactly once (a parametrised test: each
/// of its cases once) and passed, nothing was tampered with, and the run reached its end. Skipped,
/// xfailed, xpassed, missing and duplicate ids are not passes; no report is no pass.
public struct TestRunReport: Sendable, Hashable {
    /// One reported test (or the expected id that was never reported).
    public struct Case: Sendable, Hashable {
        public var id: String
        /// passed, failed, error, skipped, xfailed, xpassed, missing or duplicate.
        public var outcome: String
        public var durationSeconds: Double
        /// The runner's explanation (a traceback, a skip reason), cut to its end.
        public var text: String

        public init(id: String, outcome: String, durationSeconds: Double, text: String) {
            self.id = id
            self.outcome = outcome
            self.durationSeconds = durationSeconds
            self.text = text
        }

        public var passed: Bool { outcome == "passed" }
    }

    /// The test ids of the frozen file, nil when the harness never reported them.
    public var expected: [String]?
    /// Every expected id and every other reported id, in report order, with its verdict.
    public var cases: [Case]
    /// Why the file could not be collected, when it could not.
    public var collectErrors: [String]
    /// What the harness saw the code do to the runner, in order.
    public var tampering: [String]
    /// Whether the runner reached its end and said so.
    public var reachedEnd: Bool
    /// The first harness record that is missing from the report (each carries `seq`, counting from 0),
    /// nil when none is: a line was lost or corrupted on its way (code under test, which can write to the
    /// report's descriptor too, can spoil a line but never add one).
    public var missingRecord: Int?

    public init(expected: [String]?, cases: [Case], collectErrors: [String], tampering: [String], reachedEnd: Bool) {
        self.expected = expected
        self.cases = cases
        self.collectErrors = collectErrors
        self.tampering = tampering
        self.reachedEnd = reachedEnd
    }

    /// Reads the harness's lines; lines that are not JSON objects carrying `nonce` are ignored.
    public init(parsing bytes: [UInt8], nonce: String) {
        var expected: [String]?
        var reported: [(id: String, outcome: String, duration: Double, text: String)] = []
        var collectErrors: [String] = []
        var tampering: [String] = []
        var reachedEnd = false
        var nextRecord = 0
        var missingRecord: Int?
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            guard let record = try? JSONValue.parse(Array(line)), record["nonce"]?.stringValue == nonce,
                  let kind = record["kind"]?.stringValue else { continue }
            if record["seq"]?.intValue != Int64(nextRecord), missingRecord == nil { missingRecord = nextRecord }
            nextRecord = Int(record["seq"]?.intValue ?? Int64(nextRecord)) + 1
            switch kind {
            case "expected":
                // Only the first is the harness's: it is written before any code of the workspace runs.
                if expected == nil {
                    expected = (record["ids"]?.arrayValue ?? []).compactMap(\.stringValue)
                    if let error = record["error"]?.stringValue { collectErrors.append(error) }
                }
            case "result":
                guard let id = record["nodeid"]?.stringValue else { continue }
                reported.append((id, record["outcome"]?.stringValue ?? "error", record["duration"]?.doubleValue ?? 0,
                                 record["text"]?.stringValue ?? ""))
            case "collect_error":
                collectErrors.append(record["text"]?.stringValue ?? "the test file could not be collected")
            case "tamper":
                tampering.append(record["reason"]?.stringValue ?? "the runner was tampered with")
            case "end":
                reachedEnd = true
            default:
                continue
            }
        }
        self.init(expected: expected, reported: reported, collectErrors: collectErrors, tampering: tampering,
                  reachedEnd: reachedEnd)
        self.missingRecord = missingRecord
    }

    init(expected: [String]?, reported: [(id: String, outcome: String, duration: Double, text: String)],
         collectErrors: [String], tampering: [String], reachedEnd: Bool) {
        var cases: [Case] = []
        var seen: [String: Int] = [:]
        for entry in reported {
            if let index = seen[entry.id] {
                // A second report for one id: something other than the runner reported it.
                cases[index].outcome = "duplicate"
                cases[index].text = "the test was reported more than once"
                continue
            }
            seen[entry.id] = cases.count
            cases.append(Case(id: entry.id, outcome: entry.outcome, durationSeconds: entry.duration, text: entry.text))
        }
        for id in expected ?? [] where !cases.contains(where: { Self.base(of: $0.id) == id }) {
            cases.append(Case(id: id, outcome: "missing", durationSeconds: 0, text: "the test was never reported as run"))
        }
        self.init(expected: expected, cases: cases, collectErrors: collectErrors, tampering: tampering, reachedEnd: reachedEnd)
    }

    /// The id without a parametrisation (`file::test_x[1-2]` → `file::test_x`).
    public static func base(of id: String) -> String {
        guard id.hasSuffix("]"), let open = id.firstIndex(of: "[") else { return id }
        return String(id[..<open])
    }

    /// The run's outcome for Gate S and, unless it passed, one sentence saying why.
    public var verdict: (outcome: TestOutcome, reason: String?) {
        guard let expected else {
            return (.error, "the test harness wrote no report (the process ended before the tests were read)")
        }
        if let missingRecord {
            return (.error, "the report is missing harness record \(missingRecord): a line was lost or corrupted on its way, which only code writing to the report's descriptor does")
        }
        if let tamper = tampering.first {
            return (.error, "the run was tampered with: \(tamper)" + (tampering.count > 1 ? " (and \(tampering.count - 1) more)" : ""))
        }
        if expected.isEmpty {
            return (.error, collectErrors.first.map { "the test file could not be read: \($0)" }
                ?? "the test file defines no test the harness can find (Python: test_… functions or Test… classes; Node.js: top-level test, it or describe calls)")
        }
        if !collectErrors.isEmpty {
            return (.error, "the test file could not be collected (often an import error); see the output")
        }
        let expectedSet = Set(expected)
        let relevant = cases.filter { expectedSet.contains(Self.base(of: $0.id)) }
        if !reachedEnd {
            let missing = relevant.filter { $0.outcome == "missing" }.count
            return (.error, "the run ended before the test runner finished (the process exited early)"
                + (missing > 0 ? "; \(missing) of \(expected.count) test(s) never reported" : ""))
        }
        if let bad = relevant.first(where: { $0.outcome == "error" }) {
            return (.error, "\(bad.id) errored in its setup or teardown")
        }
        let notPassed = relevant.filter { !$0.passed }
        if let first = notPassed.first {
            let more = notPassed.count > 1 ? " (and \(notPassed.count - 1) more)" : ""
            switch first.outcome {
            case "failed": return (.fail, "\(first.id) failed" + more)
            case "skipped": return (.fail, "\(first.id) was skipped; a skipped test is not a pass" + more)
            case "xfailed", "xpassed": return (.fail, "\(first.id) was marked as an expected failure; that is not a pass" + more)
            case "missing": return (.fail, "\(first.id) was never run" + more)
            case "duplicate": return (.error, "\(first.id) was reported more than once" + more)
            default: return (.fail, "\(first.id) ended \(first.outcome)" + more)
            }
        }
        return (.pass, nil)
    }

    /// `[{"id", "outcome", "duration_ms"}]` for storage (texts are in the output).
    public var casesJSON: JSONValue {
        .array(cases.map { item in
            JSONValue(["id": .string(item.id), "outcome": .string(item.outcome),
                       "duration_ms": .int(Int64((item.durationSeconds * 1000).rounded()))])
        })
    }

    /// What people and the repair prompt read: every test that did not pass with its explanation,
    /// then the collection errors and what the harness saw tampered with.
    public var summary: String {
        var lines: [String] = []
        for item in cases {
            lines.append("\(item.outcome.uppercased()) \(item.id)")
            if !item.passed, !item.text.isEmpty { lines.append(item.text.trimmingTrailingNewlines) }
        }
        for error in collectErrors { lines.append("COLLECTION ERROR\n" + error.trimmingTrailingNewlines) }
        for tamper in tampering { lines.append("TAMPERING: " + tamper) }
        return lines.joined(separator: "\n")
    }
}

extension String {
    fileprivate var trimmingTrailingNewlines: String {
        var text = self
        while text.last == "\n" { text.removeLast() }
        return text
    }
}
