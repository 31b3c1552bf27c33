import Base
import Foundation
import JSON
import PlanCore
import Postgres
import Store

extension APIApplication {
    /// `POST /masterplans` {request, budget_usd?, conversation_id?, ask_questions?}: a plan in
    /// `generating` and a generation job for the executor; 202 with both ids. Unless `ask_questions`
    /// is false, generation stops after a discovery with clarifying questions (`awaiting_answers`)
    /// until the person answers them (`POST …/answer`).
    func createPlan(_ ctx: RequestContext) throws -> HTTPResponse {
        let user = ctx.currentUser
        var fields = BodyFields(try ctx.body(), allowed: ["request", "budget_usd", "conversation_id", "ask_questions"])
        let request = fields.string("request", required: true, maxLength: BodyLimits.request)
        let budget = fields.number("budget_usd", in: BodyLimits.budgetUSD, unit: "US dollars")
        let conversationID = fields.uuid("conversation_id", what: "a conversation id")
        let askQuestions = fields.bool("ask_questions") ?? true
        try fields.check()
        guard let request else { throw Problem.validationFailed([("request", "is required")]) }

        let db = try database()
        let (planID, jobID) = try db.transaction { db -> (UUID, UUID) in
            if let conversationID, try !ConversationQueries(db).exists(id: conversationID, ownerID: user.id) {
                throw Problem.notFound("conversation")
            }
            let plans = PlanQueries(db)
            let planID = try plans.create(ownerID: user.id, request: request,
                                          budgetUSD: budget ?? configuration.defaultBudgetUSD, conversationID: conversationID,
                                          askQuestions: askQuestions)
            try plans.appendHistory(planID: planID, actor: "user", actorID: user.id, event: "created")
            let jobID = try JobQueue(db).enqueue(.generation, planID: planID, conversationID: conversationID,
                                                 payload: ["request": .string(request)])
            try EventFeed(db).emit(.planStatusChanged(.init(from: nil, to: .generating, action: .create)), ownerID: user.id,
                                   planID: planID)
            return (planID, jobID)
        }
        return Self.accepted(planID: planID, jobID: jobID, status: .generating)
    }

    /// The body of a 202: the job the executor will run and where to watch the plan.
    static func accepted(planID: UUID, jobID: UUID, status: PlanStatus) -> HTTPResponse {
        let plan = planID.uuidString.lowercased()
        return .json([
            "plan_id": .string(plan),
            "job_id": .string(jobID.uuidString.lowercased()),
            "status": .string(status.rawValue),
            "status_url": .string("\(APIRoutes.prefix)/masterplans/\(plan)/status"),
            "events_url": .string("\(APIRoutes.prefix)/masterplans/\(plan)/events"),
        ], status: 202, headers: [("Location", "\(APIRoutes.prefix)/masterplans/\(plan)")])
    }

    /// `GET /masterplans`.
    func listPlans(_ ctx: RequestContext) throws -> HTTPResponse {
        let status = try ctx.queryWord(.planStatus)
        return .page(try PlanQueries(try database()).list(ownerID: ctx.currentUser.id, status: status,
                                                          page: try ctx.page(PlanQueries.listKey)))
    }

    /// `GET /masterplans/{id}`: the tree as PostgreSQL built it (made compact once), from the
    /// worker's cache while the plan's stamp is unchanged.
    func getPlan(_ ctx: RequestContext) throws -> HTTPResponse {
        let plans = PlanQueries(try database())
        // The route checks the account itself: one query for the account and the plan's stamp. A
        // malformed id names no plan, but the account is checked first all the same (an ended
        // account's token is a 401 on every route, whatever else is wrong).
        guard let claims = ctx.claims else { preconditionFailure("an authenticated route ran without claims") }
        guard let planID = try? ctx.id(of: "plan") else {
            _ = try Authenticator(signer: signer).user(for: claims, in: UserStore(try database()))
            throw Problem.notFound("plan")
        }
        let (accountActive, stamp) = try plans.treeStamp(id: planID, userID: claims.subject, tokenVersion: claims.tokenVersion)
        guard accountActive else { throw Problem.invalidToken(Authenticator.accountEnded) }
        guard let stamp else { throw Problem.notFound("plan") }
        if let body = treeCache.body(for: planID, stamp: stamp) {
            return HTTPResponse(status: 200, headers: [("Content-Type", HTTPResponse.jsonContentType), ("Cache-Control", "no-store")],
                                body: body)
        }
        guard let text = try plans.treeText(id: planID) else { throw Problem.notFound("plan") }
        // PostgreSQL's json output has spaces around every colon; a compact copy is a quarter smaller. It
        // also gains `stack`: the stack that runs the plan's test command (null when none does).
        let body = (try? Self.withStack(JSONValue.parse(text, options: JSONParseOptions(maxDepth: 64, maxBytes: Int.max))).serializedBytes())
            ?? Array(text.utf8)
        treeCache.store(body, for: planID, stamp: stamp)
        return HTTPResponse(status: 200, headers: [("Content-Type", HTTPResponse.jsonContentType), ("Cache-Control", "no-store")],
                            body: body)
    }

