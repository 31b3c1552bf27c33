import Testing
@testable import PlanCore

/// `PlanValidator.validateStored`: a plan read back from storage is held to the rules that keep execution
/// safe, and not to the count bounds it met when it was generated or edited.
@Suite("Stored plan validation")
struct StoredPlanValidationTests {
    /// Tight bounds, each broken by `overCounts`.
    static let tight = PlanLimits(maxTasks: 2, maxTasksPerMilestone: 2, maxSubtasksPerTask: 1, maxSubtasks: 1, maxFilesPerTask: 1,
                                  maxAtoms: 2, maxDependenciesPerTask: 1, maxCriteriaPerTask: 1, maxListItems: 1)

    static var overCounts: MasterPlan {
        var plan = TestPlans.plan([
            TestPlans.task(1, files: ["a.py", "b.py"]), TestPlans.task(2), TestPlans.task(3, dependsOn: [1, 2]),
        ])
        plan.techStack.other = ["pytest", "httpx"]
        plan.updateTask(number: 1) { task in
            task.subtasks = [Subtask(number: 1, name: "one", description: ""), Subtask(number: 2, name: "two", description: "")]
            task.acceptance.append(AcceptanceCriterion(priority: .should, text: "Task 1 is quick."))
        }
        return plan
    }

    @Test("the count bounds are not applied again")
    func countsAreNotReapplied() throws {
        let kinds = PlanValidator(limits: Self.tight).problems(in: Self.overCounts).map(\.kind)
        #expect(!kinds.isEmpty && kinds.allSatisfy { $0 == .outOfBounds })
        let validated = try PlanValidator(limits: Self.tight).validateStored(Self.overCounts)
        #expect(validated.tasks.map(\.number) == [1, 2, 3])
        #expect(validated.executionOrder == [0, 1, 2])
    }

    /// One way a stored plan can break a rule that keeps execution safe, and the problem it gives.
    enum Breakage: String, CaseIterable, Sendable {
        case textTooLong, cycle, unknownDependency, escapingPath, testRunnerFile, duplicateTaskNumber, noMustCriterion

        func apply(to plan: inout MasterPlan) {
            switch self {
            case .textTooLong: plan.updateTask(number: 2) { $0.name = String(repeating: "x", count: 31) }
            case .cycle: plan.updateTask(number: 1) { $0.dependsOn = [3] }
            case .unknownDependency: plan.updateTask(number: 2) { $0.dependsOn = [9] }
            case .escapingPath: plan.updateTask(number: 2) { $0.files = ["../b.py"] }
            case .testRunnerFile: plan.updateTask(number: 2) { $0.files = ["conftest.py"] }
            case .duplicateTaskNumber: plan.updateTask(number: 2) { $0.number = 1 }
            case .noMustCriterion: for number in [1, 2, 3] { plan.updateTask(number: number) { $0.acceptance = [] } }
            }
        }

        var kind: PlanProblem.Kind {
            switch self {
            case .textTooLong: .outOfBounds
            case .cycle: .dependencyCycle
            case .unknownDependency: .unknownReference
            case .escapingPath, .testRunnerFile: .unsafePath
            case .duplicateTaskNumber: .duplicate
            case .noMustCriterion: .missingCriterion
            }
        }
    }

    @Test("text and path bounds, cycles, unknown dependencies, unsafe paths, duplicates and a missing MUST criterion still refuse it",
          arguments: Breakage.allCases)
    func safetyRulesHold(_ breakage: Breakage) throws {
        var limits = Self.tight
        limits.maxTextLength = 30
        _ = try PlanValidator(limits: limits).validateStored(Self.overCounts)
        var plan = Self.overCounts
        breakage.apply(to: &plan)
        let problems = try #require(throws: PlanProblems.self) { try PlanValidator(limits: limits).validateStored(plan) }
        #expect(problems.problems.map(\.kind).contains(breakage.kind))
    }
}
