import API
import Foundation
import Glibc
import Postgres
import Store

/// Everything `masterplan up` runs, started in order and stopped in the reverse order: the private
/// PostgreSQL cluster, the demo model (replay-llm) when no model is configured, the API pool, the
/// events relay, the executor and nginx.
///
/// Used from the main thread only; the children are plain processes watched by polling `waitpid`.
final class UpStack {
    struct Options {
        var port: Int
        var workers: Int
        var nginx: Bool
        var adminEmail: String
        /// A cassette to replay instead of the bundled demo (for tests and cassette authors).
        var demoCassette: String?
        var readyTimeoutSeconds: Int
    }

    let layout: UpLayout
    let options: Options
    /// The `masterplan` executable the children run (this very binary).
    let executable: String

    var lockDescriptor: Int32 = -1
    var cluster: PrivateCluster?
    /// The postmaster's PID, read from its pid file, to notice a database that went away.
    var postmasterPID: pid_t?
    var replay: UpProcess?
    var api: UpProcess?
    var relay: UpProcess?
    var executor: UpProcess?
    var nginx: UpProcess?
    var stopped = false
    /// Every child started, for `run/children`.
    var spawned: [UpProcess] = []
    /// How each child was started (by its name), to start it again the same way when it dies.
    var launches: [String: Launch] = [:]
    /// Restarts in a row of each child (by its name), for the backoff.
    var restartsInARow: [String: Int] = [:]
    /// Children that died and wait for their restart: when, and the name the console uses.
    var pendingRestarts: [String: (title: String, due: Date)] = [:]
    /// The options the private cluster was started with, to start it again after it went away.
    var clusterOptions: PrivateCluster.Options?
    /// Set while the private cluster is away: since when, failed starts, and when to try next.
    var databaseOutage: (since: Date, failures: Int, next: Date)?

    /// What `spawn` was given for a child.
    struct Launch {
        var arguments: [String]
        var environment: [String: String]
        var executable: String?
    }

    /// Long-running children in start order, with the names the console uses.
    var children: [(title: String, process: UpProcess)] {
        [("demo model (replay-llm)", replay), ("API pool", api), ("events relay", relay), ("executor", executor), ("nginx", nginx)]
            .compactMap { title, process in process.map { (title, $0) } }
    }

    init(layout: UpLayout, options: Options) {
        self.layout = layout
        self.options = options
        executable = Self.ownExecutable()
    }

    /// The executor's lease, in seconds (renewed every third of it).
    static let executorLeaseSeconds = 10

    static func ownExecutable() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        if count > 0 { return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        return URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
    }

    /// Stops start-up at the next step when a stop signal came.
    func checkpoint() throws {
        if let signal = UpSignals.stopSignal { throw UpInterrupted(signal: signal) }
    }

    // MARK: - Start

    func start() throws {
        let say = UpConsole.say
        guard !layout.dataDirectory.contains(":") else {
            throw UpFailure("the data folder \(layout.dataDirectory) contains ':', which socket paths cannot: choose another --data-dir")
        }
        try layout.create()
        try lock()
        say("masterplan up: data folder \(layout.dataDirectory)")
        stopLeftovers()
        if LoopbackHTTP.accepts(port: UInt16(options.port)) {
            throw UpFailure("127.0.0.1:\(options.port) is already taken by another program: choose another port with --port")
        }
        let staticFolder = options.nginx ? try UpLayout.staticFolder() : ""
        let locations = options.nginx ? try UpLayout.nginxLocations() : ""
        let nginxExecutable = options.nginx ? try UpLayout.nginxExecutable() : ""
        let migrations = try MigrationsFolder.locate()
        let configuredModel = try configuredLLM()

        // The database.
        let conninfo = try startDatabase()
        try checkpoint()
        do {
            let connection: Connection
            do {
                connection = try Connection(conninfo)
            } catch {
                throw UpFailure("cannot connect to the database: \(error)")
            }
            let applied = try Migrator(directory: migrations).migrate(on: connection)
            let range = applied.count > 1 ? "\(applied.first!.name) … \(applied.last!.name)" : applied.first?.name ?? ""
            say("  migrations \(applied.isEmpty ? "schema is current" : "applied \(applied.count) (\(range))")")
            try ensureAdmin(connection, conninfo: conninfo)
        }  // the connection closes here
        try checkpoint()

        var environment = ProcessInfo.processInfo.environment
        environment["MASTERPLAN_DATABASE_URL"] = conninfo
        environment["MASTERPLAN_JWT_SECRET"] = try jwtSecret()
        environment["MASTERPLAN_MIGRATIONS_DIR"] = migrations
        environment["MASTERPLAN_DATA_DIR"] = layout.dataDirectory

        // The model.
        try startModel(&environment, configured: configuredModel)
        try checkpoint()

        // The API pool and the relay; then the box is checked with their sockets in place, and the executor
        // (which checks it again) starts only when it holds.
        api = try spawn("api", ["serve", "api", "--socket", layout.apiSocket, "--workers", String(options.workers)], environment)
        relay = try spawn("events", ["serve", "events", "--socket", layout.eventsSocket], environment)
        try waitForSocket(layout.apiSocket, of: api!, title: "API pool")
        try waitForSocket(layout.eventsSocket, of: relay!, title: "events relay")
        try checkSandbox(environment)
        try checkpoint()
        // A short lease: when the executor dies, the one started in its place takes its jobs over after
        // at most this long.
        executor = try spawn("executor", ["executor", "--data-dir", layout.dataDirectory, "--lease", String(Self.executorLeaseSeconds)],
                             environment)
        try waitForLine("level=info msg=started model=", of: executor!, title: "executor", seconds: 120)
        try checkpoint()

        // nginx, then readiness through it.
        var ready = "ready: no nginx (--no-nginx); the API answers FastCGI on \(layout.apiSocket), the relay on \(layout.eventsSocket)"
        if options.nginx {
            let config = UpNginxConfig(layout: layout, port: options.port, staticFolder: staticFolder, locationsFile: locations,
                                       workerUser: nginxWorkerUser(staticFolder: staticFolder))
            try config.write()
            nginx = try spawn("nginx", ["-p", layout.nginxPrefix + "/", "-c", config.path, "-e", layout.log("nginx-error")],
                              [:], executable: nginxExecutable)
            try waitForReadiness()
            ready = "ready: open http://127.0.0.1:\(options.port)/ and log in as \(options.adminEmail)"
        }

        say("")
        say(ready)
        var running = children.map { "\($0.title) \($0.process.pid)" }
        if let postmasterPID { running.append("postgres \(postmasterPID)") }
        say("  running    " + running.joined(separator: ", "))
        say("  logs       \(layout.logs)/{\(children.map(\.process.name).joined(separator: ","))}.log"
            + (cluster.map { ", PostgreSQL: \($0.logFile)" } ?? ""))
        if options.nginx { say("  metrics    curl http://127.0.0.1:\(options.port)/metrics") }
        say("Ctrl-C stops everything.")
    }
}