    /// The plan tree with `stack`: the `StackKind` its `tech_stack.test_command` names, or null.
    static func withStack(_ tree: JSONValue) -> JSONValue {
        guard case .object(var object) = tree else { return tree }
        let command = object["tech_stack"]?["test_command"]?.stringValue
        object["stack"] = command.flatMap(StackKind.init(testCommand:)).map { .string($0.rawValue) } ?? .null
        return .object(object)
    }

    /// `GET /masterplans/{id}/discovery`.
    func getDiscovery(_ ctx: RequestContext) throws -> HTTPResponse {
        let plan = try ownedPlan(ctx)
        guard let discovery = try PlanQueries(try database()).discovery(planID: plan.id) else {
            throw Problem.notFound("discovery for this plan (it is created during generation)")
        }
        return .json(discovery)
    }

    /// `GET /masterplans/{id}/status`: with the actions `PlanStatus` allows now.
    func getPlanStatus(_ ctx: RequestContext) throws -> HTTPResponse {
        let plan = try ownedPlan(ctx)
        guard case .object(var status)? = try PlanQueries(try database()).status(id: plan.id) else {
            throw Problem.notFound("plan")
        }
        let current = PlanStatus(rawValue: plan.status)
        status["allowed_actions"] = JSONValue((current?.allowedActions ?? []).map(\.rawValue))
        status["is_terminal"] = .bool(current?.isTerminal ?? true)
        return .json(.object(status))
    }

    /// `GET /masterplans/{id}/versions`.
    func listVersions(_ ctx: RequestContext) throws -> HTTPResponse {
        let plan = try ownedPlan(ctx)
        return .page(try PlanQueries(try database()).versions(planID: plan.id, page: try ctx.page(PlanQueries.versionsKey, defaultLimit: 20)))
    }

    /// `GET /masterplans/{id}/history`.
    func listHistory(_ ctx: RequestContext) throws -> HTTPResponse {
        let plan = try ownedPlan(ctx)
        return .page(try PlanQueries(try database()).history(planID: plan.id, page: try ctx.page(PlanQueries.historyKey)))
    }

    /// `PATCH /masterplans/{id}/tasks/{number}` (draft only): applies the fields given, validates the
    /// whole plan again with PlanCore, writes the task, records a version and a history entry, and
    /// emits `plan_status_changed` (action `edit`, draft to draft, with the version).
    func editTask(_ ctx: RequestContext) throws -> HTTPResponse {
        let user = ctx.currentUser
        let planID = try ctx.id(of: "plan")
        let number = try ctx.number("number", of: "task")
        let edit = try TaskEdit(try ctx.body())

        let db = try database()
        try db.transaction { db in
            let plans = PlanQueries(db)
            guard let plan = try plans.lockPlan(id: planID, ownerID: user.id) else { throw Problem.notFound("plan") }
            guard let status = PlanStatus(rawValue: plan.status) else { throw Problem.internalError() }
            do throws(IllegalTransition) {
                _ = try status.applying(.edit)
            } catch {
                throw Problem.illegalPlanAction(.edit, status: status)
            }
            guard let snapshot = try plans.snapshot(id: plan.id) else { throw Problem.notFound("plan") }
            var document: MasterPlan
            do throws(PlanProblems) {
                document = try MasterPlan(json: snapshot)
            } catch {
                Log.error("stored plan does not read back", ["plan.id": plan.id.uuidString, "error": error.description])
                throw Problem.internalError()
            }
            guard document.updateTask(number: number, edit.apply) else { throw Problem.notFound("task") }
            do throws(PlanProblems) {
                _ = try PlanValidator().validate(document)
            } catch {
                throw Problem.invalidPlanEdit(error)
            }
            guard let task = document.task(number: number), try plans.updateTask(planID: plan.id, task) else {
                throw Problem.notFound("task")
            }
            let version = try plans.addVersion(planID: plan.id, snapshot: try plans.versionSnapshot(planID: plan.id, plan: document.jsonValue),
                                               note: edit.note ?? "task \(number) edited", author: "user", authorID: user.id)
            try plans.appendHistory(planID: plan.id, actor: "user", actorID: user.id, event: "task_edited",
                                    data: ["task": .int(Int64(number)), "fields": JSONValue(edit.changedFields),
                                           "version": .int(Int64(version))])
            // The step of the state machine (draft → draft), so every open page of the plan hears of
            // the new version (another tab editing the same plan is warned what saving will do).
            try EventFeed(db).emit(.planStatusChanged(.init(from: status, to: status, action: .edit, version: version)),
                                   ownerID: user.id, planID: plan.id)
        }
        guard let text = try PlanQueries(db).treeText(id: planID) else { throw Problem.notFound("plan") }
        return .jsonText(text)
    }
}

