import JSON
import Testing
@testable import PlanCore

@Suite("Acceptance test sets")
struct AcceptanceTestTests {
    static func test(_ name: String, _ priority: CriterionPriority, covers: [Int], file: String) -> JSONValue {
        AcceptanceTest(name: name, priority: priority, covers: covers, file: file, code: "def \(name)():\n    assert True\n").jsonValue
    }

    static let complete: [JSONValue] = [
        test("test_settings", .must, covers: [2], file: "tests/acceptance/test_settings.py"),
        test("test_models", .must, covers: [3], file: "tests/acceptance/test_models.py"),
        test("test_login", .must, covers: [4], file: "tests/acceptance/test_login.py"),
        test("test_todos", .must, covers: [5, 4], file: "tests/acceptance/test_todos.py"),
        test("test_errors", .should, covers: [6], file: "tests/acceptance/test_errors.py"),
    ]

    @Test("a complete test set parses")
    func parse() throws {
        let tests = try PlanParser().parseAcceptanceTests(JSONValue.object(["tests": .array(Self.complete)]).jsonText,
                                                          for: SamplePlan.validated)
        #expect(tests.map(\.name) == ["test_settings", "test_models", "test_login", "test_todos", "test_errors"])
        #expect(tests[3].covers == [5, 4])
        #expect(AcceptanceTest.jsonValue(of: tests) == .object(["tests": .array(Self.complete)]))
    }

    @Test("a test file named like the runner's configuration is refused; test_*.py files are not")
    func runnerFileNames() throws {
        var tests = Self.complete
        tests[4] = Self.test("test_errors", .should, covers: [6], file: "tests/conftest.py")
        let error = try #require(throws: PlanProblems.self) {
            try PlanParser().parseAcceptanceTests(JSONValue.object(["tests": .array(tests)]).jsonText, for: SamplePlan.validated)
        }
        #expect(error.problems.map(\.description) == [
            "tests[4].file: \"tests/conftest.py\" would configure the test runner; acceptance tests run with the engine's own setup — name the file differently",
        ])
    }

    @Test("tests must cover real tasks, keep to their own files, and cover every MUST")
    func problems() throws {
        var tests = Self.complete
        tests[1] = Self.test("test_models", .should, covers: [3, 41], file: "app/models.py")
        tests[4] = Self.test("test_login", .should, covers: [6, 6], file: "../outside.py")
        let error = try #require(throws: PlanProblems.self) {
            try PlanParser().parseAcceptanceTests(JSONValue.object(["tests": .array(tests)]).jsonText, for: SamplePlan.validated)
        }
        #expect(error.problems.map(\.description) == [
            "tests[1].covers[1]: task 41 does not exist",
            "tests[1].file: \"app/models.py\" is written by task 3; a test file must belong to the tests alone",
            "tests[4].name: the test name \"test_login\" is already used by tests[2]",
            "tests[4].covers[1]: task 6 is listed twice",
            "tests[4].file: \"../outside.py\" uses \"..\" to leave its folder; paths must stay inside the project",
            "tests: task 3 has a MUST criterion that no MUST test covers; add a test with priority \"must\" that covers it",
        ])
    }
}
