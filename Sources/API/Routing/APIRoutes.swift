import PlanCore

/// Every route of the REST API (under `/api/v1`, plus health and metrics), with its handler and its documentation.
public enum APIRoutes {
    public static let prefix = "/api/v1"

    public static let all: [Route<APIRoute>] = auth + chat + plans + planActions + execution + reviews + other + accounts

    static let auth: [Route<APIRoute>] = [
        Route("POST", "\(prefix)/auth/login", APIRoute(
            "login", "Exchange email and password for an access token (HS256 JWT).", tag: "auth", auth: false,
            request: "LoginRequest", response: "Token", errors: [400, 401, 413, 415, 422, 429]) { app, ctx in try app.login(ctx) }),
        Route("GET", "\(prefix)/me", APIRoute(
            "getMe", "The logged-in user, and whether a scripted demo model answers.", tag: "auth", response: "Me",
            errors: [401]) { app, ctx in app.meWithModel(ctx) }),
    ]

    static let chat: [Route<APIRoute>] = [
        Route("POST", "\(prefix)/conversations", APIRoute(
            "createConversation", "Start a conversation.", tag: "chat", status: 201, request: "ConversationCreate",
            requestRequired: false, response: "Conversation", errors: [400, 401, 413, 415, 422]) { app, ctx in try app.createConversation(ctx) }),
        Route("GET", "\(prefix)/conversations", APIRoute(
            "listConversations", "Your conversations, most recently active first.", tag: "chat",
            response: "ConversationPage", query: [.limit, .cursor], errors: [400, 401]) { app, ctx in try app.listConversations(ctx) }),
        Route("GET", "\(prefix)/conversations/{id}", APIRoute(
            "getConversation", "A conversation with its messages.", tag: "chat", response: "ConversationDetail",
            errors: [401, 404]) { app, ctx in try app.getConversation(ctx) }),
        Route("POST", "\(prefix)/conversations/{id}/messages", APIRoute(
            "postMessage", "Add a message: '/masterplan <request>' starts a plan, other text gets a chat reply.",
            tag: "chat", status: 202, request: "MessageCreate", response: "MessageAccepted",
            errors: [400, 401, 404, 413, 415, 422]) { app, ctx in try app.postMessage(ctx) }),
    ]

    static let plans: [Route<APIRoute>] = [
        Route("POST", "\(prefix)/masterplans", APIRoute(
            "createPlan", "Start generating a plan for a request (the executor does the work).", tag: "plans",
            status: 202, request: "PlanCreate", response: "JobAccepted", errors: [400, 401, 404, 413, 415, 422]) { app, ctx in try app.createPlan(ctx) }),
        Route("GET", "\(prefix)/masterplans", APIRoute(
            "listPlans", "Your plans, newest first.", tag: "plans", response: "PlanPage",
            query: [.planStatus, .limit, .cursor], errors: [400, 401]) { app, ctx in try app.listPlans(ctx) }),
        Route("GET", "\(prefix)/masterplans/{id}", APIRoute(
            "getPlan", "The whole plan: phases, milestones, tasks, subtasks, dependencies, criteria.", tag: "plans",
            checksAccountItself: true, response: "PlanTree", errors: [401, 404]) { app, ctx in try app.getPlan(ctx) }),
        Route("GET", "\(prefix)/masterplans/{id}/discovery", APIRoute(
            "getDiscovery", "The domain discovery that preceded the plan.", tag: "plans", response: "Discovery",
            errors: [401, 404]) { app, ctx in try app.getDiscovery(ctx) }),
        Route("PATCH", "\(prefix)/masterplans/{id}/tasks/{number}", APIRoute(
            "editTask", "Edit a task of a draft plan; the plan is validated again and a version recorded.",
            tag: "plans", request: "TaskEdit", response: "PlanTree", errors: [400, 401, 404, 409, 413, 415, 422]) { app, ctx in try app.editTask(ctx) }),
        Route("GET", "\(prefix)/masterplans/{id}/status", APIRoute(
            "getPlanStatus", "Status, counters, costs and the actions allowed now.", tag: "plans",
            response: "PlanStatus", errors: [401, 404]) { app, ctx in try app.getPlanStatus(ctx) }),
        Route("GET", "\(prefix)/masterplans/{id}/versions", APIRoute(
            "listPlanVersions", "The plan's versions with snapshots, newest first.", tag: "plans",
            response: "VersionPage", query: [.limit, .cursor], errors: [400, 401, 404]) { app, ctx in try app.listVersions(ctx) }),
        Route("GET", "\(prefix)/masterplans/{id}/history", APIRoute(
            "listPlanHistory", "The plan's audit trail, oldest first.", tag: "plans", response: "HistoryPage",
            query: [.limit, .cursor], errors: [400, 401, 404]) { app, ctx in try app.listHistory(ctx) }),
        Route("GET", "\(prefix)/masterplans/{id}/events", APIRoute(
            "streamPlanEvents", "Server-sent events of this plan (served by the SSE relay).", tag: "events",
            response: nil, contentType: "text/event-stream", query: [.lastEventID, .ticket],
            errors: [400, 401, 404], run: nil)),
        Route("GET", "\(prefix)/events", APIRoute(
            "streamEvents", "Server-sent events of all your plans and conversations (served by the SSE relay).",
            tag: "events", response: nil, contentType: "text/event-stream", query: [.lastEventID, .ticket],
            errors: [400, 401], run: nil)),
    ]

