import ArgumentParser
import Foundation
import Store

/// `masterplan user enable EMAIL`: a disabled account may log in again.
struct UserEnableCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enable",
        abstract: "Enable a disabled account: it may log in again (tokens from before stay ended)."
    )

    @Argument(help: "The user's email address.")
    var email: String

    @OptionGroup var database: DatabaseOptions

    func run() throws {
        let (user, changed) = try UserStore(try database.connect()).setDisabled(email: email, false)
        print(changed ? "enabled \(user.email): it may log in again" : "\(user.email) was enabled already; nothing changed")
    }
}
