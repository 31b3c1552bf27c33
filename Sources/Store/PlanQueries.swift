import Foundation
import JSON
import PlanCore
import Postgres

/// The columns of a plan that decisions are made from (ownership, status, version).
public struct PlanRecord: Sendable, Equatable {
    public var id: UUID
    public var ownerID: UUID
    /// `masterplans.status`, one of `PlanStatus`'s raw values.
    public var status: String
    public var version: Int
    public var workspacePath: String?
    public var conversationID: UUID?
    public var discoveryID: UUID?
}

/// SQL for plans and everything under them, as the REST API reads and changes them.
///
/// Reads that start from a plan id take the owner too and find nothing for anyone else's plan, so
/// an API route cannot forget the ownership check. JSON is built by PostgreSQL (`json_build_object`)
/// in the shapes the OpenAPI document describes.
public struct PlanQueries {
    public let connection: Connection

    public init(_ connection: Connection) { self.connection = connection }

    static let recordColumns = "id, owner_id, status, version, workspace_path, conversation_id, discovery_id"

    static func record(_ row: Row) throws -> PlanRecord {
        PlanRecord(id: try row.decode(UUID.self, 0), ownerID: try row.decode(UUID.self, 1),
                   status: try row.decode(String.self, 2), version: try row.decode(Int.self, 3),
                   workspacePath: try row.decode(String?.self, 4), conversationID: try row.decode(UUID?.self, 5),
                   discoveryID: try row.decode(UUID?.self, 6))
    }

    /// The plan if it exists and belongs to `ownerID`; nil otherwise (the API answers 404 either way).
    public func plan(id: UUID, ownerID: UUID) throws -> PlanRecord? {
        try connection.query("SELECT \(Self.recordColumns) FROM masterplans WHERE id = $1 AND owner_id = $2",
                             [id, ownerID]).first.map(Self.record)
    }

    /// Like `plan(id:ownerID:)`, locking the row until the surrounding transaction ends, so a status
    /// change decided from it cannot race another one.
    public func lockPlan(id: UUID, ownerID: UUID) throws -> PlanRecord? {
        try connection.query("SELECT \(Self.recordColumns) FROM masterplans WHERE id = $1 AND owner_id = $2 FOR UPDATE",
                             [id, ownerID]).first.map(Self.record)
    }

    /// The budgets a plan may have, in US dollars: at least a cent, and at most a million, well
    /// inside what `masterplans.budget_usd` (numeric(14,6), above 0) holds. Outside it a value would
    /// overflow the column or round to 0.
    public static let budgetRangeUSD: ClosedRange<Double> = 0.01...1_000_000

    /// Creates a plan in `generating` for a request; returns its id. The generation job is the caller's.
    /// `budgetUSD` must lie in `budgetRangeUSD`. With `askQuestions`, generation stops after a
    /// discovery that has clarifying questions and waits for the person's answers (`awaiting_answers`).
    public func create(ownerID: UUID, request: String, budgetUSD: Double, conversationID: UUID? = nil,
                       sourceMessageID: UUID? = nil, askQuestions: Bool = false) throws -> UUID {
        try connection.query(
            """
            INSERT INTO masterplans (owner_id, request, budget_usd, conversation_id, source_message_id, ask_questions)
            VALUES ($1, $2, $3, $4, $5, $6) RETURNING id
            """,
            [ownerID, request, budgetUSD, conversationID, sourceMessageID, askQuestions]).first!.decode(UUID.self, 0)
    }

    /// The plan's discovery in its answer form (`Discovery(json:)` reads it) and the id of its row,
    /// locked until the surrounding transaction ends; nil when the plan has no discovery.
    public func lockDiscovery(planID: UUID) throws -> (id: UUID, discovery: JSONValue)? {
        guard let row = try connection.query(
            """
            SELECT d.id, json_build_object(\(GenerationQueries.discoveryAnswerPairs))
            FROM masterplans p JOIN discoveries d ON d.id = p.discovery_id WHERE p.id = $1
            FOR UPDATE OF d
            """, [planID]).first else { return nil }
        return (try row.decode(UUID.self, 0), try row.decode(JSONValue.self, 1))
    }

    /// Records the person's answers to the discovery's questions (`discoveries.answers`).
    public func storeAnswers(discoveryID: UUID, answers: ClarificationAnswers) throws {
        try connection.execute("UPDATE discoveries SET answers = $2 WHERE id = $1", [discoveryID, answers.jsonValue])
    }

    // MARK: - Representations

