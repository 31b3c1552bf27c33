import Foundation
import JSON
import PlanCore
import Postgres

/// A plan as its generator sees it: who owns it, where it is in its life, what was asked, and the
/// discovery already made for it (so a resumed generation does not make it twice).
public struct GenerationPlanState: Sendable, Equatable {
    public var id: UUID
    public var ownerID: UUID
    /// `masterplans.status`, one of `PlanStatus`'s raw values.
    public var status: String
    public var request: String
    public var version: Int
    public var conversationID: UUID?
    /// The stored discovery in its answer form (`Discovery(json:)` reads it); nil when there is none yet.
    public var discovery: JSONValue?
    /// Whether generation stops for the discovery's questions (`masterplans.ask_questions`).
    public var askQuestions: Bool
    /// The person's answers to those questions (`discoveries.answers`); nil until they answered.
    public var answers: ClarificationAnswers?
}

/// An approved plan of the same owner whose words resemble a new request: an example of the level of
/// detail this user accepted, for the planner's prompt.
public struct SimilarPlan: Sendable, Equatable {
    /// One task of the example, in outline.
    public struct TaskOutline: Sendable, Equatable {
        public var number: Int
        public var name: String
        public var files: [String]

        public init(number: Int, name: String, files: [String]) {
            self.number = number
            self.name = name
            self.files = files
        }
    }

    public var id: UUID
    public var projectName: String
    public var summary: String
    public var techStack: JSONValue
    /// PostgreSQL's `ts_rank` of the plan against the request (higher is closer).
    public var rank: Double
    /// The example's tasks in number order, at most the number asked for.
    public var tasks: [TaskOutline]
    /// How many tasks the plan has in all.
    public var totalTasks: Int

    public init(id: UUID, projectName: String, summary: String, techStack: JSONValue, rank: Double, tasks: [TaskOutline],
                totalTasks: Int) {
        self.id = id
        self.projectName = projectName
        self.summary = summary
        self.techStack = techStack
        self.rank = rank
        self.tasks = tasks
        self.totalTasks = totalTasks
    }
}

/// A chat message to answer, with the conversation before it.
public struct ChatExchange: Sendable, Equatable {
    /// One stored message.
    public struct Message: Sendable, Equatable {
        public var id: UUID
        /// `user`, `assistant` or `system`.
        public var role: String
        public var content: String

        public init(id: UUID, role: String, content: String) {
            self.id = id
            self.role = role
            self.content = content
        }
    }

    public var conversationID: UUID
    public var ownerID: UUID
    /// The message the reply answers.
    public var message: Message
    /// Earlier messages of the conversation, oldest first (the most recent ones, up to the limit asked for).
    public var history: [Message]
}

/// SQL that plan generation and chat replies need beyond `PlanQueries` and `PlanWriter`: the state of
/// a plan being generated, similar approved plans by full-text search, the last stored version, and
/// the conversation a chat reply answers.
public struct GenerationQueries {
    public let connection: Connection

    public init(_ connection: Connection) { self.connection = connection }

    /// Statuses a plan can only have reached by being approved first (PlanCore's lifecycle): the
    /// plans whose shape a human accepted.
    public static let approvedStatuses: [PlanStatus] = [.approved, .queued, .executing, .completed, .failed, .blocked, .paused, .cancelled]

    // MARK: - Plans

    /// The plan's generation state, or nil when there is no such plan.
    public func planState(id: UUID) throws -> GenerationPlanState? {
        try state(id: id, lock: false)
    }

    /// Like `planState(id:)`, locking the plan row until the surrounding transaction ends.
    public func lockPlanState(id: UUID) throws -> GenerationPlanState? {
        try state(id: id, lock: true)
    }

