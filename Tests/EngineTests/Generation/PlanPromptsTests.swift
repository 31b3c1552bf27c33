@testable import Engine
import Foundation
import JSON
import LLM
import PlanCore
import Store
import Testing
import TestSupport

/// What the generation calls ask: templates filled, examples, the previous version and the feedback
/// in the plan prompt, fixed keys, and chat history the providers accept.
@Suite(.dedicatedThreads) struct PlanPromptsTests {
    let prompts: PlanPrompts
    let discovery: Discovery

    init() throws {
        prompts = try PlanPrompts(configuration: .default)
        discovery = try PlanParser().parseDiscovery(WordCountFixture.discovery)
    }

    let example = SimilarPlan(id: UUID(), projectName: "linecount", summary: "Counts the lines of text files.",
                              techStack: ["language": "Python 3", "test_command": "python -m pytest -q"], rank: 0.4,
                              tasks: [.init(number: 1, name: "Line counter", files: ["linecount/counter.py"])], totalTasks: 4)

    @Test func theDiscoveryRequestUsesItsTemplateAndFixedKey() throws {
        let request = try prompts.discovery(request: WordCountFixture.request)
        #expect(request.purpose == .discovery)
        #expect(request.key == GenerationKeys.discovery)
        #expect(request.system == prompts.discoveryTemplate.system)
        #expect(request.jsonSchema == PlanJSONSchema.discovery)
        #expect(request.messages.map(\.role) == [.user])
        #expect(request.messages[0].content.contains(WordCountFixture.request))
    }

    @Test func thePlanRequestCarriesTheDiscoveryTheTaskBudgetAndTheExamples() throws {
        let request = try prompts.masterplan(request: WordCountFixture.request, discovery: discovery, maxTasks: 17,
                                             examples: [example], previous: nil)
        #expect(request.purpose == .masterplan)
        #expect(request.key == GenerationKeys.masterplan)
        #expect(request.jsonSchema == PlanJSONSchema.plan)
        let user = try #require(request.messages.last?.content)
        #expect(user.contains("Plan at most 17 tasks."))
        #expect(user.contains("\"domain\": \"text statistics\""))
        #expect(user.contains("Plans this user approved earlier for similar requests"))
        #expect(user.contains(#"Example 1:"#))
        #expect(user.contains(#""project_name":"linecount""#))
        #expect(user.contains(#""files":["linecount/counter.py"]"#))
        #expect(user.contains(#""total_tasks":4"#))
        #expect(!user.contains("reviewer"))
        #expect(!user.contains("{{"))
    }

    /// The person's answers to the discovery's questions reach the planner, marked as theirs or as the
    /// assumption they kept; without answers there is no such section.
    @Test func thePersonsAnswersReachThePlanner() throws {
        let answers = try ClarificationAnswers(for: discovery, given: ["Yes, folders are searched recursively."])
        let user = try prompts.masterplan(request: WordCountFixture.request, discovery: discovery, answers: answers, maxTasks: 17,
                                          examples: [], previous: nil).messages[0].content
        #expect(user.contains("The person answered the discovery's clarifying questions. Their answers decide"))
        #expect(user.contains("1. Should folders be searched recursively?\n   Answer (the person's): Yes, folders are searched recursively."))
        let assumed = try prompts.masterplan(request: WordCountFixture.request, discovery: discovery,
                                             answers: try ClarificationAnswers(for: discovery, given: []), maxTasks: 17,
                                             examples: [], previous: nil).messages[0].content
        #expect(assumed.contains("Answer (assumed): No: only the files named on the command line are counted."))
        let none = try prompts.masterplan(request: WordCountFixture.request, discovery: discovery, maxTasks: 17, examples: [],
                                          previous: nil).messages[0].content
        #expect(!none.contains("The person answered"))
    }