/// The fields of a task edit that were given; the rest stay as they are.
struct TaskEdit {
    var name: String?
    var description: String?
    var complexity: Complexity?
    var files: [String]?
    var dependsOn: [Int]?
    var subtasks: [Subtask]?
    var acceptance: [AcceptanceCriterion]?
    var note: String?

    static let fields = ["name", "description", "complexity", "files", "depends_on", "subtasks", "acceptance", "note"]

    /// The members of a subtask and of a criterion in an edit.
    static let subtaskFields = ["number", "name", "description"]
    static let criterionFields = ["priority", "criterion"]

    init(_ body: JSONObject) throws(Problem) {
        var reader = BodyFields(body, allowed: Self.fields)
        name = reader.string("name", maxLength: BodyLimits.taskText)
        description = reader.string("description", maxLength: BodyLimits.taskText, allowBlank: true)
        complexity = reader.word("complexity", from: Complexity.allCases.map(\.rawValue)).flatMap(Complexity.init(rawValue:))
        files = reader.strings("files", maxCount: BodyLimits.filesPerTask, maxLength: BodyLimits.filePath)
        dependsOn = reader.integers("depends_on", maxCount: BodyLimits.dependenciesPerTask, in: BodyLimits.number)
        note = reader.string("note", maxLength: BodyLimits.editNote)
        var position = 0
        subtasks = reader.objects("subtasks", maxCount: BodyLimits.subtasksPerTask, allowed: Self.subtaskFields) { fields in
            position += 1
            let number = fields.integer("number", in: BodyLimits.number) ?? position
            guard let name = fields.string("name", required: true, maxLength: BodyLimits.taskText) else { return nil }
            let description = fields.string("description", maxLength: BodyLimits.taskText, allowBlank: true) ?? ""
            return Subtask(number: number, name: name, description: description)
        }
        acceptance = reader.objects("acceptance", maxCount: BodyLimits.criteriaPerTask, allowed: Self.criterionFields) { fields in
            let priority = fields.word("priority", from: CriterionPriority.allCases.map(\.rawValue), required: true)
                .flatMap(CriterionPriority.init(rawValue:))
            let text = fields.string("criterion", required: true, maxLength: BodyLimits.taskText)
            guard let priority, let text else { return nil }
            return AcceptanceCriterion(priority: priority, text: text)
        }
        if changedFields.isEmpty && reader.errors.isEmpty {
            reader.fail("(body)", "give at least one of: \(Self.fields.dropLast().joined(separator: ", "))")
        }
        try reader.check()
    }

    var changedFields: [String] {
        var names: [String] = []
        if name != nil { names.append("name") }
        if description != nil { names.append("description") }
        if complexity != nil { names.append("complexity") }
        if files != nil { names.append("files") }
        if dependsOn != nil { names.append("depends_on") }
        if subtasks != nil { names.append("subtasks") }
        if acceptance != nil { names.append("acceptance") }
        return names
    }

    func apply(_ task: inout PlanTask) {
        if let name { task.name = name }
        if let description { task.description = description }
        if let complexity { task.complexity = complexity }
        if let files { task.files = files }
        if let dependsOn { task.dependsOn = dependsOn }
        if let subtasks { task.subtasks = subtasks }
        if let acceptance { task.acceptance = acceptance }
    }
}
