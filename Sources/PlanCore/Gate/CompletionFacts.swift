/// Everything `CompletionDecision` decides from: the atoms as they stand, the pending reviews, what the
/// workspace's head commit holds, the final gate, the waivers, and the gate policy.
///
/// The caller gathers these from the store and the workspace right before asking, and asks again after
/// acting; PlanCore only compares them. Hashes are SHA-256 of the text, in the caller's one spelling
/// (lowercase hex), and are compared exactly, as are commit ids.
public struct CompletionFacts: Sendable, Hashable {
    /// One atom of the plan as it stands now.
    public struct Atom: Sendable, Hashable {
        public var key: AtomKey
        public var status: AtomStatus
        /// The SHA-256 of the atom's accepted content, or nil when none of its content was accepted.
        public var acceptedSHA256: String?

        public init(key: AtomKey, status: AtomStatus, acceptedSHA256: String?) {
            self.key = key
            self.status = status
            self.acceptedSHA256 = acceptedSHA256
        }

        public init(taskNumber: Int, path: String, status: AtomStatus, acceptedSHA256: String?) {
            self.init(key: AtomKey(taskNumber: taskNumber, path: path), status: status, acceptedSHA256: acceptedSHA256)
        }

        /// Done (`AtomStatus.isDone`), with accepted content.
        public var isDone: Bool { status.isDone(hasAcceptedContent: acceptedSHA256 != nil) }

        /// Done and not held for a review (succeeded or approved): nothing more will happen to it.
        public var isSettled: Bool { isDone && status != .needsReview }

        /// Done, but held for a human: its content is accepted until the review says otherwise.
        public var isAwaitingReview: Bool { isDone && status == .needsReview }
    }

    /// One acceptance test as the final gate saw it.
    public struct TestResult: Sendable, Hashable {
        /// The caller's identifier of the test (a database id); waivers name tests by it.
        public var testID: String
        /// The test's name, for people.
        public var name: String
        public var priority: CriterionPriority
        /// How its run ended, or nil when the gate evaluated it but it did not run: it does not pass, as in `GateS`.
        public var outcome: TestOutcome?

        public init(testID: String, name: String, priority: CriterionPriority, outcome: TestOutcome?) {
            self.testID = testID
            self.name = name
            self.priority = priority
            self.outcome = outcome
        }

        public var passed: Bool { outcome == .pass }
    }

    /// The latest Gate S run of the last wave (its latest repair round, or a later run on a newer commit).
    public struct FinalGate: Sendable, Hashable {
        /// The commit whose tree the tests ran on.
        public var commit: String
        /// Whether the gate evaluated every acceptance test of the plan (it ran as the final wave's gate),
        /// rather than only those that were due.
        public var evaluatedEveryTest: Bool
        /// One result per evaluated test. Gate S counts them as given.
        public var results: [TestResult]

        public init(commit: String, evaluatedEveryTest: Bool, results: [TestResult]) {
            self.commit = commit
            self.evaluatedEveryTest = evaluatedEveryTest
            self.results = results
        }
    }

    /// Every atom of the plan, in the plan's execution order (`ExecutionPlan.atoms`) or in wave order:
    /// of several atoms writing one file, the last one listed wrote the content the file must hold.
    public var atoms: [Atom]
    /// Reviews of the plan still waiting for a human, of any kind.
    public var pendingReviews: Int
    /// The workspace's current commit, or nil when it has none.
    public var headCommit: String?
    /// The SHA-256 of each atom file's content in `headCommit`, by path; a path that is not in that commit
    /// is absent.
    public var headFileSHA256: [String: String]
    /// The final gate, or nil when no gate has run on the last wave yet.
    public var finalGate: FinalGate?
    /// Every waiver recorded for the plan, in the order they were given.
    public var waivers: [TestWaiver]
    public var policy: GatePolicy

    public init(atoms: [Atom], pendingReviews: Int, headCommit: String?, headFileSHA256: [String: String],
                finalGate: FinalGate?, waivers: [TestWaiver] = [], policy: GatePolicy = .default) {
        self.atoms = atoms
        self.pendingReviews = pendingReviews
        self.headCommit = headCommit
        self.headFileSHA256 = headFileSHA256
        self.finalGate = finalGate
        self.waivers = waivers
        self.policy = policy
    }

    /// The files whose accepted content is not their content in the head commit, in the order of `atoms`.
    ///
    /// A file's accepted content is its last writer's (the last atom of that path in `atoms`); earlier
    /// writers' content was the input of later ones, so it is expected to differ.
    public var filesNotInHead: [String] {
        var lastWriter: [String: Int] = [:]
        for (index, atom) in atoms.enumerated() { lastWriter[atom.key.path] = index }
        var paths: [String] = []
        for (index, atom) in atoms.enumerated() where lastWriter[atom.key.path] == index {
            let path = atom.key.path
            if atom.acceptedSHA256 == nil || atom.acceptedSHA256 != headFileSHA256[path] { paths.append(path) }
        }
        return paths
    }
}
