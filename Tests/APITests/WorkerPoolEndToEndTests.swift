import API
import Dispatch
import Foundation
import JSON
import Postgres
import Store
import TestSupport
import Testing

/// The prefork pool as a sysadmin meets it: killed workers come back, signals mean what they mean
/// in php-fpm. Each test has a stack of its own, since it kills or stops processes.
@Suite(.dedicatedThreads, .serialized) struct WorkerPoolEndToEndTests {
    /// Waits until `condition` holds (polling), or fails after `seconds`.
    func eventually(_ seconds: Double = 10, _ what: String, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return }
            usleep(20_000)
        }
        throw TestFailure("\(what) did not happen within \(seconds) s")
    }

    /// Runs a request on another thread; the result arrives in the returned box.
    func inBackground(_ body: @escaping @Sendable () throws -> APIResponse) -> ResultBox {
        let box = ResultBox()
        DispatchQueue.global().async { box.put(Result { try body() }) }
        return box
    }

    /// A plan row locked by the test's own open transaction, so an action on it blocks in the worker.
    func lockedPlan(_ stack: APIStack, owner: UUID) throws -> (Connection, UUID) {
        let planID = try PlanFixture.insert(stack.database(), owner: owner)
        let locker = try stack.database()
        try locker.simpleQuery("BEGIN")
        try locker.query("SELECT 1 FROM masterplans WHERE id = $1 FOR UPDATE", [planID])
        return (locker, planID)
    }

    /// True once some backend waits for a lock (the worker's request is in flight).
    func someoneWaitsForALock(_ db: Connection) throws -> Bool {
        try db.query("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()")
            .first!.decode(Int.self, 0) > 0
    }

    @Test func killedWorkerIsReplacedAndRequestsKeepSucceeding() throws {
        let stack = try APIStack()
        defer { stack.stop() }
        let user = try stack.user()
        let before = stack.api.childPIDs
        #expect(before.count == 2)
        let victim = try #require(before.first)
        kill(victim, SIGKILL)
        try eventually(10, "a replacement worker") {
            let now = stack.api.childPIDs
            return now.count == 2 && !now.contains(victim)
        }
        for _ in 0..<10 {
            let response = try stack.call("GET", "/api/v1/me", token: user.token)
            #expect(response.status == 200)
        }
        #expect(stack.api.output.contains("worker died"))
        #expect(stack.api.isRunning)
    }

    /// Regression: workers of a supervisor killed with SIGKILL kept accepting on the inherited socket,
    /// with nobody left to replace, reload or stop them.
    @Test func workersDieWithTheirSupervisor() throws {
        let stack = try APIStack()
        defer { stack.stop() }
        let workers = stack.api.childPIDs
        #expect(workers.count == 2)
        stack.api.send(SIGKILL)
        _ = stack.api.waitForExit(seconds: 10)
        try eventually(10, "the workers' exit") {
            workers.allSatisfy { pid in
                // Gone, or a zombie waiting for init to reap it: either way it serves nothing.
                let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
                return stat.isEmpty || stat[stat.index(after: stat.lastIndex(of: ")")!)...].hasPrefix(" Z")
            }
        }
    }

    @Test func sigquitFinishesTheRequestInFlightThenStops() throws {
        let stack = try APIStack()
        defer { stack.stop() }
        let user = try stack.user()
        let (locker, planID) = try lockedPlan(stack, owner: user.id)
        let pending = inBackground {
            try stack.call("POST", "/api/v1/masterplans/\(planID.uuidString.lowercased())/approve", token: user.token)
        }
        let watcher = try stack.database()
        try eventually(10, "the approve request to reach the database") { try someoneWaitsForALock(watcher) }

        stack.api.send(SIGQUIT)
        usleep(500_000)
        #expect(stack.api.isRunning, "the pool stopped with a request in flight")
        #expect(pending.peek() == nil)

        try locker.simpleQuery("COMMIT")
        let response = try #require(pending.take(seconds: 15)).get()
        #expect(response.status == 200, "\(response.text)")
        #expect(response["status"]?.stringValue == "approved")
        #expect(stack.api.waitForExit(seconds: 10) == 0, "\(stack.api.output)")
        #expect(!FileManager.default.fileExists(atPath: stack.apiSocket))
        #expect(stack.api.output.contains("api pool stopping gracefully"))
    }

    @Test func sigtermStopsFastEvenWithARequestInFlight() throws {
        let stack = try APIStack()
        defer { stack.stop() }
        let user = try stack.user()
        let (locker, planID) = try lockedPlan(stack, owner: user.id)
        defer { _ = try? locker.simpleQuery("ROLLBACK") }
        let pending = inBackground {
            try stack.call("POST", "/api/v1/masterplans/\(planID.uuidString.lowercased())/approve", token: user.token)
        }
        let watcher = try stack.database()
        try eventually(10, "the approve request to reach the database") { try someoneWaitsForALock(watcher) }

        let start = Date()
        stack.api.send(SIGTERM)
        #expect(stack.api.waitForExit(seconds: 8) == 0)
        #expect(Date().timeIntervalSince(start) < 6)
        let response = try #require(pending.take(seconds: 15)).get()
        #expect(response.status == 503, "the cut request should get nginx's problem+json")
        #expect(response.problemType == "service-unavailable")
    }

    @Test func sighupReplacesEveryWorkerWhileServing() throws {
        let stack = try APIStack()
        defer { stack.stop() }
        let user = try stack.user()
        let before = Set(stack.api.childPIDs)
        #expect(before.count == 2)
        stack.api.send(SIGHUP)
        try eventually(15, "every worker replaced") {
            let now = Set(stack.api.childPIDs)
            return now.count == 2 && now.isDisjoint(with: before)
        }
        #expect(try stack.call("GET", "/api/v1/me", token: user.token).status == 200)
        #expect(stack.api.output.components(separatedBy: "worker retired").count - 1 == 2)
    }

    @Test func workerIsReplacedAfterMaxRequests() throws {
        var options = APIStack.Options()
        options.workers = 1
        options.maxRequests = 3
        let stack = try APIStack(options)
        defer { stack.stop() }
        let first = stack.api.childPIDs
        for _ in 0..<7 { #expect(try stack.call("GET", "/health/live").status == 200) }
        try eventually(5, "the worker replaced after 3 requests") { stack.api.childPIDs != first && stack.api.childPIDs.count == 1 }
        let exits = stack.api.output.components(separatedBy: "worker exited").count - 1
        #expect(exits >= 2, "\(stack.api.output)")
    }

    @Test func loginIsRateLimitedByNginx() throws {
        var options = APIStack.Options()
        // One a minute, so no token comes back during the test; the shipped burst of 5 stays.
        options.loginRatePerMinute = 1
        options.workers = 1
        let stack = try APIStack(options)
        defer { stack.stop() }
        let email = "limited@example.org"
        try stack.addUser(email)
        var statuses: [Int] = []
        for _ in 0..<8 {
            statuses.append(try stack.call("POST", "/api/v1/auth/login", json: ["email": .string(email), "password": "wrong password"]).status)
        }
        // burst=5 nodelay: the first 6 reach the API (401), the rest are refused by nginx.
        #expect(statuses == [401, 401, 401, 401, 401, 401, 429, 429])
        #expect(try stack.call("GET", "/api/v1/openapi.json").status == 200, "only the login is limited")
    }

    @Test func missingSecretFailsAtStartWithOneLineNamingTheVariable() throws {
        let outcome = try MasterplanBinary.run(["serve", "api", "--socket", "/tmp/mp-never.sock"],
                                               environment: ["MASTERPLAN_DATABASE_URL": "host=/tmp dbname=x"])
        #expect(outcome.status != 0)
        let lines = outcome.output.split(separator: "\n")
        #expect(lines.count == 1, "\(outcome.output)")
        #expect(outcome.output.contains("MASTERPLAN_JWT_SECRET is not set"))
        #expect(!FileManager.default.fileExists(atPath: "/tmp/mp-never.sock"))
    }
}

/// A result handed from a background thread to the test.
final class ResultBox: @unchecked Sendable {
    // `value` is only touched with `lock` held.
    private let lock = NSCondition()
    private var value: Result<APIResponse, any Error>?

    func put(_ result: Result<APIResponse, any Error>) {
        lock.lock()
        value = result
        lock.broadcast()
        lock.unlock()
    }

    func peek() -> Result<APIResponse, any Error>? {
        lock.lock()
        defer { lock.unlock() }
        return value
    }

    func take(seconds: Double) -> Result<APIResponse, any Error>? {
        lock.lock()
        defer { lock.unlock() }
        let deadline = Date().addingTimeInterval(seconds)
        while value == nil && lock.wait(until: deadline) {}
        return value
    }
}
