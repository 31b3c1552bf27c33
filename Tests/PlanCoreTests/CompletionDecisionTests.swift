import PropertyBased
import Testing
@testable import PlanCore

@Suite("Completion decision")
struct CompletionDecisionTests {
    typealias Atom = CompletionFacts.Atom
    typealias Result = CompletionFacts.TestResult

    static let head = "7f3a9c0e5b21d48f6a0c9e7b3d5f1a2c4e6b8d0f"
    static let olderCommit = "1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e"

    static func must(_ id: String, _ outcome: TestOutcome?) -> Result {
        Result(testID: id, name: "test_\(id)", priority: .must, outcome: outcome)
    }

    static func should(_ id: String, _ outcome: TestOutcome?) -> Result {
        Result(testID: id, name: "test_\(id)", priority: .should, outcome: outcome)
    }

    static func waiver(_ id: String, _ reason: String = "the upstream service is mocked; checked by hand") -> TestWaiver {
        TestWaiver(testID: id, reason: reason, waivedBy: "user-42", waivedAt: "2026-03-01T12:00:00Z")
    }

    /// A plan that may complete as verified: task 2 rewrote `app.py` after task 1 (so task 1's content is
    /// expected to differ from the head), every file's last accepted content is in the head commit, and
    /// the final gate passed on that commit with every test evaluated.
    static func verified(results: [Result] = [must("m1", .pass), must("m2", .pass), should("s1", .pass)],
                         waivers: [TestWaiver] = []) -> CompletionFacts {
        CompletionFacts(
            atoms: [
                Atom(taskNumber: 1, path: "app.py", status: .succeeded, acceptedSHA256: "app-v1"),
                Atom(taskNumber: 1, path: "models.py", status: .approved, acceptedSHA256: "models-v1"),
                Atom(taskNumber: 2, path: "app.py", status: .succeeded, acceptedSHA256: "app-v2"),
            ],
            pendingReviews: 0, headCommit: head, headFileSHA256: ["app.py": "app-v2", "models.py": "models-v1"],
            finalGate: .init(commit: head, evaluatedEveryTest: true, results: results), waivers: waivers)
    }

    /// The final gate with `total` SHOULD tests of which the first `passing` pass, plus one passing MUST.
    static func shouldShare(_ total: Int, passing: Int) -> [Result] {
        [must("m", .pass)] + (0..<total).map { should("s\($0)", $0 < passing ? .pass : .fail) }
    }

    // MARK: the verified baseline

    @Test("facts that meet every rule complete as verified")
    func verifiedBaseline() {
        let decision = CompletionDecision(Self.verified())
        #expect(decision == .complete(.verified))
        #expect(decision.isComplete)
        #expect(decision.waivers.isEmpty)
        #expect(decision.statusLabel == "verified")
        #expect(decision.description == "verified: the final gate passed on the committed tree, which holds exactly the accepted content")
    }

    @Test("succeeded and approved atoms with accepted content are settled", arguments: [AtomStatus.succeeded, .approved])
    func settledStatuses(_ status: AtomStatus) {
        var facts = Self.verified()
        facts.atoms = facts.atoms.map { Atom(key: $0.key, status: status, acceptedSHA256: $0.acceptedSHA256) }
        #expect(CompletionDecision(facts) == .complete(.verified))
    }

    // MARK: rule 1: a rejected atom fails the plan