    static func action(_ event: PlanEvent, _ summary: String, accepted: Bool, request: String = "NoFields") -> Route<APIRoute> {
        Route("POST", "\(prefix)/masterplans/{id}/\(event.rawValue)", APIRoute(
            "\(event.rawValue)Plan", summary, tag: "plans", status: accepted ? 202 : 200, request: request,
            requestRequired: false, response: accepted ? "PlanActionAccepted" : "PlanActionResult",
            errors: [400, 401, 404, 409, 413, 415, 422]) { app, ctx in try app.planAction(ctx, event) })
    }

    static let planActions: [Route<APIRoute>] = [
        action(.approve, "Approve a draft: its acceptance tests are frozen (SHA-256) as the contract.", accepted: false),
        action(.answer, "Answer the discovery's questions (or keep its assumptions); the plan is generated from them.", accepted: true,
               request: "Answers"),
        action(.reject, "Reject a draft, or a plan waiting for answers.", accepted: false, request: "Reason"),
        action(.regenerate, "Generate the plan again with feedback.", accepted: true, request: "Feedback"),
        action(.execute, "Queue an approved plan for execution.", accepted: true),
        action(.pause, "Pause an executing plan after the atoms in flight.", accepted: false, request: "Reason"),
        action(.resume, "Resume a paused, blocked or failed plan.", accepted: true),
        action(.cancel, "Cancel a plan that is waiting or executing.", accepted: false, request: "Reason"),
    ]

    static let execution: [Route<APIRoute>] = [
        Route("GET", "\(prefix)/masterplans/{id}/waves", APIRoute(
            "listWaves", "The plan's waves with their latest Gate S result.", tag: "execution", response: "WaveList",
            errors: [401, 404]) { app, ctx in try app.listWaves(ctx) }),
        Route("GET", "\(prefix)/masterplans/{id}/atoms", APIRoute(
            "listAtoms", "The plan's atoms (one per task and file).", tag: "execution", response: "AtomPage",
            query: [.wave, .atomStatus, .limit, .cursor], errors: [400, 401, 404]) { app, ctx in try app.listAtoms(ctx) }),
        Route("GET", "\(prefix)/atoms/{id}", APIRoute(
            "getAtom", "One atom with every attempt.", tag: "execution", response: "AtomDetail",
            errors: [401, 404]) { app, ctx in try app.getAtom(ctx) }),
        Route("GET", "\(prefix)/masterplans/{id}/acceptance-tests", APIRoute(
            "listAcceptanceTests", "The plan's acceptance tests, the criteria they cover and their last run.",
            tag: "execution", response: "AcceptanceTestList", errors: [401, 404]) { app, ctx in try app.listAcceptanceTests(ctx) }),
        Route("POST", "\(prefix)/masterplans/{id}/acceptance-tests/{test_id}/confirm", APIRoute(
            "confirmAcceptanceTest", "Keep a test that passed before any code existed (it cannot fail), with your reason; drafts only.",
            tag: "plans", request: "ConfirmationReason", requestRequired: true, response: "AcceptanceTestList",
            errors: [400, 401, 404, 409, 413, 415, 422]) { app, ctx in try app.confirmAcceptanceTest(ctx) }),
        Route("GET", "\(prefix)/masterplans/{id}/evidence", APIRoute(
            "getEvidence", "The proof behind the plan's verdict, per task: accepted files with validator results, commits, every run of every covering test (per test id, with mutation runs), tests that cannot fail, reviews and waivers.",
            tag: "execution", response: "Evidence", errors: [401, 404]) { app, ctx in try app.getEvidence(ctx) }),
        Route("GET", "\(prefix)/masterplans/{id}/summary", APIRoute(
            "getSummary", "What the plan built (files, lines, commits) and how it was verified (tests, rounds, reviews, waivers), its time, tokens and cost, and the next steps.",
            tag: "execution", response: "PlanSummaryReport", errors: [401, 404]) { app, ctx in try app.getSummary(ctx) }),
        Route("GET", "\(prefix)/masterplans/{id}/gate", APIRoute(
            "listGateResults", "Every Gate S evaluation, by wave and repair round.", tag: "execution",
            response: "GateResultList", errors: [401, 404]) { app, ctx in try app.listGateResults(ctx) }),
        Route("GET", "\(prefix)/masterplans/{id}/workspace.tar.gz", APIRoute(
            "downloadWorkspace", "The committed workspace as a gzipped tar archive.", tag: "execution",
            response: nil, contentType: "application/gzip", errors: [401, 404]) { app, ctx in try app.downloadWorkspace(ctx) }),
    ]

