import Base
import Engine
import Foundation
import Postgres
import Store
import Synchronization
import Testing
import TestSupport

/// Works for a while, asking the database something every 50 ms (as a plan run does between its
/// steps), and records once at the end that it finished.
struct DatabaseBoundHandler: JobHandler {
    let kind = "chat"
    let steps: Int

    func run(_ job: ClaimedJob, context: JobContext) async throws {
        for _ in 0..<steps {
            try context.checkpoint()
            _ = try await context.database.run { c in try c.query("SELECT 1") }
            try await Task.sleep(for: .milliseconds(50))
        }
        let id = job.id
        _ = try await context.database.run { c in try c.execute("INSERT INTO handled (job_id, executor) VALUES ($1, 'outage')", [id]) }
    }
}

/// The daemon's log lines, for the test to read.
final class DaemonLog: Sendable {
    let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}

/// The executor rides out a database that goes away: a restart, or an outage longer than a lease. Each
/// test has a cluster of its own, since stopping the shared one would disturb every other suite.
@Suite(.dedicatedThreads, .serialized) struct ExecutorDaemonOutageTests {
    /// A throwaway cluster, migrated, with one conversation to hang jobs on.
    final class Database {
        let folder = "/tmp/masterplan-outage-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let cluster: PrivateCluster
        let conninfo: String
        let conversation: UUID

        init() throws {
            cluster = try PrivateCluster.start(in: folder, options: .init(throwaway: true, port: 5468, maxConnections: 40))
            let admin = try Connection(cluster.conninfo())
            try admin.simpleQuery("CREATE DATABASE outage")
            conninfo = cluster.conninfo(database: "outage")
            let connection = try Connection(conninfo)
            try Migrator(directory: TestDatabase.migrationsDirectory).migrate(on: connection)
            try connection.simpleQuery("CREATE TABLE handled (job_id uuid NOT NULL, executor text NOT NULL)")
            let user = try connection.query("INSERT INTO users (email, password_hash) VALUES ('outage@example.com', 'x') RETURNING id")
                .first!.decode(UUID.self, 0)
            conversation = try connection.query("INSERT INTO conversations (owner_id) VALUES ($1) RETURNING id", [user])
                .first!.decode(UUID.self, 0)
        }

        deinit {
            try? cluster.stop(immediate: true)
            try? FileManager.default.removeItem(atPath: folder)
        }

        func enqueue(maxAttempts: Int) throws -> UUID {
            try Connection(conninfo).query("INSERT INTO jobs (kind, conversation_id, max_attempts) VALUES ('chat', $1, $2) RETURNING id",
                                           [conversation, maxAttempts]).first!.decode(UUID.self, 0)
        }

        func value(_ sql: String, _ parameters: [any PostgresBindable] = []) throws -> Int {
            try Connection(conninfo).query(sql, parameters).first!.decode(Int.self, 0)
        }

        /// Polls until `sql` gives `expected`, up to `seconds`; false if it never does.
        func eventually(_ sql: String, _ parameters: [any PostgresBindable] = [], equals expected: Int, seconds: Double = 60) async -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if (try? value(sql, parameters)) == expected { return true }
                try? await Task.sleep(for: .milliseconds(100))
            }
            return false
        }

        /// Stops the server (fast shutdown: every client loses its connection), waits, starts it again.
        func outage(seconds: Double) async throws {
            try cluster.stop()
            try await Task.sleep(for: .seconds(seconds))
            _ = try PrivateCluster.start(in: folder, options: .init(throwaway: true, port: 5468, maxConnections: 40))
        }
    }

    static func daemon(_ database: Database, handler: DatabaseBoundHandler, lease: Duration, lines: DaemonLog) -> ExecutorDaemon {
        ExecutorDaemon(configuration: .init(conninfo: database.conninfo, jobSlots: 2, lease: lease, pollInterval: .milliseconds(200),
                                            retryDelay: .zero, owner: "outage-test"),
                       handlers: [handler], log: Logger { line in lines.append(line) })
    }

    /// The database is away for longer than a lease while two jobs run: the executor keeps running,
    /// says so once, hands the interrupted jobs back without counting an attempt, and finishes them.
    @Test func anOutageLongerThanALeaseCostsNoAttemptAndEveryJobFinishesOnce() async throws {
        let database = try Database()
        let jobs = try (0..<2).map { _ in try database.enqueue(maxAttempts: 1) }
        let lines = DaemonLog()
        let handler = DatabaseBoundHandler(steps: 200)
        let daemon = Self.daemon(database, handler: handler, lease: .seconds(3), lines: lines)
        let running = Task { await daemon.run() }

        // Generous waits: in the full suite every async test shares two cooperative threads with
        // suites that block theirs for minutes.
        try #require(await database.eventually("SELECT count(*)::int FROM jobs WHERE state = 'running'", equals: 2, seconds: 300),
                     "the jobs did not start: \(lines.all)")
        try await database.outage(seconds: 6)

        #expect(await database.eventually("SELECT count(*)::int FROM jobs WHERE state = 'done'", equals: 2, seconds: 300),
                "\(lines.all)")
        daemon.stop()
        await running.value
        // Each job ran to its end once, and the outage cost no attempt (max_attempts is 1).
        #expect(try database.value("SELECT count(*)::int FROM handled") == 2)
        #expect(try database.value("SELECT count(DISTINCT job_id)::int FROM handled") == 2)
        for job in jobs {
            #expect(try database.value("SELECT attempts FROM jobs WHERE id = $1", [job]) == 1)
        }
        let log = lines.all
        // One line when it went away, one when it came back: not one per retry.
        #expect(log.filter { $0.hasPrefix("level=error msg=\"database unreachable\"") }.count == 1, "\(log)")
        #expect(log.filter { $0.hasPrefix("level=info msg=\"database reachable again\"") }.count == 1, "\(log)")
        #expect(log.contains { $0.contains("msg=\"job handed back after losing the database\"") }, "\(log)")
    }

    /// A job queued while the database is away is claimed once it is back: the daemon never exits.
    @Test func theDaemonKeepsClaimingAfterTheDatabaseComesBack() async throws {
        let database = try Database()
        let lines = DaemonLog()
        let daemon = Self.daemon(database, handler: DatabaseBoundHandler(steps: 2), lease: .seconds(30), lines: lines)
        let running = Task { await daemon.run() }
        let first = try database.enqueue(maxAttempts: 1)
        #expect(await database.eventually("SELECT count(*)::int FROM jobs WHERE id = $1 AND state = 'done'", [first], equals: 1, seconds: 300))

        try database.cluster.stop()
        try await Task.sleep(for: .seconds(3))
        _ = try PrivateCluster.start(in: database.folder, options: .init(throwaway: true, port: 5468, maxConnections: 40))
        let second = try database.enqueue(maxAttempts: 1)
        #expect(await database.eventually("SELECT count(*)::int FROM jobs WHERE id = $1 AND state = 'done'", [second], equals: 1, seconds: 300),
                "\(lines.all)")
        daemon.stop()
        await running.value
    }
}
