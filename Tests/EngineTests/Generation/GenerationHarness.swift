@testable import Engine
import Foundation
import JSON
import LLM
import PlanCore
import Postgres
import Store
import TestSupport

/// A migrated database with a user, plans and conversations created the way the API creates them,
/// a real replay server answering from a cassette through the real LLM client, and jobs claimed and
/// run the way the executor daemon runs them.
struct GenerationHarness {
    let conninfo: String
    let connection: Connection
    let database: AsyncDatabase
    let owner: UUID

    init() throws {
        conninfo = try TestDatabase.migrated()
        connection = try Connection(conninfo)
        database = AsyncDatabase(conninfo: conninfo, connections: 2)
        owner = UUID()
        try makeUser(owner)
    }

    // MARK: - Rows the API would write

    func makeUser(_ id: UUID) throws {
        try connection.execute("INSERT INTO users (id, email, password_hash) VALUES ($1, $2, 'x')",
                               [id, "generation-\(id.uuidString.lowercased())@example.com"])
    }

    func makeConversation(owner: UUID? = nil) throws -> UUID {
        try connection.query("INSERT INTO conversations (owner_id, title) VALUES ($1, 'word counting') RETURNING id",
                             [owner ?? self.owner]).first!.decode(UUID.self, 0)
    }

    /// A plan in `generating` and its generation job, as `POST /masterplans` (or `/masterplan` in a chat) makes them.
    func createPlan(request: String = WordCountFixture.request, owner: UUID? = nil, conversation: UUID? = nil,
                    askQuestions: Bool = false) throws -> UUID {
        let owner = owner ?? self.owner
        return try connection.transaction { c in
            var messageID: UUID?
            if let conversation {
                messageID = try ConversationQueries(c).addMessage(conversationID: conversation, role: "user",
                                                                  content: "/masterplan \(request)").id
            }
            let plans = PlanQueries(c)
            let plan = try plans.create(ownerID: owner, request: request, budgetUSD: 5, conversationID: conversation,
                                        sourceMessageID: messageID, askQuestions: askQuestions)
            try plans.appendHistory(planID: plan, actor: "user", actorID: owner, event: "created")
            _ = try JobQueue(c).enqueue(.generation, planID: plan, conversationID: conversation, payload: ["request": .string(request)])
            return plan
        }
    }

    /// Claims the next queued job of `kind` as an executor would.
    func claim(_ kind: JobKind) throws -> ClaimedJob {
        guard let job = try JobClaims(owner: "test-executor").claimNext(on: connection, kinds: [kind.rawValue]) else {
            throw HarnessError(message: "no queued \(kind.rawValue) job")
        }
        return job
    }

    /// Claims the next job of the handler's kind, runs it, and marks it done when the handler returns
    /// (the daemon's bookkeeping); `stopping` plays the daemon being asked to stop.
    func runNextJob(_ handler: any JobHandler, stopping: @escaping @Sendable () -> Bool = { false }) async throws {
        let job = try claim(JobKind(rawValue: handler.kind)!)
        let context = JobContext(database: database, job: job, daemonStopping: stopping)
        try await handler.run(job, context: context)
        _ = try JobClaims(owner: "test-executor").complete(job.id, on: connection)
    }

    // MARK: - The scripted model

    /// Runs `body` with a client of a replay server that answers from `entries`.
    @discardableResult
    func withModel<T>(_ entries: [CassetteEntry], _ body: (LLMClient) async throws -> T) async throws -> T {
        let server = try await ReplayServer.bind(cassette: Cassette(entries: entries), host: "127.0.0.1", port: 0)
        let serving = Task { try await server.serve() }
        let configuration = LLMConfiguration(provider: .openAICompatible, model: WordCountFixture.model, baseURL: server.baseURL,
                                             timeouts: LLMTimeouts(connect: .seconds(5), idle: .seconds(30), total: .seconds(60)),
                                             retry: RetryPolicy(maxRetries: 0))
        let client = try LLMClient(configuration: configuration, callLog: PostgresLLMCallLog(conninfo: conninfo), diagnostics: .silent)
        let outcome: Result<T, any Error>
        do {
            outcome = .success(try await body(client))
        } catch {
            outcome = .failure(error)
        }
        try await client.shutdown()
        await server.close()
        try await serving.value
        return try outcome.get()
    }

    // MARK: - Reading back

    struct StoredEvent {
        var id: Int64
        var type: String
        var conversationID: UUID?
        var payload: JSONValue
    }

    func events(plan: UUID) throws -> [StoredEvent] {
        try connection.query("SELECT id, type, conversation_id, payload FROM events WHERE plan_id = $1 ORDER BY id", [plan]).rows.map {
            StoredEvent(id: try $0.decode(Int64.self, 0), type: try $0.decode(String.self, 1),
                        conversationID: try $0.decode(UUID?.self, 2), payload: try $0.decode(JSONValue.self, 3))
        }
    }

    /// The types of the plan's events, in id order.
    func eventTypes(plan: UUID) throws -> [String] {
        try events(plan: plan).map(\.type)
    }

    /// `llm_calls.purpose` of the plan's calls, in the order they were made.
    func llmPurposes(plan: UUID) throws -> [String] {
        try connection.query("SELECT purpose FROM llm_calls WHERE plan_id = $1 ORDER BY created_at, id", [plan]).rows.map {
            try $0.decode(String.self, 0)
        }
    }

    func status(plan: UUID) throws -> (status: String, reason: String?, version: Int) {
        let row = try connection.query("SELECT status, status_reason, version FROM masterplans WHERE id = $1", [plan]).first!
        return (try row.decode(String.self, 0), try row.decode(String?.self, 1), try row.decode(Int.self, 2))
    }

    func count(_ sql: String, _ parameters: [any PostgresBindable]) throws -> Int {
        try connection.query(sql, parameters).first!.decode(Int.self, 0)
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