    static let summaryPairs = """
        'id', p.id, 'status', p.status, 'status_reason', p.status_reason, 'version', p.version,
            'request', p.request, 'ask_questions', p.ask_questions, 'project_name', p.project_name, 'summary', p.summary,
            'conversation_id', p.conversation_id, 'discovery_id', p.discovery_id,
            'budget_usd', p.budget_usd, 'estimated_cost_usd', p.estimated_cost_usd, 'actual_cost_usd', p.actual_cost_usd,
            'actual_cost_estimated', p.actual_cost_estimated,
            'estimated_duration_seconds', p.estimated_duration_seconds, 'actual_duration_seconds', p.actual_duration_seconds,
            'total_phases', p.total_phases, 'total_milestones', p.total_milestones, 'total_tasks', p.total_tasks,
            'completed_tasks', p.completed_tasks, 'failed_tasks', p.failed_tasks, 'total_atoms', p.total_atoms,
            'completed_atoms', p.completed_atoms, 'total_waves', p.total_waves, 'current_wave', p.current_wave,
            'created_at', p.created_at, 'updated_at', p.updated_at, 'generated_at', p.generated_at,
            'approved_at', p.approved_at, 'rejected_at', p.rejected_at, 'started_at', p.started_at,
            'completed_at', p.completed_at, 'verification', p.verification, 'waivers', \(waiversJSON)
        """

    /// Each waived test of plan `p`: which, why, who and when (a plan with any is never verified).
    static let waiversJSON = """
        coalesce((SELECT json_agg(json_build_object('test_id', w.test_id, 'name', t.name, 'priority', t.priority,
                                                    'wave', v.number, 'reason', w.reason, 'waived_by', w.waived_by,
                                                    'waived_at', w.waived_at) ORDER BY w.waived_at, w.id)
                  FROM test_waivers w JOIN acceptance_tests t ON t.id = w.test_id JOIN waves v ON v.id = w.wave_id
                  WHERE w.plan_id = p.id), '[]'::json)
        """

    static let summaryJSON = "json_build_object(\(summaryPairs))"

    /// The sort key of `list`: `created_at`, `id`.
    public static let listKey: [PageKeyKind] = [.timestamp, .uuid]

    /// The owner's plans, newest first, optionally only those with `status`.
    public func list(ownerID: UUID, status: String?, page: PageRequest) throws -> Page {
        let after = page.after(for: Self.listKey)
        let rows = try connection.query(
            """
            SELECT \(Self.summaryJSON), p.created_at::text, p.id::text FROM masterplans p
            WHERE p.owner_id = $1 AND ($2::text IS NULL OR p.status = $2)
              AND ($3::timestamptz IS NULL OR (p.created_at, p.id) < ($3::timestamptz, $4::uuid))
            ORDER BY p.created_at DESC, p.id DESC LIMIT $5
            """,
            [ownerID, status, after?[0], after?[1], page.limit + 1]).rows
        return try Page.from(rows, limit: page.limit, keyColumns: 2)
    }

    /// The tasks of milestone `m`, in the API's form (ids, status) or the plan-answer form PlanCore reads (`snapshot`).
    static func tasksJSON(snapshot: Bool) -> String {
        let extra = snapshot ? "" : "'id', t.id, 'status', t.status, 'completed_at', t.completed_at,"
        let criterion = snapshot
            ? "json_build_object('priority', c.priority, 'criterion', c.criterion)"
            : "json_build_object('id', c.id, 'priority', c.priority, 'criterion', c.criterion)"
        return """
            coalesce((SELECT json_agg(json_build_object(\(extra)
                'number', t.number, 'name', t.name, 'description', t.description, 'complexity', t.complexity,
                'depends_on', coalesce((SELECT json_agg(d.number ORDER BY d.number) FROM task_dependencies td
                                        JOIN tasks d ON d.id = td.depends_on_task_id WHERE td.task_id = t.id), '[]'::json),
                'files', to_json(t.files),
                'subtasks', coalesce((SELECT json_agg(json_build_object('number', s.number, 'name', s.name,
                                                                        'description', s.description) ORDER BY s.number)
                                      FROM subtasks s WHERE s.task_id = t.id), '[]'::json),
                'acceptance', coalesce((SELECT json_agg(\(criterion) ORDER BY c.position)
                                        FROM acceptance_criteria c WHERE c.task_id = t.id), '[]'::json)
              ) ORDER BY t.number) FROM tasks t WHERE t.milestone_id = m.id), '[]'::json)
            """
    }

    static func phasesJSON(snapshot: Bool) -> String {
        let phaseID = snapshot ? "" : "'id', ph.id,"
        let milestoneID = snapshot ? "" : "'id', m.id,"
        return """
            coalesce((SELECT json_agg(json_build_object(\(phaseID) 'number', ph.number, 'kind', ph.kind, 'name', ph.name,
                'description', ph.description,
                'milestones', coalesce((SELECT json_agg(json_build_object(\(milestoneID) 'number', m.number, 'name', m.name,
                    'description', m.description, 'tasks', \(tasksJSON(snapshot: snapshot))) ORDER BY m.number)
                    FROM milestones m WHERE m.phase_id = ph.id), '[]'::json)
              ) ORDER BY ph.number) FROM phases ph WHERE ph.plan_id = p.id), '[]'::json)
            """
    }

