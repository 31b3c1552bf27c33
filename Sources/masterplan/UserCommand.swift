import API
import ArgumentParser
import Foundation
import Glibc
import Postgres
import Store

/// `masterplan user add|list|passwd|disable|enable`: accounts, for sysadmins. Passwords come from standard input
/// (`--password-stdin`, or whenever stdin is not a terminal) or a prompt with echo off — never from
/// the command line, where `ps` and shell history would show them.
struct UserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Add users, list them, set a password, disable or enable them.",
        subcommands: [Add.self, List.self, Passwd.self, Disable.self, Enable.self]
    )

    struct DatabaseOption: ParsableArguments {
        @Option(name: .customLong("database-url"), help: "libpq conninfo or URL (default: $MASTERPLAN_DATABASE_URL).")
        var databaseURL: String?

        func connect() throws -> Connection { try Connection(try Settings.databaseURL(explicit: databaseURL)) }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an account (the password is read from stdin or a prompt).")

        @Argument(help: "The user's email address (their login).")
        var email: String

        @Option(help: "admin or member.")
        var role: String = "member"

        @Option(help: "Name shown in the UI.")
        var name: String?

        @Flag(help: "Read the password from the first line of standard input even on a terminal.")
        var passwordStdin = false

        @OptionGroup var database: DatabaseOption

        func validate() throws {
            guard role == "admin" || role == "member" else { throw ValidationError("--role must be admin or member, got \(role)") }
        }

        func run() throws {
            let password = try PasswordInput.read(fromStdin: passwordStdin)
            let hash = PasswordHasher().hash(password)
            let user = try UserStore(try database.connect()).create(email: email, passwordHash: hash, role: role, displayName: name)
            print("added \(user.email) (\(user.role)) id \(user.id.uuidString.lowercased())")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List every account.")

        @OptionGroup var database: DatabaseOption

        func run() throws {
            let users = try UserStore(try database.connect()).list()
            let width = max(5, users.map(\.email.count).max() ?? 0)
            print("email".padding(toLength: width, withPad: " ", startingAt: 0) + "  role    state     id                                    created")
            for user in users {
                let email = user.email.padding(toLength: width, withPad: " ", startingAt: 0)
                let role = user.role.padding(toLength: 6, withPad: " ", startingAt: 0)
                let state = user.isDisabled ? "disabled" : "active  "
                let created = String(PostgresTimestampText.iso8601(user.createdAt).prefix(19))
                print("\(email)  \(role)  \(state)  \(user.id.uuidString.lowercased())  \(created)")
            }
            print("\(users.count) user\(users.count == 1 ? "" : "s")")
        }
    }

    struct Passwd: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set a user's password (read from stdin or a prompt).")

        @Argument(help: "The user's email address.")
        var email: String

        @Flag(help: "Read the password from the first line of standard input even on a terminal.")
        var passwordStdin = false

        @OptionGroup var database: DatabaseOption

        func run() throws {
            let password = try PasswordInput.read(fromStdin: passwordStdin)
            try UserStore(try database.connect()).setPasswordHash(email: email, passwordHash: PasswordHasher().hash(password))
            print("password of \(email) changed; every token of the account has ended (its open event streams close within seconds)")
        }
    }

    struct Disable: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Disable an account: it cannot log in, and its tokens and open event streams end now.")

        @Argument(help: "The user's email address.")
        var email: String

        @OptionGroup var database: DatabaseOption

        func run() throws {
            let (user, changed) = try UserStore(try database.connect()).setDisabled(email: email, true)
            print(changed ? "disabled \(user.email): its tokens have ended and its open event streams close within seconds"
                          : "\(user.email) was disabled already; nothing changed")
        }
    }

    struct Enable: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Enable a disabled account: it may log in again (tokens from before stay ended).")

        @Argument(help: "The user's email address.")
        var email: String

        @OptionGroup var database: DatabaseOption

        func run() throws {
            let (user, changed) = try UserStore(try database.connect()).setDisabled(email: email, false)
            print(changed ? "enabled \(user.email): it may log in again" : "\(user.email) was enabled already; nothing changed")
        }
    }
}

/// Reads a new password: the first line of stdin when it is not a terminal (or when asked), else a
/// prompt on the terminal with echo off, asked twice.
enum PasswordInput {
    struct Refused: Error, CustomStringConvertible {
        var description: String
    }

    static let minimumLength = UserStore.minimumPasswordLength

    static func read(fromStdin: Bool) throws -> String {
        let password: String
        if fromStdin || isatty(0) == 0 {
            guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                throw Refused(description: "no password on standard input: pipe it in, e.g. printf '%s\\n' \"$PASSWORD\" | masterplan user add EMAIL")
            }
            password = line
        } else {
            password = try prompt("Password: ")
            guard try prompt("Repeat password: ") == password else { throw Refused(description: "the two passwords differ; nothing was changed") }
        }
        guard password.count >= minimumLength else {
            throw Refused(description: "the password is \(password.count) characters long; use at least \(minimumLength)")
        }
        return password
    }

    /// Asks on the terminal with echo off. Calls `tcgetattr`/`tcsetattr`.
    static func prompt(_ text: String) throws -> String {
        _ = text.withCString { write(2, $0, strlen($0)) }
        var saved = termios()
        tcgetattr(0, &saved)
        var silent = saved
        silent.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(0, TCSANOW, &silent)
        defer {
            tcsetattr(0, TCSANOW, &saved)
            _ = write(2, "\n", 1)
        }
        guard let line = readLine(strippingNewline: true) else { throw Refused(description: "no password entered") }
        return line
    }
}
