import API
import Foundation
import JSON
import Postgres
import Store
import TestSupport
import Testing

/// The SSE relay (`masterplan serve events`) behind nginx: live delivery, replay after
/// Last-Event-ID without gap or duplicate, ownership, heartbeats, disconnects.
@Suite(.serialized) struct EventStreamEndToEndTests {
    /// Heartbeats every second so the tests need not wait 15 s to see one.
    static let started: Result<APIStack, any Error> = {
        do {
            var options = APIStack.Options()
            options.heartbeatSeconds = 1
            let stack = try APIStack(options)
            atexit { if case .success(let stack) = EventStreamEndToEndTests.started { stack.stop() } }
            return .success(stack)
        } catch {
            return .failure(error)
        }
    }()

    let stack: APIStack

    init() throws {
        stack = try Self.started.get()
    }

    /// An open stream as a browser holds it.
    final class Stream {
        let connection: HTTPConnection

        init(port: UInt16, path: String, headers: [(String, String)] = []) throws {
            connection = try HTTPConnection(port: port, timeoutSeconds: 10)
            try connection.send("GET", path, headers: [("Accept", "text/event-stream")] + headers, version: "1.0")
        }

        /// Reads until the event with `id` has arrived completely.
        func waitFor(id: Int64) throws {
            try connection.read(until: "id: \(id)\n")
            try connection.read(until: "\n\n", after: "id: \(id)\n")
        }

        /// The events received so far: (id, type, data JSON).
        func events() throws -> [(id: Int64, type: String, data: JSONValue)] {
            let text = connection.receivedText
            guard let bodyStart = text.range(of: "\r\n\r\n") else { return [] }
            var events: [(Int64, String, JSONValue)] = []
            for block in text[bodyStart.upperBound...].components(separatedBy: "\n\n") {
                var id: Int64?
                var type = ""
                var data = ""
                for line in block.split(separator: "\n") {
                    if line.hasPrefix("id: ") { id = Int64(line.dropFirst(4)) }
                    if line.hasPrefix("event: ") { type = String(line.dropFirst(7)) }
                    if line.hasPrefix("data: ") { data += line.dropFirst(6) }
                }
                if let id { events.append((id, type, try JSONValue.parse(data))) }
            }
            return events
        }

        func close() { connection.close() }
    }

    func streamPath(_ planID: UUID) -> String { "/api/v1/masterplans/\(planID.uuidString.lowercased())/events" }

    @Test func clientReceivesAnEventInsertedAfterItConnected() throws {
        let user = try stack.user()
        let db = try stack.database()
        let planID = try PlanFixture.insert(db, owner: user.id, status: .executing)
        let stream = try Stream(port: stack.port, path: streamPath(planID), headers: [("Authorization", "Bearer \(user.token)")])
        defer { stream.close() }
        try stream.connection.read(until: "retry: 3000\n\n")
        let head = stream.connection.receivedText
        #expect(head.hasPrefix("HTTP/1.1 200"))
        #expect(head.lowercased().contains("content-type: text/event-stream"))

        let id = try PlanFixture.emit(db, planID: planID, type: "wave_execution_start", data: ["wave": 1])
        try stream.waitFor(id: id)
        let events = try stream.events()
        #expect(events.map(\.id) == [id])
        #expect(events[0].type == "wave_execution_start")
        let data = events[0].data
        #expect(data["id"]?.intValue == id)
        #expect(data["plan_id"]?.stringValue == planID.uuidString.lowercased())
        #expect(data["type"]?.stringValue == "wave_execution_start")
        #expect(data["created_at"]?.stringValue != nil)
        #expect(data["data"]?["wave"]?.intValue == 1)
    }

