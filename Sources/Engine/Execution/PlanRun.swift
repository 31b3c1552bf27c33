import Base
import Foundation
import JSON
import LLM
import PlanCore
import Postgres
import Store

/// One run of a plan's execution job: the plan as approved, its atoms and waves, its workspace, and
/// the execution steps over them (README, "The executor"). Everything it decides from is read back from PostgreSQL, so a
/// run that starts after a crash carries on where the last one stopped.
final class PlanRun: Sendable {
    let planID: UUID
    let ownerID: UUID
    /// The start of every atom prompt of this run, the same for all its atoms.
    let planContext: AtomPrompts.PlanContext
    let testCommand: String
    /// The stack the test command names (Python when it names none: such a plan fails its tests with
    /// the command's refusal, see `runTests`).
    let stack: any Stack
    let validated: ValidatedPlan
    let execution: ExecutionPlan
    let tests: [StoredTest]
    let workspace: Workspace
    let handler: ExecutionHandler
    let context: JobContext
    let validators: Validators
    let testRunner: AcceptanceTestRunner

    var settings: ExecutionSettings { handler.settings }
    var llm: LLMClient { handler.llm }
    var pool: BlockingPool { handler.pool }
    var attribution: LLMAttribution { LLMAttribution(ownerID: ownerID, planID: planID, jobID: context.job.id) }

    private init(record: ExecutionPlanRecord, validated: ValidatedPlan, tests: [StoredTest], workspace: Workspace,
                 handler: ExecutionHandler, context: JobContext) {
        planID = record.id
        ownerID = record.ownerID
        testCommand = record.techStack["test_command"]?.stringValue ?? validated.plan.techStack.testCommand
        stack = Stacks.stack(testCommand: testCommand) ?? PythonStack()
        self.validated = validated
        planContext = AtomPrompts.PlanContext(projectName: record.projectName, techStackJSON: record.techStack.jsonText, plan: validated)
        execution = ExecutionPlan(validated)
        self.tests = tests
        self.workspace = workspace
        self.handler = handler
        self.context = context
        var validators = Validators(sandbox: handler.sandbox)
        validators.plannedFiles = Set(validated.plan.tasks.flatMap(\.files) + tests.map(\.file))
        validators.stack = stack.kind
        self.validators = validators
        var runner = AcceptanceTestRunner(sandbox: handler.sandbox)
        runner.stack = stack
        testRunner = runner
    }

    /// Reads the plan and builds PlanCore's model from its rows, validated again for execution (so a
    /// run works on a plan that passes every rule that keeps execution safe, as approved), and opens its
    /// workspace. Nil when the plan no longer exists.
    static func load(planID: UUID, handler: ExecutionHandler, context: JobContext) async throws -> PlanRun? {
        let database = context.database
        guard let record = try await database.run({ try ExecutionStore($0).plan(id: planID) }) else { return nil }
        let validated: ValidatedPlan
        do {
            guard let plan = try await database.run({ try PlanTreeReader($0).plan(id: planID) }) else { return nil }
            validated = try PlanValidator().validateStored(plan)
        } catch let problems as PlanProblems {
            throw ExecutionHandler.Refusal(description: "the stored plan \(planID) does not pass validation: "
                                           + problems.repairInstructions(maxListed: 3))
        }
        let tests = try await database.run { try ExecutionStore($0).tests(planID: planID) }
        let path = record.workspacePath ?? handler.settings.workspacePath(planID: planID)
        let limits = handler.settings.workspaceLimits
        let workspace = try await handler.pool.run { () throws(WorkspaceError) -> Workspace in
            let workspace = try Workspace.open(at: path, limits: limits)
            // What sandboxed steps leave behind never reaches a wave's commit.
            try workspace.exclude(["__pycache__/", "*.pyc", ".pytest_cache/", ".masterplan/", "node_modules/", ".venv/"])
            return workspace
        }
        if record.workspacePath == nil {
            try await database.run { try ExecutionStore($0).setWorkspacePath(planID: planID, path: path) }
        }
        return PlanRun(record: record, validated: validated, tests: tests, workspace: workspace, handler: handler, context: context)
    }

    // MARK: the job

    /// What decides the run's next step; this only loads the facts it asks about and performs the answer.
    var decider: ExecutionDecider { ExecutionDecider(budgetWarningShare: settings.budgetWarningShare) }

