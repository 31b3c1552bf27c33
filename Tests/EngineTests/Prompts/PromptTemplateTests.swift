import JSON
@testable import Engine
import LLM
import PlanCore
import Testing
import TestSupport

@Suite(.dedicatedThreads) struct PromptTemplateTests {
    @Test(arguments: PromptTemplate.Kind.allCases)
    func everyTemplateLoadsWithAStaticSystemPartAndASchema(_ kind: PromptTemplate.Kind) throws {
        let template = try PromptTemplate.load(kind)
        #expect(template.system.count > 400, "a real instruction, not a stub")
        #expect(template.system.contains("JSON"))
        #expect(!template.placeholders.isEmpty)
        #expect(template.answerSchema["type"] == "object")
        #expect(template.answerSchema["additionalProperties"] == false)
        let values = Dictionary(uniqueKeysWithValues: template.placeholders.map { ($0, "<\($0)>") })
        let request = try template.request(values, key: "k")
        #expect(request.purpose == kind.purpose)
        #expect(request.jsonSchema == template.answerSchema)
        let user = try #require(request.messages.last?.content)
        #expect(!user.contains("{{"))
        #expect(!request.sharedContext.contains("{{"))
        for name in template.placeholders { #expect(user.contains("<\(name)>") || request.sharedContext.contains("<\(name)>")) }
    }

    /// The prompts of an atom's calls begin with what every atom of the plan shares (the prompt-cache
    /// prefix) and keep the atom's own part, and the instructions, out of it.
    @Test(arguments: [PromptTemplate.Kind.atom, .atomRepair, .gateRepair])
    func atomPromptsPutThePlanInTheContextPartAndTheAtomInTheUserPart(_ kind: PromptTemplate.Kind) throws {
        let template = try PromptTemplate.load(kind)
        let shared = PromptTemplate.placeholderNames(in: template.context)
        #expect(shared == ["project_name", "tech_stack", "plan_summary", "plan_tasks", "plan_files"])
        let own = PromptTemplate.placeholderNames(in: template.user)
        #expect(Set(own).isDisjoint(with: shared))
        #expect(own.contains("task_number") && own.contains("file"))
        #expect(!template.system.contains("Project:"))
    }

    @Test func aTemplateIsReadOnceAndThenServedFromMemory() async throws {
        let first = try PromptTemplate.load(.atomRepair)
        #expect(PromptTemplate.isLoaded(.atomRepair))
        // Many first-time and repeated loads at once: one reading, the same template for all.
        let loaded = try await withThrowingTaskGroup(of: [String].self) { group in
            for index in 0..<32 {
                let kind = PromptTemplate.Kind.allCases[index % PromptTemplate.Kind.allCases.count]
                group.addTask {
                    let template = try PromptTemplate.load(kind)
                    return [kind.rawValue, template.system, template.user]
                }
            }
            return try await group.reduce(into: [String: Set<[String]>]()) { $0[$1[0], default: []].insert($1) }
        }
        #expect(loaded.count == PromptTemplate.Kind.allCases.count)
        #expect(loaded.values.allSatisfy { $0.count == 1 })
        #expect(loaded[PromptTemplate.Kind.atomRepair.rawValue] == [[first.kind.rawValue, first.system, first.user]])
        #expect(PromptTemplate.Kind.allCases.allSatisfy(PromptTemplate.isLoaded))
    }

    @Test func planPromptsUsePlanCoresSchemas() {
        #expect(PromptTemplate.Kind.masterplan.answerSchema == PlanJSONSchema.plan)
        #expect(PromptTemplate.Kind.planRepair.answerSchema == PlanJSONSchema.plan)
        #expect(PromptTemplate.Kind.discovery.answerSchema == PlanJSONSchema.discovery)
        #expect(PromptTemplate.Kind.acceptanceTests.answerSchema == PlanJSONSchema.acceptanceTests)
    }

    @Test func optionalSectionsAppearOnlyWithAValue() throws {
        let template = try PromptTemplate.load(.masterplan)
        let base = ["request": "a todo CLI", "discovery": "{}", "max_tasks": "20"]
        let without = try template.renderUser(base.merging(["feedback": ""]) { $1 })
        let with = try template.renderUser(base.merging(["feedback": "use SQLite"]) { $1 })
        #expect(!without.contains("reviewer"))
        #expect(with.contains("A reviewer read the previous version"))
        #expect(with.contains("use SQLite"))
    }

    @Test func missingAndUnknownValuesAreRefused() throws {
        let template = try PromptTemplate.load(.discovery)
        #expect(throws: PromptTemplateError.self) { try template.renderUser([:]) }
        #expect(throws: PromptTemplateError.self) { try template.renderUser(["request": "x", "requets": "y"]) }
    }

    @Test func answersOfTheLLMsOwnSchemasParse() throws {
        let review = try AnswerParser.reviewSuggestions("""
            Here is my review:
            ```json
            {"summary": "Works.", "recommended_action": "edit",
             "suggestions": [{"title": "Missing 401", "detail": "login() returns 200 on a bad password", "severity": "high"}],
             "proposed_content": "def login(): ..."}
            ```
            """)
        #expect(review.recommendedAction == "edit")
        #expect(review.suggestions.first?.severity == "high")
        #expect(review.proposedContent == "def login(): ...")
        #expect(throws: AnswerParseError.self) { try AnswerParser.atomFile("{\"file\": 3}") }
        #expect(try AnswerParser.chatReply(#"{"reply":"Sure.","plan_request":""}"#).planRequest == nil)
    }
}
