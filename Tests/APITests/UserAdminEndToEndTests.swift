import API
import Foundation
import JSON
import Postgres
import Store
import TestSupport
import Testing

/// Account management through the API: what an admin may do, and that a member gets 403 on every
/// admin route (the README's role table).
@Suite(.dedicatedThreads, .serialized) struct UserAdminEndToEndTests {
    typealias Stream = EventStreamEndToEndTests.Stream
    let stack: APIStack

    init() throws {
        stack = try SharedStack.get()
    }

    func account(_ name: String, role: String = "member") throws -> (id: UUID, email: String, token: String) {
        let email = "\(name)-\(UUID().uuidString.prefix(8).lowercased())@example.org"
        let id = try stack.addUser(email, role: role)
        return (id, email, try stack.login(email))
    }

    func path(_ id: UUID, _ tail: String = "") -> String { "/api/v1/users/\(id.uuidString.lowercased())\(tail)" }

    /// Every route of `APIRoutes` under /users, with its path filled in and a body it accepts.
    func adminRequests(target: UUID) -> [(method: String, path: String, body: JSONValue?)] {
        APIRoutes.all.filter { $0.template.hasPrefix(APIRoutes.prefix + "/users") }.map { route in
            let path = route.template.replacingOccurrences(of: "{id}", with: target.uuidString.lowercased())
            let body: JSONValue? = switch route.handler.requestSchema {
            case "UserCreate": ["email": .string("made-\(UUID().uuidString.prefix(8))@example.org"), "password": "long enough password"]
            case "PasswordReset": ["password": "another long password"]
            default: route.method == "POST" ? [:] : nil
            }
            return (route.method, path, body)
        }
    }

    @Test func aMemberGets403OnEveryAdminRouteAndNothingChanges() throws {
        let member = try account("member")
        let target = try account("target")
        let requests = adminRequests(target: target.id)
        #expect(requests.count == 6)
        for request in requests {
            let response = try stack.call(request.method, request.path, token: member.token, json: request.body)
            #expect(response.status == 403, "\(request.method) \(request.path): \(response.text)")
            #expect(response.problemType == "forbidden", "\(request.method) \(request.path)")
        }
        // The target's token and password still work; no account was made.
        #expect(try stack.call("GET", "/api/v1/me", token: target.token).status == 200)
        #expect(try stack.login(target.email).isEmpty == false)
        #expect(try UserStore(stack.database()).list().allSatisfy { !$0.email.hasPrefix("made-") })
        // Without a token every admin route is 401.
        for request in requests {
            #expect(try stack.call(request.method, request.path, json: request.body).status == 401, "\(request.path)")
        }
    }

    @Test func anAdminListsAddsAndReadsUsers() throws {
        let admin = try account("admin", role: "admin")
        let email = "added-\(UUID().uuidString.prefix(8).lowercased())@example.org"
        let created = try stack.call("POST", "/api/v1/users", token: admin.token,
                                     json: ["email": .string(email), "password": "a long password", "role": "member", "display_name": "Added"])
        #expect(created.status == 201, "\(created.text)")
        #expect(created["email"]?.stringValue == email)
        #expect(created["role"]?.stringValue == "member")
        #expect(created.json?["password_hash"] == nil && created.json?["password"] == nil)
        let id = try #require(created["id"]?.stringValue.flatMap(UUID.init(uuidString:)))
        #expect(created.headers["location"] == path(id))
        let stored = try #require(try UserStore(stack.database()).credentials(email: email))
        #expect(PasswordHasher.parse(stored.passwordHash)?.iterations == PasswordHasher.defaultIterations)
        #expect(try stack.login(email, password: "a long password").isEmpty == false)

        #expect(try stack.call("GET", path(id), token: admin.token)["email"]?.stringValue == email)
        #expect(try stack.call("GET", path(UUID()), token: admin.token).status == 404)
        var emails: [String] = []
        var cursor: String?
        repeat {
            let page = try stack.call("GET", "/api/v1/users?limit=50" + (cursor.map { "&cursor=\($0)" } ?? ""), token: admin.token)
            #expect(page.status == 200)
            emails += page["items"]?.arrayValue?.compactMap { $0["email"]?.stringValue } ?? []
            cursor = page["next_cursor"]?.stringValue
        } while cursor != nil
        #expect(emails.contains(email) && emails.contains(admin.email))

        let duplicate = try stack.call("POST", "/api/v1/users", token: admin.token,
                                       json: ["email": .string(email.uppercased()), "password": "a long password"])
        #expect(duplicate.status == 409)
        #expect(duplicate.problemType == "email-taken")
        let invalid = try stack.call("POST", "/api/v1/users", token: admin.token,
                                     json: ["email": "not an email", "password": "short", "role": "owner"])
        #expect(invalid.status == 422)
        #expect(Set(invalid["errors"]?.arrayValue?.compactMap { $0["field"]?.stringValue } ?? []) == ["email", "password", "role"])
        let badEmail = try stack.call("POST", "/api/v1/users", token: admin.token, json: ["email": "no spaces@x", "password": "a long password"])
        #expect(badEmail.status == 422)
        #expect(badEmail["errors"]?[0]?["field"]?.stringValue == "email")
    }