    static let treeSQL = """
        SELECT json_build_object(\(summaryPairs), 'tech_stack', p.tech_stack,
                                 'phases', \(phasesJSON(snapshot: false)))::text
        FROM masterplans p WHERE p.id = $1
        """

    static let snapshotSQL = """
        SELECT json_build_object('project_name', coalesce(p.project_name, ''), 'summary', coalesce(p.summary, ''),
                                 'tech_stack', p.tech_stack, 'phases', \(phasesJSON(snapshot: true)))
        FROM masterplans p WHERE p.id = $1
        """

    /// The whole plan (summary fields, tech stack, phases → milestones → tasks with dependencies,
    /// files, subtasks and criteria) as compact JSON text, ready to send.
    public func treeText(id: UUID) throws -> String? {
        try connection.query(Self.treeSQL, [id]).first?.decode(String.self, 0)
    }

    /// Whether the account `userID` exists and is enabled, and a value that changes whenever the
    /// plan's tree JSON may have changed (the plan row's `updated_at`, which its trigger stamps on
    /// every update of the row, and the tasks_touch_plans trigger on every update of its tasks) —
    /// nil when the plan is not `userID`'s. One statement (the connection prepares it):
    /// `GET /masterplans/{id}` asks it on every request.
    ///
    /// Writers that change phases, milestones, subtasks, criteria or dependencies must also update
    /// the plan row (as `addVersion`, `PlanTreeWriter` and every status change do), so that caches of
    /// the tree keyed on this stamp see the change.
    ///
    /// `accountActive` is the account check of `Authenticator.user(for:in:)` in the same statement:
    /// the user exists, is enabled and is at the token's `tokenVersion`.
    public func treeStamp(id: UUID, userID: UUID, tokenVersion: Int64) throws -> (accountActive: Bool, stamp: String?) {
        guard let row = try connection.query(Self.treeStampSQL, [id, userID, tokenVersion]).first else { return (false, nil) }
        return (try row.decode(Bool?.self, 0) ?? false, try row.decode(String?.self, 1))
    }

    static let treeStampSQL = """
        SELECT (SELECT u.disabled_at IS NULL AND u.token_version = $3 FROM users u WHERE u.id = $2),
               (SELECT p.updated_at::text FROM masterplans p WHERE p.id = $1 AND p.owner_id = $2)
        """

    /// The plan in the plan-answer JSON shape PlanCore's `PlanParser` reads (what the LLM returned, as edited since), for `MasterPlan(json:)`
    /// and version snapshots.
    public func snapshot(id: UUID) throws -> JSONValue? {
        try connection.query(Self.snapshotSQL, [id]).first?.decode(JSONValue.self, 0)
    }

    /// Status, counters and costs (the caller adds the allowed actions).
    public func status(id: UUID) throws -> JSONValue? {
        try connection.query(
            """
            SELECT json_build_object('plan_id', p.id, 'status', p.status, 'status_reason', p.status_reason,
                'version', p.version, 'total_tasks', p.total_tasks, 'completed_tasks', p.completed_tasks,
                'failed_tasks', p.failed_tasks, 'total_atoms', p.total_atoms, 'completed_atoms', p.completed_atoms,
                'total_waves', p.total_waves, 'current_wave', p.current_wave, 'budget_usd', p.budget_usd,
                'estimated_cost_usd', p.estimated_cost_usd, 'actual_cost_usd', p.actual_cost_usd,
                'actual_cost_estimated', p.actual_cost_estimated,
                'pending_reviews', (SELECT count(*) FROM reviews r WHERE r.plan_id = p.id AND r.status = 'pending'),
                'verification', p.verification, 'waivers', \(Self.waiversJSON),
                'live_jobs', coalesce((SELECT json_agg(json_build_object('id', j.id, 'kind', j.kind, 'state', j.state)
                                                      ORDER BY j.created_at)
                                       FROM jobs j WHERE j.plan_id = p.id AND j.state IN ('queued', 'running')), '[]'::json),
                'updated_at', p.updated_at)
            FROM masterplans p WHERE p.id = $1
            """,
            [id]).first?.decode(JSONValue.self, 0)
    }

