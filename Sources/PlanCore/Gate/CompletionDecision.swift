/// Whether a plan may complete, and if not, what stands in the way: decided from `CompletionFacts` alone.
///
/// "Completed" means verified: the tree the final gate passed on is the committed tree and holds exactly
/// the accepted content. A plan may also complete "accepted with waivers", when failing tests were
/// waived with a reason; it then says so wherever it is shown, and lists the waivers.
///
/// The rules, checked in this order; the first that applies decides:
/// 1. A rejected atom fails the plan: `.failed`.
/// 2. Every other atom must be settled (succeeded or approved, with accepted content), else `.incomplete`;
///    an atom held for review with accepted content counts as waiting for its review while one is pending.
/// 3. No review may be pending: `.waitingForReviews`.
/// 4. The final gate must have tested what was accepted, else `.needsFinalGate`, checked as:
///    4a. every file's accepted content (its last writer's) is its content in the head commit;
///    4b. a final gate has run;
///    4c. on exactly the head commit;
///    4d. evaluating every acceptance test, not only the due ones.
/// 5. Gate S decides on the final gate's results, per priority:
///    5a. a share met by the passing tests alone needs no waiver;
///    5b. otherwise the failing tests that have a waiver with a reason are excused, and if the share is met
///        counting them, their waivers are used (all of them: they carry the share together);
///    5c. otherwise the failing tests without such a waiver block the plan: `.blockedByGate`.
/// 6. No waiver used: `.complete(.verified)`; some used: `.complete(.acceptedWithWaivers)` with exactly
///    those, one per waived test (the first with a reason). A waiver of a passing test, or of a failing
///    SHOULD test the share allows, was not needed and is not listed.
///
/// Failing and not-run tests count as not passed in every share, waived or not: a waiver excuses a
/// failure, it does not turn it into a pass. With the default policy this means every failing MUST test
/// needs a waiver, and failing SHOULD tests need waivers only once they push the share below 95 %.
///
/// The executor asks after the last wave's gate, and again after each thing it does about the answer:
/// - `.complete`: mark the plan completed, recording `statusLabel` and the waivers;
/// - `.needsFinalGate`: write every file's accepted content, commit, run every test on that commit, ask
///   again (answered again, the workspace cannot hold the accepted content: block rather than loop);
/// - `.waitingForReviews`, `.blockedByGate`, `.incomplete`: block the plan with `description`;
/// - `.failed`: fail the plan with `description`.
public enum CompletionDecision: Sendable, Hashable, CustomStringConvertible {
    /// The plan may complete; `Verification` says how it was shown to work.
    case complete(Verification)
    /// Reviewers rejected these atoms: the plan fails until they are produced again.
    case failed(rejected: [AtomKey])
    /// These atoms have no accepted content yet, or wait for a review that nobody is asked for.
    case incomplete(atoms: [CompletionFacts.Atom])
    /// Reviews are still waiting for a human.
    case waitingForReviews(count: Int)
    /// The final gate has not tested what was accepted: commit, run the final gate, and ask again.
    case needsFinalGate(FinalGateReason)
    /// The final gate fails on these tests and no waiver with a reason covers them (MUST before SHOULD,
    /// otherwise in the gate's order).
    case blockedByGate(failures: [CompletionFacts.TestResult])

    /// How a completed plan was shown to work.
    public enum Verification: Sendable, Hashable {
        /// The final gate passed on the committed tree, which holds exactly the accepted content.
        case verified
        /// As verified, except that these failing tests were accepted by a reviewer, each with a reason.
        case acceptedWithWaivers([TestWaiver])

        /// `verified` or `accepted_with_waivers`, for the API and the plan's summary.
        public var statusLabel: String {
            switch self {
            case .verified: "verified"
            case .acceptedWithWaivers: "accepted_with_waivers"
            }
        }
    }

    /// Why the final gate must run (again) before the plan may complete, in the order the checks are made.
    public enum FinalGateReason: Sendable, Hashable {
        /// These files' accepted content is not their content in the head commit (accepted after the last
        /// commit, by a review's edit or regeneration, say), in the order of the atoms.
        case contentNotCommitted(files: [String])
        /// No gate has run on the last wave.
        case noFinalGate
        /// The final gate ran on another commit than the head (nil when the workspace has no commit).
        case headMoved(gatedCommit: String, headCommit: String?)
        /// The last gate evaluated only the tests that were due, not every test.
        case notEveryTestEvaluated
    }

    /// Decides from the facts; see the rules above.
    public init(_ facts: CompletionFacts) {
        let rejected = facts.atoms.filter { $0.status == .rejected }
        if !rejected.isEmpty {
            self = .failed(rejected: rejected.map(\.key))
            return
        }
        let reviewPending = facts.pendingReviews > 0
        let unsettled = facts.atoms.filter { !$0.isSettled && !($0.isAwaitingReview && reviewPending) }
        if !unsettled.isEmpty {
            self = .incomplete(atoms: unsettled)
            return
        }
        if reviewPending {
            self = .waitingForReviews(count: facts.pendingReviews)
            return
        }
        if let reason = Self.finalGateReason(facts) {
            self = .needsFinalGate(reason)
            return
        }
        // finalGateReason returns nil only when there is a final gate.
        self = Self.gateVerdict(facts.finalGate?.results ?? [], waivers: facts.waivers, policy: facts.policy)
    }

