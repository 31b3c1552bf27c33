import Engine
import Foundation
import PlanCore
import Testing
import TestSupport

/// The scripted model's acceptance tests are real: in the sandbox, with the plan's own test command,
/// they pass against the reference files and catch a counter that miscounts.
@Suite(.dedicatedThreads) struct WordCountFixtureTests {
    @Test func theScriptedTestsPassAgainstTheReferenceFilesAndCatchABrokenCounter() throws {
        let interpreters = Interpreters.locate()
        try #require(interpreters.python3 != nil, "python3 from Debian is required (make deps)")
        var limits = SandboxLimits.acceptanceTest
        limits.timeout = .seconds(30)
        let runner = AcceptanceTestRunner(sandbox: try Sandbox(), interpreters: interpreters, limits: limits)

        let plan = try PlanParser().parsePlan(WordCountFixture.plan)
        let tests = try PlanParser().parseAcceptanceTests(WordCountFixture.acceptanceTests, for: plan)
        // The reference holds exactly the files the plan's tasks write.
        #expect(Set(WordCountFixture.files.map(\.path)) == Set(plan.tasks.flatMap(\.files)))

        let folder = try TemporaryFolder("generation")
        defer { folder.remove() }
        let workspace = try Workspace.open(at: folder.sub("workspaces/wordcount"))
        for file in WordCountFixture.files { try workspace.write(file.content, to: file.path) }
        let results = runner.run(tests, testCommand: plan.plan.techStack.testCommand, in: workspace)
        #expect(results.map(\.outcome) == [.pass, .pass, .pass], "\(results.map(\.output))")

        try workspace.write(WordCountFixture.brokenCounter, to: "wordcount/counter.py")
        let broken = runner.run(tests, testCommand: plan.plan.techStack.testCommand, in: workspace)
        #expect(broken.map(\.outcome) == [.fail, .fail, .pass], "\(broken.map(\.output))")
    }
}