    /// What the completion summary tells from the database (`GET …/summary` adds the workspace's
    /// files, lines and commits): the plan's verdict, how it was verified (tests, gate evaluations and
    /// repair rounds, reviews by status, waivers), its time, and the tokens and cost of its calls. Nil
    /// when there is no such plan.
    public func completionFacts(planID: UUID) throws -> JSONValue? {
        try connection.query(
            """
            SELECT json_build_object(
                'plan_id', p.id, 'project_name', p.project_name, 'status', p.status, 'verification', p.verification,
                'test_command', p.tech_stack->>'test_command', 'workspace', p.workspace_path IS NOT NULL,
                'verified', json_build_object(
                    'tests', (SELECT count(*) FROM acceptance_tests x WHERE x.plan_id = p.id),
                    'must_tests', (SELECT count(*) FROM acceptance_tests x WHERE x.plan_id = p.id AND x.priority = 'must'),
                    'should_tests', (SELECT count(*) FROM acceptance_tests x WHERE x.plan_id = p.id AND x.priority = 'should'),
                    'test_runs', (SELECT count(*) FROM test_runs r WHERE r.plan_id = p.id),
                    'gate_evaluations', (SELECT count(*) FROM gate_results g WHERE g.plan_id = p.id),
                    'repair_rounds', (SELECT coalesce(sum(w.repair_rounds), 0) FROM waves w WHERE w.plan_id = p.id),
                    'waves', (SELECT count(*) FROM waves w WHERE w.plan_id = p.id),
                    'reviews', (SELECT coalesce(json_object_agg(status, n), '{}') FROM
                                   (SELECT r.status, count(*) AS n FROM reviews r WHERE r.plan_id = p.id GROUP BY r.status) x),
                    'waivers', (SELECT count(*) FROM test_waivers t WHERE t.plan_id = p.id),
                    'final_commit', (SELECT g.commit_sha FROM gate_results g WHERE g.plan_id = p.id AND g.final AND g.passed
                                     ORDER BY g.created_at DESC LIMIT 1)),
                'time', json_build_object(
                    'created_at', p.created_at, 'approved_at', p.approved_at, 'started_at', p.started_at,
                    'completed_at', p.completed_at, 'duration_seconds', p.actual_duration_seconds,
                    'estimated_duration_seconds', p.estimated_duration_seconds),
                'usage', (SELECT json_build_object(
                    'calls', count(*),
                    'input_tokens', coalesce(sum(c.input_tokens), 0), 'output_tokens', coalesce(sum(c.output_tokens), 0),
                    'cached_tokens', coalesce(sum(c.cached_tokens), 0),
                    'calls_without_usage', count(*) FILTER (WHERE c.input_tokens IS NULL OR c.output_tokens IS NULL),
                    'usage_estimated', coalesce(bool_or(c.usage_estimated), false),
                    'cost_usd', p.actual_cost_usd, 'budget_usd', p.budget_usd, 'estimated_cost_usd', p.estimated_cost_usd,
                    'models', coalesce((SELECT json_agg(DISTINCT m.model) FROM llm_calls m WHERE m.plan_id = p.id), '[]'::json))
                  FROM llm_calls c WHERE c.plan_id = p.id))
            FROM masterplans p WHERE p.id = $1
            """, [planID]).first?.decode(JSONValue.self, 0)
    }

    /// What a version records (`plan_versions.snapshot`), with the same members in every version: the
    /// plan in PlanCore's plan-answer form (`MasterPlan.jsonValue`) and its acceptance tests as
    /// `[{name, priority, covers, file, code}]`, in file and name order, `covers` read from the criteria
    /// the tests are linked to.
    public func versionSnapshot(planID: UUID, plan: JSONValue) throws -> JSONValue {
        var object = plan.objectValue ?? [:]
        object["acceptance_tests"] = try connection.query(
            """
            SELECT coalesce(json_agg(json_build_object('name', x.name, 'priority', x.priority,
                'covers', coalesce((SELECT json_agg(DISTINCT t.number ORDER BY t.number) FROM acceptance_test_criteria tc
                                    JOIN acceptance_criteria ac ON ac.id = tc.criterion_id JOIN tasks t ON t.id = ac.task_id
                                    WHERE tc.test_id = x.id), '[]'::json),
                'file', x.file_path, 'code', x.code) ORDER BY x.file_path, x.name), '[]'::json)
            FROM acceptance_tests x WHERE x.plan_id = $1
            """, [planID]).first?.decode(JSONValue.self, 0) ?? []
        return .object(object)
    }

    /// The plan's project name (nil before generation named it).
    public func projectName(id: UUID) throws -> String? {
        try connection.query("SELECT project_name FROM masterplans WHERE id = $1", [id]).first?.decode(String?.self, 0)
    }

    /// The plan's discovery, or nil when it has none (yet).
    public func discovery(planID: UUID) throws -> JSONValue? {
        try connection.query(
            """
            SELECT json_build_object('id', d.id, 'request', d.request, 'domain', d.domain,
                'bounded_contexts', d.bounded_contexts, 'aggregates', d.aggregates, 'value_objects', d.value_objects,
                'domain_events', d.domain_events, 'services', d.services, 'assumptions', d.assumptions,
                'clarifications', d.clarifications, 'answers', d.answers, 'risks', d.risks, 'model', d.model,
                'input_tokens', d.input_tokens, 'output_tokens', d.output_tokens, 'cost_usd', d.cost_usd,
                'created_at', d.created_at, 'updated_at', d.updated_at)
            FROM masterplans p JOIN discoveries d ON d.id = p.discovery_id WHERE p.id = $1
            """,
            [planID]).first?.decode(JSONValue.self, 0)
    }