    @Test("a rejected atom fails the plan even when everything else is fine")
    func rejectedAtom() {
        var facts = Self.verified()
        facts.atoms[1].status = .rejected
        let decision = CompletionDecision(facts)
        #expect(decision == .failed(rejected: [AtomKey(taskNumber: 1, path: "models.py")]))
        #expect(decision.statusLabel == "failed")
        #expect(!decision.isComplete)
        #expect(decision.description == "failed: a reviewer rejected 1 atom(s) (task 1: models.py); "
            + "they must be produced again before the plan can complete")
    }

    @Test("a rejected atom is reported before anything else that stands in the way")
    func rejectionComesFirst() {
        var facts = Self.verified(results: [Self.must("m1", .fail)])
        facts.atoms[0].status = .running
        facts.atoms[0].acceptedSHA256 = nil
        facts.atoms[2].status = .rejected
        facts.pendingReviews = 3
        facts.headFileSHA256 = [:]
        facts.finalGate = nil
        #expect(CompletionDecision(facts) == .failed(rejected: [AtomKey(taskNumber: 2, path: "app.py")]))
    }

    // MARK: rule 2: every atom is settled

    @Test("an atom without accepted content leaves the plan incomplete", arguments: [
        (AtomStatus.pending, String?.none), (.running, nil), (.failed, nil), (.needsReview, nil),
        (.succeeded, nil), (.approved, nil),
    ])
    func unsettledAtom(_ sample: (status: AtomStatus, sha: String?)) {
        var facts = Self.verified()
        facts.atoms[1].status = sample.status
        facts.atoms[1].acceptedSHA256 = sample.sha
        let decision = CompletionDecision(facts)
        #expect(decision == .incomplete(atoms: [facts.atoms[1]]))
        #expect(decision.statusLabel == "incomplete")
    }

    @Test("pending, running and failed atoms are incomplete even if they once had accepted content",
          arguments: [AtomStatus.pending, .running, .failed])
    func unsettledWithStaleContent(_ status: AtomStatus) {
        var facts = Self.verified()
        facts.atoms[2].status = status
        #expect(CompletionDecision(facts) == .incomplete(atoms: [facts.atoms[2]]))
    }

    @Test("an atom held for review with accepted content waits while its review is pending")
    func heldForReview() {
        var facts = Self.verified()
        facts.atoms[1].status = .needsReview
        facts.pendingReviews = 1
        #expect(CompletionDecision(facts) == .waitingForReviews(count: 1))
    }

    @Test("an atom held for review when no review is pending is incomplete: nobody is asked to decide it")
    func heldForReviewWithoutReview() {
        var facts = Self.verified()
        facts.atoms[1].status = .needsReview
        let decision = CompletionDecision(facts)
        #expect(decision == .incomplete(atoms: [facts.atoms[1]]))
        #expect(decision.description == "incomplete: 1 atom(s) have no accepted content or wait for a review nobody is asked for "
            + "(task 1: models.py is needs_review)")
    }

    @Test("an incomplete plan is reported before pending reviews and a stale gate")
    func incompleteBeforeWaiting() {
        var facts = Self.verified()
        facts.atoms[0].status = .pending
        facts.atoms[0].acceptedSHA256 = nil
        facts.pendingReviews = 2
        facts.finalGate = nil
        #expect(CompletionDecision(facts) == .incomplete(atoms: [facts.atoms[0]]))
    }

    // MARK: rule 3: no review is pending

    @Test("a pending review holds the plan even when everything else is fine", arguments: [1, 2, 7])
    func pendingReview(_ count: Int) {
        var facts = Self.verified()
        facts.pendingReviews = count
        let decision = CompletionDecision(facts)
        #expect(decision == .waitingForReviews(count: count))
        #expect(decision.statusLabel == "waiting_for_reviews")
        #expect(decision.description == "waiting for \(count) review(s) before the plan can complete")
    }

    @Test("pending reviews are reported before a stale final gate (resolving them may change content again)")
    func waitingBeforeFinalGate() {
        var facts = Self.verified()
        facts.pendingReviews = 1
        facts.headFileSHA256["models.py"] = "models-v0"
        #expect(CompletionDecision(facts) == .waitingForReviews(count: 1))
    }

    // MARK: rule 4: the final gate tested what was accepted

    @Test("regression: content accepted after the last gate (a review's edit) is not completed, it needs the final gate")
    func lateAcceptedContent() {
        var facts = Self.verified()
        facts.atoms[1].acceptedSHA256 = "models-edited"
        let decision = CompletionDecision(facts)
        #expect(decision == .needsFinalGate(.contentNotCommitted(files: ["models.py"])))
        #expect(decision.statusLabel == "needs_final_gate")
        #expect(decision.description == "needs the final gate: the accepted content of 1 file(s) is not in the head commit (models.py); "
            + "commit it and run every test on that commit")
    }

    @Test("an accepted file missing from the head commit needs the final gate")
    func fileNotInHead() {
        var facts = Self.verified()
        facts.headFileSHA256["models.py"] = nil
        #expect(CompletionDecision(facts) == .needsFinalGate(.contentNotCommitted(files: ["models.py"])))
    }

    @Test("a workspace without any commit needs the final gate, naming every file")
    func noCommitAtAll() {
        var facts = Self.verified()
        facts.headCommit = nil
        facts.headFileSHA256 = [:]
        #expect(CompletionDecision(facts) == .needsFinalGate(.contentNotCommitted(files: ["models.py", "app.py"])))
    }

    @Test("only a file's last writer must match the head: earlier writers' content was the input of later ones")
    func lastWriterDecides() {
        var facts = Self.verified()
        // task 1's app.py ("app-v1") differs from the head in the baseline, which is verified; listed last,
        // it becomes the content the file must hold, and the head does not hold it.
        facts.atoms = [facts.atoms[2], facts.atoms[1], facts.atoms[0]]
        #expect(CompletionDecision(facts) == .needsFinalGate(.contentNotCommitted(files: ["app.py"])))
    }

    @Test("head moved after the final gate needs the final gate again")
    func headMoved() {
        var facts = Self.verified()
        facts.finalGate?.commit = Self.olderCommit
        let decision = CompletionDecision(facts)
        #expect(decision == .needsFinalGate(.headMoved(gatedCommit: Self.olderCommit, headCommit: Self.head)))
        #expect(decision.description == "needs the final gate: it ran on commit 1b2c3d4e5f60 but the head is commit 7f3a9c0e5b21")
    }

    @Test("a final gate and a head that is gone: the gate ran on a commit the workspace no longer has")
    func headGone() {
        var facts = Self.verified()
        facts.atoms = []
        facts.headCommit = nil
        facts.headFileSHA256 = [:]
        let decision = CompletionDecision(facts)
        #expect(decision == .needsFinalGate(.headMoved(gatedCommit: Self.head, headCommit: nil)))
        #expect(decision.description.hasSuffix("but the head is no commit"))
    }

    @Test("no final gate yet needs the final gate")
    func noFinalGate() {
        var facts = Self.verified()
        facts.finalGate = nil
        let decision = CompletionDecision(facts)
        #expect(decision == .needsFinalGate(.noFinalGate))
        #expect(decision.description == "needs the final gate: no gate has run on the last wave yet")
    }

    @Test("a final gate that evaluated only the due tests needs the final gate")
    func partialGate() {
        var facts = Self.verified()
        facts.finalGate?.evaluatedEveryTest = false
        let decision = CompletionDecision(facts)
        #expect(decision == .needsFinalGate(.notEveryTestEvaluated))
        #expect(decision.description == "needs the final gate: the last gate evaluated only the tests that were due, not every test")
    }

    @Test("uncommitted content is reported before a missing, moved or partial gate", arguments: [0, 1, 2])
    func contentFirst(_ gateDefect: Int) {
        var facts = Self.verified()
        facts.headFileSHA256["app.py"] = "app-v1"
        switch gateDefect {
        case 0: facts.finalGate = nil
        case 1: facts.finalGate?.commit = Self.olderCommit
        default: facts.finalGate?.evaluatedEveryTest = false
        }
        #expect(CompletionDecision(facts) == .needsFinalGate(.contentNotCommitted(files: ["app.py"])))
    }

    @Test("a moved head is reported before a partial gate")
    func movedBeforePartial() {
        var facts = Self.verified()
        facts.finalGate?.commit = Self.olderCommit
        facts.finalGate?.evaluatedEveryTest = false
        #expect(CompletionDecision(facts) == .needsFinalGate(.headMoved(gatedCommit: Self.olderCommit, headCommit: Self.head)))
    }

    @Test("a stale gate is re-run before its failures count: they may be fixed by the content it did not test")
    func staleGateBeforeFailures() {
        var facts = Self.verified(results: [Self.must("m1", .fail)])
        facts.atoms[1].acceptedSHA256 = "models-fixed"
        #expect(CompletionDecision(facts) == .needsFinalGate(.contentNotCommitted(files: ["models.py"])))
    }

    @Test("a description names at most three files and counts the rest")
    func descriptionNamesFew() {
        let paths = ["a.py", "b.py", "c.py", "d.py", "e.py"]
        let facts = CompletionFacts(
            atoms: paths.enumerated().map { Atom(taskNumber: $0.offset + 1, path: $0.element, status: .succeeded, acceptedSHA256: "new") },
            pendingReviews: 0, headCommit: Self.head, headFileSHA256: [:], finalGate: nil)
        let decision = CompletionDecision(facts)
        #expect(decision == .needsFinalGate(.contentNotCommitted(files: paths)))
        #expect(decision.description.contains("of 5 file(s) is not in the head commit (a.py, b.py, c.py and 2 more)"))
    }

    // MARK: rule 5: Gate S with waivers

    @Test("a failing MUST test without a waiver blocks the plan", arguments: [TestOutcome?.some(.fail), .error, .timeout, nil])
    func failingMust(_ outcome: TestOutcome?) {
        let decision = CompletionDecision(Self.verified(results: [Self.must("m1", .pass), Self.must("m2", outcome), Self.should("s1", .pass)]))
        #expect(decision == .blockedByGate(failures: [Self.must("m2", outcome)]))
        #expect(decision.statusLabel == "blocked_by_gate")
        #expect(decision.description == "blocked by the final gate: 1 failing test(s) have no waiver with a reason "
            + "(MUST test_m2 (\(outcome?.rawValue ?? "not run")))")
    }

    @Test("regression: approving the reviews of a failed gate waives nothing; approved atoms and a failing MUST block the plan")
    func approvalIsNoWaiver() {
        var facts = Self.verified(results: [Self.must("m1", .fail)])
        facts.atoms = facts.atoms.map { Atom(key: $0.key, status: .approved, acceptedSHA256: $0.acceptedSHA256) }
        #expect(CompletionDecision(facts) == .blockedByGate(failures: [Self.must("m1", .fail)]))
    }

    @Test("a failing MUST test with a waiver that gives a reason completes the plan accepted with that waiver")
    func waivedMust() {
        let waiver = Self.waiver("m2")
        let decision = CompletionDecision(Self.verified(results: [Self.must("m1", .pass), Self.must("m2", .fail)], waivers: [waiver]))
        #expect(decision == .complete(.acceptedWithWaivers([waiver])))
        #expect(decision.isComplete)
        #expect(decision.statusLabel == "accepted_with_waivers")
        #expect(decision.waivers.map(\.reason) == ["the upstream service is mocked; checked by hand"])
        #expect(decision.waivers.map(\.waivedBy) == ["user-42"])
        #expect(decision.waivers.map(\.waivedAt) == ["2026-03-01T12:00:00Z"])
        #expect(decision.description == "accepted with waivers: the final gate passed on the committed tree except for 1 failing "
            + "test(s) a reviewer waived with a reason (m2)")
    }

    @Test("a test that did not run at the final gate can be waived like a failing one")
    func waivedNotRun() {
        let waiver = Self.waiver("m1")
        #expect(CompletionDecision(Self.verified(results: [Self.must("m1", nil)], waivers: [waiver]))
            == .complete(.acceptedWithWaivers([waiver])))
    }

    @Test("a waiver whose reason is empty or only whitespace waives nothing", arguments: ["", " ", "\n\t  ", "\u{00A0}\u{2003}"])
    func blankReason(_ reason: String) {
        let waiver = Self.waiver("m1", reason)
        #expect(!waiver.hasReason)
        #expect(CompletionDecision(Self.verified(results: [Self.must("m1", .fail)], waivers: [waiver]))
            == .blockedByGate(failures: [Self.must("m1", .fail)]))
    }

    @Test("of several waivers of one test the first with a reason is the one listed")
    func firstWaiverWithReason() {
        let blank = Self.waiver("m1", "  ")
        let first = TestWaiver(testID: "m1", reason: "known flaky clock", waivedBy: "alice", waivedAt: "2026-03-01T10:00:00Z")
        let second = TestWaiver(testID: "m1", reason: "still flaky", waivedBy: "bob", waivedAt: "2026-03-02T10:00:00Z")
        #expect(CompletionDecision(Self.verified(results: [Self.must("m1", .fail)], waivers: [blank, first, second]))
            == .complete(.acceptedWithWaivers([first])))
    }

    @Test("a waiver of another test does not cover a failing one")
    func waiverOfOtherTest() {
        let decision = CompletionDecision(Self.verified(results: [Self.must("m1", .fail), Self.must("m2", .pass)], waivers: [Self.waiver("m2")]))
        #expect(decision == .blockedByGate(failures: [Self.must("m1", .fail)]))
    }

    @Test("with two failing MUST tests and one waiver, only the unwaived one is listed")
    func partlyWaived() {
        let results = [Self.must("m1", .fail), Self.must("m2", .error), Self.must("m3", .pass)]
        #expect(CompletionDecision(Self.verified(results: results, waivers: [Self.waiver("m1")]))
            == .blockedByGate(failures: [Self.must("m2", .error)]))
    }

    @Test("a waiver of a test that passed was not needed: not listed, the plan is verified")
    func waiverOfPassingTest() {
        #expect(CompletionDecision(Self.verified(waivers: [Self.waiver("m1"), Self.waiver("s1")])) == .complete(.verified))
    }

    @Test("SHOULD tests: 19 of 20 passing is verified without a waiver")
    func should19of20() {
        #expect(CompletionDecision(Self.verified(results: Self.shouldShare(20, passing: 19))) == .complete(.verified))
    }

    @Test("SHOULD tests: a waiver of a failing SHOULD test the share allows is not needed and not listed")
    func should19of20Waived() {
        #expect(CompletionDecision(Self.verified(results: Self.shouldShare(20, passing: 19), waivers: [Self.waiver("s19")]))
            == .complete(.verified))
    }

    @Test("SHOULD tests: 18 of 20 without a waiver blocks, naming both failures")
    func should18of20() {
        #expect(CompletionDecision(Self.verified(results: Self.shouldShare(20, passing: 18)))
            == .blockedByGate(failures: [Self.should("s18", .fail), Self.should("s19", .fail)]))
    }

    @Test("SHOULD tests: 18 of 20 with one waiver meets the share and lists that waiver")
    func should18of20OneWaiver() {
        let waiver = Self.waiver("s19")
        #expect(CompletionDecision(Self.verified(results: Self.shouldShare(20, passing: 18), waivers: [waiver]))
            == .complete(.acceptedWithWaivers([waiver])))
    }

    @Test("SHOULD tests: below the share every waiver of a failing SHOULD test is used, in the gate's order")
    func should18of20TwoWaivers() {
        let late = Self.waiver("s19"), early = Self.waiver("s18")
        #expect(CompletionDecision(Self.verified(results: Self.shouldShare(20, passing: 18), waivers: [late, early]))
            == .complete(.acceptedWithWaivers([early, late])))
    }

    @Test("SHOULD tests: 17 of 20 with one waiver is still short and lists the unwaived failures")
    func should17of20OneWaiver() {
        #expect(CompletionDecision(Self.verified(results: Self.shouldShare(20, passing: 17), waivers: [Self.waiver("s17")]))
            == .blockedByGate(failures: [Self.should("s18", .fail), Self.should("s19", .fail)]))
    }

    @Test("a waived MUST test with SHOULD tests inside the share lists only the MUST waiver")
    func mustWaivedShouldAllowed() {
        let results = [Self.must("m1", .fail)] + (0..<20).map { Self.should("s\($0)", $0 == 0 ? .fail : .pass) }
        let mustWaiver = Self.waiver("m1")
        #expect(CompletionDecision(Self.verified(results: results, waivers: [Self.waiver("s0"), mustWaiver]))
            == .complete(.acceptedWithWaivers([mustWaiver])))
    }

    @Test("blocking failures list MUST tests before SHOULD tests")
    func blockingOrder() {
        let results = [Self.should("s1", .fail), Self.must("m1", .timeout), Self.should("s2", .pass)]
        #expect(CompletionDecision(Self.verified(results: results))
            == .blockedByGate(failures: [Self.must("m1", .timeout), Self.should("s1", .fail)]))
    }

    @Test("a SHOULD share that is short blocks even when every MUST failure is waived")
    func shouldBlocksAfterMustWaived() {
        let results = [Self.must("m1", .fail), Self.should("s1", .fail)]
        #expect(CompletionDecision(Self.verified(results: results, waivers: [Self.waiver("m1")]))
            == .blockedByGate(failures: [Self.should("s1", .fail)]))
    }

    @Test("a test listed twice is waived once")
    func duplicateResult() {
        let waiver = Self.waiver("m1")
        #expect(CompletionDecision(Self.verified(results: [Self.must("m1", .fail), Self.must("m1", .error)], waivers: [waiver]))
            == .complete(.acceptedWithWaivers([waiver])))
    }

    @Test("a plan without acceptance tests is verified by a final gate with nothing to fail")
    func noTests() {
        #expect(CompletionDecision(Self.verified(results: [])) == .complete(.verified))
    }

    @Test("the policy's thresholds are honoured")
    func customPolicy() {
        var facts = Self.verified(results: [Self.must("m1", .pass), Self.must("m2", .fail), Self.should("s1", .fail)])
        #expect(CompletionDecision(facts) == .blockedByGate(failures: [Self.must("m2", .fail), Self.should("s1", .fail)]))
        facts.policy = GatePolicy(mustPassPercent: 50, shouldPassPercent: 0)
        #expect(CompletionDecision(facts) == .complete(.verified))
    }

    @Test("the verdict without waivers is Gate S's verdict on the same results", arguments: [
        [must("m", .pass)], [must("m", .fail)], shouldShare(20, passing: 19), shouldShare(20, passing: 18),
        shouldShare(40, passing: 38), shouldShare(39, passing: 37), [should("s", nil)], [],
    ])
    func agreesWithGateS(_ results: [Result]) {
        let gate = GateS.evaluate(tests: results.map { GateTest(id: $0.testID, priority: $0.priority, coveredTasks: [], outcome: $0.outcome) },
                                  doneTasks: [], isFinalWave: true)
        #expect(CompletionDecision(Self.verified(results: results)).isComplete == gate.passed)
    }

    // MARK: labels and descriptions

    @Test("every decision has its label", arguments: [
        (CompletionDecision.complete(.verified), "verified"),
        (.complete(.acceptedWithWaivers([waiver("m")])), "accepted_with_waivers"),
        (.failed(rejected: []), "failed"),
        (.incomplete(atoms: []), "incomplete"),
        (.waitingForReviews(count: 1), "waiting_for_reviews"),
        (.needsFinalGate(.noFinalGate), "needs_final_gate"),
        (.blockedByGate(failures: []), "blocked_by_gate"),
    ])
    func labels(_ sample: (CompletionDecision, String)) {
        #expect(sample.0.statusLabel == sample.1)
        #expect(sample.0.isComplete == (sample.1 == "verified" || sample.1 == "accepted_with_waivers"))
    }
}

