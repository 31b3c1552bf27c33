import PropertyBased
import Testing
@testable import PlanCore

/// Random facts of a plan's run, from a seed: any statuses, any waves, any reviews, so that the
/// decider's rules are checked on combinations no scenario test reaches.
enum RandomFacts {
    static func waves(_ random: inout SplitMix64) -> [ExecutionFacts.Wave] {
        let count = Int.random(in: 0...6, using: &random)
        return (0..<count).map { ExecutionFacts.Wave(number: $0 + 1, status: WaveStatus.allCases.randomElement(using: &random)!) }
    }

    static func atoms(_ random: inout SplitMix64, waves: Int) -> [ExecutionFacts.Atom<Int>] {
        let count = Int.random(in: 0...30, using: &random)
        return (0..<count).map { index in
            ExecutionFacts.Atom(id: index, key: AtomKey(taskNumber: Int.random(in: 1...8, using: &random), path: "f\(index).py"),
                                wave: Int.random(in: 1...max(1, waves), using: &random),
                                status: AtomStatus.allCases.randomElement(using: &random)!, hasAcceptedContent: Bool.random(using: &random),
                                remainingPath: Int.random(in: 0...5, using: &random))
        }
    }

    static func pending(_ random: inout SplitMix64) -> ExecutionFacts.PendingReviews {
        let blocking = Int.random(in: 0...3, using: &random)
        return ExecutionFacts.PendingReviews(blocking: blocking, all: blocking + Int.random(in: 0...3, using: &random))
    }

    static func budget(_ random: inout SplitMix64) -> ExecutionFacts.Budget {
        let limit = [0, 1, 10].randomElement(using: &random)!
        return ExecutionFacts.Budget(spentUSD: Double(Int.random(in: 0...30, using: &random)) / 2, limitUSD: Double(limit),
                                     warned: Bool.random(using: &random), pausedBefore: Bool.random(using: &random))
    }
}

@Suite("The executor's decisions")
struct ExecutionDeciderTests {
    static let decider = ExecutionDecider(budgetWarningShare: 0.8)
    static let seeds = Gen.uint64(in: 0...UInt64.max)

    // MARK: the claim

    @Test("a claimed plan runs when queued (starting) or executing, settles its reviews when blocked, else nothing",
          arguments: PlanStatus.allCases)
    func claim(_ status: PlanStatus) {
        let expected: ExecutionDecider.Claim = switch status {
        case .queued: .run(starting: true)
        case .executing: .run(starting: false)
        case .blocked: .settleBlocked
        default: .nothing
        }
        #expect(Self.decider.claim(status) == expected)
        // Whatever runs, the plan can legally be executing: started, resumed or already there.
        switch Self.decider.claim(status) {
        case .run(starting: true): #expect((try? status.applying(.start)) == .executing)
        case .settleBlocked: #expect((try? status.applying(.resume)) == .executing)
        case .run(starting: false): #expect(status == .executing)
        case .nothing: break
        }
    }

    @Test("a blocked plan", arguments: [
        (false, ExecutionFacts.PendingReviews(blocking: 0, all: 0), [WaveStatus.passed], ExecutionDecider.BlockedPlan.resume),
        (false, .init(blocking: 1, all: 1), [.failed], .stayBlocked),
        (false, .init(blocking: 0, all: 2), [.passed, .pending], .resume),
        (false, .init(blocking: 0, all: 2), [.passed, .waived], .stayBlocked),
        (true, .init(blocking: 3, all: 3), [.failed], .failForRejection),
        (false, .init(blocking: 0, all: 0), [], .resume),
    ])
    func blockedPlan(_ sample: (Bool, ExecutionFacts.PendingReviews, [WaveStatus], ExecutionDecider.BlockedPlan)) {
        let waves = sample.2.enumerated().map { ExecutionFacts.Wave(number: $0.offset + 1, status: $0.element) }
        #expect(Self.decider.blockedPlan(rejectionApplied: sample.0, pending: sample.1, waves: waves) == sample.3)
    }

    @Test("a blocked plan resumes only when no blocking review waits, and never with every wave finished while a review waits")
    func blockedPlanProperty() async {
        await propertyCheck(count: 500, input: Self.seeds) { seed in
            var random = SplitMix64(seed: seed)
            let pending = RandomFacts.pending(&random)
            let waves = RandomFacts.waves(&random)
            let rejected = Bool.random(using: &random)
            let decision = Self.decider.blockedPlan(rejectionApplied: rejected, pending: pending, waves: waves)
            if decision == .resume {
                #expect(pending.blocking == 0)
                #expect(!rejected)
                #expect(pending.all == 0 || waves.contains { !$0.isFinished })
            }
            #expect((decision == .failForRejection) == rejected)
        }
    }

    // MARK: checkpoints

