import Testing
@testable import PlanCore

@Suite("Gate S")
struct GateSTests {
    static func test(_ id: String, _ priority: CriterionPriority, covers: Set<Int>, _ outcome: TestOutcome?) -> GateTest {
        GateTest(id: id, priority: priority, coveredTasks: covers, outcome: outcome)
    }

    @Test("an empty due set passes the wave")
    func emptyDueSet() {
        let tests = [Self.test("t1", .must, covers: [5], nil)]
        let result = GateS.evaluate(tests: tests, doneTasks: [1, 2], isFinalWave: false)
        #expect(result.passed)
        #expect(result.evaluated.isEmpty)
        #expect(result.description == "passed: MUST 0/0, SHOULD 0/0")
    }

    @Test("only tests whose covered tasks are all done are due")
    func dueTests() {
        let tests = [
            Self.test("done", .must, covers: [1, 2], .pass),
            Self.test("half", .must, covers: [2, 3], .fail),
            Self.test("none", .should, covers: [], .pass),
        ]
        let result = GateS.evaluate(tests: tests, doneTasks: [1, 2], isFinalWave: false)
        #expect(result.evaluated == ["done", "none"])
        #expect(result.passed)
    }

    @Test("one failing MUST fails the gate and is named", arguments: [TestOutcome.fail, .error, .timeout])
    func mustFailure(_ outcome: TestOutcome) {
        let tests = [Self.test("a", .must, covers: [1], .pass), Self.test("b", .must, covers: [1], outcome)]
        let result = GateS.evaluate(tests: tests, doneTasks: [1], isFinalWave: false)
        #expect(!result.passed)
        #expect(result.failures == [GateResult.Failure(testID: "b", priority: .must, reason: .outcome(outcome))])
        #expect(result.description == "failed: MUST 1/2, SHOULD 0/0")
    }

    @Test("SHOULD tests need 95 % exactly", arguments: [(20, 19, true), (20, 18, false), (100, 95, true), (100, 94, false),
                                                     (1, 0, false), (1, 1, true), (40, 38, true), (39, 37, false)])
    func shouldThreshold(_ sample: (total: Int, passing: Int, passes: Bool)) {
        let tests = (0..<sample.total).map { Self.test("s\($0)", .should, covers: [1], $0 < sample.passing ? .pass : .fail) }
        let result = GateS.evaluate(tests: tests, doneTasks: [1], isFinalWave: false)
        #expect(result.passed == sample.passes)
        #expect(result.shouldPassed == sample.passing)
        #expect(result.failures.count == sample.total - sample.passing, "failing SHOULD tests are named even when the gate passes")
    }

    @Test("a due test that never ran fails")
    func dueButNotRun() {
        let result = GateS.evaluate(tests: [Self.test("x", .must, covers: [1], nil)], doneTasks: [1], isFinalWave: false)
        #expect(!result.passed)
        #expect(result.failures.map(\.reason) == [.notRun])
    }

    @Test("on the final wave every test counts, run or not, done or not")
    func finalWave() {
        let tests = [Self.test("ran", .must, covers: [1], .pass), Self.test("blocked task", .should, covers: [9], nil)]
        let notFinal = GateS.evaluate(tests: tests, doneTasks: [1], isFinalWave: false)
        #expect(notFinal.passed)
        let final = GateS.evaluate(tests: tests, doneTasks: [1], isFinalWave: true)
        #expect(!final.passed)
        #expect(final.evaluated == ["ran", "blocked task"])
        #expect(final.failures == [GateResult.Failure(testID: "blocked task", priority: .should, reason: .notRun)])
    }

    @Test("MUST failures are listed before SHOULD failures")
    func failureOrder() {
        let tests = [Self.test("s", .should, covers: [1], .fail), Self.test("m", .must, covers: [1], .fail)]
        #expect(GateS.evaluate(tests: tests, doneTasks: [1], isFinalWave: false).failures.map(\.testID) == ["m", "s"])
    }

    @Test("a looser policy is honoured")
    func customPolicy() {
        let tests = [Self.test("a", .must, covers: [1], .pass), Self.test("b", .must, covers: [1], .fail)]
        #expect(GateS.evaluate(tests: tests, doneTasks: [1], isFinalWave: false, policy: GatePolicy(mustPassPercent: 50)).passed)
    }

    @Test("a parsed acceptance test becomes a gate test by name")
    func fromAcceptanceTest() {
        let test = AcceptanceTest(name: "test_login", priority: .must, covers: [4, 3], file: "tests/test_login.py", code: "def test(): pass")
        #expect(GateTest(test, outcome: .pass) == GateTest(id: "test_login", priority: .must, coveredTasks: [3, 4], outcome: .pass))
    }
}
