import ArgumentParser
import Foundation

/// `masterplan up`: the whole stack on one machine, for a newcomer — a private PostgreSQL cluster in
/// a data folder, migrations, an admin account, the API pool, the events relay, the executor, the
/// scripted demo model when no model is configured, and nginx on a loopback port. Ctrl-C stops all.
struct UpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Run everything on this machine (database, API, relay, executor, nginx) until Ctrl-C.",
        discussion: """
        The data folder holds the private PostgreSQL cluster (unless MASTERPLAN_DATABASE_URL is set), the JWT secret \
        (jwt-secret, mode 0600), the workspaces, the sockets (run/), nginx's generated config (nginx/) and every \
        process's log (logs/NAME.log). On the first run an admin account is created and its password printed once.
        Without MASTERPLAN_LLM a scripted demo model answers (masterplan replay-llm with the bundled cassette), and \
        the console and the UI say so. With MASTERPLAN_LLM (and ANTHROPIC_API_KEY or OPENAI_API_KEY) the real model \
        is used.
        Signals: INT, TERM, QUIT and HUP stop every process (the executor at its next checkpoint, the database last); \
        a second one kills what is left. A process that dies on its own is started again after a backoff (1 s, doubling \
        to 30 s) and up says so; so is the private PostgreSQL. The executor's lease is 10 s, so the one started in \
        place of a killed one carries on its jobs within seconds.
        """
    )

    @Option(help: "Loopback port nginx listens on (127.0.0.1).")
    var port: Int = 8080

    @Option(name: .customLong("data-dir"), help: "The data folder (default: $MASTERPLAN_DATA_DIR, else ./.masterplan-data).")
    var dataDirectory: String?

    @Option(help: "API worker processes.")
    var workers: Int = 2

    @Option(help: "Email (login) of the admin account created on the first run.")
    var adminEmail: String = "admin@localhost"

    @Option(help: "Replay this cassette as the demo model instead of the bundled one (ignored when MASTERPLAN_LLM is set).")
    var demoCassette: String?

    @Option(help: "Seconds to wait for /health/ready to answer 200 through nginx.")
    var readyTimeout: Int = 120

    @Flag(help: "Do not start nginx (the API and relay still listen on their sockets in the data folder's run/).")
    var noNginx = false

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port must be from 1 to 65535, got \(port)") }
        guard (1...64).contains(workers) else { throw ValidationError("--workers must be from 1 to 64, got \(workers)") }
        guard readyTimeout >= 1 else { throw ValidationError("--ready-timeout must be at least 1 second") }
        if let demoCassette, !FileManager.default.fileExists(atPath: demoCassette) {
            throw ValidationError("--demo-cassette \(demoCassette): no such file")
        }
    }

    func run() throws {
        UpSignals.install()
        let layout = UpLayout(dataDirectory: UpLayout.dataDirectory(explicit: dataDirectory))
        let stack = UpStack(layout: layout, options: .init(
            port: port, workers: workers, nginx: !noNginx, adminEmail: adminEmail,
            demoCassette: demoCassette.map { URL(fileURLWithPath: $0).standardizedFileURL.path },
            readyTimeoutSeconds: readyTimeout))
        let status: Int32
        do {
            try stack.start()
            status = stack.supervise()
        } catch let interrupted as UpInterrupted {
            UpConsole.say("\(UpSignals.name(interrupted.signal)) received while starting: stopping what was started")
            stack.stop()
            status = 0
        } catch {
            UpConsole.fail("masterplan up: \(error)")
            stack.stop()
            status = 1
        }
        if status != 0 { throw ExitCode(status) }
    }
}