/// Completion facts built from plain integers, so that PropertyBased can shrink them: most atoms are
/// settled, most files are committed and most tests pass, so that every verdict turns up often.
enum RandomCompletionFacts {
    static let files = ["main.py", "models.py", "api.py", "db.py"]
    static let head = "head-commit"

    static func facts(atoms atomCodes: [Int], tests testCodes: [Int], waivers waiverCodes: [Int], disturbance: Int) -> CompletionFacts {
        let atoms = atomCodes.enumerated().map { index, code -> CompletionFacts.Atom in
            let path = files[code % files.count]
            let status: AtomStatus = switch (code / 4) % 40 {
            case 34: .pending
            case 35: .running
            case 36: .failed
            case 37, 39: .needsReview
            case 38: .rejected
            case let kind: kind % 2 == 0 ? .succeeded : .approved
            }
            let hasContent = status != .pending && status != .running && code % 53 != 0
            return .init(taskNumber: index + 1, path: path, status: status, acceptedSHA256: hasContent ? "\(path)@\(index)" : nil)
        }
        var headFiles: [String: String] = [:]
        for atom in atoms { headFiles[atom.key.path] = atom.acceptedSHA256 }
        if let first = atoms.first {
            if disturbance % 11 == 0 { headFiles[first.key.path] = "late-accepted" }
            if disturbance % 13 == 0 { headFiles[first.key.path] = nil }
        }
        let results = testCodes.enumerated().map { index, code -> CompletionFacts.TestResult in
            let outcome: TestOutcome? = switch (code / 3) % 20 {
            case 17: .fail
            case 18: .error
            case 19: nil
            default: .pass
            }
            return .init(testID: "t\(index)", name: "test_\(index)", priority: code % 3 == 0 ? .must : .should, outcome: outcome)
        }
        let waivers = waiverCodes.map { code in
            TestWaiver(testID: "t\(code % max(1, testCodes.count))", reason: code % 5 == 0 ? " \n" : "reason \(code)",
                       waivedBy: "user\(code % 3)", waivedAt: "2026-01-0\(1 + code % 9)T00:00:00Z")
        }
        let gate = CompletionFacts.FinalGate(commit: disturbance % 19 == 0 ? "older-commit" : head,
                                             evaluatedEveryTest: disturbance % 23 != 0, results: results)
        return CompletionFacts(atoms: atoms, pendingReviews: disturbance % 9 == 0 ? 1 + disturbance % 3 : 0,
                               headCommit: disturbance % 29 == 0 ? nil : head, headFileSHA256: headFiles,
                               finalGate: disturbance % 17 == 0 ? nil : gate, waivers: waivers)
    }

