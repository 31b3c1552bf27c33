/// Gate S, the check between waves: every due MUST test passes and at least 95 % of
/// due SHOULD tests pass.
///
/// A test is due when every task it covers is done. An empty due set passes (nothing could be checked
/// yet, so nothing failed). On the final wave every test is evaluated whether or not its tasks are done,
/// and a test that has not run counts as failing: the plan cannot complete on tests that never ran.
public enum GateS {
    public static func evaluate(tests: [GateTest], doneTasks: Set<Int>, isFinalWave: Bool,
                                policy: GatePolicy = .default) -> GateResult {
        var mustTotal = 0, mustPassed = 0, shouldTotal = 0, shouldPassed = 0
        var evaluated: [String] = []
        var mustFailures: [GateResult.Failure] = []
        var shouldFailures: [GateResult.Failure] = []
        for test in tests where isFinalWave || test.coveredTasks.isSubset(of: doneTasks) {
            evaluated.append(test.id)
            let passed = test.outcome == .pass
            switch test.priority {
            case .must:
                mustTotal += 1
                if passed { mustPassed += 1 }
            case .should:
                shouldTotal += 1
                if passed { shouldPassed += 1 }
            }
            guard !passed else { continue }
            let failure = GateResult.Failure(testID: test.id, priority: test.priority,
                                             reason: test.outcome.map(GateResult.Failure.Reason.outcome) ?? .notRun)
            if test.priority == .must { mustFailures.append(failure) } else { shouldFailures.append(failure) }
        }
        let passed = meets(mustPassed, of: mustTotal, percent: policy.mustPassPercent)
            && meets(shouldPassed, of: shouldTotal, percent: policy.shouldPassPercent)
        return GateResult(passed: passed, mustTotal: mustTotal, mustPassed: mustPassed, shouldTotal: shouldTotal,
                          shouldPassed: shouldPassed, evaluated: evaluated, failures: mustFailures + shouldFailures)
    }

    /// passed / total ≥ percent / 100, in integers; no tests of a priority meets any threshold.
    static func meets(_ passed: Int, of total: Int, percent: Int) -> Bool {
        total == 0 || passed * 100 >= percent * total
    }
}
