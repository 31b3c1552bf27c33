/// Checks a set of acceptance tests against the validated plan they were written for.
///
/// Rules: names present and unique; each test covers at least one existing task, once each; each file
/// path is safe (`WorkspacePath.projectFileViolation`: a test named conftest.py would configure the
/// others), used by one test only, and written by no task (tests are frozen at approval, and an atom
/// overwriting one would let generated code grade itself); and every task with a MUST criterion is
/// covered by at least one MUST test, so Gate S can hold the plan to it; at most `PlanLimits.maxTests`
/// tests, and no test's code larger than a file may be (`PlanLimits.maxFileBytes`).
public struct AcceptanceTestValidator: Sendable {
    public var limits: PlanLimits

    public init(limits: PlanLimits = .default) { self.limits = limits }

    /// Every problem, with paths inside the `{"tests": [...]}` document; empty when the tests are usable.
    public func problems(in tests: [AcceptanceTest], for plan: ValidatedPlan) -> [PlanProblem] {
        var report = ProblemList()
        let testsPath = JSONPath.root.appending("tests")
        var writtenByTask: [String: Int] = [:]
        for task in plan.tasks {
            for file in task.files where writtenByTask[file] == nil { writtenByTask[file] = task.number }
        }
        var names: [String: Int] = [:]
        var files: [String: Int] = [:]
        var mustCovered: Set<Int> = []
        if tests.count > limits.maxTests {
            report.add(.outOfBounds, testsPath, "the answer has \(tests.count) tests, more than the limit of \(limits.maxTests)")
        }
        for (i, test) in tests.enumerated() {
            let path = testsPath.appending(i)
            report.text(test.name, at: path.appending("name"), required: true, limits: limits)
            if let first = names[test.name], !test.name.isEmpty {
                report.add(.duplicate, path.appending("name"), "the test name \(test.name.quotedForMessage()) is already used by tests[\(first)]")
            } else {
                names[test.name] = i
            }
            if test.covers.isEmpty {
                report.add(.empty, path.appending("covers"), "a test must cover at least one task")
            }
            var seen: Set<Int> = []
            for (c, number) in test.covers.enumerated() {
                let coverPath = path.appending("covers").appending(c)
                if plan.task(number: number) == nil {
                    report.add(.unknownReference, coverPath, "task \(number) does not exist")
                } else if !seen.insert(number).inserted {
                    report.add(.duplicate, coverPath, "task \(number) is listed twice")
                } else if test.priority == .must {
                    mustCovered.insert(number)
                }
            }
            if let violation = WorkspacePath.projectFileViolation(of: test.file, limits: limits) {
                report.add(.unsafePath, path.appending("file"), violation.description)
            } else if let first = files[test.file] {
                report.add(.duplicate, path.appending("file"), "\(test.file.quotedForMessage()) is already the file of tests[\(first)]")
            } else if let task = writtenByTask[test.file] {
                report.add(.duplicate, path.appending("file"),
                           "\(test.file.quotedForMessage()) is written by task \(task); a test file must belong to the tests alone")
            } else {
                files[test.file] = i
            }
            if test.code.allSatisfy(\.isWhitespace) {
                report.add(.invalidValue, path.appending("code"), "must not be empty")
            } else if test.code.utf8.count > limits.maxFileBytes {
                report.add(.outOfBounds, path.appending("code"),
                           "is \(test.code.utf8.count) bytes long, more than the limit of \(limits.maxFileBytes) for a file")
            }
        }
        for task in plan.tasks where task.acceptance.contains(where: { $0.priority == .must }) && !mustCovered.contains(task.number) {
            report.add(.missingCriterion, testsPath,
                       "task \(task.number) has a MUST criterion that no MUST test covers; add a test with priority \"must\" that covers it")
        }
        return report.problems
    }
}
