import ArgumentParser
import Foundation
import Store

/// `masterplan user list`: every account, one line each, then the count.
struct UserListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List every account."
    )

    @OptionGroup var database: DatabaseOptions

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
