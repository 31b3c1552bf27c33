import API
import Engine
import Foundation
import Glibc
import LLM
import Postgres
import Store

/// The start-up steps of `UpStack.start()`: the lock, the database, the admin account, the secret, the model,
/// the sandbox check, nginx's user, and spawning a child.
extension UpStack {
    /// One `up` per data folder: an exclusive `flock` on `up.lock`, held until this process exits.
    func lock() throws {
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
    func startDatabase() throws -> String {
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
    func checkSandbox(_ environment: [String: String]) throws {
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
    func ensureAdmin(_ connection: Connection, conninfo: String) throws {
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
    func jwtSecret() throws -> String {
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
    func configuredLLM() throws -> LLMConfiguration? {
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
    func startModel(_ environment: inout [String: String], configured: LLMConfiguration?) throws {
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
    func nginxWorkerUser(staticFolder: String) -> String? {
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

    func spawn(_ name: String, _ arguments: [String], _ environment: [String: String],
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
    func stopLeftovers() {
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
}