    /// The sort key of `versions`: the version number.
    public static let versionsKey: [PageKeyKind] = [.int32(minimum: 1)]

    /// The plan's versions, newest first, each with its snapshot in the plan-answer JSON shape.
    public func versions(planID: UUID, page: PageRequest) throws -> Page {
        let rows = try connection.query(
            """
            SELECT json_build_object('number', v.number, 'change_note', v.change_note, 'author', v.author,
                                     'author_id', v.author_id, 'created_at', v.created_at, 'snapshot', v.snapshot),
                   v.number::text
            FROM plan_versions v WHERE v.plan_id = $1 AND ($2::int IS NULL OR v.number < $2::int)
            ORDER BY v.number DESC LIMIT $3
            """,
            [planID, page.after(for: Self.versionsKey)?[0], page.limit + 1]).rows
        return try Page.from(rows, limit: page.limit, keyColumns: 1)
    }

    /// The sort key of `history`: the entry's id.
    public static let historyKey: [PageKeyKind] = [.int64(minimum: 1)]

    /// The plan's audit trail, oldest first.
    public func history(planID: UUID, page: PageRequest) throws -> Page {
        let rows = try connection.query(
            """
            SELECT json_build_object('id', h.id, 'actor', h.actor, 'actor_id', h.actor_id, 'event', h.event,
                                     'data', h.data, 'created_at', h.created_at),
                   h.id::text
            FROM plan_history h WHERE h.plan_id = $1 AND ($2::bigint IS NULL OR h.id > $2::bigint)
            ORDER BY h.id LIMIT $3
            """,
            [planID, page.after(for: Self.historyKey)?[0], page.limit + 1]).rows
        return try Page.from(rows, limit: page.limit, keyColumns: 1)
    }

    static let gateJSON = """
        json_build_object('wave', w.number, 'repair_round', g.repair_round, 'must_total', g.must_total,
                          'must_passed', g.must_passed, 'should_total', g.should_total, 'should_passed', g.should_passed,
                          'passed', g.passed, 'failing_tests', g.failing_tests, 'created_at', g.created_at)
        """

    /// The plan's waves in order, each with its latest Gate S result.
    public func waves(planID: UUID) throws -> JSONValue {
        try connection.query(
            """
            SELECT coalesce(json_agg(json_build_object('id', w.id, 'number', w.number, 'atom_count', w.atom_count,
                'status', w.status, 'repair_rounds', w.repair_rounds, 'commit_sha', w.commit_sha,
                'started_at', w.started_at, 'gate_started_at', w.gate_started_at, 'finished_at', w.finished_at,
                'gate', (SELECT \(Self.gateJSON) FROM gate_results g WHERE g.wave_id = w.id
                         ORDER BY g.repair_round DESC LIMIT 1)) ORDER BY w.number), '[]'::json)
            FROM waves w WHERE w.plan_id = $1
            """,
            [planID]).first!.decode(JSONValue.self, 0)
    }

    /// Every Gate S evaluation of the plan, by wave and repair round.
    public func gate(planID: UUID) throws -> JSONValue {
        try connection.query(
            """
            SELECT coalesce(json_agg(\(Self.gateJSON) ORDER BY w.number, g.repair_round), '[]'::json)
            FROM gate_results g JOIN waves w ON w.id = g.wave_id WHERE g.plan_id = $1
            """,
            [planID]).first!.decode(JSONValue.self, 0)
    }

    /// The sort key of `atoms`: the wave (0 before one is assigned), the task number, the file path.
    public static let atomsKey: [PageKeyKind] = [.int32(minimum: 0), .int32(minimum: 1), .text(maxBytes: 4_096)]

    /// The plan's atoms by wave, task number and file, optionally only one wave's or one status's.
    public func atoms(planID: UUID, wave: Int?, status: String?, page: PageRequest) throws -> Page {
        let after = page.after(for: Self.atomsKey)
        let rows = try connection.query(
            """
            SELECT json_build_object('id', a.id, 'task_number', t.number, 'file_path', a.file_path, 'wave', a.wave,
                       'status', a.status, 'attempts', a.attempts, 'confidence', a.confidence,
                       'final_content_sha256', a.final_content_sha256, 'started_at', a.started_at,
                       'finished_at', a.finished_at),
                   coalesce(a.wave, 0)::text, t.number::text, a.file_path
            FROM atoms a JOIN tasks t ON t.id = a.task_id
            WHERE a.plan_id = $1 AND ($2::int IS NULL OR a.wave = $2::int) AND ($3::text IS NULL OR a.status = $3)
              AND ($4::int IS NULL OR (coalesce(a.wave, 0), t.number, a.file_path) > ($4::int, $5::int, $6::text))
            ORDER BY coalesce(a.wave, 0), t.number, a.file_path LIMIT $7
            """,
            [planID, wave, status, after?[0], after?[1], after?[2], page.limit + 1]).rows
        return try Page.from(rows, limit: page.limit, keyColumns: 3)
    }

