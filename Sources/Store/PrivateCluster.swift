import Base
import Foundation
import Postgres

/// A PostgreSQL cluster of our own in a folder, reachable only through a unix socket in that folder.
///
/// Used by the test suite (a throwaway cluster per test process) and by `masterplan up` (a cluster in
/// the data folder when no database URL is given). It runs `initdb` and `pg_ctl` from the machine's
/// PostgreSQL installation; as root, which both refuse, it runs them as the `postgres` user.
public final class PrivateCluster: Sendable {
    /// The folder holding `data/`, the socket and the server log.
    public let directory: String
    public let port: Int
    let binDirectory: String
    let runAsUser: String?

    public var dataDirectory: String { directory + "/data" }
    public var socketDirectory: String { directory }
    public var logFile: String { directory + "/postgres.log" }

    /// A libpq conninfo for one database of this cluster, as the superuser `postgres`.
    public func conninfo(database: String = "postgres") -> String {
        "host=\(directory) port=\(port) user=postgres dbname=\(database)"
    }

    /// Options for a new cluster.
    public struct Options: Sendable {
        /// Turn off fsync and friends: for throwaway test clusters only.
        public var throwaway: Bool
        public var port: Int
        public var maxConnections: Int

        public init(throwaway: Bool, port: Int = 5432, maxConnections: Int = 200) {
            self.throwaway = throwaway
            self.port = port
            self.maxConnections = maxConnections
        }
    }

    /// Creates the cluster in `directory` if it has no `data/` yet, then starts it and waits until it
    /// accepts connections. A server this folder's cluster left running is stopped first.
    public static func start(in directory: String, options: Options) throws -> PrivateCluster {
        let binDirectory = try findBinDirectory()
        let runAsUser: String? = geteuid() == 0 ? "postgres" : nil
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let cluster = PrivateCluster(directory: directory, port: options.port, binDirectory: binDirectory, runAsUser: runAsUser)
        if let user = runAsUser {
            // The server runs as `user`, which must own the folder.
            try cluster.run("/bin/chown", ["-R", user, directory], asUser: nil)
        }
        // The socket and the data are the stack's alone: the folder and the socket are closed to every
        // other local user (the sandbox's included), who could otherwise log in as the superuser.
        chmod(directory, 0o700)
        if !fm.fileExists(atPath: cluster.dataDirectory + "/PG_VERSION") {
            var args = ["-D", cluster.dataDirectory, "--auth-local=peer", "--auth-host=reject", "-U", "postgres", "-E", "UTF8", "--locale=C"]
            if options.throwaway { args.append("--no-sync") }
            try cluster.run(binDirectory + "/initdb", args)
        }
        try cluster.writeAuthentication()
        if fm.fileExists(atPath: cluster.dataDirectory + "/postmaster.pid") {
            _ = try? cluster.run(binDirectory + "/pg_ctl", ["-D", cluster.dataDirectory, "-m", "immediate", "-w", "stop"])
        }
        var serverOptions = "-k \(directory) -c listen_addresses= -p \(options.port) -c max_connections=\(options.maxConnections) -c unix_socket_permissions=0700"
        if options.throwaway {
            serverOptions += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        }
        try cluster.run(binDirectory + "/pg_ctl", ["-D", cluster.dataDirectory, "-l", cluster.logFile, "-o", serverOptions, "-w", "-t", "60", "start"])
        return cluster
    }

    /// The name of the user this process runs as, which alone may log in (as `postgres`).
    static var currentUserName: String {
        guard let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name else { return String(geteuid()) }
        return String(cString: name)
    }

    /// Writes `pg_hba.conf` and `pg_ident.conf` (on every start, so that a cluster made by an older
    /// version, which trusted every local user, is closed too): local socket connections only, with
    /// peer authentication (the kernel says which user connects), and the one user that runs the stack
    /// mapped to the superuser. Any other local user, the sandbox's included, is refused even if it
    /// reached the socket.
    func writeAuthentication() throws {
        let hba = """
            # Written by masterplan (PrivateCluster) at every start; edits are lost.
            # Local socket connections only, by peer authentication, as mapped in pg_ident.conf.
            local all all peer map=masterplan

            """
        let ident = """
            # Written by masterplan (PrivateCluster) at every start; edits are lost.
            # MAPNAME    SYSTEM-USER    DATABASE-USER
            masterplan   \(Self.currentUserName)   postgres

            """
        for (name, text) in [("pg_hba.conf", hba), ("pg_ident.conf", ident)] {
            let path = dataDirectory + "/" + name
            do {
                try text.write(toFile: path, atomically: true, encoding: .utf8)
            } catch {
                throw PrivateClusterError(message: "cannot write \(path): \(error.localizedDescription)")
            }
            chmod(path, 0o600)
            if let user = runAsUser, let entry = getpwnam(user) { chown(path, entry.pointee.pw_uid, entry.pointee.pw_gid) }
        }
    }