    func execute() async throws {
        guard let status = try await store({ try $0.status(planID: self.planID) }) else { return }
        let starting: Bool
        switch decider.claim(status) {
        case .run(let isStart):
            starting = isStart
        case .settleBlocked:
            let rejected = try await applyResolvedReviews()
            let pending = try await store { try $0.pendingReviewCounts(planID: self.planID) }
            let waves = try await store { try $0.waves(planID: self.planID) }
            switch decider.blockedPlan(rejectionApplied: rejected, pending: pending, waves: waves.map(\.facts)) {
            case .failForRejection:
                guard try await transition(try StatusChange(from: .blocked, .resume), action: .resume, reason: nil) else { return }
                try await failForRejection(try await store { try $0.atoms(planID: self.planID) })
                return
            case .stayBlocked:
                return
            case .resume:
                guard try await transition(try StatusChange(from: .blocked, .resume), action: .resume, reason: nil) else { return }
                starting = false
            }
        case .nothing:
            return
        }
        try await materialize()
        if starting {
            let counts = ProgressEvent.MasterplanExecutionStart(totalAtoms: execution.atoms.count, totalWaves: execution.waves.count,
                                                                concurrency: settings.concurrency, workspace: workspace.root)
            guard try await transition(try StatusChange(from: .queued, .start), action: .start, reason: nil,
                                       extraEvents: [.masterplanExecutionStart(counts)]) else { return }
        }
        try await recoverWorkspace()
        if try await applyResolvedReviews() {
            try await failForRejection(try await store { try $0.atoms(planID: self.planID) })
            return
        }
        guard try await reviveRejectedAtoms() else { return }

        let waves = try await store { try $0.waves(planID: self.planID) }
        let toRun = Set(decider.wavesToRun(waves.map(\.facts)).map(\.number))
        for wave in waves where toRun.contains(wave.number) {
            guard try await mayContinue() else { return }
            // Resolutions made while the plan runs (low-confidence reviews) are applied between waves.
            if try await applyResolvedReviews() {
                try await failForRejection(try await store { try $0.atoms(planID: self.planID) })
                return
            }
            guard try await runWave(wave, totalWaves: waves.count) else { return }
        }
        try await finishPlan()
    }

    /// Runs one wave to its end; false when the run stops here (paused, cancelled, blocked, failed).
    func runWave(_ stored: StoredWave, totalWaves: Int) async throws -> Bool {
        let reviews = stored.status == .failed ? try await store { try $0.blockingReviews(waveID: stored.id) } : []
        let rounds = stored.status == .failed ? try await gateRounds(of: stored) : 0
        let allowRepairs: Bool
        var pickedUp = stored
        switch decider.pickUp(stored.facts, blockingReviews: reviews, gateRounds: rounds) {
        case .waive(let reviewID, let reviewer, let reasons, let reason):
            // Every blocking review waived the failing tests with a written reason: the wave ends
            // `waived` (never `passed`) and each failing test is recorded as waived. An approval is
            // not a waiver: approved content is gated again below, and blocks again if it still fails.
            let change = try StatusChange(from: stored.status, .waive)
            try await store {
                try $0.waiveWave(planID: self.planID, ownerID: self.ownerID, waveID: stored.id, change, reviewID: reviewID,
                                 reviewerID: reviewer, reason: reason,
                                 waveEvent: ProgressEvent.WaveExecutionComplete(wave: stored.number, commit: stored.commitSHA,
                                                                                outcome: .waived(reasons: reasons)))
            }
            return true
        case .run(let starting, let repairs):
            allowRepairs = repairs
            if starting {
                pickedUp.status = try await store {
                    try $0.startWave(planID: self.planID, ownerID: self.ownerID, wave: stored, totalWaves: totalWaves)
                }
            }
        }
        let wave = pickedUp

        guard try await runPendingAtoms(of: wave) else { return false }

        // A reviewer may have rejected an atom of an earlier wave while this one ran.
        let (rejected, waveAtoms) = try await store {
            (try $0.hasRejectedAtom(planID: self.planID), try $0.atoms(planID: self.planID, wave: wave.number))
        }
        switch decider.afterAtoms(waveAtoms.map(facts), rejectedInPlan: rejected) {
        case .failForRejection:
            try await failForRejection(try await store { try $0.atoms(planID: self.planID) })
            return false
        case .block(let notDone):
            if wave.status != .failed {
                let change = try StatusChange(from: wave.status, reaching: .failed)
                try await store { try $0.failWave(waveID: wave.id, change) }
            }
            let names = notDone.prefix(5).map(\.key.description).joined(separator: ", ")
            _ = try await transition(try StatusChange(from: .executing, .block),
                                     action: .block, reason: "wave \(wave.number): \(notDone.count) atom(s) did not pass validation (\(names)); "
                                         + "their reviews are waiting")
            return false
        case .finishWave:
            // A wave this run started cannot have been committed before; one it resumes (after a crash,
            // or blocked and now resolved) may have been, and its commit is then reused.
            return try await finishWave(wave, atoms: waveAtoms, totalWaves: totalWaves, allowRepairs: allowRepairs,
                                        mayHaveCommitted: stored.status != .pending)
        }
    }

    func failForRejection(_ atoms: [StoredAtom]) async throws {
        let rejected = atoms.filter { $0.status == .rejected }
        let names = rejected.prefix(5).map(\.key.description).joined(separator: ", ")
        _ = try await transition(try StatusChange(from: .executing, .fail), action: .fail,
                                 reason: "a reviewer rejected \(rejected.count) atom(s) (\(names)); resume the plan to regenerate them "
                                     + "with the reviewer's feedback")
    }

    // MARK: state

