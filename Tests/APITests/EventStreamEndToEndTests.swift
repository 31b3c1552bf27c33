import API
import Foundation
import JSON
import Postgres
import Store
import Synchronization
import TestSupport
import Testing

/// The SSE relay (`masterplan serve events`) behind nginx: live delivery, replay after
/// Last-Event-ID without gap or duplicate, ownership, heartbeats, disconnects.
@Suite(.dedicatedThreads, .serialized) struct EventStreamEndToEndTests {
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

    @Test func ticketAndLastEventIDMayComeInTheQueryAndTheUserStreamCarriesAllOwnPlans() throws {
        let user = try stack.user()
        let stranger = try stack.user("stranger")
        let db = try stack.database()
        let planA = try PlanFixture.insert(db, owner: user.id)
        let planB = try PlanFixture.insert(db, owner: user.id)
        let foreign = try PlanFixture.insert(db, owner: stranger.id)
        let before = try PlanFixture.emit(db, planID: planA, type: "plan_status_changed")

        let ticket = try #require(try stack.call("POST", "/api/v1/events/tickets", token: user.token, json: [:])["ticket"]?.stringValue)
        let stream = try Stream(port: stack.port, path: "/api/v1/events?ticket=\(ticket)&last_event_id=\(before - 1)")
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
        let forged = try stack.call("GET", path, headers: [("Authorization", "Bearer " + owner.token.dropLast(3) + "AAA")])
        #expect(forged.status == 401)
        #expect(forged.problemType == "invalid-token")
        let inURL = try stack.call("GET", path + "?access_token=" + owner.token)
        #expect(inURL.status == 401)
        #expect(inURL.problemType == "token-in-url")
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

    /// The hand-over from replay to live happens while events keep coming: every stream, opened at
    /// a different moment with the same Last-Event-ID, gets every later event once, in order.
    @Test func streamsOpenedWhileEventsFlowGetEveryLaterEventOnceInOrder() throws {
        let user = try stack.user()
        let db = try stack.database()
        let planID = try PlanFixture.insert(db, owner: user.id, status: .executing)
        let start = try PlanFixture.emit(db, planID: planID, data: ["n": 0])
        let auth = [("Authorization", "Bearer \(user.token)"), ("Last-Event-ID", String(start))]

        let emitted = EmitLog()
        let done = DispatchSemaphore(value: 0)
        let conninfo = stack.conninfo
        let emitter = Thread {
            defer { done.signal() }
            do {
                let db = try Connection(conninfo)
                for n in 1...150 {
                    let id = try PlanFixture.emit(db, planID: planID, data: ["n": .int(Int64(n))])
                    emitted.ids.withLock { $0.append(id) }
                    usleep(2_000)
                }
            } catch {
                emitted.failure.withLock { $0 = "\(error)" }
            }
        }
        emitter.start()
        var streams: [Stream] = []
        defer { streams.forEach { $0.close() } }
        for _ in 0..<8 {
            streams.append(try Stream(port: stack.port, path: streamPath(planID), headers: auth))
            usleep(30_000)
        }
        done.wait()
        #expect(emitted.failure.withLock { $0 } == nil)
        let last = try PlanFixture.emit(db, planID: planID, data: ["n": 151])
        let expected = emitted.ids.withLock { $0 } + [last]
        for stream in streams {
            try stream.waitFor(id: last)
            let ids = try stream.events().map(\.id)
            #expect(ids == expected, "missing \(Set(expected).subtracting(ids).sorted()), count \(ids.count) of \(expected.count), in order: \(ids == ids.sorted())")
        }
    }

    /// The fan-out thread writes to every stream: a client that stops reading must not hold up the
    /// others, and once too far behind it is dropped (and its connection ends) rather than kept.
    @Test func aStalledClientDoesNotHoldUpOthersAndIsDroppedWhenFarBehind() throws {
        let user = try stack.user()
        let db = try stack.database()
        let planID = try PlanFixture.insert(db, owner: user.id, status: .executing)
        let auth = [("Authorization", "Bearer \(user.token)")]

        // The stalled client keeps the kernel's own receive buffer: a tiny one (smaller than the
        // loopback segment size) never re-opens its window once full, and the data then moves only
        // at the sender's zero-window probes, seconds apart under load.
        let stalled = try Stream(port: stack.port, path: streamPath(planID), headers: auth)
        defer { stalled.close() }
        try stalled.connection.read(until: "retry:")
        let healthy = try HTTPConnection(port: stack.port, timeoutSeconds: 10)
        defer { healthy.close() }
        try healthy.send("GET", streamPath(planID), headers: auth, version: "1.0")
        var tail = TailReader(connection: healthy)
        try tail.read(until: "retry:")

        // 100 kB events: the relay holds at most 4 MiB for a stream, plus what the sockets and nginx buffer.
        let padding = String(repeating: "x", count: 100_000)
        var ids: [Int64] = []
        var dropped = false
        for n in 0..<300 where !dropped {
            let id = try PlanFixture.emit(db, planID: planID, data: ["n": .int(Int64(n)), "padding": .string(padding)])
            ids.append(id)
            try tail.read(until: "id: \(id)\n")
            // The relay's log line names the owner, unique to this test.
            if n % 10 == 9 {
                dropped = stack.relay.output.split(separator: "\n")
                    .contains { $0.contains("slow stream closed") && $0.contains(user.id.uuidString) }
            }
        }
        #expect(dropped, "the relay still holds a stream whose client stopped reading 30 MB ago")

        // What the stalled client gets, once it reads again: a prefix of the events, then the end.
        stalled.connection.setTimeout(seconds: 30)
        while try stalled.connection.readSome() {}
        // Only complete events count: the relay may have stopped in the middle of one.
        let received = stalled.connection.receivedText.components(separatedBy: "\n\n").dropLast().compactMap { block in
            block.split(separator: "\n").first { $0.hasPrefix("id: ") }.flatMap { Int64($0.dropFirst(4)) }
        }
        #expect(!received.isEmpty && received == Array(ids.prefix(received.count)))
        #expect(received.count < ids.count)
    }
}

/// What a background emitter did, for the test thread to read.
final class EmitLog: Sendable {
    let ids = Mutex<[Int64]>([])
    let failure = Mutex<String?>(nil)
}

/// Reads a stream keeping only the last bytes, for streams too long to keep whole.
struct TailReader {
    let connection: HTTPConnection
    var tail: [UInt8] = []

    /// Reads until `marker` has arrived (searched in what arrived since the last marker).
    mutating func read(until marker: String) throws {
        let needle = Array(marker.utf8)
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            if let found = HTTPConnection.find(tail, needle) {
                tail.removeFirst(found + needle.count)
                return
            }
            if tail.count > needle.count { tail.removeFirst(tail.count - needle.count) }
            let got = buffer.withUnsafeMutableBytes { recv(connection.fd, $0.baseAddress, $0.count, 0) }
            guard got > 0 else { throw TestFailure("stream ended or timed out before \"\(marker)\"") }
            tail += buffer[0..<got]
        }
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
