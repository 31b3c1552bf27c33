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
            try EventFeed(c).emit(.discoveryGenerationComplete(.init(discoveryID: id, domain: discovery.domain)),
                                  ownerID: owner, planID: planID)
            return id
        }
    }

    /// Stores a validated plan and its acceptance tests as the plan's next version and moves the plan
    /// from `generating` to `draft`. A previous (draft) tree is replaced. Emits
    /// `plan_status_changed` and `masterplan_generation_complete`. Returns the version number.
    /// `cannotFail` names the tests that passed before any code existed, with what their run printed.
    @discardableResult
    public func storeGeneratedPlan(planID: UUID, plan validated: ValidatedPlan, tests: [AcceptanceTest],
                                   estimate: PlanEstimate?, changeNote: String, cannotFail: [String: String] = [:],
                                   sameAsVersion: Int? = nil) throws -> Int {
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
            try PlanTreeWriter(c).write(plan, planID: planID)
            // The criteria just written, by task number, to link each test to what it checks.
            var criteria: [Int: [(id: UUID, priority: String)]] = [:]
            for row in try c.query("""
                SELECT t.number, c.id, c.priority FROM acceptance_criteria c JOIN tasks t ON t.id = c.task_id
                WHERE c.plan_id = $1 ORDER BY t.number, c.position
                """, [planID]).rows {
                criteria[try row.decode(Int.self, 0), default: []].append((try row.decode(UUID.self, 1), try row.decode(String.self, 2)))
            }
            for test in tests {
                let testID = try c.query("""
                    INSERT INTO acceptance_tests (plan_id, name, priority, file_path, code, cannot_fail, cannot_fail_output)
                    VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id
                    """, [planID, test.name, test.priority.rawValue, test.file, test.code, cannotFail[test.name] != nil,
                          cannotFail[test.name]]).first!.decode(UUID.self, 0)
                // A test checks the criteria of the tasks it covers that share its priority (all of
                // them when none does), so a reviewer sees which promises each test keeps.
                for number in Set(test.covers) {
                    let ofTask = criteria[number] ?? []
                    let matching = ofTask.filter { $0.priority == test.priority.rawValue }
                    for criterion in matching.isEmpty ? ofTask : matching {
                        try c.execute("INSERT INTO acceptance_test_criteria (plan_id, test_id, criterion_id) VALUES ($1, $2, $3)",
                                      [planID, testID, criterion.id])
                    }
                }
            }

            let version = try c.query("SELECT coalesce(max(number), 0) + 1 FROM plan_versions WHERE plan_id = $1", [planID])
                .first!.decode(Int.self, 0)
            let snapshot = try PlanQueries(c).versionSnapshot(planID: planID, plan: plan.jsonValue)
            try c.execute("""
                INSERT INTO plan_versions (plan_id, number, snapshot, change_note, author) VALUES ($1, $2, $3, $4, 'llm')
                """, [planID, version, snapshot, changeNote])
            let seconds = estimate.map { Int($0.duration.components.seconds) }
            try c.execute("""
                UPDATE masterplans SET status = 'draft', status_reason = NULL, version = $2, generated_at = now(),
                       total_atoms = $3, total_waves = $4, estimated_cost_usd = $5, estimated_duration_seconds = $6,
                       completed_tasks = 0, failed_tasks = 0, completed_atoms = 0, current_wave = NULL
                WHERE id = $1
                """, [planID, version, estimate?.atoms ?? 0, estimate?.waves ?? 0, estimate?.costUSD, seconds])
            var generated: JSONObject = ["version": .int(Int64(version)), "tasks": .int(Int64(validated.tasks.count)),
                                         "tests": .int(Int64(tests.count)), "note": .string(changeNote)]
            if let sameAsVersion { generated["same_as_version"] = .int(Int64(sameAsVersion)) }
            try c.execute("INSERT INTO plan_history (plan_id, actor, event, data) VALUES ($1, 'llm', 'generated', $2)",
                          [planID, JSONValue.object(generated)])
            let feed = EventFeed(c)
            try feed.emit(.planStatusChanged(.init(from: status, to: .draft)), ownerID: owner, planID: planID)
            try feed.emit(.masterplanGenerationComplete(.init(version: version, projectName: plan.projectName,
                                                              tasks: validated.tasks.count, tests: tests.count,
                                                              testsThatCannotFail: cannotFail.keys.sorted(),
                                                              estimatedCostUSD: estimate?.costUSD, sameAsVersion: sameAsVersion)),
                          ownerID: owner, planID: planID)
            return version
        }
    }
}
