import PlanCore
import Testing

/// The verdict of a run comes from the harness's per-test report alone; everything that is not an
/// authentic, complete report of passes is not a pass.
@Suite struct TestRunReportTests {
    static let nonce = "0123456789abcdef0123456789abcdef"

    static func line(_ json: String, nonce: String = TestRunReportTests.nonce) -> String {
        // Every record carries the nonce; the harness writes it last.
        String(json.dropLast()) + #","nonce":""# + nonce + #""}"#
    }

    /// The report of `lines`, the harness's (those with the nonce) numbered as the harness numbers them.
    static func report(_ lines: [String]) -> TestRunReport {
        TestRunReport(parsing: Array((numbered(lines).joined(separator: "\n") + "\n").utf8), nonce: nonce)
    }

    static func numbered(_ lines: [String]) -> [String] {
        var sequence = 0
        return lines.map { line in
            guard line.contains(#""nonce":""# + nonce), line.hasPrefix("{") else { return line }
            defer { sequence += 1 }
            return #"{"seq":\#(sequence),"# + line.dropFirst()
        }
    }

    static let expected = line(#"{"kind":"expected","ids":["t.py::test_a","t.py::test_b"]}"#)
    static func result(_ id: String, _ outcome: String) -> String {
        line(#"{"kind":"result","nodeid":""# + id + #"","outcome":""# + outcome + #"","duration":0.5,"text":"why"}"#)
    }
    static let end = line(#"{"kind":"end","exit":0}"#)

    @Test func everyExpectedIdPassedAndTheRunEndedIsAPass() {
        let report = Self.report([Self.expected, Self.result("t.py::test_a", "passed"), Self.result("t.py::test_b", "passed"), Self.end])
        #expect(report.verdict.outcome == .pass)
        #expect(report.verdict.reason == nil)
        #expect(report.cases.map(\.id) == ["t.py::test_a", "t.py::test_b"])
        #expect(report.casesJSON[0]?["duration_ms"]?.intValue == 500)
    }

    @Test func noReportIsNoPass() {
        let empty = Self.report([])
        #expect(empty.verdict.outcome == .error)
        #expect(empty.verdict.reason?.contains("no report") == true)
        // Whatever the output said, and whatever the exit status was.
        let garbage = TestRunReport(parsing: Array("4 passed in 0.01s\n".utf8), nonce: Self.nonce)
        #expect(garbage.verdict.outcome == .error)
    }

    /// Code under test can write to the report's descriptor too: it cannot add a line, but it can spoil
    /// one (an unfinished JSON prefix written just before the harness writes a failure). The gap in the
    /// numbering shows it.
    @Test func aLostOrSpoiledHarnessLineIsAnError() {
        let lines = Self.numbered([Self.expected, Self.result("t.py::test_a", "passed"), Self.result("t.py::test_b", "failed"),
                                   Self.result("t.py::test_b", "passed"), Self.end])
        let spoiled = [lines[0], lines[1], #"{"x":""# + lines[2], lines[3], lines[4]]
        let report = TestRunReport(parsing: Array((spoiled.joined(separator: "\n") + "\n").utf8), nonce: Self.nonce)
        #expect(report.missingRecord == 2)
        #expect(report.verdict.outcome == .error)
        #expect(report.verdict.reason?.contains("missing harness record 2") == true, "\(report.verdict.reason ?? "")")
        let unnumbered = TestRunReport(parsing: Array((Self.expected + "\n" + Self.end + "\n").utf8), nonce: Self.nonce)
        #expect(unnumbered.missingRecord == 0)
    }

    @Test func linesWithoutTheNonceAreIgnored() {
        let forged = [Self.expected,
                      Self.result("t.py::test_a", "passed").replacing(Self.nonce, with: "guess"),
                      #"{"kind":"result","nodeid":"t.py::test_b","outcome":"passed"}"#,
                      Self.line(#"{"kind":"end","exit":0}"#, nonce: "guess")]
        let report = Self.report(forged)
        #expect(report.verdict.outcome == .error)
        #expect(report.cases.map(\.outcome) == ["missing", "missing"])
        #expect(!report.reachedEnd)
    }

    @Test(arguments: [("failed", TestOutcome.fail, "failed"), ("skipped", .fail, "skipped"), ("xfailed", .fail, "expected failure"),
                      ("xpassed", .fail, "expected failure"), ("error", .error, "setup or teardown")])
    func anyOtherOutcomeIsNotAPass(outcome: String, verdict: TestOutcome, reason: String) {
        let report = Self.report([Self.expected, Self.result("t.py::test_a", "passed"), Self.result("t.py::test_b", outcome), Self.end])
        #expect(report.verdict.outcome == verdict)
        #expect(report.verdict.reason?.contains("t.py::test_b") == true)
        #expect(report.verdict.reason?.contains(reason) == true, "\(report.verdict.reason ?? "")")
    }

    @Test func aMissingIdIsNotAPass() {
        let report = Self.report([Self.expected, Self.result("t.py::test_a", "passed"), Self.end])
        #expect(report.verdict.outcome == .fail)
        #expect(report.verdict.reason == "t.py::test_b was never run")
    }

    @Test func anIdReportedTwiceIsNotAPass() {
        let report = Self.report([Self.expected, Self.result("t.py::test_a", "passed"), Self.result("t.py::test_b", "failed"),
                                  Self.result("t.py::test_b", "passed"), Self.end])
        #expect(report.verdict.outcome == .error)
        #expect(report.cases.first { $0.id == "t.py::test_b" }?.outcome == "duplicate")
    }

    @Test func aRunThatDidNotReachItsEndIsNotAPassEvenWithEveryResultPassed() {
        let report = Self.report([Self.expected, Self.result("t.py::test_a", "passed"), Self.result("t.py::test_b", "passed")])
        #expect(report.verdict.outcome == .error)
        #expect(report.verdict.reason?.contains("exited early") == true)
    }

    @Test func onlyTheFirstExpectedRecordCounts() {
        // Written before any code ran; a later one (from the code under test) cannot shrink the list.
        let report = Self.report([Self.expected, Self.line(#"{"kind":"expected","ids":["t.py::test_a"]}"#),
                                  Self.result("t.py::test_a", "passed"), Self.end])
        #expect(report.expected == ["t.py::test_a", "t.py::test_b"])
        #expect(report.verdict.outcome == .fail)
    }

    @Test func tamperingIsAnErrorWhateverTheResults() {
        let report = Self.report([Self.expected, Self.line(#"{"kind":"tamper","reason":"builtins.print was replaced while the tests ran"}"#),
                                  Self.result("t.py::test_a", "passed"), Self.result("t.py::test_b", "passed"), Self.end])
        #expect(report.verdict.outcome == .error)
        #expect(report.verdict.reason == "the run was tampered with: builtins.print was replaced while the tests ran")
        #expect(report.summary.contains("TAMPERING: builtins.print"))
    }

    @Test func aFileWithoutTestsOrThatCannotBeCollectedIsAnError() {
        let none = Self.report([Self.line(#"{"kind":"expected","ids":[]}"#), Self.end])
        #expect(none.verdict.outcome == .error)
        #expect(none.verdict.reason?.contains("defines no test") == true)
        let broken = Self.report([Self.expected, Self.line(#"{"kind":"collect_error","nodeid":"t.py","text":"ModuleNotFoundError: calc"}"#),
                                  Self.end])
        #expect(broken.verdict.outcome == .error)
        #expect(broken.summary.contains("ModuleNotFoundError: calc"))
    }

    @Test func parametrisedCasesCountForTheirTestAndEachMustPass() {
        let report = Self.report([Self.expected, Self.result("t.py::test_a[1]", "passed"), Self.result("t.py::test_a[2]", "passed"),
                                  Self.result("t.py::test_b", "passed"), Self.end])
        #expect(report.verdict.outcome == .pass)
        #expect(TestRunReport.base(of: "t.py::test_a[x-[y]]") == "t.py::test_a")
        let oneFails = Self.report([Self.expected, Self.result("t.py::test_a[1]", "passed"), Self.result("t.py::test_a[2]", "failed"),
                                    Self.result("t.py::test_b", "passed"), Self.end])
        #expect(oneFails.verdict.outcome == .fail)
        #expect(oneFails.verdict.reason == "t.py::test_a[2] failed")
    }

    @Test func extraReportedTestsDoNotReplaceExpectedOnes() {
        let report = Self.report([Self.expected, Self.result("t.py::test_injected", "passed"), Self.result("t.py::test_a", "passed"),
                                  Self.end])
        #expect(report.verdict.outcome == .fail)
        #expect(report.verdict.reason == "t.py::test_b was never run")
    }

    @Test func aTruncatedReportLacksItsEnd() {
        let text = [Self.expected, Self.result("t.py::test_a", "passed"), Self.result("t.py::test_b", "passed"), Self.end]
            .joined(separator: "\n")
        let cut = TestRunReport(parsing: Array(text.utf8.dropLast(5)), nonce: Self.nonce)
        #expect(cut.verdict.outcome == .error)
    }
}