    /// Facts from a seed, for checks that need many cases without shrinking.
    static func facts(seed: UInt64) -> CompletionFacts {
        var random = SplitMix64(seed: seed)
        func codes(_ count: ClosedRange<Int>) -> [Int] {
            (0..<Int.random(in: count, using: &random)).map { _ in Int.random(in: 0...999, using: &random) }
        }
        return facts(atoms: codes(0...6), tests: codes(0...24), waivers: codes(0...8), disturbance: Int.random(in: 0...999, using: &random))
    }
}

@Suite("Completion decision properties on random facts")
struct CompletionDecisionPropertyTests {
    static let atomCodes = Gen.int(in: 0...999).array(of: 0...6)
    static let testCodes = Gen.int(in: 0...999).array(of: 0...24)
    static let waiverCodes = Gen.int(in: 0...999).array(of: 0...8)
    static let disturbances = Gen.int(in: 0...999)

    /// Whether the final gate tested exactly what was accepted, computed here independently of the
    /// implementation: the gate ran on the head, over every test, and each file's last writer is in the head.
    static func gatedTreeIsAcceptedTree(_ facts: CompletionFacts) -> Bool {
        guard let gate = facts.finalGate, let head = facts.headCommit, gate.commit == head, gate.evaluatedEveryTest else { return false }
        var lastContent: [String: String?] = [:]
        for atom in facts.atoms { lastContent[atom.key.path] = .some(atom.acceptedSHA256) }
        return lastContent.allSatisfy { path, sha in sha != nil && sha == facts.headFileSHA256[path] }
    }

