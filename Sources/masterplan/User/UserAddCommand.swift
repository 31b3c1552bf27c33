import API
import ArgumentParser
import Foundation
import Store

/// `masterplan user add EMAIL`: creates an account with the password from `PasswordInput`.
struct UserAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Create an account (the password is read from stdin or a prompt)."
    )

    @Argument(help: "The user's email address (their login).")
    var email: String

    @Option(help: "admin or member.")
    var role: String = "member"

    @Option(help: "Name shown in the UI.")
    var name: String?

    @Flag(help: "Read the password from the first line of standard input even on a terminal.")
    var passwordStdin = false

    @OptionGroup var database: DatabaseOptions

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
