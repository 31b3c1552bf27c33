import API
import Base
import Foundation
import JSON
import PlanCore
import Postgres
import Store
import TestSupport
import Testing

/// The REST API as a client meets it: the built binary's worker pool behind a real nginx (with the
/// shipped location rules) on a private PostgreSQL, spoken to over HTTP.
@Suite(.dedicatedThreads, .serialized) struct APIEndToEndTests {
    let stack: APIStack

    init() throws {
        stack = try SharedStack.get()
    }

    // MARK: - Authentication

    @Test func loginReturnsATokenThatOpensMe() throws {
        let email = "ann-\(UUID().uuidString.prefix(6).lowercased())@example.org"
        let id = try stack.addUser(email, password: "correct horse battery", role: "admin")
        let login = try stack.call("POST", "/api/v1/auth/login", json: ["email": .string(email.uppercased()), "password": "correct horse battery"])
        #expect(login.status == 200, "\(login.text)")
        #expect(login["token_type"]?.stringValue == "Bearer")
        #expect(login["expires_in"]?.intValue == 3600)
        let token = try #require(login["access_token"]?.stringValue)
        let me = try stack.call("GET", "/api/v1/me", token: token)
        #expect(me.status == 200)
        #expect(me["id"]?.stringValue == id.uuidString.lowercased())
        #expect(me["role"]?.stringValue == "admin")
        #expect(me.json?["password_hash"] == nil)
    }

    @Test func wrongPasswordAndUnknownEmailGetTheSame401() throws {
        let email = "bob-\(UUID().uuidString.prefix(6).lowercased())@example.org"
        try stack.addUser(email)
        let wrong = try stack.call("POST", "/api/v1/auth/login", json: ["email": .string(email), "password": "wrong password"])
        let unknown = try stack.call("POST", "/api/v1/auth/login", json: ["email": "nobody@example.org", "password": "wrong password"])
        for response in [wrong, unknown] {
            #expect(response.status == 401)
            #expect(response.headers["content-type"] == "application/problem+json")
            #expect(response.problemType == "invalid-credentials")
        }
        #expect(wrong.text == unknown.text)
    }

