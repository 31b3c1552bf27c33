import API
import ArgumentParser
import FastCGI
import Foundation

/// `masterplan serve api`: the prefork pool of API workers (php-fpm style).
struct ServeAPICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api",
        abstract: "Serve the REST API with a prefork pool of FastCGI workers.",
        discussion: """
        Signals: TERM/INT stop fast, QUIT stops after the requests in flight, HUP replaces the workers one by one. \
        A worker that dies is replaced. Needs MASTERPLAN_DATABASE_URL and MASTERPLAN_JWT_SECRET (at least 32 bytes).
        """
    )

    @Option(help: "Unix socket path to listen on (default: the socket inherited on fd 0).")
    var socket: String?

    /// The pool's size unless `--workers` says otherwise (also what `bench api` measures).
    static let defaultWorkers = 4

    @Option(help: "Worker processes (php-fpm's pm.max_children); each has one database connection.")
    var workers: Int = ServeAPICommand.defaultWorkers

    @Option(help: "Requests a worker serves before it is replaced (0: no limit).")
    var maxRequests: Int = 1000

    @Option(help: "Seconds SIGQUIT waits for requests in flight before stopping them.")
    var gracefulTimeout: Int = 30

    @Option(help: "Lifetime of login tokens, in seconds.")
    var tokenLifetime: Int = 3600

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Migrations folder /health/ready compares the schema with (default: as for migrate).")
    var migrations: String?

    func validate() throws {
        guard (1...512).contains(workers) else { throw ValidationError("--workers must be from 1 to 512, got \(workers)") }
        guard maxRequests >= 0 else { throw ValidationError("--max-requests must be 0 (no limit) or more") }
        guard gracefulTimeout >= 1 else { throw ValidationError("--graceful-timeout must be at least 1 second") }
        guard tokenLifetime >= 60 else { throw ValidationError("--token-lifetime must be at least 60 seconds") }
    }

    func run() throws {
        var configuration = try ServeCommand.configuration(database: database, migrations: migrations)
        configuration.tokenLifetimeSeconds = Int64(tokenLifetime)
        let listening = try ServeCommand.listeningSocket(path: socket)
        // Nothing before this line starts a thread, a Dispatch queue or a Task: the supervisor forks.
        let supervisor = PreforkSupervisor(socket: listening,
                                           options: .init(workers: workers, maxRequests: maxRequests,
                                                          gracefulTimeoutSeconds: UInt32(gracefulTimeout))) { [configuration, maxRequests] in
            APIWorker(socket: listening, configuration: configuration, maxRequests: maxRequests).run()
        }
        let status = supervisor.run()
        if status != 0 { throw ExitCode(status) }
    }
}
