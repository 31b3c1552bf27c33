@testable import Engine
import Foundation
import JSON
import PlanCore
import Postgres
import Store
import Testing
import TestSupport

/// Similar approved plans, found by PostgreSQL full-text search, become the planner's examples.
@Suite(.timeLimit(.minutes(2))) struct SimilarPlansTests {
    let harness: GenerationHarness

    init() throws {
        harness = try GenerationHarness()
    }

    /// A plan with the fixture's tree under another name, moved to `status` the way the API would.
    func storedPlan(owner: UUID, request: String, projectName: String, summary: String, status: PlanStatus) throws -> UUID {
        var tree = try PlanParser().parsePlan(WordCountFixture.plan).plan
        tree.projectName = projectName
        tree.summary = summary
        return try harness.connection.transaction { c in
            let plans = PlanQueries(c)
            let id = try plans.create(ownerID: owner, request: request, budgetUSD: 5)
            try PlanTreeWriter(c).write(tree, planID: id)
            _ = try plans.changeStatus(id: id, from: "generating", to: "draft", reason: nil)
            if status != .draft {
                _ = try plans.changeStatus(id: id, from: "draft", to: status.rawValue, reason: nil)
            }
            return id
        }
    }

    @Test func onlyTheOwnersApprovedPlansThatShareWordsAreFound() throws {
        let other = UUID()
        try harness.makeUser(other)
        let counter = try storedPlan(owner: harness.owner, request: "A tool that counts words in text files",
                                     projectName: "wordcounter", summary: "Counts the words and lines of text files.", status: .approved)
        let unrelated = try storedPlan(owner: harness.owner, request: "A todo list web service",
                                       projectName: "todo-service", summary: "Keeps a todo list behind a REST API.", status: .approved)
        let draft = try storedPlan(owner: harness.owner, request: "Count words in files",
                                   projectName: "wordcount-draft", summary: "Counts words of text files.", status: .draft)
        let foreign = try storedPlan(owner: other, request: "A word count tool for text files",
                                     projectName: "wc-clone", summary: "Counts lines, words and characters of text files.", status: .approved)

        let found = try GenerationQueries(harness.connection).similarApprovedPlans(
            ownerID: harness.owner, request: WordCountFixture.request, excluding: nil, limit: 5)
        #expect(found.map(\.id) == [counter])
        #expect(!found.map(\.id).contains(unrelated))
        #expect(!found.map(\.id).contains(draft))
        #expect(!found.map(\.id).contains(foreign))
        let example = try #require(found.first)
        #expect(example.projectName == "wordcounter")
        #expect(example.rank > 0)
        #expect(example.totalTasks == 3)
        #expect(example.tasks.map(\.number) == [1, 2, 3])
        #expect(example.tasks[1].files == ["wordcount/cli.py", "wordcount/__main__.py"])
        #expect(example.techStack["test_command"] == "python -m pytest -q")

        // The other user sees only their own.
        let theirs = try GenerationQueries(harness.connection).similarApprovedPlans(
            ownerID: other, request: WordCountFixture.request, excluding: nil, limit: 5)
        #expect(theirs.map(\.id) == [foreign])
    }

    @Test func plansThatWentOnFromApprovalCountAndTheBestRankComesFirst() throws {
        let executing = try storedPlan(owner: harness.owner, request: "A line counter", projectName: "linecount",
                                       summary: "Counts lines.", status: .approved)
        _ = try harness.connection.execute("UPDATE masterplans SET status = 'completed', completed_at = now() WHERE id = $1", [executing])
        let close = try storedPlan(owner: harness.owner, request: "A word count command-line tool for text files",
                                   projectName: "wordcount", summary: "Prints the lines, words and characters of text files.",
                                   status: .approved)
        let found = try GenerationQueries(harness.connection).similarApprovedPlans(
            ownerID: harness.owner, request: WordCountFixture.request, excluding: nil, limit: 5)
        #expect(found.map(\.id) == [close, executing])
        #expect(found[0].rank > found[1].rank)
        let one = try GenerationQueries(harness.connection).similarApprovedPlans(
            ownerID: harness.owner, request: WordCountFixture.request, excluding: close, limit: 1)
        #expect(one.map(\.id) == [executing])
        // A request of stop words only finds nothing rather than everything.
        #expect(try GenerationQueries(harness.connection).similarApprovedPlans(
            ownerID: harness.owner, request: "the and of it", excluding: nil, limit: 5).isEmpty)
    }

    @Test func theGenerationShowsTheSimilarPlansToThePlanner() async throws {
        let counter = try storedPlan(owner: harness.owner, request: "A tool that counts words in text files",
                                     projectName: "wordcounter", summary: "Counts the words and lines of text files.", status: .approved)
        let plan = try harness.createPlan()
        try await harness.withModel(WordCountFixture.happyPath) { client in
            try await harness.runNextJob(try GenerationHandler(client: client, sandbox: try Sandbox()))
        }
        let start = try #require(try harness.events(plan: plan).first { $0.type == "masterplan_generation_start" })
        #expect(start.payload["examples"] == 1)
        #expect(start.payload["example_plan_ids"] == [.string(counter.uuidString.lowercased())])
        #expect(start.payload["regeneration"] == false)
        #expect(try harness.status(plan: plan).status == "draft")
    }
}