    @Test func protectedRoutesRefuseMissingForgedExpiredAndAlgNoneTokens() throws {
        let user = try stack.user("eve")
        let signer = TokenSigner(secret: Array(stack.secret.utf8))
        let now = Int64(Date().timeIntervalSince1970)
        let expired = signer.sign(TokenClaims(subject: user.id, email: "e@x.org", role: "member", tokenVersion: 1,
                                              issuedAt: now - 7200, expiresAt: now - 3600))
        let forged = TokenSigner(secret: Array("not the server's secret, but long enough".utf8))
            .sign(TokenClaims(subject: user.id, email: "e@x.org", role: "admin", tokenVersion: 1, issuedAt: now, expiresAt: now + 3600))
        let payload = Base64URL.encode(#"{"iss":"masterplan","sub":"\#(user.id.uuidString.lowercased())","exp":\#(now + 3600)}"#)
        let algNone = Base64URL.encode(#"{"alg":"none","typ":"JWT"}"#) + "." + payload + "."
        let tampered = user.token.split(separator: ".")[0] + "." + payload + "." + user.token.split(separator: ".")[2]

        let missing = try stack.call("GET", "/api/v1/masterplans")
        #expect(missing.status == 401)
        #expect(missing.problemType == "unauthorized")
        #expect(missing.headers["www-authenticate"]?.hasPrefix("Bearer") == true)
        for (name, token) in [("expired", expired), ("forged", forged), ("alg none", algNone), ("tampered", String(tampered))] {
            let response = try stack.call("GET", "/api/v1/masterplans", token: token)
            #expect(response.status == 401, "\(name): \(response.text)")
            #expect(response.problemType == "invalid-token", "\(name)")
        }
        let expiredDetail = try stack.call("GET", "/api/v1/me", token: expired)["detail"]?.stringValue ?? ""
        #expect(expiredDetail.contains("expired"))
        #expect(try stack.call("GET", "/api/v1/masterplans", token: user.token).status == 200)
    }

    @Test func disabledUsersTokenStopsWorking() throws {
        let user = try stack.user("gone")
        let planID = try PlanFixture.insert(stack.database(), owner: user.id)
        let planPath = "/api/v1/masterplans/\(planID.uuidString.lowercased())"
        #expect(try stack.call("GET", "/api/v1/me", token: user.token).status == 200)
        // Twice, so both workers have the plan tree cached: the cache must not skip the account check.
        for _ in 0..<2 { #expect(try stack.call("GET", planPath, token: user.token).status == 200) }
        try stack.database().execute("UPDATE users SET disabled_at = now() WHERE id = $1", [user.id])
        for path in ["/api/v1/me", planPath, "/api/v1/masterplans"] {
            let response = try stack.call("GET", path, token: user.token)
            #expect(response.status == 401, "\(path)")
            #expect(response.problemType == "invalid-token", "\(path)")
        }
    }

    // MARK: - Plans

    @Test func createPlanQueuesAGenerationJobAndAnswers202() throws {
        let user = try stack.user()
        let created = try stack.call("POST", "/api/v1/masterplans", token: user.token,
                                     json: ["request": "create a FastAPI app with JWT auth", "budget_usd": 7.5])
        #expect(created.status == 202, "\(created.text)")
        let planID = try #require(created["plan_id"]?.stringValue)
        let jobID = try #require(created["job_id"]?.stringValue)
        #expect(created["status"]?.stringValue == "generating")
        #expect(created.headers["location"] == "/api/v1/masterplans/\(planID)")

        let job = try #require(try stack.database().query("SELECT kind, state, plan_id::text FROM jobs WHERE id = $1", [UUID(uuidString: jobID)!]).first)
        #expect(try job.decode(String.self, 0) == "generation")
        #expect(try job.decode(String.self, 1) == "queued")
        #expect(try job.decode(String.self, 2) == planID)

        let status = try stack.call("GET", "/api/v1/masterplans/\(planID)/status", token: user.token)
        #expect(status.status == 200)
        #expect(status["status"]?.stringValue == "generating")
        #expect(status["allowed_actions"] == .array([]))
        #expect(status["budget_usd"]?.doubleValue == 7.5)
        #expect(status["live_jobs"]?[0]?["kind"]?.stringValue == "generation")

        let invalid = try stack.call("POST", "/api/v1/masterplans", token: user.token, json: ["request": "  ", "budget_usd": -1])
        #expect(invalid.status == 422)
        #expect(Set(invalid["errors"]?.arrayValue?.compactMap { $0["field"]?.stringValue } ?? []) == ["request", "budget_usd"])
    }

    @Test func plansListIsPaginatedWithACursor() throws {
        let user = try stack.user()
        let db = try stack.database()
        var ids: [UUID] = []
        for _ in 0..<5 { ids.append(try PlanFixture.insert(db, owner: user.id)) }
        var seen: [String] = []
        var cursor: String?
        var pages = 0
        repeat {
            let path = "/api/v1/masterplans?limit=2" + (cursor.map { "&cursor=\($0)" } ?? "")
            let page = try stack.call("GET", path, token: user.token)
            #expect(page.status == 200, "\(page.text)")
            seen += page["items"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
            cursor = page["next_cursor"]?.stringValue
            pages += 1
        } while cursor != nil && pages < 10
        #expect(pages == 3)
        #expect(seen == ids.reversed().map { $0.uuidString.lowercased() })
        #expect(try stack.call("GET", "/api/v1/masterplans?status=approved", token: user.token)["items"] == .array([]))
        #expect(try stack.call("GET", "/api/v1/masterplans?cursor=garbage", token: user.token).status == 400)
        #expect(try stack.call("GET", "/api/v1/masterplans?status=bogus", token: user.token).problemType == "invalid-parameter")
    }

    @Test func wholePlanTreeWithDependenciesSubtasksAndCriteria() throws {
        let user = try stack.user()
        let planID = try PlanFixture.insert(stack.database(), owner: user.id)
        let plan = try stack.call("GET", "/api/v1/masterplans/\(planID.uuidString.lowercased())", token: user.token)
        #expect(plan.status == 200, "\(plan.text)")
        #expect(plan["project_name"]?.stringValue == "fastapi-jwt")
        #expect(plan["status"]?.stringValue == "draft")
        #expect(plan["tech_stack"]?["framework"]?.stringValue == "FastAPI")
        #expect(plan["stack"]?.stringValue == "python", "the stack its test command names: \(plan["tech_stack"]?.jsonText ?? "")")
        let phases = try #require(plan["phases"]?.arrayValue)
        #expect(phases.count == 2)
        let task2 = try #require(phases[1]["milestones"]?[0]?["tasks"]?[0])
        #expect(task2["number"]?.intValue == 2)
        #expect(task2["depends_on"] == [1])
        #expect(task2["files"] == ["app/auth.py"])
        #expect(task2["subtasks"]?.arrayValue?.count == 2)
        #expect(task2["acceptance"]?[1]?["priority"]?.stringValue == "should")
    }

    @Test func cachedPlanTreeFollowsTheExecutorsChanges() throws {
        let user = try stack.user()
        let db = try stack.database()
        let planID = try PlanFixture.insert(db, owner: user.id, status: .executing)
        let path = "/api/v1/masterplans/\(planID.uuidString.lowercased())"
        func task1Status() throws -> String? {
            try stack.call("GET", path, token: user.token)["phases"]?[0]?["milestones"]?[0]?["tasks"]?[0]?["status"]?.stringValue
        }
        // Every worker fills its cache (two workers; a few requests reach both).
        for _ in 0..<4 { #expect(try task1Status() == "pending") }
        try db.execute("UPDATE tasks SET status = 'running' WHERE plan_id = $1 AND number = 1", [planID])
        for _ in 0..<4 { #expect(try task1Status() == "running") }
        try db.execute("UPDATE masterplans SET status = 'paused' WHERE id = $1", [planID])
        #expect(try stack.call("GET", path, token: user.token)["status"]?.stringValue == "paused")
    }

    @Test func discoveryOfThePlan() throws {
        let user = try stack.user()
        let db = try stack.database()
        let planID = try PlanFixture.insert(db, owner: user.id)
        let path = "/api/v1/masterplans/\(planID.uuidString.lowercased())/discovery"
        #expect(try stack.call("GET", path, token: user.token).status == 404)
        try db.execute(
            """
            WITH d AS (INSERT INTO discoveries (owner_id, request, domain, risks, model) VALUES ($1, 'jwt app', 'authentication',
                       '["token leakage"]', 'scripted-demo') RETURNING id)
            UPDATE masterplans SET discovery_id = (SELECT id FROM d) WHERE id = $2
            """, [user.id, planID])
        let discovery = try stack.call("GET", path, token: user.token)
        #expect(discovery.status == 200)
        #expect(discovery["domain"]?.stringValue == "authentication")
        #expect(discovery["risks"] == ["token leakage"])
    }

    @Test func editingADraftTaskValidatesAndRecordsAVersion() throws {
        let user = try stack.user()
        let planID = try PlanFixture.insert(stack.database(), owner: user.id)
        let base = "/api/v1/masterplans/\(planID.uuidString.lowercased())"
        let edited = try stack.call("PATCH", base + "/tasks/3", token: user.token, json: [
            "name": "Protected routes and /me", "files": ["app/routes.py", "app/me.py"], "depends_on": [1, 2],
            "acceptance": [["priority": "must", "criterion": "GET /me with a token answers the user."]],
            "note": "split /me out",
        ])
        #expect(edited.status == 200, "\(edited.text)")
        let task3 = edited["phases"]?[1]?["milestones"]?[0]?["tasks"]?[1]
        #expect(task3?["name"]?.stringValue == "Protected routes and /me")
        #expect(task3?["files"] == ["app/routes.py", "app/me.py"])
        #expect(task3?["depends_on"] == [1, 2])
        #expect(edited["version"]?.intValue == 2)

        let versions = try stack.call("GET", base + "/versions", token: user.token)
        #expect(versions["items"]?[0]?["number"]?.intValue == 2)
        #expect(versions["items"]?[0]?["change_note"]?.stringValue == "split /me out")
        #expect(versions["items"]?[0]?["snapshot"]?["project_name"]?.stringValue == "fastapi-jwt")
        let history = try stack.call("GET", base + "/history", token: user.token)
        #expect(history["items"]?.arrayValue?.last?["event"]?.stringValue == "task_edited")

        // A cycle (1 → 3 → 2 → 1) is refused with PlanCore's path, and nothing is written.
        let cycle = try stack.call("PATCH", base + "/tasks/1", token: user.token, json: ["depends_on": [3]])
        #expect(cycle.status == 422)
        #expect(cycle.problemType == "invalid-plan")
        #expect(cycle["problems"]?[0]?["kind"]?.stringValue == "dependencyCycle")
        #expect(try stack.call("GET", base, token: user.token)["version"]?.intValue == 2)

        #expect(try stack.call("PATCH", base + "/tasks/99", token: user.token, json: ["name": "x"]).status == 404)
        #expect(try stack.call("PATCH", base + "/tasks/1", token: user.token, json: ["colour": "red"]).status == 422)
    }

    @Test func approveFreezesTestsThenExecuteQueuesThenCancel() throws {
        let user = try stack.user()
        let planID = try PlanFixture.insert(stack.database(), owner: user.id)
        let base = "/api/v1/masterplans/\(planID.uuidString.lowercased())"

        let approved = try stack.call("POST", base + "/approve", token: user.token)
        #expect(approved.status == 200, "\(approved.text)")
        #expect(approved["previous_status"]?.stringValue == "draft")
        #expect(approved["status"]?.stringValue == "approved")
        #expect(approved["allowed_actions"] == ["execute", "cancel"])
        let tests = try stack.call("GET", base + "/acceptance-tests", token: user.token)
        let items = try #require(tests["items"]?.arrayValue)
        #expect(items.count == 2)
        #expect(items.allSatisfy { $0["sha256"]?.stringValue?.count == 64 && $0["frozen_at"]?.stringValue != nil })
        #expect(items.contains { ($0["criteria"]?.arrayValue?.count ?? 0) == 1 })

        let edit = try stack.call("PATCH", base + "/tasks/1", token: user.token, json: ["name": "late edit"])
        #expect(edit.status == 409)
        #expect(edit["detail"]?.stringValue == "cannot edit a plan that is approved; allowed now: execute, cancel")

        let executed = try stack.call("POST", base + "/execute", token: user.token)
        #expect(executed.status == 202, "\(executed.text)")
        #expect(executed["status"]?.stringValue == "queued")
        let jobID = try #require(executed["job_id"]?.stringValue.flatMap(UUID.init(uuidString:)))
        #expect(try stack.database().query("SELECT kind FROM jobs WHERE id = $1", [jobID]).first?.decode(String.self, 0) == "execution")

        let cancelled = try stack.call("POST", base + "/cancel", token: user.token, json: ["reason": "changed my mind"])
        #expect(cancelled.status == 200)
        #expect(cancelled["status"]?.stringValue == "cancelled")
        #expect(try stack.database().query("SELECT state FROM jobs WHERE id = $1", [jobID]).first?.decode(String.self, 0) == "cancelled")
        let status = try stack.call("GET", base + "/status", token: user.token)
        #expect(status["status_reason"]?.stringValue == "changed my mind")
        #expect(status["is_terminal"] == true)
        let events = try stack.call("GET", base + "/history", token: user.token)["items"]?.arrayValue?.compactMap { $0["event"]?.stringValue }
        #expect(events == ["approved", "execution_requested", "cancelled"])
    }

    /// A test that passed before any code existed proves nothing: the plan cannot be approved until a
    /// person confirms it with a reason (or regenerates it), and the confirmation is recorded.
    @Test func aTestThatCannotFailBlocksApprovalUntilConfirmedWithAReason() throws {
        let user = try stack.user()
        let planID = try PlanFixture.insert(stack.database(), owner: user.id)
        let base = "/api/v1/masterplans/\(planID.uuidString.lowercased())"
        try stack.database().execute(
            "UPDATE acceptance_tests SET cannot_fail = true, cannot_fail_output = 'PASSED tests/test_health.py::test_health' WHERE plan_id = $1 AND name = 'test_health'",
            [planID])
        let testID = try stack.database().query("SELECT id FROM acceptance_tests WHERE plan_id = $1 AND name = 'test_health'", [planID])
            .first!.decode(UUID.self, 0).uuidString.lowercased()

        let refused = try stack.call("POST", base + "/approve", token: user.token)
        #expect(refused.status == 409, "\(refused.text)")
        #expect(refused["type"]?.stringValue?.hasSuffix("tests-cannot-fail") == true)
        #expect(refused["tests"] == ["test_health"])
        #expect(refused["detail"]?.stringValue?.contains("confirm") == true)
        #expect(try stack.call("GET", base + "/status", token: user.token)["status"]?.stringValue == "draft")
        #expect(try stack.database().query("SELECT count(*) FROM acceptance_tests WHERE plan_id = $1 AND frozen_at IS NOT NULL", [planID])
            .first!.decode(Int.self, 0) == 0, "a refused approval freezes nothing")

        let listed = try stack.call("GET", base + "/acceptance-tests", token: user.token)["items"]?.arrayValue ?? []
        #expect(listed.first { $0["name"] == "test_health" }?["cannot_fail"] == true)
        #expect(listed.first { $0["name"] == "test_login" }?["cannot_fail"] == false)

        // A reason is required; a test that can fail has nothing to confirm.
        #expect(try stack.call("POST", base + "/acceptance-tests/\(testID)/confirm", token: user.token, json: [:]).status == 422)
        #expect(try stack.call("POST", base + "/acceptance-tests/\(testID)/confirm", token: user.token, json: ["reason": "  "]).status == 422)
        let login = try #require(listed.first { $0["name"] == "test_login" }?["id"]?.stringValue)
        #expect(try stack.call("POST", base + "/acceptance-tests/\(login)/confirm", token: user.token, json: ["reason": "x"]).status == 404)
        let other = try stack.user()
        #expect(try stack.call("POST", base + "/acceptance-tests/\(testID)/confirm", token: other.token, json: ["reason": "x"]).status == 404)

        let confirmed = try stack.call("POST", base + "/acceptance-tests/\(testID)/confirm", token: user.token,
                                       json: ["reason": "a smoke test of the import on purpose"])
        #expect(confirmed.status == 200, "\(confirmed.text)")
        let item = confirmed["items"]?.arrayValue?.first { $0["name"] == "test_health" }
        #expect(item?["cannot_fail_confirmation"]?["reason"] == "a smoke test of the import on purpose")
        #expect(item?["cannot_fail_confirmation"]?["by"]?.stringValue == user.id.uuidString.lowercased())

        #expect(try stack.call("POST", base + "/approve", token: user.token).status == 200)
        let late = try stack.call("POST", base + "/acceptance-tests/\(testID)/confirm", token: user.token, json: ["reason": "again"])
        #expect(late.status == 409, "only drafts: \(late.text)")
        let events = try stack.call("GET", base + "/history", token: user.token)["items"]?.arrayValue?.compactMap { $0["event"]?.stringValue }
        #expect(events == ["test_confirmed", "approved"])
    }

    @Test func illegalStateChangeIs409WithReasonAndAllowedActions() throws {
        let user = try stack.user()
        let planID = try PlanFixture.insert(stack.database(), owner: user.id)
        let response = try stack.call("POST", "/api/v1/masterplans/\(planID.uuidString.lowercased())/resume", token: user.token)
        #expect(response.status == 409)
        #expect(response.headers["content-type"] == "application/problem+json")
        #expect(response.problemType == "illegal-transition")
        #expect(response["current_status"]?.stringValue == "draft")
        #expect(response["allowed_actions"] == ["approve", "reject", "regenerate", "edit"])
        #expect(response["detail"]?.stringValue == "cannot resume a plan that is draft; allowed now: approve, reject, regenerate, edit")
        #expect(try stack.call("GET", "/api/v1/masterplans/\(planID.uuidString.lowercased())/status", token: user.token)["status"]?.stringValue == "draft")
    }

    @Test func regenerateQueuesAJobWithTheFeedbackOnlyOnce() throws {
        let user = try stack.user()
        let planID = try PlanFixture.insert(stack.database(), owner: user.id)
        let base = "/api/v1/masterplans/\(planID.uuidString.lowercased())"
        let first = try stack.call("POST", base + "/regenerate", token: user.token, json: ["feedback": "use PostgreSQL"])
        #expect(first.status == 202, "\(first.text)")
        #expect(first["status"]?.stringValue == "generating")
        let payload = try stack.database().query("SELECT payload FROM jobs WHERE id = $1",
                                                 [UUID(uuidString: first["job_id"]!.stringValue!)!]).first!.decode(JSONValue.self, 0)
        #expect(payload["feedback"]?.stringValue == "use PostgreSQL")
        let second = try stack.call("POST", base + "/regenerate", token: user.token, json: ["feedback": "again"])
        #expect(second.status == 409)
    }

    /// A plan waiting for the answers to its discovery's questions takes them once: a bad body is a 422
    /// that changes nothing, another status a 409, and the answers are stored with a generation job.
    @Test func answeringTheDiscoverysQuestionsQueuesTheRestOfTheGeneration() throws {
        let user = try stack.user()
        let db = try stack.database()
        let planID = try db.transaction { db -> UUID in
            let id = try db.query("""
                INSERT INTO masterplans (owner_id, request, budget_usd, status, ask_questions)
                VALUES ($1, 'create a FastAPI app with JWT auth', 5, 'awaiting_answers', true) RETURNING id
                """, [user.id]).first!.decode(UUID.self, 0)
            let discovery = try db.query("""
                INSERT INTO discoveries (owner_id, request, domain, bounded_contexts, clarifications, model)
                VALUES ($1, 'create a FastAPI app with JWT auth', 'authentication',
                        '[{"name": "Identity", "description": "Users", "responsibilities": []}]',
                        '[{"question": "Email or username?", "assumed_answer": "A username."},
                          {"question": "Refresh tokens?", "assumed_answer": "No."}]', 'm') RETURNING id
                """, [user.id]).first!.decode(UUID.self, 0)
            try db.execute("UPDATE masterplans SET discovery_id = $2 WHERE id = $1", [id, discovery])
            return id
        }
        let base = "/api/v1/masterplans/\(planID.uuidString.lowercased())"
        let status = try stack.call("GET", base + "/status", token: user.token)
        #expect(status["allowed_actions"] == ["answer", "reject"])

        let refusals: [(JSONValue, String)] = [(["answers": [1]], "answers[0]"), (["answers": "yes"], "answers"),
                                               (["answer": ["a"]], "answer")]
        for (body, field) in refusals {
            let refused = try stack.call("POST", base + "/answer", token: user.token, json: body)
            #expect(refused.status == 422, "\(body): \(refused.text)")
            #expect(refused["errors"]?[0]?["field"]?.stringValue == field, "\(refused.text)")
        }
        let tooMany = try stack.call("POST", base + "/answer", token: user.token, json: ["answers": ["a", "b", "c"]])
        #expect(tooMany.status == 422 && tooMany.problemType == "answers-do-not-fit", "\(tooMany.text)")
        #expect(tooMany["detail"]?.stringValue == "answers: has 3 entries, but the discovery asks 2 questions; give one answer per question, in order (null keeps the assumed answer)")
        #expect(try stack.call("GET", base + "/status", token: user.token)["status"] == "awaiting_answers")

        let answered = try stack.call("POST", base + "/answer", token: user.token, json: ["answers": ["An email address.", nil]])
        #expect(answered.status == 202, "\(answered.text)")
        #expect(answered["status"] == "generating")
        let discovery = try stack.call("GET", base + "/discovery", token: user.token)
        #expect(discovery["answers"] == [["question": "Email or username?", "answer": "An email address.", "answered_by": "person"],
                                         ["question": "Refresh tokens?", "answer": "No.", "answered_by": "assumption"]])
        #expect(try db.query("SELECT count(*) FROM jobs WHERE plan_id = $1 AND kind = 'generation' AND state = 'queued'", [planID])
            .first!.decode(Int.self, 0) == 1)
        let history = try db.query("SELECT data FROM plan_history WHERE plan_id = $1 AND event = 'questions_answered'", [planID])
            .first!.decode(JSONValue.self, 0)
        #expect(history["answers"] == 2 && history["answered_by_person"] == 1)

        let again = try stack.call("POST", base + "/answer", token: user.token, json: [:])
        #expect(again.status == 409)
        #expect(again["detail"]?.stringValue == "cannot answer a plan that is generating; no action is possible until the executor moves it on")
    }

    /// A cancelled plan shows no wave as running, in the API (its waves) and in what `/metrics` counts:
    /// the waves it stopped are `cancelled`, the ones it finished keep their status.
    @Test func cancellingAPlanEndsItsUnfinishedWaves() throws {
        let user = try stack.user()
        let db = try stack.database()
        let planID = try PlanFixture.insert(db, owner: user.id, status: .executing)
        try PlanFixture.addExecution(db, planID: planID)
        let base = "/api/v1/masterplans/\(planID.uuidString.lowercased())"
        #expect(try stack.call("GET", base + "/waves", token: user.token)["items"]?.arrayValue?.map { $0["status"] } == ["passed", "running"])
        let cancelled = try stack.call("POST", base + "/cancel", token: user.token, json: ["reason": "changed my mind"])
        #expect(cancelled.status == 200, "\(cancelled.text)")
        let waves = try stack.call("GET", base + "/waves", token: user.token)["items"]?.arrayValue ?? []
        #expect(waves.map { $0["status"] } == ["passed", "cancelled"])
        #expect(waves.allSatisfy { $0["finished_at"]?.stringValue != nil })
        let running = try db.query("SELECT count(*) FROM waves WHERE plan_id = $1 AND status IN ('pending', 'running', 'gating')", [planID])
        #expect(try running.first!.decode(Int.self, 0) == 0)
        let metrics = try stack.call("GET", "/metrics")
        #expect(metrics.text.contains("masterplan_waves{status=\"cancelled\"}"), "\(metrics.text.prefix(2000))")
    }

    /// Every version records the same members (the plan in PlanCore's form and its acceptance tests),
    /// whether an edit, an approval or the generator wrote it, so two versions compare field by field.
    @Test func everyVersionSnapshotHasTheSameMembers() throws {
        let user = try stack.user()
        let planID = try PlanFixture.insert(try stack.database(), owner: user.id)
        let base = "/api/v1/masterplans/\(planID.uuidString.lowercased())"
        #expect(try stack.call("PATCH", base + "/tasks/2", token: user.token, json: ["name": "JWT login"]).status == 200)
        #expect(try stack.call("POST", base + "/approve", token: user.token, json: [:]).status == 200)
        let versions = try stack.call("GET", base + "/versions", token: user.token)["items"]?.arrayValue ?? []
        try #require(versions.count >= 2)
        let (approved, edited) = (versions[0]["snapshot"] ?? .null, versions[1]["snapshot"] ?? .null)
        func keys(_ value: JSONValue?) -> [String] { value?.objectValue?.members.map(\.key).sorted() ?? [] }
        #expect(keys(approved) == ["acceptance_tests", "phases", "project_name", "summary", "tech_stack"], "\(keys(approved))")
        #expect(keys(approved) == keys(edited))
        #expect(keys(approved["tech_stack"]) == keys(edited["tech_stack"]))
        let tasks = { (snapshot: JSONValue) -> [JSONValue] in
            (snapshot["phases"]?.arrayValue ?? []).flatMap { ($0["milestones"]?.arrayValue ?? []).flatMap { $0["tasks"]?.arrayValue ?? [] } }
        }
        #expect(tasks(approved).map { keys($0) } == tasks(edited).map { keys($0) })
        #expect(approved["acceptance_tests"] == edited["acceptance_tests"])
        #expect(approved["acceptance_tests"]?[0].map(keys) == ["code", "covers", "file", "name", "priority"])
        #expect(approved["acceptance_tests"]?[0]?["name"] == "test_login" && approved["acceptance_tests"]?[0]?["covers"] == [2], "\(approved["acceptance_tests"] ?? .null)")
        // Only the edit differs between them, and only in the field it changed.
        #expect(tasks(edited)[1]["name"] == "JWT login" && tasks(approved)[1]["name"] == "JWT login")
    }

    @Test func anotherUsersPlanIsNotFoundOnEveryPlanRoute() throws {
        let owner = try stack.user("owner")
        let other = try stack.user("other")
        let db = try stack.database()
        let planID = try PlanFixture.insert(db, owner: owner.id, status: .executing)
        let (reviewID, atomID) = try PlanFixture.addExecution(db, planID: planID)
        let base = "/api/v1/masterplans/\(planID.uuidString.lowercased())"
        let requests: [(String, String, JSONValue?)] = [
            ("GET", base, nil), ("GET", base + "/status", nil), ("GET", base + "/discovery", nil),
            ("GET", base + "/versions", nil), ("GET", base + "/history", nil), ("GET", base + "/waves", nil),
            ("GET", base + "/atoms", nil), ("GET", base + "/acceptance-tests", nil), ("GET", base + "/gate", nil),
            ("GET", base + "/workspace.tar.gz", nil), ("GET", base + "/summary", nil), ("PATCH", base + "/tasks/1", ["name": "mine now"]),
            ("POST", base + "/pause", nil), ("POST", base + "/cancel", nil),
            ("GET", "/api/v1/atoms/\(atomID.uuidString.lowercased())", nil),
            ("GET", "/api/v1/reviews/\(reviewID.uuidString.lowercased())", nil),
            ("POST", "/api/v1/reviews/\(reviewID.uuidString.lowercased())/approve", nil),
        ]
        for (method, path, body) in requests {
            let response = try stack.call(method, path, token: other.token, json: body)
            #expect(response.status == 404, "\(method) \(path): \(response.status) \(response.text)")
            #expect(response.problemType == "not-found", "\(method) \(path)")
        }
        #expect(try stack.call("GET", "/api/v1/reviews", token: other.token)["items"] == .array([]))
        #expect(try stack.call("GET", base + "/status", token: owner.token)["status"]?.stringValue == "executing")
        #expect(try stack.call("GET", "/api/v1/masterplans/not-a-uuid", token: owner.token).status == 404)
    }

    // MARK: - Execution and reviews

    @Test func executionRoutesShowWavesAtomsGateAndReviews() throws {
        let user = try stack.user()
        let db = try stack.database()
        let planID = try PlanFixture.insert(db, owner: user.id, status: .executing)
        let (reviewID, atomID) = try PlanFixture.addExecution(db, planID: planID)
        let base = "/api/v1/masterplans/\(planID.uuidString.lowercased())"

        let waves = try stack.call("GET", base + "/waves", token: user.token)
        #expect(waves["items"]?.arrayValue?.count == 2)
        #expect(waves["items"]?[0]?["gate"]?["passed"] == true)
        #expect(waves["items"]?[1]?["status"]?.stringValue == "running")

        let atoms = try stack.call("GET", base + "/atoms", token: user.token)
        #expect(atoms["items"]?.arrayValue?.map { $0["task_number"]?.intValue } == [1, 2])
        let secondWave = try stack.call("GET", base + "/atoms?wave=2&status=needs_review", token: user.token)
        #expect(secondWave["items"]?.arrayValue?.count == 1)
        let paged = try stack.call("GET", base + "/atoms?limit=1", token: user.token)
        let next = try #require(paged["next_cursor"]?.stringValue)
        #expect(try stack.call("GET", base + "/atoms?limit=1&cursor=\(next)", token: user.token)["items"]?[0]?["task_number"]?.intValue == 2)

        let atom = try stack.call("GET", "/api/v1/atoms/\(atomID.uuidString.lowercased())", token: user.token)
        #expect(atom.status == 200)
        #expect(atom["pending_review_id"]?.stringValue == reviewID.uuidString.lowercased())
        #expect(atom["attempt_history"]?[0]?["temperature"]?.doubleValue == 0.7)

        let gate = try stack.call("GET", base + "/gate", token: user.token)
        #expect(gate["items"]?[0]?["must_passed"]?.intValue == 1)

        let queue = try stack.call("GET", "/api/v1/reviews?status=pending", token: user.token)
        #expect(queue["items"]?.arrayValue?.map { $0["id"]?.stringValue } == [reviewID.uuidString.lowercased()])
        let review = try stack.call("GET", "/api/v1/reviews/\(reviewID.uuidString.lowercased())", token: user.token)
        #expect(review["ai_suggestions"]?["suggestions"]?[0]?.stringValue == "check the expiry")
        #expect(review["file_path"]?.stringValue == "app/auth.py")

        let status = try stack.call("GET", base + "/status", token: user.token)
        #expect(status["pending_reviews"]?.intValue == 1)
        #expect(status["allowed_actions"] == ["pause", "cancel"])
    }

    @Test func resolvingAReviewRecordsItAndQueuesTheExecutor() throws {
        let user = try stack.user()
        let db = try stack.database()
        let planID = try PlanFixture.insert(db, owner: user.id, status: .executing)
        let (reviewID, _) = try PlanFixture.addExecution(db, planID: planID)
        let path = "/api/v1/reviews/\(reviewID.uuidString.lowercased())"

        let noFeedback = try stack.call("POST", path + "/regenerate", token: user.token)
        #expect(noFeedback.status == 422)
        let edited = try stack.call("POST", path + "/edit", token: user.token, json: ["content": "def login():\n    return token\n"])
        #expect(edited.status == 202, "\(edited.text)")
        #expect(edited["review"]?["status"]?.stringValue == "edited")
        #expect(edited["review"]?["edited_content"]?.stringValue == "def login():\n    return token\n")
        let jobID = try #require(edited["job_id"]?.stringValue.flatMap(UUID.init(uuidString:)))
        #expect(try db.query("SELECT kind, state FROM jobs WHERE id = $1", [jobID]).first?.decode(String.self, 0) == "execution")

        let again = try stack.call("POST", path + "/approve", token: user.token)
        #expect(again.status == 409)
        #expect(again["current_status"]?.stringValue == "edited")
        #expect(try stack.call("GET", "/api/v1/reviews?status=pending", token: user.token)["items"] == .array([]))
    }

    @Test func onlyAReviewBlockingAFailedGateCanBeWaivedAndNeverWithoutAReason() throws {
        let user = try stack.user()
        let db = try stack.database()
        let planID = try PlanFixture.insert(db, owner: user.id, status: .blocked)
        let (reviewID, _) = try PlanFixture.addExecution(db, planID: planID)
        let path = "/api/v1/reviews/\(reviewID.uuidString.lowercased())/waive"

        // A low-confidence review holds no gate: 409 with the reason, nothing changed.
        let lowConfidence = try stack.call("POST", path, token: user.token, json: ["reason": "fine as it is"])
        #expect(lowConfidence.status == 409, "\(lowConfidence.text)")
        #expect(lowConfidence["type"]?.stringValue?.hasSuffix("review-not-waivable") == true)
        #expect(lowConfidence["detail"]?.stringValue?.contains("low-confidence") == true)

        // The same review blocking wave 2, whose gate ran and failed.
        let wave2 = try db.query("SELECT id FROM waves WHERE plan_id = $1 AND number = 2", [planID]).first!.decode(UUID.self, 0)
        try db.execute("UPDATE reviews SET blocking = true, wave_id = $2 WHERE id = $1", [reviewID, wave2])
        let blockedByValidation = try stack.call("POST", path, token: user.token, json: ["reason": "fine as it is"])
        #expect(blockedByValidation.status == 409, "no gate ran on wave 2 yet: \(blockedByValidation.text)")
        try db.execute("""
            INSERT INTO gate_results (plan_id, wave_id, must_total, must_passed, should_total, should_passed, passed)
            VALUES ($1, $2, 2, 1, 0, 0, false)
            """, [planID, wave2])

        // A reason is required, and not blank.
        #expect(try stack.call("POST", path, token: user.token).status == 422)
        #expect(try stack.call("POST", path, token: user.token, json: ["reason": "   "]).status == 422)
        #expect(try stack.call("POST", path, token: user.token, json: ["feedback": "x"]).status == 422)
        #expect(try db.query("SELECT status FROM reviews WHERE id = $1", [reviewID]).first?.decode(String.self, 0) == "pending")

        let waived = try stack.call("POST", path, token: user.token, json: ["reason": "the expiry test assumes UTC; accepted for now"])
        #expect(waived.status == 202, "\(waived.text)")
        #expect(waived["review"]?["status"]?.stringValue == "waived")
        #expect(waived["review"]?["waiver_reason"]?.stringValue == "the expiry test assumes UTC; accepted for now")
        #expect(try db.query("SELECT count(*) FROM plan_history WHERE plan_id = $1 AND event = 'review_waived'", [planID])
            .first?.decode(Int.self, 0) == 1)
        #expect(try db.query("SELECT count(*) FROM jobs WHERE plan_id = $1 AND kind = 'execution'", [planID]).first?.decode(Int.self, 0) == 1)
        // Final: a second decision is refused.
        #expect(try stack.call("POST", path, token: user.token, json: ["reason": "again"]).status == 409)
        #expect(try stack.call("GET", "/api/v1/reviews?status=waived", token: user.token)["items"]?.arrayValue?.count == 1)
    }

    @Test func usageSumsTheCallersLLMCalls() throws {
        let user = try stack.user()
        let db = try stack.database()
        let planID = try PlanFixture.insert(db, owner: user.id)
        try db.execute(
            """
            INSERT INTO llm_calls (owner_id, plan_id, purpose, provider, model, input_tokens, output_tokens, cost_usd, latency_ms, status)
            VALUES ($1, $2, 'masterplan', 'anthropic', 'claude', 1000, 500, 0.25, 900, 'ok'),
                   ($1, $2, 'atom', 'anthropic', 'claude', 200, 100, 0.05, 300, 'ok')
            """, [user.id, planID])
        let usage = try stack.call("GET", "/api/v1/usage", token: user.token)
        #expect(usage.status == 200)
        #expect(usage["calls"]?.intValue == 2)
        #expect(usage["input_tokens"]?.intValue == 1200)
        #expect(abs((usage["cost_usd"]?.doubleValue ?? 0) - 0.30) < 1e-9)
        #expect(usage["by_purpose"]?.arrayValue?.count == 2)
        #expect(try stack.call("GET", "/api/v1/usage?since=2999-01-01T00:00:00Z", token: user.token)["calls"]?.intValue == 0)
        #expect(try stack.call("GET", "/api/v1/usage?since=yesterday", token: user.token).status == 400)
    }

    @Test func workspaceDownloadIsTheCommittedTree() throws {
        let user = try stack.user()
        let db = try stack.database()
        let workspace = try TemporaryFolder(prefix: "mpws")
        defer { workspace.remove() }
        try "print('hello')\n".write(toFile: workspace.file("main.py"), atomically: false, encoding: .utf8)
        // A hostile tree: a link with the evidence's name, pointing at a file of the server. Making the
        // archive must not write through it.
        let victim = workspace.file("victim.txt")
        try "untouched\n".write(toFile: victim, atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: workspace.file("MASTERPLAN-EVIDENCE.md"), withDestinationPath: victim)
        for arguments in [["init", "-q"], ["add", "main.py", "MASTERPLAN-EVIDENCE.md"],
                          ["-c", "user.name=t", "-c", "user.email=t@x", "commit", "-q", "-m", "wave 1"]] {
            let outcome = try ChildProcess.run("/usr/bin/git", ["-C", workspace.path] + arguments, outputPath: workspace.file(".git-out"))
            try #require(outcome.status == 0, "git \(arguments): \(outcome.output)")
        }
        let planID = try PlanFixture.insert(db, owner: user.id, status: .executing, workspacePath: workspace.path)
        let archive = try stack.call("GET", "/api/v1/masterplans/\(planID.uuidString.lowercased())/workspace.tar.gz", token: user.token)
        #expect(archive.status == 200, "\(archive.text)")
        #expect(archive.headers["content-type"] == "application/gzip")
        #expect(Array(archive.body.prefix(2)) == [0x1f, 0x8b])
        let saved = workspace.file("download.tar.gz")
        #expect(FileManager.default.createFile(atPath: saved, contents: Data(archive.body)))
        let listing = try ChildProcess.run("/bin/tar", ["-tzf", saved], outputPath: workspace.file(".tar-out"))
        // Named after the project, as a git repository with the history of the waves.
        let prefix = "fastapi-jwt"
        #expect(archive.headers["content-disposition"] == "attachment; filename=\"fastapi-jwt.tar.gz\"")
        #expect(listing.output.contains(prefix + "/main.py"), "\(listing.output)")
        #expect(listing.output.contains(prefix + "/.git/HEAD"), "\(listing.output)")
        let unpacked = try workspace.folder("unpacked")
        #expect(try ChildProcess.run("/bin/tar", ["-xzf", saved, "-C", unpacked], outputPath: workspace.file(".untar-out")).status == 0)
        let log = try ChildProcess.run("/usr/bin/git", ["-C", unpacked + "/" + prefix, "log", "--format=%s"], outputPath: workspace.file(".log-out"))
        #expect(log.output == "wave 1\n", "\(log.output)")
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "untouched\n", "the archive wrote through a committed link")
        let status = try ChildProcess.run("/usr/bin/git", ["-C", unpacked + "/" + prefix, "status", "--porcelain", "--", "MASTERPLAN-EVIDENCE.json"],
                                          outputPath: workspace.file(".st-out"))
        #expect(status.output.isEmpty, "the evidence files are ignored by the copy's git: \(status.output)")
        let remotes = try ChildProcess.run("/usr/bin/git", ["-C", unpacked + "/" + prefix, "remote"], outputPath: workspace.file(".remote-out"))
        #expect(remotes.output.isEmpty, "the server's path left with the clone's remote: \(remotes.output)")
        // The evidence travels beside the tree: machine-readable and a summary for people.
        #expect(listing.output.contains(prefix + "/MASTERPLAN-EVIDENCE.json"), "\(listing.output)")
        #expect(listing.output.contains(prefix + "/MASTERPLAN-EVIDENCE.md"))
        let json = try ChildProcess.run("/bin/tar", ["-xzOf", saved, prefix + "/MASTERPLAN-EVIDENCE.json"], outputPath: workspace.file(".json-out"))
        let evidence = try JSONValue.parse(json.output)
        #expect(evidence["plan_id"]?.stringValue == planID.uuidString.lowercased())
        #expect(evidence["tasks"]?.arrayValue?.isEmpty == false)
        let api = try stack.call("GET", "/api/v1/masterplans/\(planID.uuidString.lowercased())/evidence", token: user.token)
        #expect(api.status == 200)
        #expect(api["tasks"]?.arrayValue?.count == evidence["tasks"]?.arrayValue?.count)
        #expect(api["tasks"]?[0]?["tests"]?.arrayValue?.isEmpty == false, "\(api.text)")
        let other = try stack.user()
        #expect(try stack.call("GET", "/api/v1/masterplans/\(planID.uuidString.lowercased())/evidence", token: other.token).status == 404)

        // The summary: what was built (from the history), how it was verified, and what to do next.
        let summary = try stack.call("GET", "/api/v1/masterplans/\(planID.uuidString.lowercased())/summary", token: user.token)
        #expect(summary.status == 200, "\(summary.text)")
        #expect(summary["built"]?["commits"] == 1 && summary["built"]?["files"] == 2 && summary["built"]?["lines"] == 2, "\(summary.text)")
        #expect(summary["verified"]?["tests"] == 2 && summary["verified"]?["must_tests"] == 2, "\(summary.text)")
        #expect(summary["next_steps"]?["archive_name"] == "fastapi-jwt.tar.gz")
        let commands = summary["next_steps"]?["steps"]?.arrayValue?.compactMap { $0["command"]?.stringValue } ?? []
        #expect(commands == ["tar -xzf fastapi-jwt.tar.gz && cd fastapi-jwt && git log --oneline", "pytest -q"], "\(commands)")
        #expect(try stack.call("GET", "/api/v1/masterplans/\(planID.uuidString.lowercased())/summary", token: other.token).status == 404)

        let noWorkspace = try PlanFixture.insert(db, owner: user.id)
        let missing = try stack.call("GET", "/api/v1/masterplans/\(noWorkspace.uuidString.lowercased())/workspace.tar.gz", token: user.token)
        #expect(missing.status == 404)
        #expect(missing.problemType == "workspace-unavailable")
    }

