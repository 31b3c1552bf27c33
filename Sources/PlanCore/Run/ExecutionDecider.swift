/// The executor's decisions, made from the facts it loaded and nothing else: it asks, then performs what
/// the answer says (the I/O: the database, the workspace, the model).
///
/// A run of a plan's execution job goes:
/// 1. `claim(_:)`: a queued or executing plan runs (a queued one starts); a blocked one first has its
///    reviewers' resolutions applied, then `blockedPlan(...)` says whether it resumes, fails for a
///    rejection or stays blocked; any other plan has nothing to run.
/// 2. Before each wave and each batch of atoms, `checkpoint(status:budget:)`: stop unless the plan is
///    executing; warn once at the budget's warning share; pause once when the budget is spent.
/// 3. The waves of `wavesToRun(_:)`, in order; each is picked up with `pickUp(...)` (started if pending;
///    a failed wave whose blocking reviews all waived its failing tests with a reason ends waived), and
///    only the atoms of `atomsToStart(_:waves:)` start: the pending atoms of the first unfinished wave.
/// 4. When a wave's atoms are finished, `afterAtoms(_:rejectedInPlan:)`: a rejection anywhere fails the
///    plan, an atom that is not done (`AtomStatus.isDone`) blocks it, otherwise the wave is committed and
///    gated; a failing gate is repaired or blocks the plan as `afterFailedGate(...)` says.
/// 5. When every wave is finished, `CompletionDecision` says whether the plan completes.
///
/// Every status change the executor makes as a result goes through the state machines in `Lifecycle`.
public struct ExecutionDecider: Sendable, Hashable {
    /// The share of the budget at which the one `cost_warning` is emitted (0.8: at 80 %).
    public var budgetWarningShare: Double

    public init(budgetWarningShare: Double) {
        self.budgetWarningShare = budgetWarningShare
    }

    // MARK: the claim

    /// What a claimed execution job does with its plan.
    public enum Claim: Sendable, Hashable {
        /// Run the plan's waves; `starting` when the plan is queued and starts now (`PlanEvent.start`).
        case run(starting: Bool)
        /// Apply the reviewers' resolutions, then ask `blockedPlan(...)`.
        case settleBlocked
        /// Paused, cancelled, finished or not approved: nothing to run. Resolutions made meanwhile are
        /// applied when the plan runs again.
        case nothing
    }

    public func claim(_ status: PlanStatus) -> Claim {
        switch status {
        case .queued: .run(starting: true)
        case .executing: .run(starting: false)
        case .blocked: .settleBlocked
        default: .nothing
        }
    }

    /// What a blocked plan does once its resolutions are applied.
    public enum BlockedPlan: Sendable, Hashable {
        /// A reviewer rejected an atom: the plan resumes and fails at once (`resume` then `fail`, the only
        /// way the lifecycle leads from blocked to failed).
        case failForRejection
        /// Nothing holds it any more: it resumes (`PlanEvent.resume`) and runs.
        case resume
        /// A blocking review is still waiting, or every wave is finished and some review waits.
        case stayBlocked
    }

    /// A blocked plan resumes when no blocking review is waiting and either a wave is left to run or no
    /// review at all is waiting (with every wave finished, a waiting review holds the completion).
    public func blockedPlan(rejectionApplied: Bool, pending: ExecutionFacts.PendingReviews,
                            waves: [ExecutionFacts.Wave]) -> BlockedPlan {
        if rejectionApplied { return .failForRejection }
        if pending.blocking > 0 { return .stayBlocked }
        if pending.all == 0 || waves.contains(where: { !$0.isFinished }) { return .resume }
        return .stayBlocked
    }

    // MARK: between steps

    /// Whether the run goes on, checked before each wave and each batch of atoms.
    public struct Checkpoint: Sendable, Hashable {
        /// What happens to the run.
        public enum Step: Sendable, Hashable {
            case goOn
            /// The plan is no longer executing (paused or cancelled by its owner, or finished).
            case stop
            /// The budget is spent: the plan pauses (`PlanEvent.pause`), once; resumed, it goes on past it.
            case pauseForBudget
        }

        /// Emit the plan's one `cost_warning` now.
        public var warn: Bool
        public var step: Step

        public init(warn: Bool, step: Step) {
            self.warn = warn
            self.step = step
        }
    }

    public func checkpoint(status: PlanStatus, budget: ExecutionFacts.Budget) -> Checkpoint {
        guard status == .executing else { return Checkpoint(warn: false, step: .stop) }
        guard budget.limitUSD > 0 else { return Checkpoint(warn: false, step: .goOn) }
        let warn = budget.spentUSD >= budget.limitUSD * budgetWarningShare && !budget.warned
        let pause = budget.spentUSD >= budget.limitUSD && !budget.pausedBefore
        return Checkpoint(warn: warn, step: pause ? .pauseForBudget : .goOn)
    }

    // MARK: waves and atoms

