import API
import Foundation
import JSON
import Postgres
import Store
import TestSupport
import Testing

/// Stream tickets through nginx and the relay: a ticket opens one stream once, within its minute,
/// for the stream it names; a token in the URL is refused; and no ticket reaches nginx's access log.
@Suite(.dedicatedThreads, .serialized) struct StreamTicketEndToEndTests {
    typealias Stream = EventStreamEndToEndTests.Stream
    let stack: APIStack

    init() throws {
        stack = try SharedStack.get()
    }

    /// `POST /api/v1/events/tickets`, for the user's stream or a plan's.
    func issue(_ token: String, plan: UUID? = nil) throws -> APIResponse {
        try stack.call("POST", "/api/v1/events/tickets", token: token,
                       json: plan.map { ["plan_id": .string($0.uuidString.lowercased())] } ?? [:])
    }

    func ticket(_ token: String, plan: UUID? = nil) throws -> String {
        let response = try issue(token, plan: plan)
        guard response.status == 201, let ticket = response["ticket"]?.stringValue else {
            throw TestFailure("no ticket: \(response.status) \(response.text)")
        }
        return ticket
    }

    func planStreamPath(_ planID: UUID) -> String { "/api/v1/masterplans/\(planID.uuidString.lowercased())/events" }

    @Test func aTicketOpensOneStreamOnceAndItCarriesTheUsersEvents() throws {
        let user = try stack.user("ticket")
        let db = try stack.database()
        let planID = try PlanFixture.insert(db, owner: user.id, status: .executing)
        let issued = try issue(user.token)
        #expect(issued.status == 201, "\(issued.text)")
        let ticket = try #require(issued["ticket"]?.stringValue)
        #expect(issued["stream_url"]?.stringValue == "/api/v1/events?ticket=\(ticket)")
        #expect((1...60).contains(issued["expires_in"]?.intValue ?? 0))
        #expect(issued["last_event_id"]?.intValue == 0)

        let stream = try Stream(port: stack.port, path: "/api/v1/events?ticket=\(ticket)")
        defer { stream.close() }
        try stream.connection.read(until: "retry: 3000\n\n")
        #expect(stream.connection.receivedText.hasPrefix("HTTP/1.1 200"))
        let id = try PlanFixture.emit(db, planID: planID, type: "wave_execution_start", data: ["wave": 1])
        try stream.waitFor(id: id)
        #expect(try stream.events().map(\.id) == [id])

        let again = try stack.call("GET", "/api/v1/events?ticket=\(ticket)")
        #expect(again.status == 401)
        #expect(again.problemType == "invalid-ticket")
        #expect(again["detail"]?.stringValue?.contains("used already") == true)
    }

    @Test func aTicketResumesAfterTheLastEventIDWithoutGapOrDuplicate() throws {
        let user = try stack.user("resume")
        let db = try stack.database()
        let planID = try PlanFixture.insert(db, owner: user.id, status: .executing)
        let seen = try PlanFixture.emit(db, planID: planID, data: ["n": 1])
        // The UI's first ticket names where the stream starts.
        #expect(try issue(user.token, plan: planID)["last_event_id"]?.intValue == seen)
        let missed = try PlanFixture.emit(db, planID: planID, data: ["n": 2])

        let ticket = try ticket(user.token, plan: planID)
        let stream = try Stream(port: stack.port, path: planStreamPath(planID) + "?ticket=\(ticket)&last_event_id=\(seen)")
        defer { stream.close() }
        try stream.waitFor(id: missed)
        let live = try PlanFixture.emit(db, planID: planID, data: ["n": 3])
        try stream.waitFor(id: live)
        #expect(try stream.events().map(\.id) == [missed, live])
    }