    @Test func anAdminDisablesEnablesAndResetsAPasswordAndTheTokensAndStreamsEnd() throws {
        let admin = try account("admin", role: "admin")
        let member = try account("managed")
        let stream = try Stream(port: stack.port, path: "/api/v1/events", headers: [("Authorization", "Bearer \(member.token)")])
        defer { stream.close() }
        try stream.connection.read(until: "retry: 3000\n\n")

        let disabled = try stack.call("POST", path(member.id, "/disable"), token: admin.token)
        #expect(disabled.status == 200, "\(disabled.text)")
        #expect(disabled["disabled"]?.boolValue == true)
        stream.connection.setTimeout(seconds: 20)
        while try stream.connection.readSome() {}
        #expect(try stack.call("GET", "/api/v1/me", token: member.token).status == 401)
        #expect(try stack.call("POST", path(member.id, "/disable"), token: admin.token)["disabled"]?.boolValue == true)

        let enabled = try stack.call("POST", path(member.id, "/enable"), token: admin.token)
        #expect(enabled["disabled"]?.boolValue == false)
        let token = try stack.login(member.email)

        let reset = try stack.call("POST", path(member.id, "/password"), token: admin.token, json: ["password": "set by the admin"])
        #expect(reset.status == 200, "\(reset.text)")
        #expect(try stack.call("GET", "/api/v1/me", token: token).status == 401)
        #expect(try stack.login(member.email, password: "set by the admin").isEmpty == false)
        let short = try stack.call("POST", path(member.id, "/password"), token: admin.token, json: ["password": "short"])
        #expect(short.status == 422)
        #expect(try stack.call("POST", path(UUID(), "/password"), token: admin.token, json: ["password": "long enough!"]).status == 404)
        #expect(try stack.call("POST", path(UUID(), "/enable"), token: admin.token).status == 404)
    }

    @Test func anAdminCannotDisableTheirOwnAccountAndLosesAdminRoutesWhenDemoted() throws {
        let admin = try account("self", role: "admin")
        let response = try stack.call("POST", path(admin.id, "/disable"), token: admin.token)
        #expect(response.status == 409)
        #expect(response.problemType == "cannot-disable-self")
        #expect(try stack.call("GET", "/api/v1/me", token: admin.token).status == 200)

        // A role change ends the tokens too; the new member token has no admin route.
        try stack.database().execute("UPDATE users SET role = 'member' WHERE id = $1", [admin.id])
        #expect(try stack.call("GET", "/api/v1/users", token: admin.token).status == 401)
        let demoted = try stack.login(admin.email)
        #expect(try stack.call("GET", "/api/v1/users", token: demoted).status == 403)
    }

    @Test func anAdminSeesOnlyTheirOwnPlansLikeEveryone() throws {
        let admin = try account("private", role: "admin")
        let owner = try account("owner")
        let planID = try PlanFixture.insert(stack.database(), owner: owner.id)
        let plan = "/api/v1/masterplans/\(planID.uuidString.lowercased())"
        for suffix in ["", "/status", "/events"] {
            #expect(try stack.call("GET", plan + suffix, token: admin.token).status == 404, "\(suffix)")
        }
        #expect(try stack.call("POST", "/api/v1/events/tickets", token: admin.token,
                               json: ["plan_id": .string(planID.uuidString.lowercased())]).status == 404)
    }
}
