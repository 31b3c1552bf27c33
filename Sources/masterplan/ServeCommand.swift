import API
import ArgumentParser
import FastCGI
import Foundation
import Store

/// `masterplan serve api|events`: the long-running FastCGI processes nginx talks to.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the REST API worker pool or the SSE relay on a FastCGI socket.",
        subcommands: [ServeAPICommand.self, ServeEventsCommand.self]
    )

    /// The listening socket: a unix path to create, or the one inherited on fd 0 (systemd, spawn-fcgi).
    static func listeningSocket(path: String?) throws -> ListeningSocket {
        if let path { return try ListeningSocket.listen(path: path) }
        return try ListeningSocket.inherited(fileDescriptor: 0)
    }

    static func configuration(databaseURL: String?, migrations: String?) throws -> APIConfiguration {
        try APIConfiguration.fromEnvironment(ProcessInfo.processInfo.environment,
                                             databaseURL: try Settings.databaseURL(explicit: databaseURL),
                                             migrationsDirectory: try? MigrationsFolder.locate(explicit: migrations))
    }
}

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

    @Option(name: .customLong("database-url"), help: "libpq conninfo or URL (default: $MASTERPLAN_DATABASE_URL).")
    var databaseURL: String?

    @Option(help: "Migrations folder /health/ready compares the schema with (default: as for migrate).")
    var migrations: String?

    func validate() throws {
        guard (1...512).contains(workers) else { throw ValidationError("--workers must be from 1 to 512, got \(workers)") }
        guard maxRequests >= 0 else { throw ValidationError("--max-requests must be 0 (no limit) or more") }
        guard gracefulTimeout >= 1 else { throw ValidationError("--graceful-timeout must be at least 1 second") }
        guard tokenLifetime >= 60 else { throw ValidationError("--token-lifetime must be at least 60 seconds") }
    }

    func run() throws {
        var configuration = try ServeCommand.configuration(databaseURL: databaseURL, migrations: migrations)
        configuration.tokenLifetimeSeconds = Int64(tokenLifetime)
        let listening = try ServeCommand.listeningSocket(path: socket)
        // Nothing before this line starts a thread, a Dispatch queue or a Task: the supervisor forks.
        let supervisor = PreforkSupervisor(socket: listening, configuration: configuration,
                                           options: .init(workers: workers, maxRequests: maxRequests,
                                                          gracefulTimeoutSeconds: UInt32(gracefulTimeout)))
        let status = supervisor.run()
        if status != 0 { throw ExitCode(status) }
    }
}

/// `masterplan serve events`: the SSE relay.
struct ServeEventsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Serve the server-sent event streams (one LISTEN connection fanned out to every stream).",
        discussion: "Signals: TERM/INT/QUIT stop (browsers reconnect with Last-Event-ID). Needs MASTERPLAN_DATABASE_URL and MASTERPLAN_JWT_SECRET."
    )

    @Option(help: "Unix socket path to listen on (default: the socket inherited on fd 0).")
    var socket: String?

    @Option(help: "Seconds between heartbeat comments on an idle stream.")
    var heartbeat: Int = 15

    @Option(help: "Reconnection delay hint sent to browsers (retry:), in milliseconds.")
    var retry: Int = 3000

    @Option(help: "Database connections for replays and ownership checks.")
    var replayConnections: Int = 4

    @Option(help: "Open streams at most; more get 503.")
    var maxStreams: Int = 10_000

    @Option(name: .customLong("database-url"), help: "libpq conninfo or URL (default: $MASTERPLAN_DATABASE_URL).")
    var databaseURL: String?

    func validate() throws {
        guard heartbeat >= 1 else { throw ValidationError("--heartbeat must be at least 1 second") }
        guard retry >= 0 else { throw ValidationError("--retry must not be negative") }
        guard (1...64).contains(replayConnections) else { throw ValidationError("--replay-connections must be from 1 to 64") }
        guard maxStreams >= 1 else { throw ValidationError("--max-streams must be at least 1") }
    }

    func run() throws {
        let configuration = try ServeCommand.configuration(databaseURL: databaseURL, migrations: nil)
        let listening = try ServeCommand.listeningSocket(path: socket)
        let relay = EventRelay(socket: listening, configuration: configuration,
                               options: .init(heartbeatSeconds: heartbeat, retryMilliseconds: retry,
                                              replayConnections: replayConnections, maxStreams: maxStreams))
        let status = relay.run()
        if status != 0 { throw ExitCode(status) }
    }
}
