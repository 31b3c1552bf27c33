import Foundation
import JSON
import PlanCore

extension ProgressEvent {
    /// `discovery_generation_start`: the executor began analysing the plan's request.
    public struct DiscoveryGenerationStart: Sendable, Equatable {
        public var planID: UUID
        public var request: String
        /// The generation job's attempt (1 for the first).
        public var jobAttempt: Int

        public init(planID: UUID, request: String, jobAttempt: Int) {
            self.planID = planID
            self.request = request
            self.jobAttempt = jobAttempt
        }

        public var json: JSONObject {
            ["plan_id": planID.feedJSON, "request": .string(request), "job_attempt": JSONValue(jobAttempt)]
        }
    }

    /// `discovery_tokens_progress` and `masterplan_tokens_progress`: how much of one streamed LLM
    /// call has arrived, counted (never estimated) while it streams, with the provider's token counts
    /// in the last report (`done`).
    public struct TokensProgress: Sendable, Equatable {
        /// The generation step the call belongs to.
        public enum Step: String, Sendable {
            case discovery
            case plan
            case planRepair = "plan_repair"
            case acceptanceTests = "acceptance_tests"
        }

        /// What the provider reported when the answer was complete.
        public struct Completion: Sendable, Equatable {
            public var inputTokens: Int?
            public var outputTokens: Int?
            public var model: String

            public init(inputTokens: Int?, outputTokens: Int?, model: String) {
                self.inputTokens = inputTokens
                self.outputTokens = outputTokens
                self.model = model
            }
        }

        public var planID: UUID
        public var step: Step
        /// The answer's number within its step (1 for the first, then each corrected answer).
        public var attempt: Int
        /// For a plan repair: how many problems the answer being repaired had.
        public var problems: Int?
        public var characters: Int
        public var chunks: Int
        public var elapsedMilliseconds: Int64
        /// Set on the last report of the call, which alone is `done`.
        public var completion: Completion?
        /// The answer as written so far: its last `textLimit` characters (the whole answer while it is
        /// shorter), so the page shows the discovery and the plan as they are written.
        public var text: String?

        /// The most characters of the answer an event carries (its end: what is being written now).
        public static let textLimit = 4_000

        public init(planID: UUID, step: Step, attempt: Int, problems: Int? = nil, characters: Int, chunks: Int,
                    elapsedMilliseconds: Int64, completion: Completion?, text: String? = nil) {
            self.text = text.map { String($0.suffix(Self.textLimit)) }
            self.planID = planID
            self.step = step
            self.attempt = attempt
            self.problems = problems
            self.characters = characters
            self.chunks = chunks
            self.elapsedMilliseconds = elapsedMilliseconds
            self.completion = completion
        }

        public var json: JSONObject {
            var json: JSONObject = ["plan_id": planID.feedJSON, "stage": .string(step.rawValue), "attempt": JSONValue(attempt)]
            if let problems { json["problems"] = JSONValue(problems) }
            json["characters"] = JSONValue(characters)
            json["chunks"] = JSONValue(chunks)
            json["elapsed_ms"] = JSONValue(elapsedMilliseconds)
            json["done"] = .bool(completion != nil)
            if let text {
                json["text"] = .string(text)
                // Where the text starts in the answer: 0 when it is the whole answer so far.
                json["text_offset"] = JSONValue(max(0, characters - text.count))
            }
            if let completion {
                json["input_tokens"] = completion.inputTokens.map { JSONValue($0) } ?? .null
                json["output_tokens"] = completion.outputTokens.map { JSONValue($0) } ?? .null
                json["model"] = .string(completion.model)
            }
            return json
        }
    }

    /// `discovery_generation_complete`: the discovery is stored.
    public struct DiscoveryGenerationComplete: Sendable, Equatable {
        public var discoveryID: UUID
        public var domain: String

        public init(discoveryID: UUID, domain: String) {
            self.discoveryID = discoveryID
            self.domain = domain
        }

        public var json: JSONObject { ["discovery_id": discoveryID.feedJSON, "domain": .string(domain)] }
    }

    /// `masterplan_generation_start`: the plan (or a new version of it) is being written.
    public struct MasterplanGenerationStart: Sendable, Equatable {
        /// The version a regeneration starts from, with the reviewer's feedback (if any).
        public struct Previous: Sendable, Equatable {
            public var version: Int
            public var feedback: String?