    @Test func reconnectingWithLastEventIDReplaysExactlyTheMissedEvents() throws {
        let user = try stack.user()
        let db = try stack.database()
        let planID = try PlanFixture.insert(db, owner: user.id, status: .executing)
        let auth = [("Authorization", "Bearer \(user.token)")]

        let first = try Stream(port: stack.port, path: streamPath(planID), headers: auth)
        try first.connection.read(until: "retry:")
        let seen = try PlanFixture.emit(db, planID: planID, data: ["n": 1])
        try first.waitFor(id: seen)
        first.close()

        // Missed while disconnected (and one event of another plan of the same user, not for this stream).
        let other = try PlanFixture.insert(db, owner: user.id, status: .executing)
        let missed = [try PlanFixture.emit(db, planID: planID, data: ["n": 2]),
                      try PlanFixture.emit(db, planID: other, data: ["n": 0]),
                      try PlanFixture.emit(db, planID: planID, data: ["n": 3])]

        let second = try Stream(port: stack.port, path: streamPath(planID), headers: auth + [("Last-Event-ID", String(seen))])
        defer { second.close() }
        try second.waitFor(id: missed[2])
        let live = try PlanFixture.emit(db, planID: planID, data: ["n": 4])
        try second.waitFor(id: live)
        // Two heartbeats later nothing else has arrived: no duplicate of a replayed event.
        try second.connection.read(until: ": heartbeat\n\n", after: "id: \(live)\n")
        let events = try second.events()
        #expect(events.map(\.id) == [missed[0], missed[2], live])
        #expect(events.map { $0.data["data"]?["n"]?.intValue } == [2, 3, 4])
    }

    @Test func tokenAndLastEventIDMayComeInTheQueryAndTheUserStreamCarriesAllOwnPlans() throws {
        let user = try stack.user()
        let stranger = try stack.user("stranger")
        let db = try stack.database()
        let planA = try PlanFixture.insert(db, owner: user.id)
        let planB = try PlanFixture.insert(db, owner: user.id)
        let foreign = try PlanFixture.insert(db, owner: stranger.id)
        let before = try PlanFixture.emit(db, planID: planA, type: "plan_status_changed")

        let stream = try Stream(port: stack.port, path: "/api/v1/events?access_token=\(user.token)&last_event_id=\(before - 1)")
        defer { stream.close() }
        try stream.waitFor(id: before)
        let foreignEvent = try PlanFixture.emit(db, planID: foreign)
        let ownEvent = try PlanFixture.emit(db, planID: planB)
        try stream.waitFor(id: ownEvent)
        let ids = try stream.events().map(\.id)
        #expect(ids == [before, ownEvent])
        #expect(!ids.contains(foreignEvent))
    }

    @Test func streamsRefuseStrangersAndMissingOrBadTokens() throws {
        let owner = try stack.user("owner")
        let stranger = try stack.user("stranger")
        let planID = try PlanFixture.insert(stack.database(), owner: owner.id)
        let path = streamPath(planID)
        let foreign = try stack.call("GET", path, token: stranger.token)
        #expect(foreign.status == 404)
        #expect(foreign.problemType == "not-found")
        let anonymous = try stack.call("GET", path)
        #expect(anonymous.status == 401)
        #expect(anonymous.problemType == "unauthorized")
        let forged = try stack.call("GET", path + "?access_token=" + owner.token.dropLast(3) + "AAA")
        #expect(forged.status == 401)
        #expect(forged.problemType == "invalid-token")
        let badID = try stack.call("GET", path, token: owner.token, headers: [("Last-Event-ID", "yesterday")])
        #expect(badID.status == 400)
    }

    @Test func idleStreamGetsHeartbeatsAndAGoneClientIsNoticedAtOnce() throws {
        let user = try stack.user()
        let stream = try Stream(port: stack.port, path: "/api/v1/events", headers: [("Authorization", "Bearer \(user.token)")])
        try stream.connection.read(until: ": heartbeat\n\n")
        #expect(try stack.call("GET", "/health/relay")["streams"]?.intValue ?? 0 >= 1)
        stream.close()
        let deadline = Date().addingTimeInterval(3)
        var open = Int64.max
        while Date() < deadline {
            open = try stack.call("GET", "/health/relay")["streams"]?.intValue ?? -1
            if open == 0 { break }
            usleep(50_000)
        }
        #expect(open == 0, "the relay still holds the stream of a client that left")
    }
}

extension HTTPConnection {
    /// Reads until `marker` appears after the first `anchor`.
    func read(until marker: String, after anchor: String) throws {
        while true {
            let text = receivedText
            if let start = text.range(of: anchor), text[start.upperBound...].contains(marker) { return }
            guard try readSome() else { throw TestFailure("connection closed before \"\(marker)\" after \"\(anchor)\"") }
        }
    }
}
