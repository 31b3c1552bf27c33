import Foundation
import JSON
import PlanCore
import Postgres

/// Stores what generation produced — the discovery, then the plan tree with its acceptance tests —
/// each in one transaction, so a plan is either entirely there as a new version or not changed.
public struct PlanWriter {
    let connection: Connection

    public init(connection: Connection) {
        self.connection = connection
    }

    /// What generation cost, for the discovery row (the `llm_calls` rows hold the details).
    public struct Usage: Sendable {
        public var model: String
        public var inputTokens: Int
        public var outputTokens: Int
        public var costUSD: Double

        public init(model: String, inputTokens: Int, outputTokens: Int, costUSD: Double) {
            self.model = model
            self.inputTokens = inputTokens
            self.outputTokens = outputTokens
            self.costUSD = costUSD
        }
    }

    /// Why a generated plan could not be stored.
    public struct Refusal: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Stores the discovery of a plan being generated and links it to the plan; returns its id.
    /// Emits `discovery_generation_complete`.
    @discardableResult
    public func storeDiscovery(planID: UUID, discovery: Discovery, usage: Usage) throws -> UUID {
        try connection.transaction { c in
            guard let plan = try c.query("SELECT owner_id, request, conversation_id, status FROM masterplans WHERE id = $1 FOR UPDATE", [planID]).first else {
                throw Refusal(description: "plan \(planID) does not exist")
            }
            let status = try plan.decode(String.self, "status")
            guard status == PlanStatus.generating.rawValue else {
                throw Refusal(description: "plan \(planID) is \(status), not generating: its discovery is not replaced")
            }
            let owner = try plan.decode(UUID.self, "owner_id")
            let json = discovery.jsonValue
            let id = try c.query("""
                INSERT INTO discoveries (owner_id, conversation_id, request, domain, bounded_contexts, aggregates, value_objects,
                                         domain_events, services, assumptions, clarifications, risks, model, input_tokens,
                                         output_tokens, cost_usd)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
                RETURNING id
                """, [owner, try plan.decode(UUID?.self, "conversation_id"), try plan.decode(String.self, "request"), discovery.domain,
                      json["bounded_contexts"] ?? [], json["aggregates"] ?? [], json["value_objects"] ?? [], json["domain_events"] ?? [],
                      json["services"] ?? [], json["assumptions"] ?? [], json["clarifications"] ?? [], json["risks"] ?? [],
                      usage.model, usage.inputTokens, usage.outputTokens, usage.costUSD]).first!.decode(UUID.self, 0)
            try c.execute("UPDATE masterplans SET discovery_id = $2 WHERE id = $1", [planID, id])
            try c.query("SELECT masterplan_emit_event($1, $2, NULL, 'discovery_generation_complete', $3)",
                        [owner, planID, JSONValue(["discovery_id": .string(id.uuidString.lowercased()), "domain": .string(discovery.domain)])])
            return id
        }
    }

