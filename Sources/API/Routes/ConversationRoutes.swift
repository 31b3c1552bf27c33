import Foundation
import JSON
import Postgres
import Store

extension APIApplication {
    /// `POST /conversations`.
    func createConversation(_ ctx: RequestContext) throws -> HTTPResponse {
        var fields = BodyFields(try ctx.body(), allowed: ["title"])
        let title = fields.string("title", maxLength: BodyLimits.conversationTitle, allowBlank: true) ?? ""
        try fields.check()
        let conversation = try ConversationQueries(try database()).create(ownerID: ctx.currentUser.id, title: title)
        let id = conversation["id"]?.stringValue ?? ""
        return .json(conversation, status: 201, headers: [("Location", "\(APIRoutes.prefix)/conversations/\(id)")])
    }

    /// `GET /conversations`.
    func listConversations(_ ctx: RequestContext) throws -> HTTPResponse {
        .page(try ConversationQueries(try database()).list(ownerID: ctx.currentUser.id, page: try ctx.page(ConversationQueries.listKey)))
    }

    /// `GET /conversations/{id}`.
    func getConversation(_ ctx: RequestContext) throws -> HTTPResponse {
        let id = try ctx.id(of: "conversation")
        guard let conversation = try ConversationQueries(try database()).conversation(id: id, ownerID: ctx.currentUser.id) else {
            throw Problem.notFound("conversation")
        }
        return .json(conversation)
    }

    /// The command that turns a chat message into a plan request.
    static let planCommand = "/masterplan"

    /// `POST /conversations/{id}/messages`: stores the user's message, then either starts a plan
    /// (`/masterplan <request>`: a plan in `generating` and a generation job) or asks for a chat
    /// reply (a chat job). Both are the executor's work: 202 with the job. A plan started here asks
    /// the discovery's questions in the conversation unless `ask_questions` is false.
    func postMessage(_ ctx: RequestContext) throws -> HTTPResponse {
        let user = ctx.currentUser
        let conversationID = try ctx.id(of: "conversation")
        var fields = BodyFields(try ctx.body(), allowed: ["content", "budget_usd", "ask_questions"])
        let content = fields.string("content", required: true, maxLength: BodyLimits.messageContent)
        let budget = fields.number("budget_usd", in: BodyLimits.budgetUSD, unit: "US dollars")
        let askQuestions = fields.bool("ask_questions") ?? true
        var planRequest: String?
        if let content, content.hasPrefix(Self.planCommand),
           content.count == Self.planCommand.count || content.dropFirst(Self.planCommand.count).first?.isWhitespace == true {
            let request = content.dropFirst(Self.planCommand.count).trimmingCharacters(in: .whitespacesAndNewlines)
            if request.isEmpty {
                fields.fail("content", "'/masterplan' needs a request after it, e.g. '/masterplan create a FastAPI app with JWT auth'")
            }
            planRequest = request
        }
        try fields.check()
        guard let content else { throw Problem.validationFailed([("content", "is required")]) }

        let db = try database()
        let outcome = try db.transaction { db -> (message: JSONValue, job: UUID, plan: UUID?) in
            let conversations = ConversationQueries(db)
            guard try conversations.exists(id: conversationID, ownerID: user.id) else { throw Problem.notFound("conversation") }
            let message = try conversations.addMessage(conversationID: conversationID, role: "user", content: content)
            var planID: UUID?
            let jobID: UUID
            if let planRequest {
                let plans = PlanQueries(db)
                let id = try plans.create(ownerID: user.id, request: planRequest, budgetUSD: budget ?? configuration.defaultBudgetUSD,
                                          conversationID: conversationID, sourceMessageID: message.id,
                                          askQuestions: askQuestions)
                try plans.appendHistory(planID: id, actor: "user", actorID: user.id, event: "created",
                                        data: ["conversation_id": .string(conversationID.uuidString.lowercased())])
                jobID = try JobQueue(db).enqueue(.generation, planID: id, conversationID: conversationID,
                                                 payload: ["request": .string(planRequest)])
                planID = id
            } else {
                jobID = try JobQueue(db).enqueue(.chat, conversationID: conversationID,
                                                 payload: ["message_id": .string(message.id.uuidString.lowercased())])
            }
            try EventFeed(db).emit(.chatMessage(.init(conversationID: conversationID, message: message.json)), ownerID: user.id,
                                   planID: planID, conversationID: conversationID)
            return (message.json, jobID, planID)
        }
        var body: JSONObject = ["message": outcome.message, "job_id": .string(outcome.job.uuidString.lowercased()),
                                "plan_id": JSONValue(outcome.plan.map { $0.uuidString.lowercased() })]
        body["kind"] = .string(outcome.plan == nil ? "chat" : "plan")
        return .json(.object(body), status: 202)
    }
}