    static func resolution(_ event: ReviewEvent, _ summary: String, request: String) -> Route<APIRoute> {
        Route("POST", "\(prefix)/reviews/{id}/\(event.rawValue)", APIRoute(
            "\(event.rawValue)Review", summary, tag: "reviews", status: 202, request: request,
            requestRequired: event != .approve, response: "ReviewAccepted",
            errors: [400, 401, 404, 409, 413, 415, 422]) { app, ctx in try app.resolveReview(ctx, event) })
    }

    static let reviews: [Route<APIRoute>] = [
        Route("GET", "\(prefix)/reviews", APIRoute(
            "listReviews", "Your review queue, oldest first.", tag: "reviews", response: "ReviewPage",
            query: [.reviewStatus, .planID, .limit, .cursor], errors: [400, 401]) { app, ctx in try app.listReviews(ctx) }),
        Route("GET", "\(prefix)/reviews/{id}", APIRoute(
            "getReview", "One review with its AI suggestions.", tag: "reviews", response: "Review",
            errors: [401, 404]) { app, ctx in try app.getReview(ctx) }),
        resolution(.approve, "Accept the atom as it is.", request: "Feedback"),
        resolution(.reject, "Reject the atom: its task fails until regenerated.", request: "RequiredFeedback"),
        resolution(.edit, "Replace the file's content with yours (validated, then committed).", request: "ReviewEdit"),
        resolution(.regenerate, "Ask for a new attempt with your feedback.", request: "RequiredFeedback"),
        resolution(.waive, "Accept a wave whose acceptance tests still fail, with a written reason (blocking Gate S reviews only).",
                   request: "WaiverReason"),
    ]

    static let other: [Route<APIRoute>] = [
        Route("GET", "\(prefix)/usage", APIRoute(
            "getUsage", "What your LLM calls cost, in total and by purpose, model and plan.", tag: "usage",
            response: "Usage", query: [.since], errors: [400, 401]) { app, ctx in try app.usage(ctx) }),
        Route("GET", "/health/live", APIRoute(
            "live", "The worker is running (no dependencies checked).", tag: "health", auth: false,
            response: "Health", run: { app, _ in app.live() })),
        Route("GET", "/health/ready", APIRoute(
            "ready", "Ready to serve: database reachable, migrations current; relay LISTEN reported.", tag: "health",
            auth: false, response: "Health", errors: [503], run: { app, _ in app.ready() })),
        Route("GET", "\(prefix)/health/live", APIRoute(
            "liveUnderAPI", "Same as /health/live, under the API prefix.", tag: "health", auth: false,
            response: "Health", run: { app, _ in app.live() })),
        Route("GET", "\(prefix)/health/ready", APIRoute(
            "readyUnderAPI", "Same as /health/ready, under the API prefix.", tag: "health", auth: false,
            response: "Health", errors: [503], run: { app, _ in app.ready() })),
        Route("GET", "/metrics", APIRoute(
            "getMetrics", "Prometheus metrics (text format 0.0.4) computed from the database; nginx serves it to local addresses only.",
            tag: "meta", auth: false, response: nil, contentType: PrometheusText.contentType,
            run: { app, _ in try app.metrics() })),
        Route("GET", "\(prefix)/openapi.json", APIRoute(
            "getOpenAPI", "This OpenAPI 3.1 document.", tag: "meta", auth: false, response: nil,
            run: { _, _ in .json(OpenAPIDocument.document) })),
    ]
}
