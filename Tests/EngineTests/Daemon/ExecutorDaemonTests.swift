import Engine
import Foundation
import Postgres
import Store
import Synchronization
import Testing
import TestSupport

/// Records each job it runs in the table `handled`; can be told to fail or to work slowly.
struct RecordingHandler: JobHandler {
    enum Mode: Sendable { case succeed, fail, slow }
    let kind = "chat"
    let mode: Mode
    let name: String

    func run(_ job: ClaimedJob, context: JobContext) async throws {
        switch mode {
        case .succeed:
            let id = job.id, name = self.name
            _ = try await context.database.run { c in try c.execute("INSERT INTO handled (job_id, executor) VALUES ($1, $2)", [id, name]) }
        case .fail:
            struct Broken: Error, CustomStringConvertible { var description: String { "the model answered nonsense" } }
            throw Broken()
        case .slow:
            // Works in small steps with a checkpoint between them, as the wave executor does between atoms.
            for _ in 0..<600 {
                try context.checkpoint()
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }
}

@Suite(.dedicatedThreads) struct ExecutorDaemonTests {
    let queue: ChatJobQueue
    var conninfo: String { queue.conninfo }
    var connection: Connection { queue.connection }

    init() throws {
        queue = try ChatJobQueue(tag: "daemon")
        try connection.simpleQuery("CREATE TABLE handled (job_id uuid NOT NULL, executor text NOT NULL)")
    }

    @discardableResult
    func enqueue(maxAttempts: Int = 3) throws -> UUID {
        try queue.enqueue(maxAttempts: maxAttempts)
    }

    func daemon(_ mode: RecordingHandler.Mode, name: String = "one", slots: Int = 2, lease: Duration = .seconds(30)) -> ExecutorDaemon {
        ExecutorDaemon(configuration: .init(conninfo: conninfo, jobSlots: slots, lease: lease, pollInterval: .milliseconds(200),
                                            retryDelay: .zero, owner: name),
                       handlers: [RecordingHandler(mode: mode, name: name)])
    }

    /// Polls the database until `condition` holds (the daemon works on other threads), up to 20 s.
    func eventually(_ sql: String, _ parameters: [any PostgresBindable] = [], equals expected: Int) async throws -> Bool {
        for _ in 0..<200 {
            if try connection.query(sql, parameters).first!.decode(Int.self, 0) == expected { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    @Test func runsQueuedJobsAndMarksThemDone() async throws {
        let ids = try (0..<5).map { _ in try enqueue() }
        let executor = daemon(.succeed)
        let running = Task { await executor.run() }
        #expect(try await eventually("SELECT count(*) FROM jobs WHERE state = 'done'", equals: 5))
        // A job enqueued while the daemon idles is picked up too (NOTIFY or poll).
        let late = try enqueue()
        #expect(try await eventually("SELECT count(*) FROM handled WHERE job_id = $1", [late], equals: 1))
        executor.stop()
        await running.value
        #expect(try connection.query("SELECT count(*) FROM handled").first!.decode(Int.self, 0) == ids.count + 1)
    }

    @Test func aFailingJobIsRetriedThenFailsWithItsError() async throws {
        let id = try enqueue(maxAttempts: 2)
        let executor = daemon(.fail)
        let running = Task { await executor.run() }
        #expect(try await eventually("SELECT count(*) FROM jobs WHERE id = $1 AND state = 'failed'", [id], equals: 1))
        executor.stop()
        await running.value
        let row = try connection.query("SELECT attempts, last_error FROM jobs WHERE id = $1", [id]).first!
        #expect(try row.decode(Int.self, 0) == 2)
        #expect(try row.decode(String.self, 1) == "the model answered nonsense")
    }

    @Test func stoppingHandsAnUnfinishedJobBackWithoutSpendingAnAttempt() async throws {
        let id = try enqueue()
        let executor = daemon(.slow)
        let running = Task { await executor.run() }
        #expect(try await eventually("SELECT count(*) FROM jobs WHERE id = $1 AND state = 'running'", [id], equals: 1))
        executor.stop()
        await running.value
        let row = try connection.query("SELECT state, attempts, lease_owner FROM jobs WHERE id = $1", [id]).first!
        #expect(try row.decode(String.self, 0) == "queued")
        #expect(try row.decode(Int.self, 1) == 0)
        #expect(try row.decode(String?.self, 2) == nil)
    }

    @Test func twoExecutorsShareTheQueueAndRunEveryJobOnce() async throws {
        for _ in 0..<30 { try enqueue() }
        let a = daemon(.succeed, name: "a"), b = daemon(.succeed, name: "b")
        let runA = Task { await a.run() }
        let runB = Task { await b.run() }
        #expect(try await eventually("SELECT count(*) FROM jobs WHERE state = 'done'", equals: 30))
        a.stop()
        b.stop()
        await runA.value
        await runB.value
        #expect(try connection.query("SELECT count(*), count(DISTINCT job_id) FROM handled").first!.decode(Int.self, 1) == 30)
        #expect(try connection.query("SELECT count(*) FROM handled").first!.decode(Int.self, 0) == 30)
    }

    @Test func aJobOfACrashedExecutorIsTakenOverWhenItsLeaseExpires() async throws {
        let id = try enqueue()
        // An executor claimed the job and died: its lease ran out and nobody renews it.
        try connection.execute("""
            UPDATE jobs SET state = 'running', attempts = 1, lease_owner = 'crashed:1:dead', lease_expires_at = now() - interval '1 second'
            WHERE id = $1
            """, [id])
        let executor = daemon(.succeed, name: "survivor")
        let running = Task { await executor.run() }
        #expect(try await eventually("SELECT count(*) FROM handled WHERE job_id = $1 AND executor = 'survivor'", [id], equals: 1))
        executor.stop()
        await running.value
        let row = try connection.query("SELECT state, attempts FROM jobs WHERE id = $1", [id]).first!
        #expect(try row.decode(String.self, 0) == "done")
        #expect(try row.decode(Int.self, 1) == 2)
    }

    @Test func theLeaseIsRenewedWhileAJobRuns() async throws {
        let id = try enqueue()
        let executor = daemon(.slow, lease: .seconds(6))
        let running = Task { await executor.run() }
        #expect(try await eventually("SELECT count(*) FROM jobs WHERE id = $1 AND state = 'running'", [id], equals: 1))
        let first = try connection.query("SELECT lease_expires_at FROM jobs WHERE id = $1", [id]).first!.decode(Date.self, 0)
        // Renewals come every third of the lease (2 s); after 3 s at least one has happened, with a
        // wide margin before the lease could lapse even on a heavily loaded machine.
        try await Task.sleep(for: .milliseconds(3000))
        let later = try connection.query("SELECT state, lease_expires_at FROM jobs WHERE id = $1", [id]).first!
        #expect(try later.decode(String.self, 0) == "running")
        #expect(try later.decode(Date.self, 1) > first)
        executor.stop()
        await running.value
    }
}
