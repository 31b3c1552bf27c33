import Foundation
import Postgres
import Store

/// The bench's database (a private throwaway cluster unless a URL is given), its user, and its
/// temporary folder (workspaces under `data/`, mode 0755 so the sandbox user could enter it).
final class ExecutorBenchEnvironment: Sendable {
    let folder: String
    let dataDirectory: String
    let cluster: PrivateCluster?
    let conninfo: String
    let ownerID: UUID
    let profiling: Bool
    let keepFolder: Bool

    /// The private cluster's postmaster, whose CPU time (with its reaped backends') the runs report.
    var postmasterPID: pid_t? {
        guard let cluster, let text = try? String(contentsOfFile: cluster.dataDirectory + "/postmaster.pid", encoding: .utf8) else { return nil }
        return text.split(separator: "\n").first.flatMap { pid_t($0) }
    }

    var description: String {
        cluster == nil ? "the given database" : "private PostgreSQL cluster (fsync off, unix socket)"
    }

    init(databaseURL: String?, profile: Bool, keepFolder: Bool) throws {
        var template = Array("/tmp/mpbench-executor.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw BenchFailure("mkdtemp in /tmp failed: errno \(errno)") }
        folder = String(cString: made)
        chmod(folder, 0o755)
        dataDirectory = folder + "/data"
        self.keepFolder = keepFolder
        do {
            try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o755])
            if let databaseURL {
                cluster = nil
                conninfo = databaseURL
            } else {
                let started = try PrivateCluster.start(in: folder + "/pg", options: .init(throwaway: true, port: 5447, maxConnections: 100))
                cluster = started
                do {
                    if profile {
                        try Connection(started.conninfo()).simpleQuery("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
                        try started.restart()
                    }
                    try started.createDatabase("bench")
                    conninfo = started.conninfo(database: "bench")
                    try Migrator(directory: try MigrationsFolder.locate()).migrate(on: try Connection(conninfo))
                } catch {
                    try? started.stop(immediate: true)
                    throw error
                }
            }
        } catch {
            if !keepFolder { try? FileManager.default.removeItem(atPath: folder) }
            throw error
        }
        let connection = try Connection(conninfo)
        var profiling = false
        if profile {
            do {
                try connection.simpleQuery("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
                _ = try connection.query("SELECT pg_stat_statements_reset()")
                profiling = true
            } catch {
                print("profile:   unavailable (\(error)); the figures are printed without it")
            }
        }
        self.profiling = profiling
        ownerID = try UserStore(connection).create(email: "bench-executor-\(UUID().uuidString.prefix(8).lowercased())@example.org",
                                                   passwordHash: "bench: no login").id
    }

    /// Stops the cluster and removes the folder (unless asked to keep it).
    func stop() {
        if let cluster { try? cluster.stop(immediate: true) }
        if keepFolder {
            print("folder:    \(folder) kept")
        } else {
            try? FileManager.default.removeItem(atPath: folder)
        }
    }

    /// Stores the plan as generated (no tests), approves and queues it with its execution job, as
    /// the API does. Returns the plan and job ids.
    func queuePlan(_ plan: SyntheticExecutionPlan, budgetUSD: Double) throws -> (plan: UUID, job: UUID) {
        let connection = try Connection(conninfo)
        let planID = try PlanQueries(connection).create(ownerID: ownerID, request: "executor bench", budgetUSD: budgetUSD)
        try PlanWriter(connection: connection).storeGeneratedPlan(planID: planID, plan: plan.validated, tests: [], estimate: nil,
                                                                  changeNote: "synthetic plan of masterplan bench executor")
        let job = try connection.transaction { c in
            let plans = PlanQueries(c)
            _ = try plans.freezeAcceptanceTests(planID: planID)
            guard try plans.changeStatus(id: planID, from: "draft", to: "approved", reason: nil),
                  try plans.changeStatus(id: planID, from: "approved", to: "queued", reason: nil) else {
                throw BenchFailure("the stored bench plan was not a draft")
            }
            return try JobQueue(c).enqueue(.execution, planID: planID)
        }
        return (planID, job)
    }
}
