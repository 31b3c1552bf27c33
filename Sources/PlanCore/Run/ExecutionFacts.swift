/// What the executor loaded about a plan's run, in PlanCore's types: the input of `ExecutionDecider`.
///
/// `ID` is the caller's identity of an atom or a review (a database id); PlanCore only carries it back in
/// its answers, so the caller acts on exactly the rows it loaded.
public enum ExecutionFacts {
    /// One atom as it stands now.
    public struct Atom<ID: Hashable & Sendable>: Sendable, Hashable {
        public var id: ID
        public var key: AtomKey
        /// The number of the wave it runs in (from 1).
        public var wave: Int
        public var status: AtomStatus
        /// Whether it has accepted content (a content hash recorded with an accepted attempt or a review).
        public var hasAcceptedContent: Bool
        /// Its longest chain of dependent atoms (`ExecutionPlan.remainingPathLength`): the longer, the sooner it starts.
        public var remainingPath: Int

        public init(id: ID, key: AtomKey, wave: Int, status: AtomStatus, hasAcceptedContent: Bool, remainingPath: Int = 0) {
            self.id = id
            self.key = key
            self.wave = wave
            self.status = status
            self.hasAcceptedContent = hasAcceptedContent
            self.remainingPath = remainingPath
        }

        /// `AtomStatus.isDone` for this atom.
        public var isDone: Bool { status.isDone(hasAcceptedContent: hasAcceptedContent) }
    }

    /// One wave as it stands now.
    public struct Wave: Sendable, Hashable {
        public var number: Int
        public var status: WaveStatus

        public init(number: Int, status: WaveStatus) {
            self.number = number
            self.status = status
        }

        /// Passed, or waived by reviewers: nothing is left to run in it.
        public var isFinished: Bool { status == .passed || status == .waived }
    }

    /// The plan's reviews still waiting for a person.
    public struct PendingReviews: Sendable, Hashable {
        /// Those that hold a wave (an atom that never validated, a gate that still fails).
        public var blocking: Int
        /// All of them, blocking or not.
        public var all: Int

        public init(blocking: Int, all: Int) {
            self.blocking = blocking
            self.all = all
        }
    }

    /// One of the latest blocking reviews of a failed wave.
    public struct BlockingReview<ID: Hashable & Sendable, Reviewer: Hashable & Sendable>: Sendable, Hashable {
        public var id: ID
        public var status: ReviewStatus
        public var waiverReason: String?
        public var reviewer: Reviewer?

        public init(id: ID, status: ReviewStatus, waiverReason: String?, reviewer: Reviewer?) {
            self.id = id
            self.status = status
            self.waiverReason = waiverReason
            self.reviewer = reviewer
        }

        /// Waived, with a reason that is not blank.
        public var isWaiverWithReason: Bool {
            status == .waived && waiverReason.map { !$0.allSatisfy(\.isWhitespace) } == true
        }
    }

    /// The plan's spending against its budget, and what was already said about it.
    public struct Budget: Sendable, Hashable {
        public var spentUSD: Double
        /// The budget; 0 means none.
        public var limitUSD: Double
        /// Whether the one `cost_warning` was already emitted.
        public var warned: Bool
        /// Whether the plan was already paused once for its budget (a plan resumed after that goes on).
        public var pausedBefore: Bool

        public init(spentUSD: Double, limitUSD: Double, warned: Bool, pausedBefore: Bool) {
            self.spentUSD = spentUSD
            self.limitUSD = limitUSD
            self.warned = warned
            self.pausedBefore = pausedBefore
        }
    }
}
