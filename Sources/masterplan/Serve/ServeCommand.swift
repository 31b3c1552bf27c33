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

    static func configuration(database: DatabaseOptions, migrations: String?) throws -> APIConfiguration {
        try APIConfiguration.fromEnvironment(ProcessInfo.processInfo.environment,
                                             databaseURL: try database.conninfo(),
                                             migrationsDirectory: try? MigrationsFolder.locate(explicit: migrations))
    }
}