    static func gateS(_ results: [CompletionFacts.TestResult], passing waived: Set<String> = []) -> GateResult {
        GateS.evaluate(tests: results.map {
            GateTest(id: $0.testID, priority: $0.priority, coveredTasks: [], outcome: waived.contains($0.testID) ? .pass : $0.outcome)
        }, doneTasks: [], isFinalWave: true)
    }

    /// The invariants every decision keeps, whatever the facts.
    static func checkInvariants(_ facts: CompletionFacts) {
        let decision = CompletionDecision(facts)
        let results = facts.finalGate?.results ?? []
        let validWaivers = Set(facts.waivers.filter(\.hasReason).map(\.testID))
        let settled = facts.atoms.allSatisfy { ($0.status == .succeeded || $0.status == .approved) && $0.acceptedSHA256 != nil }
        let anyRejected = facts.atoms.contains { $0.status == .rejected }
        #expect(anyRejected == (decision.statusLabel == "failed"), "a rejected atom, and only one, fails the plan")

        switch decision {
        case .complete(.verified):
            #expect(settled)
            #expect(facts.pendingReviews <= 0)
            #expect(gatedTreeIsAcceptedTree(facts))
            #expect(results.allSatisfy { $0.priority == .should || $0.outcome == .pass }, "every evaluated MUST test passed")
            #expect(gateS(results).passed)
        case .complete(.acceptedWithWaivers(let used)):
            #expect(settled)
            #expect(facts.pendingReviews <= 0)
            #expect(gatedTreeIsAcceptedTree(facts))
            #expect(!used.isEmpty)
            #expect(!gateS(results).passed, "a waiver is listed only when Gate S failed without it")
            let usedTests = Set(used.map(\.testID))
            #expect(usedTests.count == used.count, "one waiver per test")
            for waiver in used {
                #expect(facts.waivers.contains(waiver))
                #expect(waiver.hasReason)
                #expect(results.contains { $0.testID == waiver.testID && !$0.passed }, "only failing tests are waived")
            }
            #expect(results.allSatisfy { $0.priority == .should || $0.passed || usedTests.contains($0.testID) },
                    "every failing MUST test is waived")
            #expect(gateS(results, passing: usedTests).passed)
        case .blockedByGate(let failures):
            #expect(settled && facts.pendingReviews <= 0 && gatedTreeIsAcceptedTree(facts))
            #expect(!failures.isEmpty)
            #expect(!gateS(results).passed)
            for failure in failures {
                #expect(!failure.passed)
                #expect(!validWaivers.contains(failure.testID))
                #expect(results.contains(failure))
            }
        case .needsFinalGate:
            #expect(!anyRejected && facts.pendingReviews <= 0 && settled)
            #expect(!gatedTreeIsAcceptedTree(facts))
        case .waitingForReviews(let count):
            #expect(!anyRejected && count == facts.pendingReviews && count > 0)
        case .incomplete(let atoms):
            #expect(!anyRejected && !atoms.isEmpty && !settled)
            #expect(atoms.allSatisfy { !(($0.status == .succeeded || $0.status == .approved) && $0.acceptedSHA256 != nil) })
        case .failed(let rejected):
            #expect(rejected == facts.atoms.filter { $0.status == .rejected }.map(\.key))
        }
        // The converse: settled atoms, no review, the gated tree is the accepted tree and Gate S passes: verified.
        if settled && facts.pendingReviews <= 0 && gatedTreeIsAcceptedTree(facts) && gateS(results).passed {
            #expect(decision == .complete(.verified))
        }
    }

    /// `.complete(.verified)` only when every evaluated MUST test passed, every file's accepted content is in
    /// the head and the head is the gated commit; every other verdict keeps its promise too.
    @Test("verified only when every MUST test passed on the gated head holding the accepted content; every verdict holds")
    func invariants() async {
        await propertyCheck(count: 500, input: Self.atomCodes, Self.testCodes, Self.waiverCodes, Self.disturbances) {
            atoms, tests, waivers, disturbance in
            Self.checkInvariants(RandomCompletionFacts.facts(atoms: atoms, tests: tests, waivers: waivers, disturbance: disturbance))
        }
    }

    @Test("the random facts reach every verdict, so the property above is not vacuous")
    func everyVerdictOccurs() {
        var seen: [String: Int] = [:]
        for seed in UInt64(0)..<3_000 {
            seen[CompletionDecision(RandomCompletionFacts.facts(seed: seed)).statusLabel, default: 0] += 1
        }
        let labels = ["verified", "accepted_with_waivers", "failed", "incomplete", "waiting_for_reviews", "needs_final_gate", "blocked_by_gate"]
        for label in labels {
            #expect(seen[label, default: 0] >= 20, "\(label) occurred \(seen[label, default: 0]) times in 3000: \(seen)")
        }
    }
}