    private func state(id: UUID, lock: Bool) throws -> GenerationPlanState? {
        guard let row = try connection.query(
            """
            SELECT p.id, p.owner_id, p.status, p.request, p.version, p.conversation_id,
                   CASE WHEN d.id IS NULL THEN NULL ELSE json_build_object(\(Self.discoveryAnswerPairs)) END,
                   p.ask_questions, d.answers
            FROM masterplans p LEFT JOIN discoveries d ON d.id = p.discovery_id
            WHERE p.id = $1
            \(lock ? "FOR UPDATE OF p" : "")
            """,
            [id]).first else { return nil }
        return GenerationPlanState(id: try row.decode(UUID.self, 0), ownerID: try row.decode(UUID.self, 1),
                                   status: try row.decode(String.self, 2), request: try row.decode(String.self, 3),
                                   version: try row.decode(Int.self, 4), conversationID: try row.decode(UUID?.self, 5),
                                   discovery: try row.decode(JSONValue?.self, 6), askQuestions: try row.decode(Bool.self, 7),
                                   answers: try row.decode(JSONValue?.self, 8).flatMap(ClarificationAnswers.init(json:)))
    }

    /// The members of a discovery row `d` in the discovery's answer form, for `json_build_object`.
    static let discoveryAnswerPairs = """
        'domain', d.domain, 'bounded_contexts', d.bounded_contexts, 'aggregates', d.aggregates,
        'value_objects', d.value_objects, 'domain_events', d.domain_events, 'services', d.services,
        'assumptions', d.assumptions, 'clarifications', d.clarifications, 'risks', d.risks
        """

    /// Up to `limit` approved plans of `ownerID` (never another user's, never `excluding`) that match
    /// `request` by full-text search on `masterplans.search`, best `ts_rank` first, each with at most
    /// `maxTasks` tasks in outline.
    ///
    /// The request's words are OR-ed (any shared word is a match; the rank orders by how many and
    /// where: project name above summary above request), after the English configuration drops stop
    /// words and stems the rest, as it did for the stored vectors.
    public func similarApprovedPlans(ownerID: UUID, request: String, excluding planID: UUID?, limit: Int,
                                     maxTasks: Int = 40) throws -> [SimilarPlan] {
        guard limit > 0 else { return [] }
        let rows = try connection.query(
            """
            WITH words AS (
                SELECT DISTINCT w FROM regexp_split_to_table(lower($2), '[^[:alnum:]]+') AS w
                WHERE length(w) BETWEEN 1 AND 64
                LIMIT 64
            ), q AS (
                SELECT to_tsquery('english', string_agg(w, ' | ')) AS query FROM words
            )
            SELECT p.id, p.project_name, p.summary, p.tech_stack, ts_rank(p.search, q.query)::float8 AS rank,
                   coalesce((SELECT json_agg(json_build_object('number', t.number, 'name', t.name, 'files', to_json(t.files))
                                             ORDER BY t.number)
                             FROM (SELECT * FROM tasks WHERE plan_id = p.id ORDER BY number LIMIT $5) t), '[]'::json),
                   (SELECT count(*) FROM tasks WHERE plan_id = p.id)
            FROM masterplans p, q
            WHERE q.query IS NOT NULL AND p.owner_id = $1 AND ($3::uuid IS NULL OR p.id <> $3::uuid)
              AND p.status = ANY($4::text[]) AND p.project_name IS NOT NULL
              AND p.search @@ q.query
            ORDER BY rank DESC, p.approved_at DESC NULLS LAST, p.id
            LIMIT $6
            """,
            [ownerID, request, planID, Self.approvedStatuses.map(\.rawValue), maxTasks, limit])
        return try rows.rows.map { row in
            let outline = try row.decode(JSONValue.self, 5).arrayValue ?? []
            return SimilarPlan(
                id: try row.decode(UUID.self, 0), projectName: try row.decode(String.self, 1),
                summary: try row.decode(String?.self, 2) ?? "", techStack: try row.decode(JSONValue.self, 3),
                rank: try row.decode(Double.self, 4),
                tasks: outline.map { task in
                    SimilarPlan.TaskOutline(number: Int(task["number"]?.intValue ?? 0), name: task["name"]?.stringValue ?? "",
                                            files: task["files"]?.arrayValue?.compactMap(\.stringValue) ?? [])
                },
                totalTasks: try row.decode(Int.self, 6))
        }
    }