    init(directory: String, port: Int, binDirectory: String, runAsUser: String?) {
        self.directory = directory
        self.port = port
        self.binDirectory = binDirectory
        self.runAsUser = runAsUser
    }

    /// Stops the server: `fast` rolls back open transactions and disconnects clients. Returns once the
    /// postmaster process has ended: `pg_ctl -w` returns when `postmaster.pid` is gone, which the
    /// postmaster removes a moment before it exits (and on a loaded machine, a while before).
    public func stop(immediate: Bool = false) throws {
        let postmaster = (try? String(contentsOfFile: dataDirectory + "/postmaster.pid", encoding: .utf8))
            .flatMap { $0.split(separator: "\n").first }.flatMap { pid_t($0) }
        try run(binDirectory + "/pg_ctl", ["-D", dataDirectory, "-m", immediate ? "immediate" : "fast", "-w", "-t", "60", "stop"])
        guard let postmaster, postmaster > 0 else { return }
        let deadline = Date().addingTimeInterval(30)
        while Self.isRunning(postmaster), Date() < deadline { usleep(20_000) }
    }

    /// Whether `pid` is a live process (a zombie, ended but not yet reaped by its parent, is not).
    static func isRunning(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 || errno == EPERM else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return !stat[stat.index(after: close)...].hasPrefix(" Z")
    }

    /// Restarts the server (clients lose their connections).
    public func restart() throws {
        try run(binDirectory + "/pg_ctl", ["-D", dataDirectory, "-m", "fast", "-w", "-t", "60", "-l", logFile, "restart"])
    }

    /// Creates a database, optionally as a copy of a template database.
    public func createDatabase(_ name: String, template: String? = nil) throws {
        let connection = try Connection(conninfo())
        var sql = "CREATE DATABASE \(try connection.quoteIdentifier(name))"
        if let template { sql += " TEMPLATE \(try connection.quoteIdentifier(template))" }
        try connection.simpleQuery(sql)
    }

    /// Drops a database, disconnecting its sessions.
    public func dropDatabase(_ name: String) throws {
        let connection = try Connection(conninfo())
        try connection.simpleQuery("DROP DATABASE IF EXISTS \(try connection.quoteIdentifier(name)) WITH (FORCE)")
    }

    @discardableResult
    func run(_ executable: String, _ arguments: [String]) throws -> String {
        try run(executable, arguments, asUser: runAsUser)
    }

    @discardableResult
    func run(_ executable: String, _ arguments: [String], asUser user: String?) throws -> String {
        var program = executable
        var args = arguments
        if let user {
            program = "/usr/sbin/runuser"
            args = ["-u", user, "--", executable] + arguments
        }
        let outputPath = directory + "/.command-\(getpid())-\(UUID().uuidString).out"
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let outcome: ChildProcess.Outcome
        do {
            outcome = try ChildProcess.run(program, args, outputPath: outputPath)
        } catch {
            throw PrivateClusterError(message: error.description)
        }
        guard outcome.status == 0 else {
            let name = (executable as NSString).lastPathComponent
            throw PrivateClusterError(message: "\(name) failed with status \(outcome.status): \(outcome.output.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return outcome.output
    }

    /// Where `initdb` and `pg_ctl` live: `MASTERPLAN_PG_BINDIR`, else the newest
    /// `/usr/lib/postgresql/N/bin`, else the PATH.
    static func findBinDirectory() throws -> String {
        let fm = FileManager.default
        if let dir = ProcessInfo.processInfo.environment["MASTERPLAN_PG_BINDIR"], !dir.isEmpty {
            guard fm.isExecutableFile(atPath: dir + "/initdb") else {
                throw PrivateClusterError(message: "MASTERPLAN_PG_BINDIR=\(dir) has no initdb: point it at PostgreSQL's bin folder")
            }
            return dir
        }
        if let versions = try? fm.contentsOfDirectory(atPath: "/usr/lib/postgresql") {
            for v in versions.compactMap(Int.init).sorted(by: >) {
                let dir = "/usr/lib/postgresql/\(v)/bin"
                if fm.isExecutableFile(atPath: dir + "/initdb") && fm.isExecutableFile(atPath: dir + "/pg_ctl") { return dir }
            }
        }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            if fm.isExecutableFile(atPath: "\(dir)/initdb") && fm.isExecutableFile(atPath: "\(dir)/pg_ctl") { return String(dir) }
        }
        throw PrivateClusterError(message: "PostgreSQL server programs (initdb, pg_ctl) were not found: install the Debian package postgresql (make deps) or set MASTERPLAN_PG_BINDIR")
    }
}

/// Why a private cluster could not be created, started or stopped.
public struct PrivateClusterError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