    // MARK: - Chat

    @Test func conversationMessagesStartPlansOrChatReplies() throws {
        let user = try stack.user()
        let created = try stack.call("POST", "/api/v1/conversations", token: user.token, json: ["title": "jwt app"])
        #expect(created.status == 201, "\(created.text)")
        let id = try #require(created["id"]?.stringValue)
        let path = "/api/v1/conversations/\(id)"

        let plan = try stack.call("POST", path + "/messages", token: user.token, json: ["content": "/masterplan create a FastAPI app with JWT auth"])
        #expect(plan.status == 202, "\(plan.text)")
        #expect(plan["kind"]?.stringValue == "plan")
        let planID = try #require(plan["plan_id"]?.stringValue)
        let request = try stack.call("GET", "/api/v1/masterplans/\(planID)", token: user.token)["request"]?.stringValue
        #expect(request == "create a FastAPI app with JWT auth")

        let chat = try stack.call("POST", path + "/messages", token: user.token, json: ["content": "what does Gate S mean?"])
        #expect(chat.status == 202)
        #expect(chat["kind"]?.stringValue == "chat")
        #expect(chat["plan_id"] == .null)
        #expect(try stack.call("POST", path + "/messages", token: user.token, json: ["content": "/masterplan "]).status == 422)

        let conversation = try stack.call("GET", path, token: user.token)
        let messages = try #require(conversation["messages"]?.arrayValue)
        #expect(messages.map { $0["content"]?.stringValue } == ["/masterplan create a FastAPI app with JWT auth", "what does Gate S mean?"])
        #expect(messages[0]["plan_id"]?.stringValue == planID)
        #expect(try stack.call("GET", "/api/v1/conversations", token: user.token)["items"]?[0]?["message_count"]?.intValue == 2)

        let stranger = try stack.user("stranger")
        #expect(try stack.call("GET", path, token: stranger.token).status == 404)
        #expect(try stack.call("POST", path + "/messages", token: stranger.token, json: ["content": "hi"]).status == 404)
    }

