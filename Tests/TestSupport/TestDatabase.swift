import Foundation
import Postgres
import Store
import Synchronization

/// The test suite's private PostgreSQL: one throwaway cluster per test process, started on first
/// use in a temporary folder (unix socket only), stopped and deleted when the process exits.
/// Each caller gets a database of its own, so suites never see each other's rows.
///
/// Nothing here skips: if PostgreSQL cannot be started, every test that needs it fails with the
/// reason.
public enum TestDatabase {
    /// The repository's root folder (found from this file's path).
    public static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    public static var migrationsDirectory: String { repositoryRoot + "/Migrations" }

    private static let started: Result<PrivateCluster, any Error> = {
        sweepAbandonedClusters()
        let folder = "\(tmpRoot)/masterplan-test-pg-\(getpid())"
        do {
            try? FileManager.default.removeItem(atPath: folder)
            // Every suite gets its own database and the executor suites several pools each, many at once:
            // the executor's adversarial and completion suites alone hold over a hundred connections.
            let cluster = try PrivateCluster.start(in: folder, options: .init(throwaway: true, maxConnections: 600))
            atexit { TestDatabase.shutdown() }
            return .success(cluster)
        } catch {
            return .failure(error)
        }
    }()

    private static let tmpRoot = "/tmp"
    private static let counter = Atomic<Int>(0)
    private static let templateLock = Mutex<Bool>(false)

    /// The running cluster (starting it on first use).
    public static func cluster() throws -> PrivateCluster { try started.get() }

    /// A new, empty database; returns its conninfo.
    public static func empty() throws -> String {
        let cluster = try cluster()
        let name = "t_\(getpid())_\(counter.add(1, ordering: .relaxed).newValue)"
        try cluster.createDatabase(name)
        return cluster.conninfo(database: name)
    }

    /// Inserts a user no password opens (`tag-UUID@example.com`) and returns its id: the owner of a
    /// test's plans and jobs.
    public static func insertUser(_ tag: String, on connection: Connection) throws -> UUID {
        try connection.query("INSERT INTO users (email, password_hash) VALUES ($1, 'x') RETURNING id",
                             ["\(tag)-\(UUID())@example.com"]).first!.decode(UUID.self, 0)
    }

    /// A new database with every migration applied (copied from a template migrated once).
    public static func migrated() throws -> String {
        let cluster = try cluster()
        try templateLock.withLock { done in
            guard !done else { return }
            try cluster.dropDatabase("t_migrated_template")
            try cluster.createDatabase("t_migrated_template")
            do {
                let connection = try Connection(cluster.conninfo(database: "t_migrated_template"))
                try Migrator(directory: migrationsDirectory).migrate(on: connection)
            }
            done = true
        }
        let name = "t_\(getpid())_\(counter.add(1, ordering: .relaxed).newValue)"
        try templateLock.withLock { _ in try cluster.createDatabase(name, template: "t_migrated_template") }
        return cluster.conninfo(database: name)
    }

    /// Makes the cluster accept `user` over the socket with its password (SCRAM); everyone else keeps
    /// the cluster's peer authentication. Used to test authentication failures.
    public static func requirePasswordFor(user: String, password: String) throws {
        let cluster = try cluster()
        let hba = cluster.dataDirectory + "/pg_hba.conf"
        let current = try String(contentsOfFile: hba, encoding: .utf8)
        let line = "local all \(user) scram-sha-256\n"
        if !current.hasPrefix(line) {
            try (line + current).write(toFile: hba, atomically: false, encoding: .utf8)
        }
        try Connection(cluster.conninfo()).query("SELECT pg_reload_conf()")
        // The postmaster rereads pg_hba.conf asynchronously after the signal: wait until the password works.
        for _ in 0..<100 {
            if (try? Connection("host=\(cluster.socketDirectory) port=\(cluster.port) user=\(user) password=\(password) dbname=postgres")) != nil {
                return
            }
            usleep(50_000)
        }
        throw PrivateClusterError(message: "pg_hba.conf change for \(user) did not take effect")
    }

    /// Stops the cluster and removes its folder; runs at process exit.
    static func shutdown() {
        guard case .success(let cluster) = started else { return }
        try? cluster.stop(immediate: true)
        try? FileManager.default.removeItem(atPath: cluster.directory)
    }

    /// Clusters left behind by test processes that died without cleaning up.
    static func sweepAbandonedClusters() {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: tmpRoot) else { return }
        for name in names where name.hasPrefix("masterplan-test-pg-") {
            guard let pid = Int32(name.dropFirst("masterplan-test-pg-".count)), pid != getpid() else { continue }
            if kill(pid, 0) == 0 || errno == EPERM { continue }  // its owner is alive
            let folder = "\(tmpRoot)/\(name)"
            let pidFile = folder + "/data/postmaster.pid"
            if let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
               let line = text.split(separator: "\n").first, let serverPID = Int32(line) {
                kill(serverPID, SIGQUIT)  // immediate shutdown of an orphaned postmaster
                for _ in 0..<50 where kill(serverPID, 0) == 0 { usleep(100_000) }
            }
            try? FileManager.default.removeItem(atPath: folder)
        }
    }
}
