@testable import Engine
import LLM
import PlanCore
import Testing
import TestSupport

/// The atom prompts' layout: what every atom of a plan shares comes first, identical byte for byte,
/// so a provider's prompt cache can serve it to every atom after the first.
@Suite(.dedicatedThreads) struct AtomPromptsTests {
    static let techStack = #"{"language":"Python 3.11","framework":"FastAPI","test_command":"python3 -m pytest -q"}"#

    /// A synthetic plan of `tasks` tasks; task 1's description made long and spread over lines.
    static func plan(tasks: Int, longDescription: String? = nil) throws -> ValidatedPlan {
        var plan = SyntheticPlanGenerator(taskCount: tasks, subtasksPerTask: 2, seed: 7).generate()
        if let longDescription { plan.updateTask(number: 1) { $0.description = longDescription } }
        var limits = PlanLimits.default
        limits.maxTasksPerMilestone = max(limits.maxTasksPerMilestone, tasks)
        return try PlanValidator(limits: limits).validate(plan)
    }

    static func context(_ plan: ValidatedPlan, task number: Int, file: Int = 0) -> AtomPrompts.Context {
        let task = plan.task(number: number)!
        return AtomPrompts.Context(plan: AtomPrompts.PlanContext(projectName: "shop", techStackJSON: techStack, plan: plan), task: task,
                                   path: task.files[file], dependencyFiles: [("dep/\(number).py", "print(\(number))\n")],
                                   fileCharacters: 1_000)
    }

    /// Every request an atom can make: its first answer, a retry, a gate repair.
    static func requests(_ context: AtomPrompts.Context) throws -> [LLMRequest] {
        [
            try AtomPrompts.generate(context, currentContent: nil, temperature: 0.7, maxTokens: 8192),
            try AtomPrompts.generate(context, currentContent: "old = 1\n", temperature: 0.7, maxTokens: 8192),
            try AtomPrompts.repair(context, attempt: 2, previousContent: "x =", errors: "SyntaxError at line 1", temperature: 0.4,
                                   maxTokens: 8192),
            try AtomPrompts.gateRepair(context, currentContent: "x = 1\n", failingTests: "test_x", testOutput: "assert 1 == 2",
                                       temperature: 0.3, maxTokens: 8192),
        ]
    }

    @Test func everyRequestOfEveryAtomOfAPlanStartsWithTheSameContextByteForByte() throws {
        let plan = try Self.plan(tasks: 12)
        var contexts: Set<String> = []
        var users: Set<String> = []
        for task in plan.tasks {
            for file in task.files.indices {
                for request in try Self.requests(Self.context(plan, task: task.number, file: file)) {
                    contexts.insert(request.sharedContext)
                    let user = try #require(request.messages.last?.content)
                    users.insert(user)
                    // The per-atom part follows the context and repeats nothing of it.
                    #expect(user.contains("Task \(task.number): \(task.name)"))
                    #expect(user.contains(task.files[file]))
                    #expect(!user.contains("Project: shop"))
                    #expect(request.flattenedMessages.first?.content.hasPrefix(request.sharedContext + "\n\n") == true)
                }
            }
        }
        #expect(contexts.count == 1, "one shared context for the whole plan, not \(contexts.count)")
        #expect(users.count == plan.tasks.reduce(0) { $0 + $1.files.count } * 4, "every atom's own part differs")
        let context = try #require(contexts.first)
        #expect(context.hasPrefix("The plan this file belongs to"))
        #expect(context.contains("Project: shop\nTech stack (JSON): \(Self.techStack)"))
        #expect(!context.contains("Write the file"))
        #expect(!context.contains("{{"))
        // Built again from the same plan: the same bytes (no clock, no per-run value, a fixed order).
        let again = try Self.requests(Self.context(try Self.plan(tasks: 12), task: 3))[0].sharedContext
        #expect(again == context)
    }

    @Test func theContextListsEveryTaskItsFilesAndDependenciesAndWhoUsesEachFile() throws {
        let plan = try Self.plan(tasks: 12)
        let context = AtomPrompts.PlanContext(projectName: "shop", techStackJSON: Self.techStack, plan: plan)
        let tasks = try #require(context.values["plan_tasks"])
        let files = try #require(context.values["plan_files"])
        #expect(context.values["plan_summary"] == plan.plan.summary)
        for task in plan.tasks {
            var head = "\n\(task.number). \(task.name) [writes \(task.files.joined(separator: ", "))"
            if !task.dependsOn.isEmpty { head += "; after \(task.dependsOn.sorted().map(String.init).joined(separator: ", "))" }
            #expect(tasks.contains(head + "]\n   " + task.description), "task \(task.number)")
            let users = plan.tasks.filter { $0.dependsOn.contains(task.number) }.map(\.number).sorted()
            for file in task.files {
                let line = "\(file): task \(task.number)"
                    + (users.isEmpty ? "" : "; used by \(users.count == 1 ? "task" : "tasks") \(users.map(String.init).joined(separator: ", "))")
                #expect(files.split(separator: "\n").contains(Substring(line)), "\(line)")
            }
        }
        #expect(plan.tasks.contains { !$0.dependsOn.isEmpty }, "the plan has dependencies to show")
    }

    @Test func longDescriptionsAreCutToOneLineAndTheListSaysSo() throws {
        let long = "Build the catalogue.\n\n" + String(repeating: "It lists products with prices and stock. ", count: 20)
        let plan = try Self.plan(tasks: 4, longDescription: long)
        let tasks = try #require(AtomPrompts.PlanContext(projectName: "shop", techStackJSON: Self.techStack, plan: plan).values["plan_tasks"])
        let limit = AtomPrompts.PlanContext.descriptionCharacters
        let oneLine = long.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(tasks.contains("   " + String(oneLine.prefix(limit - 1)) + "…\n"))
        #expect(!tasks.contains(String(oneLine.prefix(limit))))
        #expect(tasks.hasPrefix("Tasks (4; descriptions longer than \(limit) characters are cut, marked …):"))
        // The first user turn of the atom still carries the task's whole description.
        let user = try #require(try Self.requests(Self.context(plan, task: 1))[0].messages.last?.content)
        #expect(user.contains(long))
    }

    @Test func theContextOfA120TaskPlanIsCacheableAndOfASensibleSize() throws {
        let plan = try Self.plan(tasks: 120)
        let request = try Self.requests(Self.context(plan, task: 60))[0]
        let contextTokens = TokenEstimate.tokens(in: request.sharedContext)
        let systemTokens = TokenEstimate.tokens(in: request.system)
        // Above OpenAI's 1,024-token minimum for a cached prefix (the system part alone is not),
        // and far below a model's context window, with room for the atom's own files.
        #expect(systemTokens < 1_024)
        #expect(contextTokens > 1_024)
        #expect(contextTokens < 16_000, "\(contextTokens) tokens of shared context for 120 tasks")
    }
}
