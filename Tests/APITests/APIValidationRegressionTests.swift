import API
import Foundation
import JSON
import PlanCore
import Postgres
import Store
import TestSupport
import Testing

/// Client values that reached a statement as a failed cast or a broken constraint and answered 500:
/// each is now refused before any SQL sees it, with a 4xx problem naming the parameter or field,
/// and changes nothing. One test per bug, through the real workers behind nginx.
@Suite(.dedicatedThreads, .serialized) struct APIValidationRegressionTests {
    let stack: APIStack

    init() throws {
        stack = try SharedStack.get()
    }

    /// A cursor as a client could forge one: base64url of any JSON text.
    static func cursor(_ json: String) -> String { Base64URL.encode(json) }

    /// The problem+json body of a 400 naming `parameter`.
    func expectInvalidParameter(_ response: APIResponse, _ parameter: String, _ label: String,
                                sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(response.status == 400, "\(label): \(response.status) \(response.text)", sourceLocation: sourceLocation)
        #expect(response.headers["content-type"] == "application/problem+json", "\(label)", sourceLocation: sourceLocation)
        #expect(response.problemType == "invalid-parameter", "\(label): \(response.text)", sourceLocation: sourceLocation)
        #expect(response["parameter"]?.stringValue == parameter, "\(label): \(response.text)", sourceLocation: sourceLocation)
        #expect(response["status"]?.intValue == 400, "\(label)", sourceLocation: sourceLocation)
    }

    // MARK: - Cursors