    /// The waves left to run, in order: those not finished.
    public func wavesToRun(_ waves: [ExecutionFacts.Wave]) -> [ExecutionFacts.Wave] {
        waves.filter { !$0.isFinished }.sorted { $0.number < $1.number }
    }

    /// The atoms to start now: the pending atoms of the first unfinished wave, longest remaining path first
    /// (ties keep the order given). Never an atom of a later wave while an earlier one is unfinished.
    public func atomsToStart<ID>(_ atoms: [ExecutionFacts.Atom<ID>], waves: [ExecutionFacts.Wave]) -> [ExecutionFacts.Atom<ID>] {
        guard let current = wavesToRun(waves).first?.number else { return [] }
        return atoms.filter { $0.wave == current && $0.status == .pending }.sorted { $0.remainingPath > $1.remainingPath }
    }

    /// How a wave is picked up by the run.
    public enum WavePickUp<ID: Hashable & Sendable, Reviewer: Hashable & Sendable>: Sendable, Hashable {
        /// Run its pending atoms, then commit and gate it. `starting`: it is pending and starts now
        /// (`WaveEvent.start`). `allowRepairs`: false for a wave its gate blocked before, whose reviewers
        /// already chose the content (approved content that still fails blocks again, rather than being
        /// rewritten by a repair round).
        case run(starting: Bool, allowRepairs: Bool)
        /// Every latest blocking review of the failed wave waived its failing tests with a written reason:
        /// the wave ends waived (`WaveEvent.waive`), never passed. `reasons` in the reviews' order,
        /// `reason` the distinct ones sorted, one per line; the first waiver's id and the last reviewer.
        case waive(reviewID: ID?, reviewer: Reviewer?, reasons: [String], reason: String)
    }

    /// `reviews` are the wave's latest blocking reviews; `gateRounds` how many Gate S evaluations it had.
    public func pickUp<ID, Reviewer>(_ wave: ExecutionFacts.Wave, blockingReviews reviews: [ExecutionFacts.BlockingReview<ID, Reviewer>],
                                     gateRounds: Int) -> WavePickUp<ID, Reviewer> {
        guard wave.status == .failed else { return .run(starting: wave.status == .pending, allowRepairs: true) }
        let blockedByGate = !reviews.isEmpty && gateRounds > 0
        if blockedByGate, reviews.allSatisfy(\.isWaiverWithReason) {
            let reasons = reviews.compactMap(\.waiverReason)
            return .waive(reviewID: reviews.first?.id, reviewer: reviews.compactMap(\.reviewer).last, reasons: reasons,
                          reason: Array(Set(reasons)).sorted().joined(separator: "\n"))
        }
        return .run(starting: false, allowRepairs: !blockedByGate)
    }

    /// What follows a wave whose atoms have run.
    public enum AfterAtoms<ID: Hashable & Sendable>: Sendable, Hashable {
        /// A reviewer rejected an atom (of this wave or an earlier one): the plan fails (`PlanEvent.fail`).
        case failForRejection
        /// These atoms are not done (they never validated; their blocking reviews wait): the wave fails
        /// (`WaveEvent.atomsFailed`) and the plan blocks (`PlanEvent.block`).
        case block(notDone: [ExecutionFacts.Atom<ID>])
        /// Commit the wave and run its gate.
        case finishWave
    }

    public func afterAtoms<ID>(_ waveAtoms: [ExecutionFacts.Atom<ID>], rejectedInPlan: Bool) -> AfterAtoms<ID> {
        if rejectedInPlan || waveAtoms.contains(where: { $0.status == .rejected }) { return .failForRejection }
        let notDone = waveAtoms.filter { !$0.isDone }
        return notDone.isEmpty ? .finishWave : .block(notDone: notDone)
    }

    /// What follows a failed Gate S evaluation of a wave.
    public enum AfterFailedGate: Sendable, Hashable {
        /// Regenerate the repairable atoms with the test output, commit, and gate again.
        case repair
        /// Send the repairable atoms to blocking reviews, fail the wave (`WaveEvent.gateFailed`) and block
        /// the plan (`PlanEvent.block`), if it is still executing.
        case block
    }

    /// A repair round runs when one is left, some done atom of a failing test's task can be rewritten, some
    /// failing test is one code can fix (it does not pass without the code it checks), and the run may go on.
    public func afterFailedGate(repairsLeft: Int, repairableAtoms: Int, codeCanFix: Bool, mayGoOn: Bool) -> AfterFailedGate {
        repairsLeft > 0 && repairableAtoms > 0 && codeCanFix && mayGoOn ? .repair : .block
    }

    /// The tasks whose every atom is done: the tasks a wave's gate may test.
    public func doneTasks<ID>(_ atoms: [ExecutionFacts.Atom<ID>]) -> Set<Int> {
        var done = Set(atoms.map(\.key.taskNumber))
        for atom in atoms where !atom.isDone { done.remove(atom.key.taskNumber) }
        return done
    }
}