    /// Rule 4: why the final gate does not cover what was accepted, or nil when it does.
    static func finalGateReason(_ facts: CompletionFacts) -> FinalGateReason? {
        let files = facts.filesNotInHead
        if !files.isEmpty { return .contentNotCommitted(files: files) }
        guard let gate = facts.finalGate else { return .noFinalGate }
        if gate.commit != facts.headCommit { return .headMoved(gatedCommit: gate.commit, headCommit: facts.headCommit) }
        if !gate.evaluatedEveryTest { return .notEveryTestEvaluated }
        return nil
    }

    /// Rules 5 and 6: Gate S on the final gate's results, with the waivers that have a reason.
    static func gateVerdict(_ results: [CompletionFacts.TestResult], waivers: [TestWaiver], policy: GatePolicy) -> CompletionDecision {
        var waiverOfTest: [String: TestWaiver] = [:]
        for waiver in waivers where waiver.hasReason && waiverOfTest[waiver.testID] == nil {
            waiverOfTest[waiver.testID] = waiver
        }
        var used: [TestWaiver] = []
        var usedTests: Set<String> = []
        var blocking: [CompletionFacts.TestResult] = []
        for priority in CriterionPriority.allCases {
            let ofPriority = results.filter { $0.priority == priority }
            let failing = ofPriority.filter { !$0.passed }
            let passed = ofPriority.count - failing.count
            let percent = priority == .must ? policy.mustPassPercent : policy.shouldPassPercent
            if GateS.meets(passed, of: ofPriority.count, percent: percent) { continue }
            let waived = failing.filter { waiverOfTest[$0.testID] != nil }
            if GateS.meets(passed + waived.count, of: ofPriority.count, percent: percent) {
                for test in waived where usedTests.insert(test.testID).inserted {
                    if let waiver = waiverOfTest[test.testID] { used.append(waiver) }
                }
            } else {
                blocking += failing.filter { waiverOfTest[$0.testID] == nil }
            }
        }
        if !blocking.isEmpty { return .blockedByGate(failures: blocking) }
        return .complete(used.isEmpty ? .verified : .acceptedWithWaivers(used))
    }

    /// True when the plan may complete.
    public var isComplete: Bool {
        if case .complete = self { return true }
        return false
    }

    /// The waivers a completion rests on; empty unless the plan is accepted with waivers.
    public var waivers: [TestWaiver] {
        if case .complete(.acceptedWithWaivers(let waivers)) = self { return waivers }
        return []
    }

    /// One word for the API: `verified`, `accepted_with_waivers`, `failed`, `incomplete`,
    /// `waiting_for_reviews`, `needs_final_gate` or `blocked_by_gate`.
    public var statusLabel: String {
        switch self {
        case .complete(let verification): verification.statusLabel
        case .failed: "failed"
        case .incomplete: "incomplete"
        case .waitingForReviews: "waiting_for_reviews"
        case .needsFinalGate: "needs_final_gate"
        case .blockedByGate: "blocked_by_gate"
        }
    }

    /// One sentence for people, naming at most a few atoms, files or tests.
    public var description: String {
        switch self {
        case .complete(.verified):
            return "verified: the final gate passed on the committed tree, which holds exactly the accepted content"
        case .complete(.acceptedWithWaivers(let waivers)):
            return "accepted with waivers: the final gate passed on the committed tree except for \(waivers.count) failing "
                + "test(s) a reviewer waived with a reason (\(Self.listed(waivers.map(\.testID))))"
        case .failed(let rejected):
            return "failed: a reviewer rejected \(rejected.count) atom(s) (\(Self.listed(rejected.map(\.description)))); "
                + "they must be produced again before the plan can complete"
        case .incomplete(let atoms):
            return "incomplete: \(atoms.count) atom(s) have no accepted content or wait for a review nobody is asked for "
                + "(\(Self.listed(atoms.map { "\($0.key) is \($0.status.rawValue)" })))"
        case .waitingForReviews(let count):
            return "waiting for \(count) review(s) before the plan can complete"
        case .needsFinalGate(.contentNotCommitted(let files)):
            return "needs the final gate: the accepted content of \(files.count) file(s) is not in the head commit "
                + "(\(Self.listed(files))); commit it and run every test on that commit"
        case .needsFinalGate(.noFinalGate):
            return "needs the final gate: no gate has run on the last wave yet"
        case .needsFinalGate(.headMoved(let gated, let head)):
            return "needs the final gate: it ran on commit \(gated.prefix(12)) but the head is "
                + (head.map { "commit \($0.prefix(12))" } ?? "no commit")
        case .needsFinalGate(.notEveryTestEvaluated):
            return "needs the final gate: the last gate evaluated only the tests that were due, not every test"
        case .blockedByGate(let failures):
            let named = failures.map { "\($0.priority.rawValue.uppercased()) \($0.name) (\($0.outcome?.rawValue ?? "not run"))" }
            return "blocked by the final gate: \(failures.count) failing test(s) have no waiver with a reason (\(Self.listed(named)))"
        }
    }

    /// How many atoms, files or tests a description names before it says how many more there are.
    public static let listedInDescription = 3

    /// `a, b, c and 2 more`.
    static func listed(_ items: [String]) -> String {
        let shown = items.prefix(listedInDescription).joined(separator: ", ")
        let rest = items.count - listedInDescription
        return rest > 0 ? "\(shown) and \(rest) more" : shown
    }
}