    @Test func forgedCursorsAre400NotAFailedCast() throws {
        let user = try stack.user()
        let db = try stack.database()
        let planID = try PlanFixture.insert(db, owner: user.id, status: .executing)
        try PlanFixture.addExecution(db, planID: planID)
        let plan = "/api/v1/masterplans/\(planID.uuidString.lowercased())"
        let uuid = UUID().uuidString.lowercased()
        // Each list with cursors of the right length whose values PostgreSQL cannot cast (or that
        // are outside the column's range), and cursors of the wrong shape.
        let cases: [(path: String, cursors: [String])] = [
            ("/api/v1/masterplans", [#"["not a time","\#(uuid)"]"#, #"["2026-02-30 10:00:00+00","\#(uuid)"]"#,
                                     #"["2026-01-01 10:00:00+00","not-a-uuid"]"#, #"["0000-01-01 00:00:00+00","\#(uuid)"]"#,
                                     #"["2026-01-01 24:00:00+00","\#(uuid)"]"#, #"["infinity","\#(uuid)"]"#,
                                     #"[1,2]"#, #"["a"]"#, #"{"a":1}"#, #"["2026-01-01 10:00:00+00",null]"#]),
            ("/api/v1/conversations", [#"["yesterday","\#(uuid)"]"#, #"["2026-01-01 10:00:00+00","x"]"#]),
            ("/api/v1/reviews", [#"["2026-13-01 10:00:00+00","\#(uuid)"]"#, #"["2026-01-01 10:00:00+00","\#(uuid)x"]"#]),
            (plan + "/versions", [#"["abc"]"#, #"["99999999999"]"#, #"["1.5"]"#, #"["0"]"#]),
            (plan + "/history", [#"["abc"]"#, #"["99999999999999999999"]"#, #"["-1"]"#]),
            (plan + "/atoms", [#"["x","1","a.py"]"#, #"["1","99999999999","a.py"]"#, #"["-1","1","a.py"]"#, #"["1","1"]"#]),
        ]
        for (path, cursors) in cases {
            for json in cursors {
                let response = try stack.call("GET", path + "?cursor=" + Self.cursor(json), token: user.token)
                expectInvalidParameter(response, "cursor", "\(path) cursor \(json)")
            }
        }
        // A cursor a list really returned still works.
        let first = try stack.call("GET", plan + "/atoms?limit=1", token: user.token)
        let next = try #require(first["next_cursor"]?.stringValue)
        #expect(try stack.call("GET", plan + "/atoms?limit=1&cursor=" + next, token: user.token).status == 200)
    }

    // MARK: - Budgets

    @Test func outOfRangeBudgetIs422NamingTheFieldNotA500() throws {
        let user = try stack.user()
        let conversation = try stack.call("POST", "/api/v1/conversations", token: user.token, json: ["title": "budgets"])
        let conversationID = try #require(conversation["id"]?.stringValue)
        // numeric(14,6) holds less than 10^8; below a millionth it rounds to 0, which the CHECK refuses.
        for budget: JSONValue in [1e300, 100_000_000, 1e-9, 0.0000004, 0, -1, "5", true] {
            let created = try stack.call("POST", "/api/v1/masterplans", token: user.token,
                                         json: ["request": "create a FastAPI app", "budget_usd": budget])
            #expect(created.status == 422, "budget \(budget.jsonText): \(created.status) \(created.text)")
            #expect(created["errors"]?[0]?["field"]?.stringValue == "budget_usd", "\(created.text)")
            let message = try stack.call("POST", "/api/v1/conversations/\(conversationID)/messages", token: user.token,
                                         json: ["content": "/masterplan create a FastAPI app", "budget_usd": budget])
            #expect(message.status == 422, "budget \(budget.jsonText): \(message.status) \(message.text)")
            #expect(message["errors"]?[0]?["field"]?.stringValue == "budget_usd", "\(message.text)")
        }
        let count = try stack.database().query("SELECT count(*) FROM masterplans WHERE owner_id = $1", [user.id]).first!.decode(Int.self, 0)
        #expect(count == 0, "a refused budget created a plan")
        let messages = try stack.database().query(
            "SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE c.owner_id = $1",
            [user.id]).first!.decode(Int.self, 0)
        #expect(messages == 0, "a refused budget stored a message")
        // The bounds themselves are accepted.
        for budget: JSONValue in [0.01, 1_000_000] {
            let created = try stack.call("POST", "/api/v1/masterplans", token: user.token,
                                         json: ["request": "create a FastAPI app", "budget_usd": budget])
            #expect(created.status == 202, "budget \(budget.jsonText): \(created.text)")
        }
    }

    // MARK: - Task edits

    @Test func subtaskNumberBeyondItsColumnIs422NotA500() throws {
        let user = try stack.user()
        let planID = try PlanFixture.insert(stack.database(), owner: user.id, status: .draft)
        let path = "/api/v1/masterplans/\(planID.uuidString.lowercased())/tasks/1"
        let before = try stack.call("GET", "/api/v1/masterplans/\(planID.uuidString.lowercased())", token: user.token)
        // subtasks.number is an integer column: 2^31 and more went to n::int and failed there.
        for number: JSONValue in [2_147_483_648, 99_999_999_999, 0, -1, 1.5, "2"] {
            let response = try stack.call("PATCH", path, token: user.token,
                                          json: ["subtasks": .array([.object(["number": number, "name": "Create app"])])])
            #expect(response.status == 422, "number \(number.jsonText): \(response.status) \(response.text)")
            #expect(response["errors"]?[0]?["field"]?.stringValue == "subtasks[0].number", "\(response.text)")
        }
        // Members of nested objects are checked like the body's own.
        for (subtask, field): (JSONValue, String) in [(["name": "x", "owner": "me"], "subtasks[0].owner"),
                                                       (["name": 5], "subtasks[0].name"), (["description": "no name"], "subtasks[0].name"),
                                                       (["name": "x", "description": 7], "subtasks[0].description"), ("a string", "subtasks[0]")] {
            let response = try stack.call("PATCH", path, token: user.token, json: ["subtasks": .array([subtask])])
            #expect(response.status == 422, "\(subtask.jsonText): \(response.text)")
            #expect(response["errors"]?[0]?["field"]?.stringValue == field, "\(subtask.jsonText): \(response.text)")
        }
        let criterion = try stack.call("PATCH", path, token: user.token,
                                       json: ["acceptance": [["priority": "must", "criterion": "ok", "id": "c1"]]])
        #expect(criterion.status == 422)
        #expect(criterion["errors"]?[0]?["field"]?.stringValue == "acceptance[0].id")
        let after = try stack.call("GET", "/api/v1/masterplans/\(planID.uuidString.lowercased())", token: user.token)
        #expect(before.json == after.json, "a refused edit changed the plan")
        let edited = try stack.call("PATCH", path, token: user.token,
                                    json: ["subtasks": [["number": 2_147_483_647, "name": "Create app"]]])
        #expect(edited.status == 200, "\(edited.text)")
    }

    // MARK: - Actions

    @Test func actionsThatTakeNoBodyRefuseFieldsAndChangeNothing() throws {
        let user = try stack.user()
        let planID = try PlanFixture.insert(stack.database(), owner: user.id, status: .draft)
        let base = "/api/v1/masterplans/\(planID.uuidString.lowercased())"
        // approve used to take a reason (and store it as the plan's status_reason); regenerate a reason.
        for (action, body): (String, JSONValue) in [("approve", ["reason": "looks fine"]), ("regenerate", ["reason": "again"]),
                                                     ("reject", ["feedback": "no"]), ("approve", ["reason": .null, "x": 1])] {
            let response = try stack.call("POST", base + "/" + action, token: user.token, json: body)
            #expect(response.status == 422, "\(action) \(body.jsonText): \(response.text)")
        }
        #expect(try stack.call("GET", base + "/status", token: user.token)["status"]?.stringValue == "draft")
        let approved = try stack.call("POST", base + "/approve", token: user.token, json: [:])
        #expect(approved.status == 200, "\(approved.text)")
        #expect(try stack.call("GET", base, token: user.token)["status_reason"] == .null)
    }

    // MARK: - Query parameters and media types

    @Test func sinceBeforeYearOneIsNotA500() throws {
        let user = try stack.user()
        // Year 0 went to PostgreSQL as 0000-01-01, which timestamptz refuses. Any RFC 3339 time is
        // now read, times outside years 1 to 9999 as the first or last instant PostgreSQL is given.
        for since in ["0000-01-01T00:00:00Z", "0001-01-01T00:00:00%2B14:00", "9999-12-31T23:59:59-14:00", "2026-01-31T00:00:00.123456789Z",
                      "2026-01-31t00:00:00z"] {
            let response = try stack.call("GET", "/api/v1/usage?since=" + since, token: user.token)
            #expect(response.status == 200, "since=\(since): \(response.status) \(response.text)")
        }
        for since in ["2026-02-30T00:00:00Z", "2026-01-31T24:00:00Z", "2026-01-31", "2026-01-31T00:00:00", "yesterday", ""] {
            expectInvalidParameter(try stack.call("GET", "/api/v1/usage?since=" + since, token: user.token), "since", "since=\(since)")
        }
    }

    @Test func aQueryParameterGivenTwiceIs400() throws {
        let user = try stack.user()
        for query in ["limit=1&limit=2", "status=draft&status=approved", "cursor=a&cursor=b"] {
            expectInvalidParameter(try stack.call("GET", "/api/v1/masterplans?" + query, token: user.token),
                                   String(query.prefix { $0 != "=" }), query)
        }
        #expect(try stack.call("GET", "/api/v1/masterplans?limit=1&unknown=1&unknown=2", token: user.token).status == 200)
    }

    @Test func aBodyThatIsNotJSONByItsMediaTypeIs415() throws {
        let user = try stack.user()
        let body = Array(#"{"request": "create a FastAPI app"}"#.utf8)
        for type in ["application/jsonx", "application/json-patch+json", "text/plain", "application/x-www-form-urlencoded"] {
            let response = try stack.call("POST", "/api/v1/masterplans", token: user.token, body: body, headers: [("Content-Type", type)])
            #expect(response.status == 415, "\(type): \(response.text)")
        }
        for type in ["application/json", "Application/JSON; charset=utf-8"] {
            let response = try stack.call("POST", "/api/v1/masterplans", token: user.token, body: body, headers: [("Content-Type", type)])
            #expect(response.status == 202, "\(type): \(response.text)")
        }
    }

    // MARK: - Tokens

    /// GET /masterplans/{id} checks the account in its own query, which a malformed id never reached:
    /// the token of a disabled account got a 404 instead of a 401.
    @Test func aMalformedPlanIdWithTheTokenOfADisabledAccountIs401() throws {
        let user = try stack.user()
        try stack.database().execute("UPDATE users SET disabled_at = now() WHERE id = $1", [user.id])
        for id in ["pending", "not-a-uuid", UUID().uuidString.lowercased()] {
            let response = try stack.call("GET", "/api/v1/masterplans/" + id, token: user.token)
            #expect(response.status == 401, "\(id): \(response.status) \(response.text)")
            #expect(response.problemType == "invalid-token", "\(id)")
        }
    }

    // MARK: - Accounts

    /// The document counts a password's length in code points (JSON Schema's minLength); the
    /// handler counted grapheme clusters, so eight code points that make four characters on screen
    /// were refused. And an address the accounts' CHECK refuses is refused before PostgreSQL sees it.
    @Test func newAccountsAreCheckedByTheDocumentsRules() throws {
        let email = "admin-\(UUID().uuidString.prefix(8).lowercased())@example.org"
        try stack.addUser(email, role: "admin")
        let token = try stack.login(email)
        let accent = String(repeating: "e\u{301}", count: 4)
        let created = try stack.call("POST", "/api/v1/users", token: token,
                                     json: ["email": .string("accent-\(UUID().uuidString.prefix(8).lowercased())@example.org"),
                                            "password": .string(accent), "role": .null])
        #expect(created.status == 201, "\(created.text)")
        #expect(created["role"]?.stringValue == "member")
        for address in ["two@@example.org", "@example.org", "name@", "na\u{00A0}me@example.org", "name@exa\u{2003}mple.org"] {
            let refused = try stack.call("POST", "/api/v1/users", token: token, json: ["email": .string(address), "password": "a long password"])
            #expect(refused.status == 422, "\(address): \(refused.text)")
            #expect(refused["errors"]?[0]?["field"]?.stringValue == "email", "\(address)")
        }
    }
}

