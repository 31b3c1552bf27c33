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
        self.validated = validated
        planContext = AtomPrompts.PlanContext(projectName: record.projectName, techStackJSON: record.techStack.jsonText, plan: validated)
        execution = ExecutionPlan(validated)
        self.tests = tests
        self.workspace = workspace
        self.handler = handler
        self.context = context
        validators = Validators(sandbox: handler.sandbox)
        testRunner = AcceptanceTestRunner(sandbox: handler.sandbox)
    }

    /// Reads the plan, parses its stored tree back through PlanCore (so execution runs on a plan that
    /// passes every rule, as approved), and opens its workspace. Nil when the plan no longer exists.
    static func load(planID: UUID, handler: ExecutionHandler, context: JobContext) async throws -> PlanRun? {
        let database = context.database
        guard let record = try await database.run({ try ExecutionStore($0).plan(id: planID) }) else { return nil }
        guard let snapshot = try await database.run({ try PlanQueries($0).snapshot(id: planID) }) else { return nil }
        let validated: ValidatedPlan
        do {
            validated = try PlanParser(limits: storedPlanLimits).parsePlan(snapshot.jsonText)
        } catch {
            throw ExecutionHandler.Refusal(description: "the stored plan \(planID) does not pass validation: "
                                           + error.repairInstructions(maxListed: 3))
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

    /// The stored plan was checked against the configured bounds when it was generated or edited; on
    /// the way back only the rules that keep execution safe matter (paths, dependencies, cycles), so
    /// the count bounds are wide.
    static var storedPlanLimits: PlanLimits {
        var limits = PlanLimits.default
        limits.minTasks = 1
        limits.maxTasks = max(limits.maxTasks, 100_000)
        limits.maxPhases = max(limits.maxPhases, 10_000)
        limits.maxMilestonesPerPhase = max(limits.maxMilestonesPerPhase, 10_000)
        limits.maxTasksPerMilestone = max(limits.maxTasksPerMilestone, 100_000)
        limits.maxSubtasks = max(limits.maxSubtasks, 1_000_000)
        limits.maxAtoms = max(limits.maxAtoms, 1_000_000)
        return limits
    }

    // MARK: the job

    func execute() async throws {
        guard let status = try await store({ try $0.status(planID: self.planID) }) else { return }
        switch status {
        case PlanStatus.queued.rawValue, PlanStatus.executing.rawValue:
            break
        case PlanStatus.blocked.rawValue:
            let rejected = try await applyResolvedReviews()
            if rejected {
                // A rejected atom fails its task: the plan leaves `blocked` for `failed` (through
                // `executing`, the only way the lifecycle allows).
                guard try await transition(from: .blocked, to: .executing, action: "resume", reason: nil) else { return }
                try await failForRejection(try await store { try $0.atoms(planID: self.planID) })
                return
            }
            guard try await mayLeaveBlocked() else { return }
            guard try await transition(from: .blocked, to: .executing, action: "resume", reason: nil) else { return }
        default:
            // Paused, cancelled, finished or not approved: nothing to run. Resolutions made meanwhile are
            // applied when the plan runs again.
            return
        }
        try await materialize()
        if status == PlanStatus.queued.rawValue {
            let counts: JSONObject = ["total_atoms": .int(Int64(execution.atoms.count)), "total_waves": .int(Int64(execution.waves.count)),
                                      "concurrency": .int(Int64(settings.concurrency)),
                                      "workspace": .string(workspace.root)]
            guard try await transition(from: .queued, to: .executing, action: "start", reason: nil,
                                       extraEvents: [("masterplan_execution_start", counts)]) else { return }
        }
        try await recoverWorkspace()
        if try await applyResolvedReviews() {
            try await failForRejection(try await store { try $0.atoms(planID: self.planID) })
            return
        }
        guard try await reviveRejectedAtoms() else { return }

        let waves = try await store { try $0.waves(planID: self.planID) }
        for wave in waves where !wave.isFinished {
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
        var current = stored
        if current.status == WaveStatus.pending.rawValue {
            let pending = current
            try await store { try $0.startWave(planID: self.planID, ownerID: self.ownerID, wave: pending, totalWaves: totalWaves) }
            current.status = WaveStatus.running.rawValue
        }
        let wave = current
        var wasBlockedByGate = false
        if wave.status == WaveStatus.failed.rawValue {
            let reviews = try await store { try $0.blockingReviews(waveID: wave.id) }
            let rounds = try await gateRounds(of: wave)
            wasBlockedByGate = !reviews.isEmpty && rounds > 0
            let waivers = reviews.filter { $0.status == ReviewStatus.waived.rawValue }
            let reasons = waivers.compactMap(\.waiverReason).filter { !$0.allSatisfy(\.isWhitespace) }
            if wasBlockedByGate, !reviews.isEmpty, waivers.count == reviews.count, reasons.count == waivers.count {
                // Every blocking review waived the failing tests with a written reason: the wave ends
                // `waived` (never `passed`) and each failing test is recorded as waived. An approval is
                // not a waiver: approved content is gated again below, and blocks again if it still fails.
                let reviewer = waivers.compactMap(\.reviewerID).last
                let reason = Array(Set(reasons)).sorted().joined(separator: "\n")
                try await store {
                    try $0.waiveWave(planID: self.planID, ownerID: self.ownerID, waveID: wave.id, reviewID: waivers.first?.id,
                                     reviewerID: reviewer, reason: reason,
                                     waveEvent: ["wave": .int(Int64(wave.number)), "status": "waived", "waived": true,
                                                 "commit": JSONValue(wave.commitSHA), "waiver_reasons": JSONValue(reasons)])
                }
                return true
            }
        }

        guard try await runPendingAtoms(ofWave: wave.number) else { return false }

        // A reviewer may have rejected an atom of an earlier wave while this one ran.
        if try await store({ try $0.hasRejectedAtom(planID: self.planID) }) {
            try await failForRejection(try await store { try $0.atoms(planID: self.planID) })
            return false
        }
        let waveAtoms = try await store { try $0.atoms(planID: self.planID, wave: wave.number) }
        let unvalidated = waveAtoms.filter { !$0.hasAcceptedAttempt }
        if !unvalidated.isEmpty {
            try await store { try $0.failWave(waveID: wave.id) }
            let names = unvalidated.prefix(5).map { "task \($0.taskNumber): \($0.path)" }.joined(separator: ", ")
            _ = try await transition(from: .executing, to: .blocked, action: "block",
                                     reason: "wave \(wave.number): \(unvalidated.count) atom(s) did not pass validation (\(names)); "
                                         + "their reviews are waiting")
            return false
        }
        // A wave this run started cannot have been committed before; one it resumes (after a crash,
        // or blocked and now resolved) may have been, and its commit is then reused.
        return try await finishWave(wave, atoms: waveAtoms, totalWaves: totalWaves, allowRepairs: !wasBlockedByGate,
                                    mayHaveCommitted: stored.status != WaveStatus.pending.rawValue)
    }

    func failForRejection(_ atoms: [StoredAtom]) async throws {
        let rejected = atoms.filter { $0.status == AtomStatus.rejected.rawValue }
        let names = rejected.prefix(5).map { "task \($0.taskNumber): \($0.path)" }.joined(separator: ", ")
        _ = try await transition(from: .executing, to: .failed, action: "fail",
                                 reason: "a reviewer rejected \(rejected.count) atom(s) (\(names)); resume the plan to regenerate them "
                                     + "with the reviewer's feedback")
    }

    // MARK: state

    /// Stores the atoms and waves PlanCore computed, once.
    func materialize() async throws {
        let atoms = execution.atoms.enumerated().map { index, atom in
            (task: atom.taskNumber, path: atom.path, wave: execution.waveIndex[index] + 1)
        }
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

    /// Whether a blocked plan may run again: no blocking review is waiting, and either some wave is
    /// left to run or no review at all is waiting.
    func mayLeaveBlocked() async throws -> Bool {
        let pending = try await store { try $0.pendingReviewCounts(planID: self.planID) }
        if pending.blocking > 0 { return false }
        if pending.all == 0 { return true }
        let waves = try await store { try $0.waves(planID: self.planID) }
        return waves.contains { !$0.isFinished }
    }

    /// Checked before each atom: the job still holds its lease, the plan is still executing (not
    /// paused or cancelled by its owner), and the budget allows more spending (80 % warns once, 100 %
    /// pauses once; a plan resumed after that pause goes on).
    func mayContinue() async throws -> Bool {
        try context.checkpoint()
        guard let (status, spent, budget) = try await store({ try $0.runState(planID: self.planID) }),
              status == PlanStatus.executing.rawValue else { return false }
        guard budget > 0 else { return true }
        if spent >= budget * settings.budgetWarningShare, try await !store({ try $0.hasEvent("cost_warning", planID: self.planID) }) {
            try await store {
                try $0.emit("cost_warning", planID: self.planID, ownerID: self.ownerID, data: [
                    "spent_usd": .double(spent), "budget_usd": .double(budget), "share": .double(spent / budget),
                    "threshold": .double(self.settings.budgetWarningShare),
                ])
            }
        }
        if spent >= budget, try await !store({ try $0.hasHistory("budget_paused", planID: self.planID) }) {
            let reason = String(format: "the budget of $%.2f is used up ($%.2f spent); resume to go on past it", budget, spent)
            _ = try await transition(from: .executing, to: .paused, action: "budget_paused", reason: reason,
                                     data: ["spent_usd": .double(spent), "budget_usd": .double(budget)])
            return false
        }
        return true
    }

    // MARK: helpers

    @discardableResult
    func store<T: Sendable>(_ body: @escaping @Sendable (ExecutionStore) throws -> T) async throws -> T {
        try await context.database.run { try body(ExecutionStore($0)) }
    }

    @discardableResult
    func transition(from: PlanStatus, to: PlanStatus, action: String, reason: String?, data: JSONObject = [:],
                    extraEvents: [(String, JSONObject)] = []) async throws -> Bool {
        let events = extraEvents.map { (type: $0.0, data: $0.1) }
        return try await store {
            try $0.transition(planID: self.planID, ownerID: self.ownerID, from: from.rawValue, to: to.rawValue, action: action,
                              reason: reason, data: data, extraEvents: events)
        }
    }

    func gateRounds(of wave: StoredWave) async throws -> Int {
        try await store { try $0.gateResultCount(waveID: wave.id) }
    }

    func task(_ number: Int) -> PlanTask? { validated.task(number: number) }

    func atomPayload(_ atom: StoredAtom) -> JSONObject {
        ["atom_id": .string(atom.id.uuidString.lowercased()), "wave": .int(Int64(atom.wave)),
         "task_number": .int(Int64(atom.taskNumber)), "file": .string(atom.path)]
    }
}

extension StoredWave {
    /// Passed, or waived by reviewers: nothing is left to run in it.
    var isFinished: Bool { status == WaveStatus.passed.rawValue || status == WaveStatus.waived.rawValue }
}
