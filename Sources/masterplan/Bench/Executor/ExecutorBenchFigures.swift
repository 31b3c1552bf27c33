import Foundation
import LLM
import Postgres

/// What one run did, read back from the database: the makespan between the plan's
/// `masterplan_execution_start` and `masterplan_execution_complete` events, where the time went
/// (atoms, wave ends, between waves), and with `--profile` the costliest statements.
struct ExecutorBenchFigures {
    var makespan: Double
    var job: Double
    var wall: Double
    var atoms: Int
    var attempts: Int
    var llmCalls: Int
    var waves: Int
    /// Seconds: start event → first wave started; Σ wave start → its last atom done; Σ last atom
    /// done → wave passed (commit, gate); Σ wave passed → next wave started; last wave → complete event.
    var beforeWaves = 0.0, atomPhases = 0.0, waveEnds = 0.0, betweenWaves = 0.0, afterWaves = 0.0
    /// Milliseconds: mean atom time (started → finished), mean wait from a wave's start to its first
    /// atom's start, mean wait from a wave's start to its last atom's start.
    var meanAtom = 0.0, meanFirstStart = 0.0, meanLastStart = 0.0
    var delay: Duration
    var memory: MemorySampler.Figures
    var cpu: CPUTimes
    var statements: [(calls: Int, total: Double, mean: Double, query: String)] = []
    var planID: UUID?
    /// The replay server's simulated prompt-cache sums by purpose (empty without a simulated cache).
    var promptCacheTotals: [String: PromptCacheSimulator.Totals] = [:]

    init(connection: Connection, planID: UUID, jobID: UUID, wall: Double, delay: Duration, memory: MemorySampler.Figures,
         cpu: CPUTimes, profiling: Bool) throws {
        self.cpu = cpu
        self.wall = wall
        self.delay = delay
        self.memory = memory
        func epoch(_ type: String) throws -> Double {
            guard let row = try connection.query(
                "SELECT extract(epoch FROM created_at)::float8 FROM events WHERE plan_id = $1 AND type = $2 ORDER BY id LIMIT 1",
                [planID, type]).first else { throw BenchFailure("the plan has no \(type) event") }
            return try row.decode(Double.self, 0)
        }
        let start = try epoch("masterplan_execution_start"), complete = try epoch("masterplan_execution_complete")
        makespan = complete - start
        let jobRow = try connection.query(
            "SELECT extract(epoch FROM finished_at - started_at)::float8 FROM jobs WHERE id = $1", [jobID]).first!
        job = try jobRow.decode(Double?.self, 0) ?? 0
        let counts = try connection.query("""
            SELECT (SELECT count(*) FROM atoms WHERE plan_id = $1 AND status = 'succeeded'),
                   (SELECT count(*) FROM atom_attempts WHERE plan_id = $1),
                   (SELECT count(*) FROM llm_calls WHERE plan_id = $1),
                   (SELECT avg(extract(epoch FROM finished_at - started_at))::float8 * 1000 FROM atoms WHERE plan_id = $1)
            """, [planID]).first!
        atoms = try counts.decode(Int.self, 0)
        attempts = try counts.decode(Int.self, 1)
        llmCalls = try counts.decode(Int.self, 2)
        meanAtom = try counts.decode(Double?.self, 3) ?? 0
        let rows = try connection.query("""
            SELECT extract(epoch FROM w.started_at)::float8, extract(epoch FROM w.finished_at)::float8,
                   extract(epoch FROM min(a.started_at))::float8, extract(epoch FROM max(a.started_at))::float8,
                   extract(epoch FROM max(a.finished_at))::float8
            FROM waves w JOIN atoms a ON a.plan_id = w.plan_id AND a.wave = w.number
            WHERE w.plan_id = $1 GROUP BY w.id, w.number ORDER BY w.number
            """, [planID]).rows.map { row in
            (started: try row.decode(Double.self, 0), finished: try row.decode(Double.self, 1), firstAtom: try row.decode(Double.self, 2),
             lastAtomStart: try row.decode(Double.self, 3), lastAtomDone: try row.decode(Double.self, 4))
        }
        waves = rows.count
        if let first = rows.first, let last = rows.last {
            beforeWaves = first.started - start
            afterWaves = complete - last.finished
            for (index, wave) in rows.enumerated() {
                atomPhases += wave.lastAtomDone - wave.started
                waveEnds += wave.finished - wave.lastAtomDone
                if index + 1 < rows.count { betweenWaves += rows[index + 1].started - wave.finished }
                meanFirstStart += (wave.firstAtom - wave.started) * 1000 / Double(rows.count)
                meanLastStart += (wave.lastAtomStart - wave.started) * 1000 / Double(rows.count)
            }
        }
        if profiling {
            statements = try connection.query("""
                SELECT calls, total_exec_time, mean_exec_time, regexp_replace(query, '\\s+', ' ', 'g')
                FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                ORDER BY total_exec_time DESC LIMIT 12
                """).rows.map { row in
                (calls: try row.decode(Int.self, 0), total: try row.decode(Double.self, 1), mean: try row.decode(Double.self, 2),
                 query: try row.decode(String.self, 3))
            }
        }
    }