    /// Stores the atoms and waves PlanCore computed, once.
    func materialize() async throws {
        let atoms = execution.atoms.enumerated().map { index, atom in (key: atom.key, wave: execution.waveIndex[index] + 1) }
        var dependencies: [(atom: Int, dependsOn: Int, kind: String)] = []
        for (index, predecessors) in execution.graph.predecessors.enumerated() {
            for predecessor in predecessors {
                dependencies.append((index, predecessor, execution.atoms[predecessor].path == execution.atoms[index].path ? "same_file" : "task"))
            }
        }
        let sizes = execution.waves.map(\.atoms.count)
        let edges = dependencies
        try await store { _ = try $0.materialize(planID: self.planID, atoms: atoms, waveSizes: sizes, dependencies: edges) }
    }

    /// After a crash: atoms left running go back to pending, and every accepted file is in the
    /// workspace with exactly its accepted content (a write the crash cut short is redone from the
    /// database; uncommitted content of an unaccepted attempt is overwritten when its atom runs again).
    func recoverWorkspace() async throws {
        try await store { try $0.requeueRunningAtoms(planID: self.planID) }
        let atoms = try await store { try $0.atoms(planID: self.planID) }
        for atom in atoms where atom.hasAcceptedAttempt {
            guard let expected = atom.finalSHA256 else { continue }
            let current = try? await pool.run { () throws(WorkspaceError) -> String in try self.workspace.read(atom.path) }
            if let current, AtomPrompts.sha256(current) == expected { continue }
            guard let content = try await store({ try $0.acceptedContent(atomID: atom.id) }) else { continue }
            try await pool.run { () throws(WorkspaceError) in try self.workspace.write(content, to: atom.path) }
        }
    }

    /// Checked before each wave and each batch of atoms: the job still holds its lease, and the decider's
    /// `checkpoint` (the plan still executing, not paused or cancelled by its owner; 80 % of the budget
    /// warns once, 100 % pauses once; a plan resumed after that pause goes on).
    func mayContinue() async throws -> Bool {
        try context.checkpoint()
        guard let (status, spent, budget) = try await store({ try $0.runState(planID: self.planID) }) else { return false }
        let decide = { (warned: Bool, paused: Bool) in
            self.decider.checkpoint(status: status, budget: ExecutionFacts.Budget(spentUSD: spent, limitUSD: budget, warned: warned,
                                                                                    pausedBefore: paused))
        }
        // What was said before is only looked up when the spending could call for saying it.
        var checkpoint = decide(true, true)
        if checkpoint.step == .goOn, status == .executing, budget > 0, spent >= budget * settings.budgetWarningShare {
            let warned = try await store { try $0.hasEvent("cost_warning", planID: self.planID) }
            let paused = spent >= budget ? try await store { try $0.hasHistory("budget_paused", planID: self.planID) } : true
            checkpoint = decide(warned, paused)
        }
        if checkpoint.warn {
            try await store {
                try $0.emit(.costWarning(.init(spentUSD: spent, budgetUSD: budget, threshold: self.settings.budgetWarningShare)),
                            planID: self.planID, ownerID: self.ownerID)
            }
        }
        switch checkpoint.step {
        case .goOn:
            return true
        case .stop:
            return false
        case .pauseForBudget:
            let reason = String(format: "the budget of $%.2f is used up ($%.2f spent); resume to go on past it", budget, spent)
            _ = try await transition(try StatusChange(from: .executing, .pause), action: .budgetPaused, reason: reason,
                                     details: .details(spentUSD: spent, budgetUSD: budget))
            return false
        }
    }

    // MARK: helpers

    @discardableResult
    func store<T: Sendable>(_ body: @escaping @Sendable (ExecutionStore) throws -> T) async throws -> T {
        try await context.database.run { try body(ExecutionStore($0)) }
    }

    @discardableResult
    func transition(_ change: StatusChange<PlanStatus>, action: ProgressEvent.PlanStatusChanged.Action, reason: String?,
                    details: ProgressEvent.PlanStatusChanged = .details(),
                    extraEvents: [ProgressEvent] = []) async throws -> Bool {
        try await store {
            try $0.transition(planID: self.planID, ownerID: self.ownerID, change, action: action, reason: reason, details: details,
                              extraEvents: extraEvents)
        }
    }

    /// The atom as the decider sees it.
    func facts(_ atom: StoredAtom) -> ExecutionFacts.Atom<UUID> {
        ExecutionFacts.Atom(id: atom.id, key: atom.key, wave: atom.wave, status: atom.status, hasAcceptedContent: atom.finalSHA256 != nil,
                            remainingPath: execution.index(of: atom.key).map { execution.remainingPathLength[$0] } ?? 0)
    }

    func gateRounds(of wave: StoredWave) async throws -> Int {
        try await store { try $0.gateResultCount(waveID: wave.id) }
    }

    func task(_ number: Int) -> PlanTask? { validated.task(number: number) }

}

extension StoredWave {
    /// The wave as the decider sees it.
    var facts: ExecutionFacts.Wave { ExecutionFacts.Wave(number: number, status: status) }
}
