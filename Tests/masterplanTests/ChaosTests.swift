import Base
import Foundation
import JSON
import Postgres
import Store
import Synchronization
import Testing
import TestSupport

/// Faults during a real plan's execution under `masterplan up` (nginx, the API pool, the relay, the
/// executor, the demo model and the private PostgreSQL): PostgreSQL restarted, an API worker and the
/// executor killed with SIGKILL. The plan must complete exactly as an undisturbed one did — same
/// commits, same trees, no atom accepted twice — and a browser's event stream must see every event
/// once. The figures (downtime per fault) are printed.
@Suite(.dedicatedThreads, .serialized) struct ChaosTests {
    /// The bundled demo cassette with one answer per call (the last of each purpose and key), slowed
    /// down: a killed executor may have used up an answer it never recorded, and with one answer per
    /// call the next executor hears what an undisturbed one would.
    static func steadyCassette(in folder: TemporaryFolder) throws -> String {
        let lines = try String(contentsOfFile: UpCommandTests.bundledDemoCassette, encoding: .utf8).split(separator: "\n")
        var order: [String] = []
        var last: [String: JSONValue] = [:]
        for line in lines where line.hasPrefix("{") {
            guard case .object(var entry) = try JSONValue.parse(Array(line.utf8)),
                  let purpose = entry["purpose"]?.stringValue, let key = entry["key"]?.stringValue else { continue }
            if purpose == "atom" || purpose == "gate_repair" { entry["delay_ms"] = .int(1_500) }
            let id = purpose + "\u{0}" + key
            if last[id] == nil { order.append(id) }
            last[id] = .object(entry)
        }
        let path = folder.file("steady.jsonl")
        try order.map { last[$0]!.jsonText }.joined(separator: "\n").appending("\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Reads a plan's event stream through nginx as a browser does, reconnecting with Last-Event-ID
    /// whenever the stream ends, until told to stop.
    final class BrowserStream: @unchecked Sendable {
        // `events`, `reconnects` and `stopped` are only touched under `lock`.
        private let lock = NSLock()
        private var events: [(id: Int64, type: String)] = []
        private var reconnects = 0
        private var stopped = false
        private var thread: Thread?

        init(port: UInt16, path: String, token: String) {
            let thread = Thread { [self] in
                var last: Int64 = 0
                while !isStopped {
                    do {
                        let connection = try HTTPConnection(port: port, timeoutSeconds: 2)
                        defer { connection.close() }
                        try connection.send("GET", path, headers: [("Authorization", "Bearer \(token)"), ("Last-Event-ID", String(last)),
                                                                   ("Accept", "text/event-stream")],
                                            version: "1.0")  // no chunked encoding to take apart
                        var consumed = 0
                        while !isStopped {
                            let more: Bool
                            do { more = try connection.readSome() } catch { if isStopped { break } else { continue } }
                            let text = connection.receivedText
                            let body = text.range(of: "\r\n\r\n").map { text[$0.upperBound...] } ?? ""
                            let blocks = body.components(separatedBy: "\n\n")
                            for block in blocks.dropLast().dropFirst(consumed) {
                                var id: Int64?
                                var type = "message"
                                for line in block.split(separator: "\n") {
                                    if line.hasPrefix("id: ") { id = Int64(line.dropFirst(4)) }
                                    if line.hasPrefix("event: ") { type = String(line.dropFirst(7)) }
                                }
                                if let id {
                                    last = id
                                    lock.withLock { events.append((id, type)) }
                                }
                            }
                            consumed = max(consumed, blocks.count - 1)
                            if !more { break }
                        }
                    } catch {
                        // nginx or the relay is restarting: try again shortly.
                    }
                    lock.withLock { reconnects += 1 }
                    Thread.sleep(forTimeInterval: 0.3)
                }
            }
            self.thread = thread
            thread.start()
        }

        private var isStopped: Bool { lock.withLock { stopped } }
        var received: [(id: Int64, type: String)] { lock.withLock { events } }
        var reconnections: Int { lock.withLock { reconnects } }
        func stop() { lock.withLock { stopped = true } }
    }

    /// One `up` stack and an admin token, with what the tests ask of it.
    struct Stack {
        let run: UpCommandTests.Run
        let token: String
        let conninfo: String
        let dataDirectory: String

        func call(_ method: String, _ path: String, _ json: JSONValue? = nil) throws -> (status: Int, body: JSONValue?) {
            let response = try run.request(method, path, token: token, json: json)
            return (response.status, try? JSONValue.parse(response.body))
        }

        /// A query on the stack's database (a new connection each time: the database may be restarting).
        func value(_ sql: String, _ parameters: [any PostgresBindable]) -> Int? {
            try? Connection(conninfo).query(sql, parameters).first?.decode(Int.self, 0)
        }

        func status(_ plan: String) -> String? {
            (try? call("GET", "/api/v1/masterplans/\(plan)/status"))?.body?["status"]?.stringValue
        }

        /// Waits until `condition` holds; the seconds it took, or nil after `seconds`. Sleeps without
        /// holding a thread: the suite's async tests share two cooperative threads.
        func waitFor(_ seconds: Double, _ condition: () -> Bool) async -> Double? {
            let start = Date()
            while Date().timeIntervalSince(start) < seconds {
                if condition() { return Date().timeIntervalSince(start) }
                try? await Task.sleep(for: .milliseconds(100))
            }
            // A last look: a loaded machine may have woken this task only after the deadline.
            return condition() ? Date().timeIntervalSince(start) : nil
        }

        /// A plan from the demo request, generated and approved, up to `executing`; its id.
        func approvedPlan() async throws -> String {
            // Planned with the discovery's assumptions: these tests are about the executor, not the questions.
            let created = try call("POST", "/api/v1/masterplans", ["request": "create a FastAPI app with JWT auth", "ask_questions": false])
            let plan = try #require(created.body?["plan_id"]?.stringValue, "\(created)")
            #expect(await waitFor(120) { status(plan) == "draft" } != nil, "the plan was not generated: \(status(plan) ?? "?")")
            let approved = try call("POST", "/api/v1/masterplans/\(plan)/approve")
            #expect(approved.status == 200, "\(approved)")
            return plan
        }

        /// Accepted attempts per atom (task, file), and `atom_execution_complete` events per atom.
        func acceptedAtoms(_ plan: String) throws -> [String: [Int]] {
            let rows = try Connection(conninfo).query("""
                SELECT t.number || ' ' || a.file_path,
                       (SELECT count(*)::int FROM atom_attempts x WHERE x.atom_id = a.id AND x.accepted),
                       (SELECT count(*)::int FROM events e WHERE e.plan_id = a.plan_id AND e.type = 'atom_execution_complete'
                                                     AND e.payload->>'atom_id' = a.id::text)
                FROM atoms a JOIN tasks t ON t.id = a.task_id WHERE a.plan_id = $1::uuid
                """, [plan]).rows
            var result: [String: [Int]] = [:]
            for row in rows { result[try row.decode(String.self, 0)] = [try row.decode(Int.self, 1), try row.decode(Int.self, 2)] }
            return result
        }

        /// The plan's commits, oldest first: tree hash and subject.
        func commits(_ plan: String, output: String) throws -> [String] {
            let workspace = dataDirectory + "/workspaces/" + plan
            let outcome = try ChildProcess.run("/usr/bin/git", ["-C", workspace, "log", "--reverse", "--format=%T %s"], outputPath: output,
                                               environment: ["HOME": "/tmp", "GIT_CONFIG_NOSYSTEM": "1", "PATH": "/usr/bin:/bin"])
            return outcome.output.split(separator: "\n").map(String.init)
        }
    }

    @Test func aPlanCompletesThroughADatabaseRestartAKilledExecutorAndAKilledAPIWorkerAsIfNothingHappened() async throws {
        let folder = try TemporaryFolder(prefix: "mpchaos")
        defer { folder.remove() }
        let run = try UpCommandTests.Run(folder: folder, dataDirectory: folder.file("data"), name: "chaos",
                                         cassette: try Self.steadyCassette(in: folder))
        defer { if run.process.isRunning { _ = run.interrupt() } }
        try run.waitUntilReady()
        let output = run.output
        let passwordLine = try #require(output.split(separator: "\n").first { $0.contains("password: ") }, "\(output)")
        let password = String(passwordLine.split(separator: " ").last!)
        let clusterLine = try #require(output.split(separator: "\n").first { $0.contains("private PostgreSQL cluster in ") }, "\(output)")
        let clusterFolder = String(clusterLine[clusterLine.range(of: "cluster in ")!.upperBound...]).split(separator: " ").first.map(String.init)!
        let login = try run.request("POST", "/api/v1/auth/login", json: ["email": "admin@localhost", "password": .string(password)])
        let token = try #require(try JSONValue.parse(login.body)["access_token"]?.stringValue, "\(login.text)")
        let stack = Stack(run: run, token: token, conninfo: "host=\(clusterFolder) port=5432 user=postgres dbname=masterplan",
                          dataDirectory: folder.file("data"))
        let pids = run.printedPIDs

        // 1. Undisturbed.
        let calm = try await stack.approvedPlan()
        #expect(try stack.call("POST", "/api/v1/masterplans/\(calm)/execute").status == 202)
        #expect(await stack.waitFor(300) { stack.status(calm) == "completed" } != nil, "the undisturbed plan: \(stack.status(calm) ?? "?")\n\(run.output)")

        // 2. The same plan, with faults while it executes.
        let chaos = try await stack.approvedPlan()
        let browser = BrowserStream(port: run.port, path: "/api/v1/masterplans/\(chaos)/events", token: token)
        defer { browser.stop() }
        #expect(try stack.call("POST", "/api/v1/masterplans/\(chaos)/execute").status == 202)
        let succeeded = "SELECT count(*)::int FROM atoms WHERE plan_id = $1::uuid AND status = 'succeeded'"
        func atomsDone() -> Int { stack.value(succeeded, [chaos]) ?? -1 }
        func apiAnswers() -> Bool { (try? stack.call("GET", "/api/v1/me"))?.status == 200 }
        func ready() -> Bool { (try? run.request("GET", "/api/v1/health/ready"))?.status == 200 }
        var figures: [String] = []

        // An API worker, killed: the other one answers; the pool replaces it.
        #expect(await stack.waitFor(120) { atomsDone() >= 1 } != nil, "no atom done: \(run.output)")
        let api = try #require(pids["API pool"])
        let worker = try #require(Self.children(of: api).first, "the API pool has no worker")
        kill(worker, SIGKILL)
        let apiDowntime = await stack.waitFor(30) { apiAnswers() }
        #expect(apiDowntime != nil, "the API did not answer after a worker was killed")
        #expect(await stack.waitFor(30) { Self.children(of: api).count == 2 && !Self.children(of: api).contains(worker) } != nil)
        figures.append(String(format: "API worker SIGKILL: API answered again after %.2f s", apiDowntime ?? -1))

        // PostgreSQL, shut down (fast) in the middle of the run: up starts it again.
        #expect(await stack.waitFor(120) { atomsDone() >= 3 } != nil, "three atoms not done: \(run.output)")
        let postgres = try #require(pids["postgres"])
        let atomsBefore = atomsDone()
        kill(postgres, SIGINT)
        let databaseDowntime = await stack.waitFor(90) { ready() && apiAnswers() }
        #expect(databaseDowntime != nil, "the API was not ready again after PostgreSQL restarted:\n\(run.output)")
        let relayBack = await stack.waitFor(30) { (try? run.request("GET", "/health/relay"))?.status == 200 }
        let executorBack = await stack.waitFor(120) { atomsDone() > atomsBefore || stack.status(chaos) == "completed" }
        #expect(executorBack != nil, "no progress after PostgreSQL restarted:\n\(run.output)")
        figures.append(String(format: "PostgreSQL restart: API ready again after %.2f s, relay healthy %.2f s later, executor progressing %.2f s later",
                              databaseDowntime ?? -1, relayBack ?? -1, executorBack ?? -1))

        // The executor, killed in the middle of a wave: up starts another, which takes the job over.
        #expect(await stack.waitFor(120) { atomsDone() >= 5 } != nil, "five atoms not done: \(run.output)")
        // A commit the killed executor had already sent may still land a moment after the kill, so
        // progress counts only once up has started another executor.
        let executor = try #require(pids["executor"])
        let killedAt = Date()
        kill(executor, SIGKILL)
        let restarted = await stack.waitFor(60) { run.output.contains("restarted the executor") }
        #expect(restarted != nil, "up did not restart the executor:\n\(run.output)")
        let atomsAtRestart = atomsDone()
        let resumed = await stack.waitFor(120) { atomsDone() > atomsAtRestart || stack.status(chaos) == "completed" }
        #expect(resumed != nil, "no progress after the executor was killed:\n\(run.output)")
        figures.append(String(format: "executor SIGKILL: restarted after %.2f s, work resumed after %.2f s (lease 10 s)",
                              restarted ?? -1, resumed.map { _ in Date().timeIntervalSince(killedAt) } ?? -1))
        #expect(run.output.contains("restarted PostgreSQL") || run.output.contains("PostgreSQL is back"), "\(run.output)")

        #expect(await stack.waitFor(300) { stack.status(chaos) == "completed" } != nil, "the disturbed plan: \(stack.status(chaos) ?? "?")\n\(run.output)")
        let allEvents = "SELECT count(*)::int FROM events WHERE plan_id = $1::uuid"
        let total = stack.value(allEvents, [chaos]) ?? -1
        _ = await stack.waitFor(30) { browser.received.count >= total }
        browser.stop()

        // The same commits with the same trees, and every atom accepted once, as undisturbed.
        let calmCommits = try stack.commits(calm, output: folder.file("git-calm.out"))
        #expect(!calmCommits.isEmpty)
        #expect(try stack.commits(chaos, output: folder.file("git-chaos.out")) == calmCommits)
        let calmAtoms = try stack.acceptedAtoms(calm)
        let chaosAtoms = try stack.acceptedAtoms(chaos)
        #expect(!calmAtoms.isEmpty && calmAtoms.values.allSatisfy { $0 == [1, 1] }, "\(calmAtoms)")
        #expect(chaosAtoms == calmAtoms, "atoms accepted (attempts, completion events) differ:\n\(chaosAtoms)\nundisturbed:\n\(calmAtoms)")

        // The browser saw every event of the plan once, in order, across its reconnections.
        let stored = try Connection(stack.conninfo).query("SELECT id FROM events WHERE plan_id = $1::uuid ORDER BY id", [chaos]).rows
            .map { try $0.decode(Int64.self, 0) }
        let seen = browser.received.map(\.id)
        #expect(Set(seen).count == seen.count, "events arrived twice: \(seen)")
        #expect(seen == stored, "the stream missed events: \(Set(stored).subtracting(seen).sorted())")
        figures.append("plans completed: 2 of 2; atoms accepted twice: 0; events stored \(stored.count), seen \(seen.count) "
            + "(lost \(Set(stored).subtracting(seen).count), doubled \(seen.count - Set(seen).count)); stream reconnections \(browser.reconnections)")
        print("chaos figures:\n  " + figures.joined(separator: "\n  "))

        // Each process says once that the database went away, not once per retry or request.
        func lines(_ log: String, _ text: String) -> Int {
            ((try? String(contentsOfFile: folder.file("data/logs/\(log).log"), encoding: .utf8)) ?? "")
                .split(separator: "\n").filter { $0.contains(text) }.count
        }
        #expect(lines("executor", "database unreachable") == 1)
        #expect(lines("api", "database unreachable") <= 2, "at most one line per worker")
        #expect(lines("events", "relay LISTEN connection failed") == 1)

        #expect(run.interrupt() == 0, "\(run.output)")
        // Nothing is left, not even a box of the killed executor.
        UpCommandTests.expectNothingLeft(run, dataDirectory: folder.file("data"))
    }

    /// The PIDs whose parent is `parent`.
    static func children(of parent: pid_t) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry in
            guard let pid = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && pid_t(fields[1]) == parent && fields[0] != "Z" ? pid : nil
        }
    }
}