    /// The acceptance tests stored for the plan (the draft a regeneration replaces) as comparable keys
    /// (name, file and code), sorted: equal to `acceptanceTestKeys(of:)` of a set with the same tests.
    public func acceptanceTestKeys(planID: UUID) throws -> [String] {
        try connection.query("SELECT name, file_path, code FROM acceptance_tests WHERE plan_id = $1", [planID]).rows.map {
            [try $0.decode(String.self, 0), try $0.decode(String.self, 1), try $0.decode(String.self, 2)].joined(separator: "\u{0}")
        }.sorted()
    }

    /// The keys `acceptanceTestKeys(planID:)` gives, for tests not stored yet.
    public static func acceptanceTestKeys(of tests: [AcceptanceTest]) -> [String] {
        tests.map { [$0.name, $0.file, $0.code].joined(separator: "\u{0}") }.sorted()
    }

    /// The snapshot of the plan's highest stored version, or nil when it has none.
    public func latestVersionSnapshot(planID: UUID) throws -> (number: Int, snapshot: JSONValue)? {
        guard let row = try connection.query(
            "SELECT number, snapshot FROM plan_versions WHERE plan_id = $1 ORDER BY number DESC LIMIT 1", [planID]).first else {
            return nil
        }
        return (try row.decode(Int.self, 0), try row.decode(JSONValue.self, 1))
    }

    /// The number the next stored version of the plan gets (as `PlanWriter.storeGeneratedPlan` numbers it).
    public func nextVersionNumber(planID: UUID) throws -> Int {
        try connection.query("SELECT coalesce(max(number), 0) + 1 FROM plan_versions WHERE plan_id = $1", [planID])
            .first!.decode(Int.self, 0)
    }

    // MARK: - Chat

    /// The message `messageID` of the conversation with up to `historyLimit` messages before it, or
    /// nil when the conversation has no such message.
    public func chatExchange(conversationID: UUID, messageID: UUID, historyLimit: Int) throws -> ChatExchange? {
        guard let target = try connection.query(
            """
            SELECT c.owner_id, m.id, m.role, m.content, m.seq
            FROM messages m JOIN conversations c ON c.id = m.conversation_id
            WHERE m.conversation_id = $1 AND m.id = $2
            """,
            [conversationID, messageID]).first else { return nil }
        let seq = try target.decode(Int64.self, 4)
        let history = try connection.query(
            """
            SELECT id, role, content FROM (
                SELECT id, role, content, seq FROM messages
                WHERE conversation_id = $1 AND seq < $2
                ORDER BY seq DESC LIMIT $3
            ) recent ORDER BY seq
            """,
            [conversationID, seq, max(0, historyLimit)]).rows.map { row in
                ChatExchange.Message(id: try row.decode(UUID.self, 0), role: try row.decode(String.self, 1),
                                     content: try row.decode(String.self, 2))
            }
        return ChatExchange(conversationID: conversationID, ownerID: try target.decode(UUID.self, 0),
                            message: .init(id: try target.decode(UUID.self, 1), role: try target.decode(String.self, 2),
                                           content: try target.decode(String.self, 3)),
                            history: history)
    }

    /// Records on the job that its reply is stored (`payload.reply_message_id`), in the transaction
    /// that stores the reply, so a job run again after a crash sees it and does not answer twice.
    public func recordReply(jobID: UUID, messageID: UUID) throws {
        try connection.execute("UPDATE jobs SET payload = payload || jsonb_build_object('reply_message_id', $2::text) WHERE id = $1",
                               [jobID, messageID.uuidString.lowercased()])
    }
}
