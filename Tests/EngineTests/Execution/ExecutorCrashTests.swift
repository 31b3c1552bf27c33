@testable import Engine
import Foundation
import JSON
import LLM
import PlanCore
import Postgres
import Store
import Testing
import TestSupport

/// `masterplan executor` killed with SIGKILL in the middle of a wave, then started again: the plan
/// completes with the same workspace tree as an uninterrupted run, no atom accepted twice, and every
/// event of the run exactly once.
@Suite(.dedicatedThreads) struct ExecutorCrashTests {
    @Test func killedInTheMiddleOfAWaveTheNextExecutorFinishesWithTheSameTree() async throws {
        let harness = try ExecutionHarness()
        let plan = try await harness.approvedPlan()
        // Slow answers, one atom at a time, so the kill lands inside wave 2.
        let entries = ExecutionHarness.atoms().map { entry -> CassetteEntry in
            var slow = entry
            slow.delay = .milliseconds(700)
            return slow
        }
        let server = try await ReplayServer.bind(cassette: Cassette(entries: entries), host: "127.0.0.1", port: 0)
        let serving = Task { try await server.serve() }
        defer {
            Task { await server.close() }
        }
        let environment = [
            "MASTERPLAN_DATABASE_URL": harness.generation.conninfo,
            "MASTERPLAN_LLM": "openai-compatible:\(WordCountFixture.model)@\(server.baseURL)",
            "MASTERPLAN_DATA_DIR": harness.data.path,
            "MASTERPLAN_CONCURRENCY": "1",
            "HOME": "/tmp",
        ]
        let arguments = ["executor", "--lease", "3", "--poll", "1", "--jobs", "1"]

        let first = try BackgroundProcess(MasterplanBinary.path, arguments, environment: environment,
                                          outputPath: harness.data.sub("executor-1.log"))
        // Wait for the first atom of wave 2 to be accepted, then kill -9.
        var reachedWave2 = false
        for _ in 0..<600 {
            if try count("""
                SELECT count(*) FROM atoms WHERE plan_id = $1 AND wave = 2 AND status = 'succeeded'
                """, [plan], harness) >= 1 {
                reachedWave2 = true
                break
            }
            if !first.isRunning { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(reachedWave2, "the executor reached wave 2: \(first.output)")
        first.send(SIGKILL)
        _ = first.waitForExit(seconds: 10)
        #expect(try status(plan, harness) == "executing", "killed mid-run, the plan is still executing")
        #expect(try count("SELECT count(*) FROM atoms WHERE plan_id = $1 AND status <> 'succeeded'", [plan], harness) >= 1)

        // What a crash of the machine could also have lost: workspace writes are not flushed one by
        // one (accepted content is durable in the database), so an accepted file may be gone, empty
        // or stale. The next executor must restore each from its accepted attempt.
        let accepted = try harness.connection.query(
            "SELECT file_path FROM atoms WHERE plan_id = $1 AND final_content_sha256 IS NOT NULL ORDER BY wave, file_path", [plan])
            .rows.map { try $0.decode(String.self, 0) }
        #expect(accepted.count >= 3, "waves 1 and 2 have accepted atoms: \(accepted)")
        let root = harness.workspace(plan)
        for (position, path) in accepted.prefix(3).enumerated() {
            switch position {
            case 0: try FileManager.default.removeItem(atPath: root + "/" + path)
            case 1: try Data().write(to: URL(fileURLWithPath: root + "/" + path))
            default: try Data("stale\n".utf8).write(to: URL(fileURLWithPath: root + "/" + path))
            }
        }

        let second = try BackgroundProcess(MasterplanBinary.path, arguments, environment: environment,
                                           outputPath: harness.data.sub("executor-2.log"))
        var finished = false
        for _ in 0..<1200 {
            if try status(plan, harness) == "completed" {
                finished = true
                break
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        _ = second.stop(SIGTERM, seconds: 20)
        await server.close()
        try? await serving.value
        #expect(finished, "the second executor completed the plan: \(second.output)")

        // The same tree as an uninterrupted run: exactly the reference files and the approved tests.
        let tracked = try hostRun("/usr/bin/git", ["-C", harness.workspace(plan), "ls-files"],
                                  environment: ["HOME": "/tmp", "PATH": "/usr/bin:/bin"]).output
            .split(separator: "\n").map(String.init).sorted()
        let expected = (WordCountFixture.files.map(\.path)
                        + ["tests/test_cli.py", "tests/test_cli_missing_file.py", "tests/test_counter.py"]).sorted()
        #expect(tracked == expected)
        for (path, content) in WordCountFixture.files {
            #expect(harness.read(plan, path) == content)
        }
        #expect(try harness.commits(plan) == ["wave 1: 2 atoms", "wave 2: 2 atoms", "wave 3: 1 atom"])
        // No atom accepted twice, none lost; every event once.
        #expect(try count("SELECT count(*) FROM atom_attempts WHERE plan_id = $1 AND accepted", [plan], harness) == 5)
        let events = try harness.generation.events(plan: plan)
        let types = events.map(\.type)
        #expect(types.filter { $0 == "atom_execution_complete" }.count == 5)
        #expect(types.filter { $0 == "wave_execution_start" }.count == 3)
        #expect(types.filter { $0 == "wave_execution_complete" }.count == 3)
        #expect(types.filter { $0 == "masterplan_execution_start" }.count == 1)
        #expect(types.filter { $0 == "masterplan_execution_complete" }.count == 1)
        #expect(zip(events, events.dropFirst()).allSatisfy { $0.id < $1.id })
        // Every atom_execution_progress names an attempt that is recorded (none was lost).
        let recordedAttempts = try count("SELECT count(*) FROM atom_attempts WHERE plan_id = $1", [plan], harness)
        #expect(types.filter { $0 == "atom_execution_progress" }.count == recordedAttempts)
    }

    func count(_ sql: String, _ parameters: [any PostgresBindable], _ harness: ExecutionHarness) throws -> Int {
        try harness.connection.query(sql, parameters).first!.decode(Int.self, 0)
    }

    func status(_ plan: UUID, _ harness: ExecutionHarness) throws -> String {
        try harness.generation.status(plan: plan).status
    }
}