    // MARK: - Bodies and errors

    @Test func bodiesOver1MiBAre413ProblemJSON() throws {
        let user = try stack.user()
        let huge = Array(("{\"request\": \"" + String(repeating: "a", count: 1_100_000) + "\"}").utf8)
        let response = try stack.call("POST", "/api/v1/masterplans", token: user.token, body: huge,
                                      headers: [("Content-Type", "application/json")])
        #expect(response.status == 413)
        #expect(response.headers["content-type"] == "application/problem+json")
        #expect(response.problemType == "body-too-large")
        #expect(try stack.database().query("SELECT count(*) FROM masterplans WHERE owner_id = $1", [user.id]).first!.decode(Int.self, 0) == 0)
    }

    @Test func workerCapsBodiesItselfWhenNginxIsBypassed() throws {
        let user = try stack.user()
        let body = [UInt8](repeating: 0x61, count: 2 << 20)
        let response = try FastCGIDirectClient.request(socket: stack.apiSocket, params: [
            ("REQUEST_METHOD", "POST"), ("DOCUMENT_URI", "/api/v1/masterplans"), ("REQUEST_URI", "/api/v1/masterplans"),
            ("QUERY_STRING", ""), ("CONTENT_TYPE", "application/json"), ("CONTENT_LENGTH", String(body.count)),
            ("HTTP_AUTHORIZATION", "Bearer \(user.token)"), ("REMOTE_ADDR", "127.0.0.1"), ("SERVER_PROTOCOL", "HTTP/1.1"),
        ], body: body, sendBodyBytes: 65_535)
        #expect(response.status == 413)
        #expect(response.headers["content-type"] == "application/problem+json")
        #expect(String(decoding: response.body, as: UTF8.self).contains("body-too-large"))
    }

