import API
import Foundation
import JSON
import Postgres
import Store
import TestSupport
import Testing

/// Tokens end with what they stand for: a new password or a disable (from `masterplan user`) makes
/// every earlier token 401 on the API and ends the account's open streams; a stream also ends when
/// its token (or the token behind its ticket) expires; enabling lets the account log in again.
@Suite(.dedicatedThreads, .serialized) struct TokenLifecycleEndToEndTests {
    typealias Stream = EventStreamEndToEndTests.Stream
    let stack: APIStack

    init() throws {
        stack = try SharedStack.get()
    }


    /// A user with a known email, logged in.
    func account(_ name: String) throws -> (id: UUID, email: String, token: String) {
        let email = "\(name)-\(UUID().uuidString.prefix(8).lowercased())@example.org"
        let id = try stack.addUser(email)
        return (id, email, try stack.login(email))
    }

    /// A stream of all the user's plans opened with the header, and one of a plan opened with a ticket; both live.
    func openStreams(token: String, planID: UUID) throws -> [Stream] {
        let ticket = try #require(try stack.call("POST", "/api/v1/events/tickets", token: token,
                                                 json: ["plan_id": .string(planID.uuidString.lowercased())])["ticket"]?.stringValue)
        let streams = [try Stream(port: stack.port, path: "/api/v1/events", headers: [("Authorization", "Bearer \(token)")]),
                       try Stream(port: stack.port, path: "/api/v1/masterplans/\(planID.uuidString.lowercased())/events?ticket=\(ticket)")]
        for stream in streams { try stream.connection.read(until: "retry: 3000\n\n") }
        return streams
    }

    /// Reads until the relay ends the stream (fails after `seconds` without the end).
    func expectEnd(of stream: Stream, within seconds: Int = 20, _ what: String) throws {
        stream.connection.setTimeout(seconds: seconds)
        do {
            while try stream.connection.readSome() {}
        } catch {
            Issue.record("\(what): the stream is still open after \(seconds) s\n\(stack.logs)")
        }
    }

    @Test func aNewPasswordEndsEveryEarlierTokenAndOpenStream() throws {
        let user = try account("passwd")
        let planID = try PlanFixture.insert(stack.database(), owner: user.id, status: .executing)
        let planPath = "/api/v1/masterplans/\(planID.uuidString.lowercased())"
        // Twice, so both workers have the tree cached: the cached route checks the version too.
        for _ in 0..<2 { #expect(try stack.call("GET", planPath, token: user.token).status == 200) }
        let streams = try openStreams(token: user.token, planID: planID)
        defer { streams.forEach { $0.close() } }
        let unusedTicket = try #require(try stack.call("POST", "/api/v1/events/tickets", token: user.token, json: [:])["ticket"]?.stringValue)

        let changed = try stack.masterplan(["user", "passwd", user.email], input: "a brand new password\n")
        #expect(changed.status == 0, "\(changed.output)")
        for stream in streams { try expectEnd(of: stream, "after a new password") }
        for path in ["/api/v1/me", planPath, "/api/v1/masterplans"] {
            let response = try stack.call("GET", path, token: user.token)
            #expect(response.status == 401, "\(path): \(response.text)")
            #expect(response.problemType == "invalid-token")
        }
        #expect(try stack.call("GET", "/api/v1/me", token: user.token)["detail"]?.stringValue?.contains("new password") == true)
        let stale = try stack.call("GET", "/api/v1/events?ticket=\(unusedTicket)")
        #expect(stale.status == 401)
        #expect(stale.problemType == "invalid-ticket")

        let fresh = try stack.login(user.email, password: "a brand new password")
        #expect(try stack.call("GET", planPath, token: fresh).status == 200)
        let again = try openStreams(token: fresh, planID: planID)
        again.forEach { $0.close() }
    }

    @Test func disablingEndsTokensAndStreamsAndEnablingRestoresLogin() throws {
        let user = try account("disable")
        let planID = try PlanFixture.insert(stack.database(), owner: user.id, status: .executing)
        let streams = try openStreams(token: user.token, planID: planID)
        defer { streams.forEach { $0.close() } }

        let disabled = try stack.masterplan(["user", "disable", user.email.uppercased()])
        #expect(disabled.status == 0, "\(disabled.output)")
        #expect(disabled.output.hasPrefix("disabled \(user.email)"))
        for stream in streams { try expectEnd(of: stream, "after a disable") }
        #expect(try stack.call("GET", "/api/v1/me", token: user.token).status == 401)
        let refused = try stack.call("POST", "/api/v1/auth/login", json: ["email": .string(user.email), "password": "correct horse battery"])
        #expect(refused.status == 401)
        #expect(try stack.masterplan(["user", "disable", user.email]).output.contains("disabled already"))
        let listed = try stack.masterplan(["user", "list"]).output.split(separator: "\n").first { $0.contains(user.email) }
        #expect(listed?.contains("disabled") == true, "\(listed ?? "not listed")")

        let enabled = try stack.masterplan(["user", "enable", user.email])
        #expect(enabled.status == 0, "\(enabled.output)")
        #expect(enabled.output.hasPrefix("enabled \(user.email)"))
        // The token from before the disable stays dead; a new login works.
        #expect(try stack.call("GET", "/api/v1/me", token: user.token).status == 401)
        let fresh = try stack.login(user.email)
        #expect(try stack.call("GET", "/api/v1/me", token: fresh).status == 200)
    }

    @Test func disableAndEnableOfAnUnknownEmailFailWithTheReason() throws {
        for command in ["disable", "enable"] {
            let result = try stack.masterplan(["user", command, "nobody-\(UUID().uuidString.prefix(6))@example.org"])
            #expect(result.status != 0 && result.status != nil)
            #expect(result.output.contains("no user has the email"), "\(result.output)")
        }
    }

    @Test func aStreamEndsWhenItsTokenExpiresAndSoDoesOneOpenedWithItsTicket() throws {
        let user = try account("expiry")
        let planID = try PlanFixture.insert(stack.database(), owner: user.id, status: .executing)
        // Long enough to open both streams on a loaded machine, short enough to wait for.
        let lifetime: Int64 = 8
        let now = Int64(Date().timeIntervalSince1970)
        let shortLived = TokenSigner(secret: Array(stack.secret.utf8))
            .sign(TokenClaims(subject: user.id, email: user.email, role: "member", tokenVersion: 1, issuedAt: now, expiresAt: now + lifetime))
        let issued = try stack.call("POST", "/api/v1/events/tickets", token: shortLived,
                                    json: ["plan_id": .string(planID.uuidString.lowercased())])
        #expect(issued.status == 201, "\(issued.text)")
        #expect((1...lifetime).contains(issued["expires_in"]?.intValue ?? 0), "a ticket never outlives its token")
        let streams = try openStreams(token: shortLived, planID: planID)
        defer { streams.forEach { $0.close() } }
        let id = try PlanFixture.emit(stack.database(), planID: planID)
        for stream in streams { try stream.waitFor(id: id) }
        for stream in streams { try expectEnd(of: stream, "after the token expired") }
        #expect(Int64(Date().timeIntervalSince1970) >= now + lifetime - 1, "the stream ended before its token expired")
        // The user's other (hour-long) token is untouched.
        #expect(try stack.call("GET", "/api/v1/me", token: user.token).status == 200)
    }

    @Test func aTokenOfAnotherVersionIsRefused() throws {
        let user = try account("unversioned")
        let now = Int64(Date().timeIntervalSince1970)
        let wrongVersion = TokenSigner(secret: Array(stack.secret.utf8))
            .sign(TokenClaims(subject: user.id, email: user.email, role: "member", tokenVersion: 2, issuedAt: now, expiresAt: now + 600))
        #expect(try stack.call("GET", "/api/v1/me", token: wrongVersion).status == 401)
        let stream = try stack.call("GET", "/api/v1/events", token: wrongVersion)
        #expect(stream.status == 401)
        #expect(stream.problemType == "invalid-token")
    }
}