    func printFigures() {
        let f = { (value: Double, decimals: Int) in BenchFigures.format(value, decimals) }
        print("makespan:  \(f(makespan, 3)) s (masterplan_execution_start -> masterplan_execution_complete); job \(f(job, 3)) s "
              + "(claimed -> done, with loading and storing the atoms); \(f(wall, 3)) s seen by the bench")
        print("work:      \(atoms) atoms succeeded, \(attempts) attempts, \(llmCalls) LLM calls, \(waves) waves")
        print("where:     before the first wave \(f(beforeWaves * 1000, 0)) ms; atoms (wave start -> its last atom done) "
              + "\(f(atomPhases * 1000, 0)) ms; wave ends (last atom -> wave passed: commit, gate) \(f(waveEnds * 1000, 0)) ms "
              + "(\(f(waves > 0 ? waveEnds * 1000 / Double(waves) : 0, 1)) ms/wave); between waves \(f(betweenWaves * 1000, 0)) ms "
              + "(\(f(waves > 1 ? betweenWaves * 1000 / Double(waves - 1) : 0, 1)) ms/gap); after the last wave \(f(afterWaves * 1000, 0)) ms")
        let delayMS = BenchFigures.seconds(delay) * 1000
        print("atoms:     mean \(f(meanAtom, 2)) ms each (started -> finished; the model's delay is \(f(delayMS, 0)) ms); a wave's "
              + "first atom starts \(f(meanFirstStart, 2)) ms and its last \(f(meanLastStart, 2)) ms after the wave (means)")
    }

    func printCPU() {
        let perAtom = { (seconds: Double) in BenchFigures.format(seconds * 1000 / Double(max(1, atoms)), 2) }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let total = cpu.user + cpu.system + cpu.children + (cpu.database ?? 0)
        var line = "cpu:       per atom, this process \(perAtom(cpu.user + cpu.system)) ms (user \(perAtom(cpu.user)), system "
            + "\(perAtom(cpu.system))), its child processes (git) \(perAtom(cpu.children)) ms"
        if let database = cpu.database { line += ", PostgreSQL \(perAtom(database)) ms" }
        line += "; \(BenchFigures.format(total / max(wall, 0.001), 2)) cores busy on average over the run (of \(cores))"
        print(line)
        // However well the work were spread over the cores, the run cannot take less than this.
        let floor = total / Double(max(cores, 1))
        print("floor:     that CPU on \(cores) cores takes at least \(BenchFigures.format(floor, 3)) s however it is spread, "
              + "\(perAtom(floor)) ms/atom (the bench saw \(BenchFigures.format(wall, 3)) s)")
    }

    func printProfile() {
        guard !statements.isEmpty else { return }
        let calls = statements.reduce(0) { $0 + $1.calls }
        let total = statements.reduce(0.0) { $0 + $1.total }
        print("database:  the \(statements.count) costliest statements: \(calls) calls, \(BenchFigures.format(total, 0)) ms "
              + "of execution in the server (\(BenchFigures.format(Double(calls) / Double(max(1, atoms)), 1)) calls/atom)")
        for statement in statements {
            print("  \(String(format: "%6d", statement.calls)) calls  \(String(format: "%8.1f", statement.total)) ms  "
                  + "\(String(format: "%6.3f", statement.mean)) ms/call  \(String(statement.query.prefix(110)))")
        }
    }
}