    /// One atom with its task, its attempts and its open review, if its plan belongs to `ownerID`.
    public func atom(id: UUID, ownerID: UUID) throws -> JSONValue? {
        try connection.query(
            """
            SELECT json_build_object('id', a.id, 'plan_id', a.plan_id, 'task_number', t.number, 'task_name', t.name,
                'file_path', a.file_path, 'wave', a.wave, 'status', a.status, 'attempts', a.attempts,
                'confidence', a.confidence, 'final_content_sha256', a.final_content_sha256,
                'created_at', a.created_at, 'started_at', a.started_at, 'finished_at', a.finished_at,
                'pending_review_id', (SELECT r.id FROM reviews r WHERE r.atom_id = a.id AND r.status = 'pending' LIMIT 1),
                'attempt_history', coalesce((SELECT json_agg(json_build_object('attempt', x.attempt, 'origin', x.origin,
                        'temperature', x.temperature, 'validation', x.validation, 'error_feedback', x.error_feedback,
                        'input_tokens', x.input_tokens, 'output_tokens', x.output_tokens, 'cost_usd', x.cost_usd,
                        'accepted', x.accepted, 'output', x.output, 'created_at', x.created_at,
                        'finished_at', x.finished_at) ORDER BY x.attempt)
                    FROM atom_attempts x WHERE x.atom_id = a.id), '[]'::json))
            FROM atoms a JOIN tasks t ON t.id = a.task_id JOIN masterplans p ON p.id = a.plan_id
            WHERE a.id = $1 AND p.owner_id = $2
            """,
            [id, ownerID]).first?.decode(JSONValue.self, 0)
    }

    /// The proof behind the plan's verdict, per task: its files with the accepted attempt and its
    /// validator results, the commit of its wave, every test that covers it with all their runs (gate
    /// rounds and mutation runs, with per-test outcomes, reasons and output tails), whether each test
    /// could fail before any code existed, and the task's reviews; plus the plan's final gate and its
    /// waivers. `outputCharacters` cuts each run's output tail (to its end).
    public func evidence(planID: UUID, outputCharacters: Int = 4_000) throws -> JSONValue? {
        try connection.query(Self.evidenceSQL, [planID, outputCharacters]).first?.decode(JSONValue?.self, 0)
    }

    static let evidenceSQL = """
        SELECT json_build_object(
            'plan_id', p.id, 'project_name', p.project_name, 'status', p.status, 'status_reason', p.status_reason,
            'verification', p.verification, 'waivers', \(waiversJSON),
            'final_gate', (SELECT json_build_object('wave', v.number, 'repair_round', g.repair_round, 'commit', g.commit_sha,
                                                    'passed', g.passed, 'must_total', g.must_total, 'must_passed', g.must_passed,
                                                    'should_total', g.should_total, 'should_passed', g.should_passed,
                                                    'failing_tests', g.failing_tests, 'created_at', g.created_at)
                           FROM gate_results g JOIN waves v ON v.id = g.wave_id
                           WHERE g.plan_id = p.id AND g.final ORDER BY g.created_at DESC, g.repair_round DESC LIMIT 1),
            'tasks', coalesce((SELECT json_agg(json_build_object(
                'number', t.number, 'name', t.name, 'status', t.status,
                'files', coalesce((SELECT json_agg(json_build_object(
                    'path', a.file_path, 'atom_id', a.id, 'status', a.status, 'wave', a.wave, 'attempts', a.attempts,
                    'confidence', a.confidence, 'content_sha256', a.final_content_sha256,
                    'wave_commit', (SELECT w.commit_sha FROM waves w WHERE w.plan_id = a.plan_id AND w.number = a.wave),
                    'accepted_attempt', (SELECT json_build_object('attempt', x.attempt, 'origin', x.origin, 'validation', x.validation,
                                                                  'created_at', x.created_at)
                                         FROM atom_attempts x WHERE x.atom_id = a.id AND x.accepted
                                         ORDER BY x.attempt DESC LIMIT 1)) ORDER BY a.wave, a.file_path)
                    FROM atoms a WHERE a.task_id = t.id), '[]'::json),
                'tests', coalesce((SELECT json_agg(json_build_object(
                    'test_id', x.id, 'name', x.name, 'priority', x.priority, 'file', x.file_path, 'sha256', x.sha256,
                    'cannot_fail', x.cannot_fail, 'cannot_fail_confirmation', x.cannot_fail_confirmation,
                    'runs', coalesce((SELECT json_agg(json_build_object(
                        'kind', r.kind, 'wave', v.number, 'repair_round', r.repair_round, 'status', r.status, 'reason', r.reason,
                        'cases', r.cases, 'duration_ms', r.duration_ms, 'created_at', r.created_at,
                        'output_tail', right(r.output_tail, $2)) ORDER BY r.created_at, r.kind)
                        FROM test_runs r JOIN waves v ON v.id = r.wave_id WHERE r.test_id = x.id), '[]'::json))
                    ORDER BY x.file_path, x.name)
                    FROM acceptance_tests x
                    WHERE x.plan_id = t.plan_id AND EXISTS (
                        SELECT 1 FROM acceptance_test_criteria tc JOIN acceptance_criteria c ON c.id = tc.criterion_id
                        WHERE tc.test_id = x.id AND c.task_id = t.id)), '[]'::json),
                'reviews', coalesce((SELECT json_agg(json_build_object(
                    'id', rv.id, 'file', a.file_path, 'status', rv.status, 'reason', rv.reason, 'blocking', rv.blocking,
                    'feedback', rv.feedback, 'waiver_reason', rv.waiver_reason, 'reviewer_id', rv.reviewer_id,
                    'created_at', rv.created_at, 'resolved_at', rv.resolved_at) ORDER BY rv.created_at)
                    FROM reviews rv JOIN atoms a ON a.id = rv.atom_id WHERE a.task_id = t.id), '[]'::json))
                ORDER BY t.number) FROM tasks t WHERE t.plan_id = p.id), '[]'::json))
        FROM masterplans p WHERE p.id = $1
        """