    /// Stores a validated plan and its acceptance tests as the plan's next version and moves the plan
    /// from `generating` to `draft`. A previous (draft) tree is replaced. Emits
    /// `plan_status_changed` and `masterplan_generation_complete`. Returns the version number.
    @discardableResult
    public func storeGeneratedPlan(planID: UUID, plan validated: ValidatedPlan, tests: [AcceptanceTest],
                                   estimate: PlanEstimate?, changeNote: String) throws -> Int {
        try connection.transaction { c in
            guard let row = try c.query("SELECT owner_id, status FROM masterplans WHERE id = $1 FOR UPDATE", [planID]).first else {
                throw Refusal(description: "plan \(planID) does not exist")
            }
            let owner = try row.decode(UUID.self, "owner_id")
            let from = try row.decode(String.self, "status")
            guard let status = PlanStatus(rawValue: from) else {
                throw Refusal(description: "plan \(planID) has the unknown status \(from)")
            }
            _ = try status.applying(.generationSucceeded)

            // A regeneration replaces the draft tree; tests of a draft are never frozen.
            try c.execute("DELETE FROM acceptance_tests WHERE plan_id = $1", [planID])
            try c.execute("DELETE FROM phases WHERE plan_id = $1", [planID])

            let plan = validated.plan
            var taskIDs: [Int: UUID] = [:]
            var criteria: [Int: [(id: UUID, priority: CriterionPriority)]] = [:]
            var milestoneCount = 0
            for phase in plan.phases {
                let phaseID = try c.query("INSERT INTO phases (plan_id, number, kind, name, description) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                                          [planID, phase.number, phase.kind.rawValue, phase.name, phase.description]).first!.decode(UUID.self, 0)
                for milestone in phase.milestones {
                    milestoneCount += 1
                    let milestoneID = try c.query("""
                        INSERT INTO milestones (plan_id, phase_id, number, name, description) VALUES ($1, $2, $3, $4, $5) RETURNING id
                        """, [planID, phaseID, milestone.number, milestone.name, milestone.description]).first!.decode(UUID.self, 0)
                    for task in milestone.tasks {
                        let taskID = try c.query("""
                            INSERT INTO tasks (plan_id, milestone_id, number, name, description, complexity, files)
                            VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id
                            """, [planID, milestoneID, task.number, task.name, task.description, task.complexity.rawValue, task.files])
                            .first!.decode(UUID.self, 0)
                        taskIDs[task.number] = taskID
                        for subtask in task.subtasks {
                            try c.execute("INSERT INTO subtasks (task_id, number, name, description) VALUES ($1, $2, $3, $4)",
                                          [taskID, subtask.number, subtask.name, subtask.description])
                        }
                        for (position, criterion) in task.acceptance.enumerated() {
                            let id = try c.query("""
                                INSERT INTO acceptance_criteria (plan_id, task_id, position, priority, criterion)
                                VALUES ($1, $2, $3, $4, $5) RETURNING id
                                """, [planID, taskID, position + 1, criterion.priority.rawValue, criterion.text]).first!.decode(UUID.self, 0)
                            criteria[task.number, default: []].append((id, criterion.priority))
                        }
                    }
                }
            }
            for task in validated.tasks {
                for dependency in task.dependsOn {
                    try c.execute("INSERT INTO task_dependencies (plan_id, task_id, depends_on_task_id) VALUES ($1, $2, $3)",
                                  [planID, taskIDs[task.number]!, taskIDs[dependency]!])
                }
            }
            for test in tests {
                let testID = try c.query("""
                    INSERT INTO acceptance_tests (plan_id, name, priority, file_path, code) VALUES ($1, $2, $3, $4, $5) RETURNING id
                    """, [planID, test.name, test.priority.rawValue, test.file, test.code]).first!.decode(UUID.self, 0)
                // A test checks the criteria of the tasks it covers that share its priority (all of
                // them when none does), so a reviewer sees which promises each test keeps.
                for number in Set(test.covers) {
                    let ofTask = criteria[number] ?? []
                    let matching = ofTask.filter { $0.priority == test.priority }
                    for criterion in matching.isEmpty ? ofTask : matching {
                        try c.execute("INSERT INTO acceptance_test_criteria (plan_id, test_id, criterion_id) VALUES ($1, $2, $3)",
                                      [planID, testID, criterion.id])
                    }
                }
            }

            let version = try c.query("SELECT coalesce(max(number), 0) + 1 FROM plan_versions WHERE plan_id = $1", [planID])
                .first!.decode(Int.self, 0)
            var snapshot = plan.jsonValue.objectValue ?? [:]
            snapshot["acceptance_tests"] = AcceptanceTest.jsonValue(of: tests)["tests"]
            try c.execute("""
                INSERT INTO plan_versions (plan_id, number, snapshot, change_note, author) VALUES ($1, $2, $3, $4, 'llm')
                """, [planID, version, JSONValue.object(snapshot), changeNote])
            let seconds = estimate.map { Int($0.duration.components.seconds) }
            try c.execute("""
                UPDATE masterplans SET project_name = $2, summary = $3, tech_stack = $4, status = 'draft', status_reason = NULL,
                       version = $5, generated_at = now(), total_phases = $6, total_milestones = $7, total_tasks = $8,
                       total_atoms = $9, total_waves = $10, estimated_cost_usd = $11, estimated_duration_seconds = $12,
                       completed_tasks = 0, failed_tasks = 0, completed_atoms = 0, current_wave = NULL
                WHERE id = $1
                """, [planID, plan.projectName, plan.summary, plan.techStack.jsonValue, version, plan.phases.count, milestoneCount,
                      validated.tasks.count, estimate?.atoms ?? 0, estimate?.waves ?? 0, estimate?.costUSD, seconds])
            try c.execute("INSERT INTO plan_history (plan_id, actor, event, data) VALUES ($1, 'llm', 'generated', $2)",
                          [planID, JSONValue(["version": .int(Int64(version)), "tasks": .int(Int64(validated.tasks.count)),
                                              "tests": .int(Int64(tests.count)), "note": .string(changeNote)])])
            try c.query("SELECT masterplan_emit_event($1, $2, NULL, 'plan_status_changed', $3)",
                        [owner, planID, JSONValue(["from": .string(from), "to": "draft"])])
            try c.query("SELECT masterplan_emit_event($1, $2, NULL, 'masterplan_generation_complete', $3)",
                        [owner, planID, JSONValue(["version": .int(Int64(version)), "project_name": .string(plan.projectName),
                                                   "tasks": .int(Int64(validated.tasks.count)), "tests": .int(Int64(tests.count)),
                                                   "estimated_cost_usd": estimate.map { .double($0.costUSD) } ?? .null])])
            return version
        }
    }
}
