@testable import Engine
import Foundation
import Postgres
import Store
import Testing
import TestSupport

/// An execution job that keeps failing (a model that cannot be reached, say) without ever
/// starting: the daemon gives up after the last attempt, and the real execution handler records it.
struct UnreachableModelExecution: JobHandler {
    let kind = "execution"
    let real: ExecutionHandler

    struct ModelUnreachable: Error, CustomStringConvertible {
        var description: String { "the model at http://127.0.0.1:9/v1 refused the connection" }
    }

    func run(_ job: ClaimedJob, context: JobContext) async throws { throw ModelUnreachable() }
    func jobGaveUp(_ job: FailedJob, database: AsyncDatabase) async throws { try await real.jobGaveUp(job, database: database) }
}

@Suite(.dedicatedThreads) struct ExecutionJobFailureTests {
    /// Regression: the plan sat in `executing` with no job once its job had burnt its attempts (the
    /// second `make run` read an old model address and every call failed). It now fails, saying why,
    /// and a resume is offered.
    @Test(arguments: ["executing", "queued"])
    func aPlanWhoseJobRanOutOfAttemptsFailsWithTheReason(status: String) async throws {
        let harness = try ExecutionHarness()
        let plan = try await harness.approvedPlan()
        try harness.connection.execute("UPDATE jobs SET max_attempts = 2 WHERE plan_id = $1 AND kind = 'execution'", [plan])
        if status == "executing" {
            #expect(try PlanQueries(harness.connection).changeStatus(id: plan, from: "queued", to: "executing", reason: nil))
        }
        let settings = harness.settings()
        try await harness.generation.withModel([]) { client in
            let real = ExecutionHandler(llm: client, sandbox: try Sandbox(), settings: settings)
            let daemon = ExecutorDaemon(configuration: .init(conninfo: harness.generation.conninfo, jobSlots: 1, pollInterval: .milliseconds(100),
                                                             retryDelay: .zero, owner: "failure-test"),
                                        handlers: [UnreachableModelExecution(real: real)])
            let running = Task { await daemon.run() }
            var final = ""
            for _ in 0..<200 where final != "failed" {
                try await Task.sleep(for: .milliseconds(100))
                final = try harness.connection.query("SELECT status FROM masterplans WHERE id = $1", [plan]).first!.decode(String.self, 0)
            }
            daemon.stop()
            await running.value
        }

        let row = try harness.connection.query("""
            SELECT p.status, p.status_reason, j.state, j.attempts FROM masterplans p JOIN jobs j ON j.plan_id = p.id
            WHERE p.id = $1 AND j.kind = 'execution'
            """, [plan]).first!
        #expect(try row.decode(String.self, 0) == "failed")
        let reason = try row.decode(String.self, 1)
        #expect(reason.contains("after 2 attempts") && reason.contains("refused the connection") && reason.contains("Resume"), "\(reason)")
        #expect(try row.decode(String.self, 2) == "failed")
        #expect(try row.decode(Int.self, 3) == 2)
        // The UI hears of it like any other status change, with the reason.
        let event = try harness.connection.query("""
            SELECT payload->>'from', payload->>'to', payload->>'reason' FROM events WHERE plan_id = $1 AND type = 'plan_status_changed'
            ORDER BY id DESC LIMIT 1
            """, [plan]).first!
        #expect(try event.decode(String.self, 0) == status)
        #expect(try event.decode(String.self, 1) == "failed")
        #expect(try event.decode(String.self, 2) == reason)
    }
}