    /// Names of the plan's acceptance tests that passed before any code existed and that nobody confirmed.
    public func unconfirmedTestsThatCannotFail(planID: UUID) throws -> [String] {
        try connection.query(
            "SELECT name FROM acceptance_tests WHERE plan_id = $1 AND cannot_fail AND cannot_fail_confirmation IS NULL ORDER BY file_path, name",
            [planID]).rows.map { try $0.decode(String.self, 0) }
    }

    /// Records a person's reason for keeping a test that cannot fail; false when the plan has no such
    /// test (unknown, or one that can fail).
    public func confirmTestThatCannotFail(planID: UUID, testID: UUID, reason: String, userID: UUID) throws -> Bool {
        try connection.execute(
            """
            UPDATE acceptance_tests SET cannot_fail_confirmation = $3, cannot_fail_confirmed_by = $4, cannot_fail_confirmed_at = now()
            WHERE plan_id = $1 AND id = $2 AND cannot_fail
            """, [planID, testID, reason, userID]) == 1
    }

    /// The plan's acceptance tests with the criteria they cover and their latest run.
    public func acceptanceTests(planID: UUID) throws -> JSONValue {
        try connection.query(
            """
            SELECT coalesce(json_agg(json_build_object('id', x.id, 'name', x.name, 'priority', x.priority,
                'file_path', x.file_path, 'code', x.code, 'sha256', x.sha256, 'frozen_at', x.frozen_at,
                'cannot_fail', x.cannot_fail, 'cannot_fail_output', x.cannot_fail_output,
                'cannot_fail_confirmation', CASE WHEN x.cannot_fail_confirmation IS NULL THEN NULL ELSE
                    json_build_object('reason', x.cannot_fail_confirmation, 'by', x.cannot_fail_confirmed_by,
                                      'at', x.cannot_fail_confirmed_at) END,
                'criteria', coalesce((SELECT json_agg(json_build_object('id', c.id, 'task_number', t.number,
                                                                        'priority', c.priority, 'criterion', c.criterion)
                                                      ORDER BY t.number, c.position)
                                      FROM acceptance_test_criteria tc JOIN acceptance_criteria c ON c.id = tc.criterion_id
                                      JOIN tasks t ON t.id = c.task_id WHERE tc.test_id = x.id), '[]'::json),
                'last_run', (SELECT json_build_object('status', r.status, 'duration_ms', r.duration_ms,
                                                      'created_at', r.created_at, 'reason', r.reason, 'cases', r.cases)
                             FROM test_runs r WHERE r.test_id = x.id AND r.kind = 'gate' ORDER BY r.created_at DESC LIMIT 1),
                'last_mutation_run', (SELECT json_build_object('status', r.status, 'duration_ms', r.duration_ms,
                                                               'created_at', r.created_at, 'reason', r.reason)
                                      FROM test_runs r WHERE r.test_id = x.id AND r.kind = 'mutation'
                                      ORDER BY r.created_at DESC LIMIT 1))
                ORDER BY x.file_path, x.name), '[]'::json)
            FROM acceptance_tests x WHERE x.plan_id = $1
            """,
            [planID]).first!.decode(JSONValue.self, 0)
    }

    // MARK: - Changes