    @Test func aRegenerationShowsThePreviousVersionAndTheFeedback() throws {
        let snapshot = try PlanParser().parsePlan(WordCountFixture.plan).plan.jsonValue
        let previous = PlanPrompts.PreviousPlan(version: 3, snapshot: snapshot, feedback: "Add a --bytes option.")
        let request = try prompts.masterplan(request: WordCountFixture.request, discovery: discovery, maxTasks: 17, examples: [],
                                             previous: previous)
        #expect(request.key == GenerationKeys.masterplan)
        let user = try #require(request.messages.last?.content)
        #expect(user.contains("A reviewer read the previous version of this plan"))
        #expect(user.contains("Add a --bytes option."))
        #expect(user.contains("The previous version of this plan (version 3, JSON). Apply the reviewer's feedback above"))
        #expect(user.contains("\"project_name\": \"wordcount\""))
        #expect(!user.contains("Plans this user approved earlier"))

        let withoutFeedback = try prompts.masterplan(
            request: WordCountFixture.request, discovery: discovery, maxTasks: 17, examples: [],
            previous: .init(version: 1, snapshot: snapshot, feedback: nil)).messages[0].content
        #expect(!withoutFeedback.contains("A reviewer read the previous version"))
        #expect(withoutFeedback.contains("The reviewer asked for a new version without comments"))
    }

    @Test func repairsAndCorrectionsKeepTheirFixedKeys() throws {
        let problems: PlanProblems
        do {
            _ = try PlanParser().parsePlan(WordCountFixture.invalidPlan)
            Issue.record("the invalid plan parsed")
            return
        } catch {
            problems = error
        }
        let repair = try prompts.planRepair(request: WordCountFixture.request, answer: WordCountFixture.invalidPlan, problems: problems)
        #expect(repair.purpose == .planRepair)
        #expect(repair.key == GenerationKeys.planRepair)
        #expect(repair.temperature == GenerationConfiguration.default.repairTemperature)
        #expect(repair.messages[0].content.contains("task 7 does not exist"))

        let tests = try prompts.acceptanceTests(for: try PlanParser().parsePlan(WordCountFixture.plan))
        #expect(tests.purpose == .acceptanceTests)
        #expect(tests.key == GenerationKeys.acceptanceTests)
        let corrected = prompts.correction(of: tests, answer: "{}", problems: problems)
        #expect(corrected.key == GenerationKeys.acceptanceTests)
        #expect(corrected.messages.map(\.role) == [.user, .assistant, .user])
        #expect(corrected.messages[1].content == "{}")
        #expect(corrected.messages[2].content.hasPrefix("Your previous answer cannot be used."))
    }

    @Test func theTaskBudgetFollowsTheSizeOfTheRequest() {
        var configuration = GenerationConfiguration()
        #expect(configuration.taskBudget(for: "a CLI") == 12)
        #expect(configuration.taskBudget(for: WordCountFixture.request) == 12 + 18 / 4)
        let specification = Array(repeating: "word", count: 400).joined(separator: " ")
        #expect(configuration.taskBudget(for: specification) == 112)
        configuration.limits.maxTasks = 50
        #expect(configuration.taskBudget(for: specification) == 50)
        #expect(configuration.limits(for: "a CLI").maxTasks == 12)
    }

    @Test func chatHistoryBecomesAlternatingTurnsThatStartWithTheUser() {
        func message(_ role: String, _ content: String) -> ChatExchange.Message { .init(id: UUID(), role: role, content: content) }
        let history = ChatTurns.history([
            message("assistant", "Welcome!"), message("user", "hi"), message("system", "plan created"),
            message("user", "are you there?"), message("assistant", "Yes."), message("assistant", "   "),
        ])
        #expect(history.map(\.role) == [.user, .user, .assistant])
        let turns = ChatTurns.alternating(history + [.init(role: .assistant, content: "Anything else?"), .init(role: .user, content: "no")])
        #expect(turns.map(\.role) == [.user, .assistant, .user])
        #expect(turns[0].content == "hi\n\nare you there?")
        #expect(turns[1].content == "Yes.\n\nAnything else?")
    }
}
