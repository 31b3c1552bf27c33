import ArgumentParser
import Foundation
import Store

/// `masterplan user disable EMAIL`: the account cannot log in; its tokens and open event streams end.
struct UserDisableCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disable",
        abstract: "Disable an account: it cannot log in, and its tokens and open event streams end now."
    )

    @Argument(help: "The user's email address.")
    var email: String

    @OptionGroup var database: DatabaseOptions

    func run() throws {
        let (user, changed) = try UserStore(try database.connect()).setDisabled(email: email, true)
        print(changed ? "disabled \(user.email): its tokens have ended and its open event streams close within seconds"
                      : "\(user.email) was disabled already; nothing changed")
    }
}