    /// Moves the plan from `from` to `to` (the caller decided the transition with `PlanStatus`),
    /// stamping the time columns the schema's CHECKs require; false when the status was no longer
    /// `from`.
    public func changeStatus(id: UUID, from: String, to: String, reason: String?) throws -> Bool {
        try connection.execute(
            """
            UPDATE masterplans SET status = $3, status_reason = $4,
                approved_at  = CASE WHEN $3 = 'approved' THEN now() ELSE approved_at END,
                rejected_at  = CASE WHEN $3 = 'rejected' THEN now() ELSE rejected_at END,
                started_at   = CASE WHEN $3 = 'executing' THEN coalesce(started_at, now()) ELSE started_at END,
                completed_at = CASE WHEN $3 = 'completed' THEN now() ELSE completed_at END,
                actual_duration_seconds = CASE WHEN $3 = 'completed' AND started_at IS NOT NULL
                                               THEN greatest(0, floor(extract(epoch FROM now() - started_at)))::integer
                                               ELSE actual_duration_seconds END
            WHERE id = $1 AND status = $2
            """,
            [id, from, to, reason]) == 1
    }

    /// Ends the waves a cancellation stops (`WaveStatus.unfinished` → `cancelled`); returns how many.
    @discardableResult
    public func cancelUnfinishedWaves(planID: UUID) throws -> Int {
        try connection.execute(
            "UPDATE waves SET status = $2, finished_at = now() WHERE plan_id = $1 AND status = ANY($3::text[])",
            [planID, WaveStatus.cancelled.rawValue, WaveStatus.unfinished.map(\.rawValue)])
    }

    /// Appends to the plan's audit trail (`plan_history`).
    public func appendHistory(planID: UUID, actor: String, actorID: UUID?, event: String, data: JSONObject = [:]) throws {
        try connection.execute("INSERT INTO plan_history (plan_id, actor, actor_id, event, data) VALUES ($1, $2, $3, $4, $5)",
                               [planID, actor, actorID, event, JSONValue.object(data)])
    }

    /// Records a new version of the plan (number = current version + 1) with its snapshot and makes
    /// it current; returns the new number.
    @discardableResult
    public func addVersion(planID: UUID, snapshot: JSONValue, note: String, author: String, authorID: UUID?) throws -> Int {
        let number = try connection.query("UPDATE masterplans SET version = version + 1 WHERE id = $1 RETURNING version",
                                          [planID]).first!.decode(Int.self, 0)
        try connection.execute(
            "INSERT INTO plan_versions (plan_id, number, snapshot, change_note, author, author_id) VALUES ($1, $2, $3, $4, $5, $6)",
            [planID, number, snapshot, note, author, authorID])
        return number
    }

    /// Freezes every acceptance test of the plan (records the SHA-256 of its code); returns how many
    /// were frozen now.
    @discardableResult
    public func freezeAcceptanceTests(planID: UUID) throws -> Int {
        try connection.execute(
            """
            UPDATE acceptance_tests SET sha256 = encode(sha256(convert_to(code, 'UTF8')), 'hex'), frozen_at = now()
            WHERE plan_id = $1 AND frozen_at IS NULL
            """,
            [planID])
    }

    /// Writes an edited task (as PlanCore validated it): its columns, its dependencies, subtasks and
    /// criteria (criteria by position, so tests keep covering a criterion whose wording changed).
    /// False when the plan has no task with this number.
    public func updateTask(planID: UUID, _ task: PlanTask) throws -> Bool {
        guard let taskID = try connection.query(
            """
            UPDATE tasks SET name = $3, description = $4, complexity = $5, files = $6
            WHERE plan_id = $1 AND number = $2 RETURNING id
            """,
            [planID, task.number, task.name, task.description, task.complexity.rawValue, task.files]).first?
            .decode(UUID.self, 0) else { return false }

        try connection.execute("DELETE FROM task_dependencies WHERE task_id = $1", [taskID])
        try connection.execute(
            """
            INSERT INTO task_dependencies (plan_id, task_id, depends_on_task_id)
            SELECT $1, $2, t.id FROM tasks t WHERE t.plan_id = $1 AND t.number = ANY($3::text[]::int[])
            """,
            [planID, taskID, task.dependsOn.map(String.init)])

        try connection.execute("DELETE FROM subtasks WHERE task_id = $1", [taskID])
        try connection.execute(
            """
            INSERT INTO subtasks (task_id, number, name, description)
            SELECT $1, n::int, nm, d FROM unnest($2::text[], $3::text[], $4::text[]) AS u(n, nm, d)
            """,
            [taskID, task.subtasks.map { String($0.number) }, task.subtasks.map(\.name), task.subtasks.map(\.description)])

        try connection.execute("DELETE FROM acceptance_criteria WHERE task_id = $1 AND position > $2",
                               [taskID, task.acceptance.count])
        try connection.execute(
            """
            INSERT INTO acceptance_criteria (plan_id, task_id, position, priority, criterion)
            SELECT $1, $2, pos::int, pr, cr FROM unnest($3::text[], $4::text[], $5::text[]) AS u(pos, pr, cr)
            ON CONFLICT (task_id, position) DO UPDATE SET priority = EXCLUDED.priority, criterion = EXCLUDED.criterion
            """,
            [planID, taskID, task.acceptance.indices.map { String($0 + 1) }, task.acceptance.map(\.priority.rawValue),
             task.acceptance.map(\.text)])
        return true
    }
}
