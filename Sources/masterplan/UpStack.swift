import API
import Engine
import Foundation
import Glibc
import LLM
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

    private var lockDescriptor: Int32 = -1
    private var cluster: PrivateCluster?
    /// The postmaster's PID, read from its pid file, to notice a database that went away.
    private var postmasterPID: pid_t?
    private var replay: UpProcess?
    private var api: UpProcess?
    private var relay: UpProcess?
    private var executor: UpProcess?
    private var nginx: UpProcess?
    private var stopped = false
    /// Every child started, for `run/children`.
    private var spawned: [UpProcess] = []
    /// How each child was started (by its name), to start it again the same way when it dies.
    private var launches: [String: Launch] = [:]
    /// Restarts in a row of each child (by its name), for the backoff.
    private var restartsInARow: [String: Int] = [:]
    /// Children that died and wait for their restart: when, and the name the console uses.
    private var pendingRestarts: [String: (title: String, due: Date)] = [:]
    /// The options the private cluster was started with, to start it again after it went away.
    private var clusterOptions: PrivateCluster.Options?
    /// Set while the private cluster is away: since when, failed starts, and when to try next.
    private var databaseOutage: (since: Date, failures: Int, next: Date)?

    /// What `spawn` was given for a child.
    private struct Launch {
        var arguments: [String]
        var environment: [String: String]
        var executable: String?
    }

    /// Long-running children in start order, with the names the console uses.
    private var children: [(title: String, process: UpProcess)] {
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
    private func checkpoint() throws {
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
        if UpHTTPProbe.accepts(port: options.port) {
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
        try waitForLine("executor: started", of: executor!, title: "executor", seconds: 120)
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

    /// One `up` per data folder: an exclusive `flock` on `up.lock`, held until this process exits.
    private func lock() throws {
        let fd = open(layout.lockFile, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw UpFailure("cannot open \(layout.lockFile): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let other = (try? String(contentsOfFile: layout.lockFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
            close(fd)
            throw UpFailure("another masterplan up (pid \(other)) is using \(layout.dataDirectory): stop it first, or choose another --data-dir")
        }
        ftruncate(fd, 0)
        let pid = Array("\(getpid())\n".utf8)
        _ = pid.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        lockDescriptor = fd
    }

    /// `MASTERPLAN_DATABASE_URL` when set; otherwise a private cluster in the data folder (created on
    /// the first run) with a `masterplan` database. Returns the conninfo.
    private func startDatabase() throws -> String {
        if let url = ProcessInfo.processInfo.environment["MASTERPLAN_DATABASE_URL"], !url.isEmpty {
            UpConsole.say("  database   MASTERPLAN_DATABASE_URL (no private cluster is started)")
            return url
        }
        // As root the server runs as `postgres`, which must reach its folder.
        let (folder, closed) = layout.privateCluster
        let note = closed.map { " (the postgres user cannot enter \($0))" } ?? ""
        let firstRun = !FileManager.default.fileExists(atPath: folder + "/data/PG_VERSION")
        UpConsole.say("  database   \(firstRun ? "creating" : "starting") a private PostgreSQL cluster in \(folder)\(note)")
        let cluster: PrivateCluster
        let options = PrivateCluster.Options(throwaway: false, port: 5432, maxConnections: 100)
        do {
            cluster = try PrivateCluster.start(in: folder, options: options)
        } catch {
            throw UpFailure("the private PostgreSQL cluster did not start: \(error) (see \(folder)/postgres.log)")
        }
        self.cluster = cluster
        clusterOptions = options
        postmasterPID = Self.runningPostmaster(of: cluster)
        do {
            let admin = try Connection(cluster.conninfo())
            if try admin.query("SELECT 1 FROM pg_database WHERE datname = 'masterplan'").isEmpty {
                try admin.simpleQuery("CREATE DATABASE masterplan")
            }
        } catch {
            throw UpFailure("cannot create the database masterplan in the private cluster: \(error)")
        }
        return cluster.conninfo(database: "masterplan")
    }

    /// The PID in the cluster's `postmaster.pid` if that process runs; nil otherwise.
    static func runningPostmaster(of cluster: PrivateCluster) -> pid_t? {
        guard let pid = (try? String(contentsOfFile: cluster.dataDirectory + "/postmaster.pid", encoding: .utf8))
            .flatMap({ $0.split(separator: "\n").first }).flatMap({ pid_t($0) }), pid > 0 else { return nil }
        return kill(pid, 0) == 0 || errno == EPERM ? pid : nil
    }

    /// Runs the sandbox containment check the executor runs at its start, so that a box that does not
    /// hold stops `up` with the reason rather than with an executor that exits while starting.
    private func checkSandbox(_ environment: [String: String]) throws {
        let sandbox: Sandbox
        do {
            sandbox = try SandboxContainment.sandbox()
        } catch {
            throw UpFailure("the sandbox is unusable: \(error.description)")
        }
        let decision: SandboxContainment.Decision
        do {
            decision = try SandboxContainment.decide(sandbox: sandbox, dataDirectory: layout.dataDirectory, environment: environment)
        } catch {
            throw UpFailure(error.description)
        }
        switch decision {
        case .contained(let report):
            UpConsole.say("  sandbox    contained: \(report.summary)")
        case .switchedOff:
            UpConsole.say("  sandbox    " + SandboxContainment.switchedOffWarning)
        case .refused(let sentence):
            throw UpFailure(sentence)
        }
    }

    /// FNV-1a of a path, for a stable folder name.
    static func stableHash(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }

    /// Creates the admin account with a generated password, printed this once; on later runs says
    /// that it exists and how to set a new password.
    private func ensureAdmin(_ connection: Connection, conninfo: String) throws {
        let store = UserStore(connection)
        if try store.credentials(email: options.adminEmail) != nil {
            UpConsole.say("  admin      \(options.adminEmail) exists (its password was printed on the first run)")
            UpConsole.say("             new password, while this runs: masterplan user passwd \(options.adminEmail) --database-url '\(conninfo)'")
            return
        }
        let password = Self.generatePassword()
        do {
            _ = try store.create(email: options.adminEmail, passwordHash: PasswordHasher().hash(password), role: "admin",
                                 displayName: "Administrator")
        } catch let error as UserStoreError {
            throw UpFailure("cannot create the admin user: \(error) (choose another --admin-email)")
        }
        UpConsole.say("  admin      \(options.adminEmail)  password: \(password)")
        UpConsole.say("             (shown only this once; later: masterplan user passwd \(options.adminEmail) --database-url '\(conninfo)')")
    }

    /// 20 characters from an alphabet without look-alikes (about 115 bits), in groups of five.
    static func generatePassword() -> String {
        let alphabet = Array("abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789")
        var generator = SystemRandomNumberGenerator()
        let groups = (0..<4).map { _ in String((0..<5).map { _ in alphabet.randomElement(using: &generator)! }) }
        return groups.joined(separator: "-")
    }

    /// `MASTERPLAN_JWT_SECRET` when set; otherwise the data folder's `jwt-secret` (mode 0600),
    /// generated on the first run, so tokens survive a restart.
    private func jwtSecret() throws -> String {
        if let secret = ProcessInfo.processInfo.environment["MASTERPLAN_JWT_SECRET"], !secret.isEmpty {
            UpConsole.say("  secret     MASTERPLAN_JWT_SECRET from the environment")
            return secret
        }
        let path = layout.secretFile
        if let existing = try? String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
           existing.utf8.count >= TokenSigner.minimumSecretBytes {
            chmod(path, 0o600)
            return existing
        }
        var generator = SystemRandomNumberGenerator()
        let secret = Data((0..<48).map { _ in UInt8.random(in: 0...255, using: &generator) }).base64EncodedString()
        unlink(path)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw UpFailure("cannot create \(path): \(String(cString: strerror(errno)))") }
        let bytes = Array((secret + "\n").utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == bytes.count else { throw UpFailure("cannot write \(path)") }
        UpConsole.say("  secret     generated \(path) (mode 0600)")
        return secret
    }

    /// The model `MASTERPLAN_LLM` configures, checked before anything starts (a mistake is one line,
    /// not a half-started stack); nil when it is not set.
    private func configuredLLM() throws -> LLMConfiguration? {
        let environment = ProcessInfo.processInfo.environment
        guard let setting = environment[LLMConfiguration.variable], !setting.trimmingCharacters(in: .whitespaces).isEmpty else {
            return nil
        }
        do {
            return try LLMConfiguration.fromEnvironment(environment)
        } catch {
            throw UpFailure(error.message)
        }
    }

    /// The configured model; otherwise the scripted demo model: `masterplan replay-llm` on a free
    /// loopback port with the bundled cassette.
    private func startModel(_ environment: inout [String: String], configured: LLMConfiguration?) throws {
        if let configured {
            environment["MASTERPLAN_DEMO_MODEL"] = "0"
            UpConsole.say("  model      \(configured.effectiveModel(scripted: false)) (MASTERPLAN_LLM)")
            return
        }
        guard let cassette = options.demoCassette ?? UpLayout.demoCassette() else {
            throw UpFailure("no model is configured and the demo cassette (Sources/LLM/Resources/demo/fastapi-jwt.jsonl) was not found: "
                + "set MASTERPLAN_LLM, e.g. anthropic:claude-sonnet-4-5 with ANTHROPIC_API_KEY")
        }
        let model: String
        do {
            model = try Cassette.load(path: cassette).entries.compactMap(\.model).first ?? "masterplan-demo"
        } catch {
            throw UpFailure("the demo cassette is unusable: \(error.message)")
        }
        // The demo reports the input and cached tokens a provider's prompt cache would for what it is sent.
        let replay = try spawn("replay-llm", ["replay-llm", "--cassette", cassette, "--listen", "127.0.0.1:0", "--simulate-prompt-cache"],
                               environment)
        self.replay = replay
        let line = try waitForLine("replay-llm: listening on ", of: replay, title: "demo model (replay-llm)", seconds: 20)
        guard let start = line.range(of: "listening on "),
              let baseURL = line[start.upperBound...].split(separator: " ").first.map(String.init), baseURL.hasPrefix("http://") else {
            throw UpFailure("replay-llm printed no address: \(line)")
        }
        // Restarted, the demo model listens where the executor already looks for it.
        if let address = baseURL.dropFirst("http://".count).split(separator: "/").first {
            launches["replay-llm"]?.arguments = ["replay-llm", "--cassette", cassette, "--listen", String(address), "--simulate-prompt-cache"]
        }
        environment[LLMConfiguration.variable] = "openai-compatible:\(model)@\(baseURL)"
        environment["MASTERPLAN_DEMO_MODEL"] = "1"
        // The replay server needs no key; never send a real one to it.
        environment["OPENAI_API_KEY"] = nil
        let effective = LLMConfiguration(provider: .openAICompatible, model: model, baseURL: baseURL)
        UpConsole.say("  model      \(effective.effectiveModel(scripted: true))")
        UpConsole.say("             A SCRIPTED DEMO MODEL is answering, not a real LLM: replay-llm plays \(cassette), "
                      + "reporting the tokens OpenAI's prompt cache would")
        UpConsole.say("             (for a real model, set MASTERPLAN_LLM, e.g. anthropic:claude-sonnet-4-5 with ANTHROPIC_API_KEY)")
    }

    /// nginx's workers run as `www-data` (Debian's nginx user) when `up` runs as root, and the sockets'
    /// folder opens to that group alone (0750): no other local user — the sandbox's `nobody` above all —
    /// may connect to the API or the relay. Where there is no `www-data`, or the workers could not
    /// reach the UI, they stay root (like every other process of this stack) and the folder is 0700.
    private func nginxWorkerUser(staticFolder: String) -> String? {
        guard geteuid() == 0 else {
            chmod(layout.run, 0o700)
            return nil
        }
        if let closed = UpLayout.folderClosedToOthers(on: staticFolder) ?? UpLayout.folderClosedToOthers(on: layout.dataDirectory) {
            UpConsole.say("  nginx      workers run as root: \(closed) is closed to other users")
            chmod(layout.run, 0o700)
            return "root root"
        }
        guard getpwnam("www-data") != nil, let group = getgrnam("www-data") else {
            UpConsole.say("  nginx      workers run as root: this machine has no www-data user for them")
            chmod(layout.run, 0o700)
            return "root root"
        }
        chown(layout.run, 0, group.pointee.gr_gid)
        chmod(layout.run, 0o750)
        return "www-data www-data"
    }

    private func spawn(_ name: String, _ arguments: [String], _ environment: [String: String],
                       executable: String? = nil) throws -> UpProcess {
        let process = try UpProcess(name: name, executable: executable ?? self.executable, arguments: arguments,
                                    environment: environment, logPath: layout.log(name))
        spawned.append(process)
        if launches[name] == nil { launches[name] = Launch(arguments: arguments, environment: environment, executable: executable) }
        // Recorded so that the next `up` can stop what this one left if it is killed (SIGKILL).
        let record = spawned.filter { $0.exitStatus == nil }.map { "\($0.name) \($0.pid)" }.joined(separator: "\n") + "\n"
        try? record.write(toFile: layout.childrenFile, atomically: true, encoding: .utf8)
        return process
    }

    /// Stops what a previous `up` of this data folder left running when it was killed without
    /// stopping its children: the process groups recorded in `run/children`, if they still run one
    /// of our commands (the PID may have been reused by then).
    private func stopLeftovers() {
        guard let record = try? String(contentsOfFile: layout.childrenFile, encoding: .utf8) else { return }
        var groups: [(String, pid_t)] = []
        for line in record.split(separator: "\n") {
            let words = line.split(separator: " ")
            guard words.count == 2, let pid = pid_t(words[1]), kill(pid, 0) == 0, getpgid(pid) == pid,
                  let command = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { continue }
            let text = String(decoding: command.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            guard text.contains(layout.dataDirectory) || text.contains(" replay-llm ") else { continue }
            groups.append((String(words[0]), pid))
        }
        unlink(layout.childrenFile)
        guard !groups.isEmpty else { return }
        UpConsole.say("  leftovers  a previous masterplan up of this folder left \(groups.map { "\($0.0) \($0.1)" }.joined(separator: ", ")) running: stopping them")
        for (_, pid) in groups { kill(-pid, SIGTERM) }
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline && groups.contains(where: { kill(-$0.1, 0) == 0 }) { usleep(100_000) }
        for (_, pid) in groups where kill(-pid, 0) == 0 { kill(-pid, SIGKILL) }
        usleep(200_000)
    }

    // MARK: - Waiting for start-up

    private func failure(_ process: UpProcess, _ title: String) -> UpFailure {
        UpFailure("the \(title) \(process.endDescription) while starting; the end of \(process.logPath):\n\(process.logTail())")
    }

    private func waitForSocket(_ path: String, of process: UpProcess, title: String) throws {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            try checkpoint()
            if process.poll() != nil { throw failure(process, title) }
            if Self.unixSocketAccepts(path) { return }
            usleep(50_000)
        }
        throw UpFailure("the \(title) did not listen on \(path) within 30 s; see \(process.logPath)")
    }

    /// Waits until the child's log has a line containing `marker`; returns that line.
    @discardableResult
    private func waitForLine(_ marker: String, of process: UpProcess, title: String, seconds: Double) throws -> String {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            try checkpoint()
            if let line = process.ownLog.split(separator: "\n").last(where: { $0.contains(marker) }) { return String(line) }
            if process.poll() != nil { throw failure(process, title) }
            usleep(50_000)
        }
        throw UpFailure("the \(title) did not start within \(Int(seconds)) s; see \(process.logPath):\n\(process.logTail())")
    }

    /// Waits until `GET /health/ready` answers 200 through nginx.
    private func waitForReadiness() throws {
        let deadline = Date().addingTimeInterval(Double(options.readyTimeoutSeconds))
        var last = "no answer"
        while Date() < deadline {
            try checkpoint()
            for (title, process) in children where process.poll() != nil { throw failure(process, title) }
            if let response = UpHTTPProbe.get(port: options.port, path: "/health/ready") {
                if response.status == 200 { return }
                last = "\(response.status) \(response.body.prefix(600))"
            }
            usleep(200_000)
        }
        throw UpFailure("http://127.0.0.1:\(options.port)/health/ready did not answer 200 within \(options.readyTimeoutSeconds) s; last answer: \(last)")
    }

    static func unixSocketAccepts(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        } == 0
    }

    // MARK: - Supervision

    /// Watches the children until a stop signal (then stops everything and returns 0). A child that
    /// dies is started again after a backoff (1 s, doubling to 30 s; back to 1 s once it ran a
    /// minute), with what it left in its process group killed first; a private PostgreSQL that goes
    /// away is started again the same way. Each restart is printed.
    func supervise() -> Int32 {
        while true {
            if let signal = UpSignals.stopSignal {
                UpConsole.say("")
                UpConsole.say("\(UpSignals.name(signal)) received: stopping everything")
                stop()
                return 0
            }
            for (title, process) in children where pendingRestarts[process.name] == nil && process.poll() != nil {
                // An API pool's workers must not keep serving without their supervisor.
                process.killGroup()
                let delay = restartDelay(for: process)
                UpConsole.fail("masterplan up: the \(title) (pid \(process.pid)) \(process.endDescription) unexpectedly; "
                    + "restarting it in \(delay) s. The end of \(process.logPath):")
                UpConsole.fail(process.logTail())
                pendingRestarts[process.name] = (title, Date().addingTimeInterval(Double(delay)))
            }
            for (name, pending) in pendingRestarts where pending.due <= Date() {
                do {
                    let process = try restart(name)
                    pendingRestarts[name] = nil
                    UpConsole.say("masterplan up: restarted the \(pending.title) (pid \(process.pid))")
                } catch {
                    UpConsole.fail("masterplan up: cannot restart the \(pending.title): \(error); trying again in 5 s")
                    pendingRestarts[name] = (pending.title, Date().addingTimeInterval(5))
                }
            }
            superviseDatabase()
            usleep(200_000)
        }
    }

    /// Seconds before the child is started again: 1, 2, 4, … 30 for restarts in a row; a child that
    /// ran for a minute or more counts as healthy and starts the count again.
    private func restartDelay(for process: UpProcess) -> Int {
        var count = restartsInARow[process.name, default: 0]
        if Date().timeIntervalSince(process.startedAt) >= 60 { count = 0 }
        restartsInARow[process.name] = count + 1
        return min(30, 1 << min(count, 5))
    }

    /// Starts the child named `name` again, as it was first started.
    private func restart(_ name: String) throws -> UpProcess {
        guard let launch = launches[name] else { throw UpFailure("no record of how \(name) was started") }
        let process = try spawn(name, launch.arguments, launch.environment, executable: launch.executable)
        switch name {
        case "replay-llm": replay = process
        case "api": api = process
        case "events": relay = process
        case "executor": executor = process
        case "nginx": nginx = process
        default: break
        }
        return process
    }

    /// Notices a private PostgreSQL that went away and starts it again with backoff; adopts one that
    /// someone else started in the meantime (`pg_ctl restart`).
    private func superviseDatabase() {
        guard let cluster, let options = clusterOptions else { return }
        if let postmasterPID, kill(postmasterPID, 0) == 0 || errno == EPERM { return }
        if let running = Self.runningPostmaster(of: cluster) {
            if let outage = databaseOutage {
                UpConsole.say(String(format: "masterplan up: PostgreSQL is back (pid \(running)) after %.1f s", Date().timeIntervalSince(outage.since)))
            }
            postmasterPID = running
            databaseOutage = nil
            return
        }
        if databaseOutage == nil {
            UpConsole.fail("masterplan up: PostgreSQL (pid \(postmasterPID.map(String.init) ?? "?")) went away; starting it again in 1 s "
                + "(see \(cluster.logFile)). The other processes wait for it.")
            databaseOutage = (Date(), 0, Date().addingTimeInterval(1))
        }
        guard let outage = databaseOutage, outage.next <= Date() else { return }
        do {
            _ = try PrivateCluster.start(in: cluster.directory, options: options)
            postmasterPID = Self.runningPostmaster(of: cluster)
            UpConsole.say(String(format: "masterplan up: restarted PostgreSQL (pid \(postmasterPID.map(String.init) ?? "?")) after %.1f s",
                                 Date().timeIntervalSince(outage.since)))
            databaseOutage = nil
        } catch {
            let delay = min(30, 1 << min(outage.failures + 1, 5))
            UpConsole.fail("masterplan up: PostgreSQL did not start (\(error)); trying again in \(delay) s")
            databaseOutage = (outage.since, outage.failures + 1, Date().addingTimeInterval(Double(delay)))
        }
    }

    // MARK: - Stop

    /// Stops every child and waits for it: nginx, the relay, the API pool and the executor first
    /// (the executor stops at its next checkpoint), then the demo model, then PostgreSQL. Whatever a
    /// child leaves in its process group is killed. Safe to call more than once.
    func stop() {
        guard !stopped else { return }
        stopped = true
        let startedSomething = cluster != nil || !children.isEmpty
        let signalsAtStart = UpSignals.count
        // Phase 1: everything that talks to the database or to the model.
        var first: [(UpProcess, Int32)] = []
        if let nginx { first.append((nginx, SIGQUIT)) }        // graceful: finish the requests in flight
        if let relay { first.append((relay, SIGTERM)) }        // closes the streams; browsers reconnect later
        if let api { first.append((api, SIGQUIT)) }            // graceful: after the requests in flight
        if let executor { first.append((executor, SIGTERM)) }  // stops at the next checkpoint
        for (process, signal) in first { process.send(signal) }
        waitFor(first.map(\.0), escalateAfter: 10, killAfter: 25, signalsAtStart: signalsAtStart)
        // Phase 2: the model the executor talked to.
        if let replay {
            replay.send(SIGTERM)
            waitFor([replay], escalateAfter: 5, killAfter: 10, signalsAtStart: signalsAtStart)
        }
        // Boxes of an executor killed while one was being set up (see OrphanedBoxes).
        let orphans = OrphanedBoxes.reap(under: layout.dataDirectory)
        if !orphans.isEmpty { UpConsole.say("  killed \(orphans.count) box(es) left behind by a killed executor") }
        // Anything a child left in its group (an API worker whose supervisor was killed, …).
        for (title, process) in children where process.groupIsAlive {
            UpConsole.say("  killing what the \(title) left behind (process group \(process.pid))")
            process.killGroup()
        }
        // Phase 3: the database, last.
        if let cluster {
            do {
                try cluster.stop()
            } catch {
                UpConsole.fail("masterplan up: pg_ctl stop -m fast failed (\(error)); stopping PostgreSQL immediately")
                try? cluster.stop(immediate: true)
            }
        }
        if lockDescriptor >= 0 {
            close(lockDescriptor)
            lockDescriptor = -1
        }
        guard startedSomething else { return }
        for path in [layout.apiSocket, layout.eventsSocket, layout.childrenFile] { unlink(path) }
        UpConsole.say("stopped: every process of this stack has exited")
    }

    /// Waits for `processes` to exit; sends SIGTERM to those left after `escalateAfter` seconds and
    /// SIGKILL after `killAfter` (or at once on another Ctrl-C).
    private func waitFor(_ processes: [UpProcess], escalateAfter: Double, killAfter: Double, signalsAtStart: Int) {
        let start = Date()
        var escalated = false
        var announced = false
        while processes.contains(where: \.isRunning) {
            let elapsed = Date().timeIntervalSince(start)
            let impatient = UpSignals.count > signalsAtStart
            if elapsed >= killAfter || impatient {
                for process in processes where process.isRunning {
                    UpConsole.say("  killing \(process.name) (pid \(process.pid))\(impatient ? ": asked again" : ": it did not stop in time")")
                    process.killGroup()
                }
                break
            }
            if elapsed >= escalateAfter && !escalated {
                escalated = true
                for process in processes where process.isRunning { process.send(SIGTERM) }
            }
            if elapsed >= 2 && !announced {
                announced = true
                let waiting = processes.filter(\.isRunning).map { "\($0.name) \($0.pid)" }.joined(separator: ", ")
                UpConsole.say("  waiting for \(waiting) (Ctrl-C again to kill)")
            }
            usleep(50_000)
        }
    }
}