    @Test func malformedJSONIs400WithItsPosition() throws {
        let user = try stack.user()
        let response = try stack.call("POST", "/api/v1/masterplans", token: user.token,
                                      body: Array("{\n  \"request\": \"x\",\n  \"budget_usd\": 12,,\n}".utf8),
                                      headers: [("Content-Type", "application/json")])
        #expect(response.status == 400)
        #expect(response.problemType == "malformed-json")
        #expect(response["line"]?.intValue == 3)
        #expect(response["column"]?.intValue == 20)
        #expect(response["detail"]?.stringValue?.contains("line 3, column 20") == true)
    }

    // MARK: - Operations

    @Test func healthOpenAPIAndStaticFilesNeedNoToken() throws {
        let live = try stack.call("GET", "/health/live")
        #expect(live.status == 200)
        let ready = try stack.call("GET", "/health/ready")
        #expect(ready.status == 200, "\(ready.text)")
        #expect(ready["status"]?.stringValue == "ready")
        #expect(ready["checks"]?["migrations"]?["ok"] == true)
        #expect(ready["checks"]?["relay"]?["ok"] == true)
        let relay = try stack.call("GET", "/health/relay")
        #expect(relay.status == 200)
        #expect(relay["checks"]?["listen"]?["ok"] == true)
        let openapi = try stack.call("GET", "/api/v1/openapi.json")
        #expect(openapi.status == 200)
        #expect(openapi["paths"]?["/api/v1/masterplans/{id}/approve"]?["post"] != nil)
        let page = try stack.call("GET", "/some/ui/route")
        #expect(page.status == 200)
        #expect(page.text.contains("MasterPlan"))
    }
}