    @Test("checkpoints", arguments: [
        // status, spent, limit, warned, paused before → warn, step
        (PlanStatus.executing, 1.0, 0.0, false, false, false, ExecutionDecider.Checkpoint.Step.goOn),
        (.executing, 7.9, 10, false, false, false, .goOn),
        (.executing, 8, 10, false, false, true, .goOn),
        (.executing, 8, 10, true, false, false, .goOn),
        (.executing, 10, 10, false, false, true, .pauseForBudget),
        (.executing, 12, 10, true, false, false, .pauseForBudget),
        (.executing, 12, 10, true, true, false, .goOn),
        (.paused, 12, 10, false, false, false, .stop),
        (.cancelled, 0, 0, false, false, false, .stop),
    ])
    func checkpoint(_ sample: (PlanStatus, Double, Double, Bool, Bool, Bool, ExecutionDecider.Checkpoint.Step)) {
        let budget = ExecutionFacts.Budget(spentUSD: sample.1, limitUSD: sample.2, warned: sample.3, pausedBefore: sample.4)
        #expect(Self.decider.checkpoint(status: sample.0, budget: budget) == .init(warn: sample.5, step: sample.6))
    }

    @Test("the budget warns once, pauses once, never below the budget, and nothing goes on unless the plan executes")
    func checkpointProperty() async {
        await propertyCheck(count: 500, input: Self.seeds) { seed in
            var random = SplitMix64(seed: seed)
            let status = PlanStatus.allCases.randomElement(using: &random)!
            let budget = RandomFacts.budget(&random)
            let checkpoint = Self.decider.checkpoint(status: status, budget: budget)
            #expect((checkpoint.step == .stop) == (status != .executing))
            if checkpoint.warn { #expect(!budget.warned && budget.spentUSD >= budget.limitUSD * 0.8 && budget.limitUSD > 0) }
            if checkpoint.step == .pauseForBudget {
                #expect(!budget.pausedBefore && budget.spentUSD >= budget.limitUSD && budget.limitUSD > 0)
                #expect((try? status.applying(.pause)) == .paused)
            }
        }
    }

    // MARK: waves and atoms

    @Test("never starts an atom of a later wave while an earlier one is unfinished; only pending atoms, longest path first")
    func atomsToStartProperty() async {
        await propertyCheck(count: 500, input: Self.seeds) { seed in
            var random = SplitMix64(seed: seed)
            let waves = RandomFacts.waves(&random)
            let atoms = RandomFacts.atoms(&random, waves: waves.count)
            let started = Self.decider.atomsToStart(atoms, waves: waves)
            for atom in started {
                #expect(atom.status == .pending)
                #expect(!waves.contains { $0.number < atom.wave && !$0.isFinished }, "atom of wave \(atom.wave) started early")
                #expect(waves.contains { $0.number == atom.wave && !$0.isFinished })
            }
            #expect(Set(started.map(\.wave)).count <= 1)
            #expect(zip(started, started.dropFirst()).allSatisfy { $0.remainingPath >= $1.remainingPath })
            if let first = Self.decider.wavesToRun(waves).first {
                #expect(started.count == atoms.filter { $0.wave == first.number && $0.status == .pending }.count)
            } else {
                #expect(started.isEmpty)
            }
        }
    }

    @Test("waves run in order, finished ones skipped")
    func wavesToRun() {
        let waves = [ExecutionFacts.Wave(number: 3, status: .pending), .init(number: 1, status: .passed),
                     .init(number: 2, status: .failed), .init(number: 4, status: .waived)]
        #expect(Self.decider.wavesToRun(waves).map(\.number) == [2, 3])
    }

    typealias Review = ExecutionFacts.BlockingReview<Int, String>

    @Test("picking up a wave", arguments: [
        (WaveStatus.pending, [Review](), 0, ExecutionDecider.WavePickUp<Int, String>.run(starting: true, allowRepairs: true)),
        (.running, [], 0, .run(starting: false, allowRepairs: true)),
        (.gating, [], 2, .run(starting: false, allowRepairs: true)),
        // An atom never validated: its wave failed before any gate; repairs stay allowed.
        (.failed, [Review(id: 1, status: .approved, waiverReason: nil, reviewer: "ann")], 0, .run(starting: false, allowRepairs: true)),
        // Blocked by its gate: reviewers chose the content, no repair round rewrites it.
        (.failed, [Review(id: 1, status: .approved, waiverReason: nil, reviewer: "ann")], 2, .run(starting: false, allowRepairs: false)),
        (.failed, [Review(id: 1, status: .waived, waiverReason: "flaky clock", reviewer: "ann"),
                   Review(id: 2, status: .approved, waiverReason: nil, reviewer: "bob")], 1, .run(starting: false, allowRepairs: false)),
        (.failed, [Review(id: 1, status: .waived, waiverReason: "  ", reviewer: "ann")], 1, .run(starting: false, allowRepairs: false)),
        (.failed, [Review(id: 4, status: .waived, waiverReason: "b", reviewer: "ann"),
                   Review(id: 5, status: .waived, waiverReason: "a", reviewer: nil),
                   Review(id: 6, status: .waived, waiverReason: "b", reviewer: "cy")], 3,
         .waive(reviewID: 4, reviewer: "cy", reasons: ["b", "a", "b"], reason: "a\nb")),
        // Waivers without a gate round are not waivers of failing tests.
        (.failed, [Review(id: 1, status: .waived, waiverReason: "ok", reviewer: "ann")], 0, .run(starting: false, allowRepairs: true)),
    ])
    func pickUp(_ sample: (WaveStatus, [Review], Int, ExecutionDecider.WavePickUp<Int, String>)) throws {
        let decision = Self.decider.pickUp(ExecutionFacts.Wave(number: 1, status: sample.0), blockingReviews: sample.1, gateRounds: sample.2)
        #expect(decision == sample.3)
        switch decision {
        case .waive: #expect((try? sample.0.applying(.waive)) == .waived)
        case .run(starting: true, _): #expect((try? sample.0.applying(.start)) == .running)
        case .run: break
        }
    }

    @Test("a wave's atoms: a rejection fails the plan, an atom not done blocks it, otherwise the wave is finished")
    func afterAtomsProperty() async {
        await propertyCheck(count: 500, input: Self.seeds) { seed in
            var random = SplitMix64(seed: seed)
            let atoms = RandomFacts.atoms(&random, waves: 1)
            let rejectedElsewhere = Int.random(in: 0...4, using: &random) == 0
            switch Self.decider.afterAtoms(atoms, rejectedInPlan: rejectedElsewhere) {
            case .failForRejection:
                #expect(rejectedElsewhere || atoms.contains { $0.status == .rejected })
            case .block(let notDone):
                #expect(!notDone.isEmpty)
                #expect(notDone.allSatisfy { !$0.isDone })
                #expect(Set(notDone.map(\.id)) == Set(atoms.filter { !$0.isDone }.map(\.id)))
            case .finishWave:
                #expect(atoms.allSatisfy { $0.isDone })
                #expect(!rejectedElsewhere)
            }
        }
    }

    @Test("a failed gate is repaired only with a round left, something to repair that code can fix, and leave to go on",
          arguments: [0, 1], [0, 2])
    func afterFailedGate(repairsLeft: Int, repairable: Int) {
        for codeCanFix in [false, true] {
            for mayGoOn in [false, true] {
                let decision = Self.decider.afterFailedGate(repairsLeft: repairsLeft, repairableAtoms: repairable, codeCanFix: codeCanFix,
                                                            mayGoOn: mayGoOn)
                let repair = repairsLeft > 0 && repairable > 0 && codeCanFix && mayGoOn
                #expect(decision == (repair ? .repair : .block))
            }
        }
    }

    @Test("a task is done when every one of its atoms is done")
    func doneTasksProperty() async {
        await propertyCheck(count: 300, input: Self.seeds) { seed in
            var random = SplitMix64(seed: seed)
            let atoms = RandomFacts.atoms(&random, waves: 3)
            let done = Self.decider.doneTasks(atoms)
            for task in Set(atoms.map(\.key.taskNumber)) {
                #expect(done.contains(task) == atoms.filter { $0.key.taskNumber == task }.allSatisfy { $0.isDone })
            }
            #expect(done.isSubset(of: Set(atoms.map(\.key.taskNumber))))
        }
    }

    // MARK: completion

    @Test("never completes with an atom that is not done")
    func neverCompletesWithAnAtomNotDone() async {
        await propertyCheck(count: 500, input: Self.seeds) { seed in
            var random = SplitMix64(seed: seed)
            let sha = "0123"
            let atoms = RandomFacts.atoms(&random, waves: 2).map { atom in
                CompletionFacts.Atom(key: atom.key, status: atom.status, acceptedSHA256: atom.hasAcceptedContent ? sha : nil)
            }
            let head = Bool.random(using: &random) ? "c1" : nil
            var files: [String: String] = [:]
            for atom in atoms where Bool.random(using: &random) || Int.random(in: 0...3, using: &random) > 0 { files[atom.key.path] = sha }
            let gate = Bool.random(using: &random)
                ? CompletionFacts.FinalGate(commit: head ?? "c0", evaluatedEveryTest: Int.random(in: 0...4, using: &random) > 0, results: [
                    CompletionFacts.TestResult(testID: "t1", name: "t1", priority: .must,
                                               outcome: Bool.random(using: &random) ? .pass : .fail),
                ])
                : nil
            let facts = CompletionFacts(atoms: atoms, pendingReviews: Int.random(in: 0...4, using: &random) == 0 ? 1 : 0, headCommit: head,
                                        headFileSHA256: files, finalGate: gate)
            let decision = CompletionDecision(facts)
            if decision.isComplete {
                #expect(atoms.allSatisfy { $0.isDone })
                #expect(atoms.allSatisfy { $0.isSettled })
                #expect(facts.pendingReviews == 0)
                #expect((try? PlanStatus.executing.applying(.complete)) == .completed)
            }
        }
    }
}
