import API
import ArgumentParser
import Foundation
import Store

/// `masterplan user passwd EMAIL`: sets a new password; every token of the account ends.
struct UserPasswdCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "passwd",
        abstract: "Set a user's password (read from stdin or a prompt)."
    )

    @Argument(help: "The user's email address.")
    var email: String

    @Flag(help: "Read the password from the first line of standard input even on a terminal.")
    var passwordStdin = false

    @OptionGroup var database: DatabaseOptions

    func run() throws {
        let password = try PasswordInput.read(fromStdin: passwordStdin)
        try UserStore(try database.connect()).setPasswordHash(email: email, passwordHash: PasswordHasher().hash(password))
        print("password of \(email) changed; every token of the account has ended (its open event streams close within seconds)")
    }
}
