@testable import Engine
import Foundation
import JSON
import LLM
import PlanCore
import Postgres
import Store
import TestSupport

/// Plans of the word-count fixture generated for real (through the generation handler and a
/// scripted model), approved the way the API approves them, and executed by the real execution
/// handler: real files in a real git workspace, real validators and acceptance tests in bubblewrap.
struct ExecutionHarness {
    let generation: GenerationHarness
    let data: TemporaryFolder
    var connection: Connection { generation.connection }

    init() throws {
        generation = try GenerationHarness()
        data = try TemporaryFolder("execution")
    }

    /// A word-count plan generated (with `generationAnswers`, the fixture's by default), approved (tests
    /// frozen, as after a person confirmed any that cannot fail) and queued for execution.
    func approvedPlan(generationAnswers: [CassetteEntry] = WordCountFixture.happyPath) async throws -> UUID {
        let plan = try generation.createPlan()
        try await generation.withModel(generationAnswers) { client in
            try await generation.runNextJob(try GenerationHandler(client: client, sandbox: try Sandbox()))
        }
        try connection.transaction { c in
            let plans = PlanQueries(c)
            _ = try plans.freezeAcceptanceTests(planID: plan)
            guard try plans.changeStatus(id: plan, from: "draft", to: "approved", reason: nil),
                  try plans.changeStatus(id: plan, from: "approved", to: "queued", reason: nil) else {
                throw HarnessError(message: "the generated plan was not a draft")
            }
            _ = try JobQueue(c).enqueue(.execution, planID: plan)
        }
        return plan
    }

    func settings(confidence: ConfidencePolicy = .default, repairRounds: Int = 2) -> ExecutionSettings {
        ExecutionSettings(dataDirectory: data.path, concurrency: 4, cpuSlots: 2, repairRounds: repairRounds, confidence: confidence)
    }

    /// Runs the plan's next execution job with a model answering from `entries`.
    func execute(_ entries: [CassetteEntry], settings: ExecutionSettings? = nil) async throws {
        let settings = settings ?? self.settings()
        try await generation.withModel(entries) { client in
            let handler = ExecutionHandler(llm: client, sandbox: try Sandbox(), settings: settings)
            try await generation.runNextJob(handler)
        }
    }

    /// What a reviewer does through the API: the decision recorded and an execution job ensured.
    func resolve(review: UUID, as status: String, feedback: String? = nil, content: String? = nil, waiverReason: String? = nil) throws {
        try connection.transaction { c in
            let planID = try c.query("SELECT plan_id FROM reviews WHERE id = $1", [review]).first!.decode(UUID.self, 0)
            try ReviewQueries(c).resolve(id: review, status: status, reviewerID: generation.owner, feedback: feedback, editedContent: content,
                                         waiverReason: waiverReason)
            _ = try JobQueue(c).ensureExecution(planID: planID, payload: ["review_id": .string(review.uuidString.lowercased())])
        }
    }

    func workspace(_ plan: UUID) -> String { data.path + "/workspaces/" + plan.uuidString.lowercased() }

    func read(_ plan: UUID, _ path: String) -> String? {
        FileManager.default.contents(atPath: workspace(plan) + "/" + path).map { String(decoding: $0, as: UTF8.self) }
    }

    /// `git log` subjects of the plan's workspace, oldest first.
    func commits(_ plan: UUID) throws -> [String] {
        let outcome = try hostRun("/usr/bin/git", ["-C", workspace(plan), "log", "--reverse", "--format=%s"],
                                  environment: ["HOME": "/tmp", "GIT_CONFIG_NOSYSTEM": "1", "PATH": "/usr/bin:/bin"])
        return outcome.output.split(separator: "\n").map(String.init)
    }

    // MARK: answers

    /// An atom answer: the JSON document the atom schema asks for.
    static func atom(_ path: String, _ content: String, notes: String = "") -> String {
        JSONValue(["file": .string(path), "content": .string(content), "notes": .string(notes)]).jsonText
    }

    static func reference(_ path: String) -> String {
        WordCountFixture.files.first { $0.path == path }!.content
    }

    /// Entries answering every atom of the plan with its reference content, except `overrides`,
    /// whose lists of answers are given in order (purpose `atom`).
    static func atoms(overriding overrides: [String: [String]] = [:]) -> [CassetteEntry] {
        let tasks: [String: Int] = ["wordcount/__init__.py": 1, "wordcount/counter.py": 1, "wordcount/cli.py": 2,
                                    "wordcount/__main__.py": 2, "README.md": 3]
        var entries: [CassetteEntry] = []
        for (path, content) in WordCountFixture.files {
            let key = AtomPrompts.key(taskNumber: tasks[path]!, path: path)
            for answer in overrides[path] ?? [atom(path, content)] {
                entries.append(WordCountFixture.entry(.atom, key, answer))
            }
        }
        return entries
    }

    static func suggestions(_ key: String) -> CassetteEntry {
        WordCountFixture.entry(.reviewSuggestions, key, JSONValue([
            "summary": "The file works but took several attempts; check the error handling.",
            "recommended_action": "approve",
            "suggestions": [["title": "Check missing files", "detail": "Make sure a missing file prints the message and status 1.",
                             "severity": "medium"]],
            "proposed_content": .null,
        ]).jsonText)
    }
}