            public init(version: Int, feedback: String?) {
                self.version = version
                self.feedback = feedback
            }
        }

        public var planID: UUID
        public var regeneration: Bool
        public var maxTasks: Int
        /// Earlier approved plans shown to the model as examples.
        public var examplePlanIDs: [UUID]
        public var jobAttempt: Int
        public var previous: Previous?

        public init(planID: UUID, regeneration: Bool, maxTasks: Int, examplePlanIDs: [UUID], jobAttempt: Int, previous: Previous?) {
            self.planID = planID
            self.regeneration = regeneration
            self.maxTasks = maxTasks
            self.examplePlanIDs = examplePlanIDs
            self.jobAttempt = jobAttempt
            self.previous = previous
        }

        public var json: JSONObject {
            var json: JSONObject = ["plan_id": planID.feedJSON, "regeneration": .bool(regeneration), "max_tasks": JSONValue(maxTasks),
                                    "examples": JSONValue(examplePlanIDs.count),
                                    "example_plan_ids": .array(examplePlanIDs.map(\.feedJSON)),
                                    "job_attempt": JSONValue(jobAttempt)]
            if let previous {
                json["from_version"] = JSONValue(previous.version)
                json["feedback"] = JSONValue(previous.feedback)
            }
            return json
        }
    }

    /// `masterplan_generation_complete`: the plan and its acceptance tests are stored as a draft.
    public struct MasterplanGenerationComplete: Sendable, Equatable {
        public var version: Int
        public var projectName: String
        /// How many tasks the plan has (`tasks`, as in the `generated` history entry).
        public var tasks: Int
        /// How many acceptance tests it has.
        public var tests: Int
        /// The tests that passed before any code existed, by name.
        public var testsThatCannotFail: [String]
        public var estimatedCostUSD: Double?
        /// For a regeneration that returned the plan and tests it started from: that version.
        public var sameAsVersion: Int?

        public init(version: Int, projectName: String, tasks: Int, tests: Int, testsThatCannotFail: [String],
                    estimatedCostUSD: Double?, sameAsVersion: Int? = nil) {
            self.sameAsVersion = sameAsVersion
            self.version = version
            self.projectName = projectName
            self.tasks = tasks
            self.tests = tests
            self.testsThatCannotFail = testsThatCannotFail
            self.estimatedCostUSD = estimatedCostUSD
        }

        public var json: JSONObject {
            var json: JSONObject = ["version": JSONValue(version), "project_name": .string(projectName), "tasks": JSONValue(tasks),
                                    "tests": JSONValue(tests), "tests_that_cannot_fail": JSONValue(testsThatCannotFail),
                                    "estimated_cost_usd": estimatedCostUSD.map(JSONValue.double) ?? .null]
            // Only a regeneration that changed nothing has it.
            if let sameAsVersion { json["same_as_version"] = JSONValue(sameAsVersion) }
            return json
        }
    }

    /// `masterplan_generation_failed`: generation gave up and the plan is `generation_failed`.
    public struct MasterplanGenerationFailed: Sendable, Equatable {
        public var planID: UUID
        /// The step that failed: `discovery`, `plan` or `acceptance_tests`.
        public var stage: String
        /// One sentence for the user.
        public var reason: String
        /// Whether asking again later might work.
        public var transient: Bool
        /// The provider's error, when a call failed.
        public var llmError: String?
        /// What was wrong with the model's last answer (at most 20), when it never validated.
        public var problems: [String]?
        public var jobAttempt: Int

        public init(planID: UUID, stage: String, reason: String, transient: Bool, llmError: String?, problems: [String]?,
                    jobAttempt: Int) {
            self.planID = planID
            self.stage = stage
            self.reason = reason
            self.transient = transient
            self.llmError = llmError
            self.problems = problems
            self.jobAttempt = jobAttempt
        }

        /// The members the `generation_failed` history entry records too (no `plan_id`).
        public var historyData: JSONObject {
            var json: JSONObject = ["stage": .string(stage), "reason": .string(reason), "transient": .bool(transient)]
            if let llmError { json["llm_error"] = .string(llmError) }
            if let problems { json["problems"] = JSONValue(problems) }
            json["job_attempt"] = JSONValue(jobAttempt)
            return json
        }

        public var json: JSONObject {
            var json = historyData
            json["plan_id"] = planID.feedJSON
            return json
        }
    }
}
