import API
import ArgumentParser
import Foundation

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

    @OptionGroup var database: DatabaseOptions

    func validate() throws {
        guard heartbeat >= 1 else { throw ValidationError("--heartbeat must be at least 1 second") }
        guard retry >= 0 else { throw ValidationError("--retry must not be negative") }
        guard (1...64).contains(replayConnections) else { throw ValidationError("--replay-connections must be from 1 to 64") }
        guard maxStreams >= 1 else { throw ValidationError("--max-streams must be at least 1") }
    }

    func run() throws {
        let configuration = try ServeCommand.configuration(database: database, migrations: nil)
        let listening = try ServeCommand.listeningSocket(path: socket)
        let relay = EventRelay(socket: listening, configuration: configuration,
                               options: .init(heartbeatSeconds: heartbeat, retryMilliseconds: retry,
                                              replayConnections: replayConnections, maxStreams: maxStreams))
        let status = relay.run()
        if status != 0 { throw ExitCode(status) }
    }
}