    @Test func aTicketOpensOnlyTheStreamItWasIssuedFor() throws {
        let owner = try stack.user("owner")
        let stranger = try stack.user("stranger")
        let db = try stack.database()
        let planID = try PlanFixture.insert(db, owner: owner.id)
        let otherPlan = try PlanFixture.insert(db, owner: owner.id)

        let foreign = try issue(stranger.token, plan: planID)
        #expect(foreign.status == 404)
        #expect(foreign.problemType == "not-found")
        let malformed = try stack.call("POST", "/api/v1/events/tickets", token: owner.token, json: ["plan_id": "yesterday", "extra": 1])
        #expect(malformed.status == 422)
        #expect(malformed["errors"]?.arrayValue?.count == 2)

        for (ticketPlan, path) in [(planID as UUID?, "/api/v1/events"), (planID, planStreamPath(otherPlan)), (nil, planStreamPath(planID))] {
            let ticket = try ticket(owner.token, plan: ticketPlan)
            let response = try stack.call("GET", path + "?ticket=\(ticket)")
            #expect(response.status == 401, "\(path)")
            #expect(response["detail"]?.stringValue?.contains("another stream") == true, "\(response.text)")
        }
        let anonymous = try stack.call("POST", "/api/v1/events/tickets", json: [:])
        #expect(anonymous.status == 401)
    }

    @Test func forgedMalformedRepeatedAndExpiredTicketsAre401() throws {
        let user = try stack.user("forger")
        let forged = String(repeating: "A", count: 43)
        let valid = try ticket(user.token)
        for query in ["ticket=\(forged)", "ticket=short", "ticket=\(valid)&ticket=\(forged)"] {
            let response = try stack.call("GET", "/api/v1/events?\(query)")
            #expect(response.status == 401, "\(query)")
            #expect(response.problemType == "invalid-ticket", "\(query)")
        }

        let expiring = try ticket(user.token)
        try stack.database().execute(
            "UPDATE stream_tickets SET created_at = now() - interval '2 minutes', expires_at = now() - interval '1 second' WHERE user_id = $1",
            [user.id])
        let expired = try stack.call("GET", "/api/v1/events?ticket=\(expiring)")
        #expect(expired.status == 401)
        #expect(expired["detail"]?.stringValue?.contains("expired") == true)
        #expect(try stack.call("GET", "/api/v1/events").problemType == "unauthorized")
    }

    @Test func anAccessTokenInTheURLIsRefusedEvenBesideAHeader() throws {
        let user = try stack.user("url")
        for headers in [[], [("Authorization", "Bearer \(user.token)")]] {
            let response = try stack.call("GET", "/api/v1/events?access_token=\(user.token)", headers: headers)
            #expect(response.status == 401)
            #expect(response.problemType == "token-in-url")
            #expect(response["detail"]?.stringValue?.contains("POST /api/v1/events/tickets") == true)
        }
    }

    @Test func noTicketOrTokenReachesNginxsAccessLog() throws {
        let user = try stack.user("logged")
        let db = try stack.database()
        let planID = try PlanFixture.insert(db, owner: user.id, status: .executing)
        let ticket = try ticket(user.token, plan: planID)
        let stream = try Stream(port: stack.port, path: planStreamPath(planID) + "?ticket=\(ticket)&last_event_id=0")
        let id = try PlanFixture.emit(db, planID: planID)
        try stream.waitFor(id: id)
        stream.close()
        _ = try stack.call("GET", "/api/v1/events?access_token=\(user.token)")
        _ = try stack.call("GET", "/api/v1/events?ticket=\(ticket)", headers: [("Referer", "http://localhost/?ticket=\(ticket)")])

        // nginx writes a request's line when it ends; the stream's ended as the client left.
        let log = stack.folder.file("nginx/access.log")
        let deadline = Date().addingTimeInterval(10)
        var text = ""
        while Date() < deadline {
            text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if text.contains("\"GET \(planStreamPath(planID)) HTTP/1.0\" 200") && text.contains("\"GET /api/v1/events HTTP/1.1\" 401") { break }
            usleep(100_000)
        }
        #expect(text.contains("\"GET \(planStreamPath(planID)) HTTP/1.0\" 200"), "\(text.suffix(2000))")
        #expect(text.contains("\"POST /api/v1/events/tickets HTTP/1.1\" 201"))
        #expect(!text.contains(ticket))
        #expect(!text.contains(user.token))
        #expect(!text.contains("ticket="))
        #expect(!text.contains("access_token"))
    }
}
