import Foundation
import JSON
import PlanCore
import Postgres
import Store

/// Plans put straight into the database, in the state a test needs (the executor that would
/// normally generate and run them is not part of these tests).
enum PlanFixture {
    /// A small valid plan: 3 tasks (2 depends on 1, 3 on 2), subtasks, MUST and SHOULD criteria.
    static let plan = MasterPlan(
        projectName: "fastapi-jwt",
        summary: "A FastAPI service with JWT login and protected routes.",
        techStack: TechStack(language: "Python 3.11", framework: "FastAPI", database: nil, testCommand: "pytest -q", other: ["pyjwt"]),
        phases: [
            Phase(number: 1, kind: .setup, name: "Setup", description: "Skeleton.", milestones: [
                Milestone(number: 1, name: "Skeleton", description: "Runs.", tasks: [
                    PlanTask(number: 1, name: "App skeleton", description: "FastAPI app.", complexity: .low,
                             files: ["app/main.py"], subtasks: [Subtask(number: 1, name: "Create app", description: "")],
                             acceptance: [AcceptanceCriterion(priority: .must, text: "GET /health answers 200.")]),
                ]),
            ]),
            Phase(number: 2, kind: .core, name: "Core", description: "Auth.", milestones: [
                Milestone(number: 1, name: "Auth", description: "Login.", tasks: [
                    PlanTask(number: 2, name: "JWT auth", description: "Login route.", complexity: .high, dependsOn: [1],
                             files: ["app/auth.py"],
                             subtasks: [Subtask(number: 1, name: "Hash passwords", description: "bcrypt"),
                                        Subtask(number: 2, name: "Issue tokens", description: "HS256")],
                             acceptance: [AcceptanceCriterion(priority: .must, text: "POST /login with a wrong password answers 401."),
                                          AcceptanceCriterion(priority: .should, text: "Tokens expire after an hour.")]),
                    PlanTask(number: 3, name: "Protected routes", description: "Depends on auth.", complexity: .medium,
                             dependsOn: [2], files: ["app/routes.py"],
                             acceptance: [AcceptanceCriterion(priority: .must, text: "GET /me without a token answers 401.")]),
                ]),
            ]),
        ])

    /// Inserts a plan with `tree` for `owner` in `status` (with the timestamps the schema wants for
    /// it) and two acceptance tests; returns its id.
    @discardableResult
    static func insert(_ db: Connection, owner: UUID, status: PlanStatus = .draft, tree: MasterPlan = plan,
                       workspacePath: String? = nil) throws -> UUID {
        try db.transaction { db in
            let id = try db.query(
                """
                INSERT INTO masterplans (owner_id, request, budget_usd, status, project_name, summary, workspace_path,
                    approved_at, started_at, completed_at)
                VALUES ($1, 'create a FastAPI app with JWT auth', 5, $2, '(named by the tree)', '(summarised by the tree)', $3,
                    CASE WHEN $2 IN ('approved','queued','executing','completed','failed','blocked','paused') THEN now() END,
                    CASE WHEN $2 IN ('executing','completed','failed','blocked','paused') THEN now() END,
                    CASE WHEN $2 = 'completed' THEN now() END)
                RETURNING id
                """,
                [owner, status.rawValue, workspacePath]).first!.decode(UUID.self, 0)
            try PlanTreeWriter(db).write(tree, planID: id)
            try db.execute(
                """
                INSERT INTO acceptance_tests (plan_id, name, priority, file_path, code) VALUES
                  ($1, 'test_health', 'must', 'tests/test_health.py', 'def test_health(): assert True'),
                  ($1, 'test_login', 'must', 'tests/test_auth.py', 'def test_login(): assert True')
                """, [id])
            try db.execute(
                """
                INSERT INTO acceptance_test_criteria (plan_id, test_id, criterion_id)
                SELECT $1, t.id, c.id FROM acceptance_tests t JOIN acceptance_criteria c ON c.plan_id = t.plan_id
                JOIN tasks k ON k.id = c.task_id
                WHERE t.plan_id = $1 AND ((t.name = 'test_health' AND k.number = 1) OR (t.name = 'test_login' AND k.number = 2 AND c.position = 1))
                """, [id])
            return id
        }
    }

    /// Execution records for an executing plan: wave 1 passed (gate result), its atom succeeded,
    /// wave 2 running with an atom that needs review (and its pending review). Returns the review's
    /// and the reviewed atom's ids.
    @discardableResult
    static func addExecution(_ db: Connection, planID: UUID) throws -> (review: UUID, atom: UUID) {
        try db.transaction { db in
            let sha = String(repeating: "a", count: 64)
            try db.execute(
                """
                INSERT INTO waves (plan_id, number, atom_count, status, started_at, finished_at)
                VALUES ($1, 1, 1, 'passed', now(), now()), ($1, 2, 1, 'running', now(), NULL)
                """, [planID])
            try db.execute("UPDATE masterplans SET total_waves = 2, current_wave = 2, total_atoms = 3, completed_atoms = 1 WHERE id = $1", [planID])
            let wave1 = try db.query("SELECT id FROM waves WHERE plan_id = $1 AND number = 1", [planID]).first!.decode(UUID.self, 0)
            try db.execute(
                """
                INSERT INTO atoms (plan_id, task_id, file_path, wave, status, attempts, confidence, final_content_sha256, started_at, finished_at)
                SELECT $1, t.id, t.files[1], 1, 'succeeded', 1, 0.92, $2, now(), now() FROM tasks t WHERE t.plan_id = $1 AND t.number = 1
                """, [planID, sha])
            let atom = try db.query(
                """
                INSERT INTO atoms (plan_id, task_id, file_path, wave, status, attempts, confidence, started_at)
                SELECT $1, t.id, t.files[1], 2, 'needs_review', 3, 0.55, now() FROM tasks t WHERE t.plan_id = $1 AND t.number = 2
                RETURNING id
                """, [planID]).first!.decode(UUID.self, 0)
            try db.execute(
                """
                INSERT INTO atom_attempts (plan_id, atom_id, attempt, origin, temperature, prompt_digest, output, validation, accepted)
                VALUES ($1, $2, 1, 'generate', 0.7, $3, 'def login(): ...', '[{"validator": "py_compile", "passed": true}]', false)
                """, [planID, atom, sha])
            try db.execute(
                """
                INSERT INTO gate_results (plan_id, wave_id, must_total, must_passed, should_total, should_passed, passed)
                VALUES ($1, $2, 1, 1, 0, 0, true)
                """, [planID, wave1])
            let review = try db.query(
                """
                INSERT INTO reviews (plan_id, kind, atom_id, confidence, reason, priority, ai_suggestions)
                VALUES ($1, 'atom', $2, 0.55, 'confidence 0.55 below 0.70', 'medium', '{"suggestions": ["check the expiry"]}')
                RETURNING id
                """, [planID, atom]).first!.decode(UUID.self, 0)
            return (review, atom)
        }
    }

    /// Emits an event for a plan the way the executor does (`masterplan_emit_event`, own transaction).
    @discardableResult
    static func emit(_ db: Connection, planID: UUID, type: String = "atom_execution_progress", data: JSONObject = [:]) throws -> Int64 {
        try EventFeed(db).emit(type: type, planID: planID, data: data)
    }
}
