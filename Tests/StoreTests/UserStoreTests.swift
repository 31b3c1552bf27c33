import Foundation
import Postgres
import Store
import Testing
import TestSupport

/// `users.token_version` (Migrations/0015): what raises it, what does not, and the notification
/// the SSE relay wakes on.
@Suite(.dedicatedThreads) struct UserStoreTests {
    static let hash = "pbkdf2-sha256$600000$c2FsdA$aGFzaA"
    static let otherHash = "pbkdf2-sha256$600000$c2FsdA$b3RoZXI"

    func version(_ users: UserStore, _ id: UUID) throws -> Int64 {
        try #require(try users.user(id: id)).tokenVersion
    }

    @Test func aNewPasswordARoleChangeAndADisableRaiseTheVersionAndEnablingDoesNot() throws {
        let connection = try Connection(try TestDatabase.migrated())
        let users = UserStore(connection)
        let user = try users.create(email: "ver@example.org", passwordHash: Self.hash)
        #expect(user.tokenVersion == 1)

        try users.setPasswordHash(email: "VER@example.org", passwordHash: Self.otherHash)
        #expect(try version(users, user.id) == 2)
        // The same hash again is no change.
        try users.setPasswordHash(email: "ver@example.org", passwordHash: Self.otherHash)
        #expect(try version(users, user.id) == 2)

        let disabled = try users.setDisabled(email: "ver@example.org", true)
        #expect(disabled.changed && disabled.user.isDisabled && disabled.user.tokenVersion == 3)
        let again = try users.setDisabled(email: "ver@example.org", true)
        #expect(!again.changed && again.user.tokenVersion == 3)

        let enabled = try #require(try users.setDisabled(id: user.id, false))
        #expect(enabled.changed && !enabled.user.isDisabled && enabled.user.tokenVersion == 3)

        try connection.execute("UPDATE users SET role = 'admin' WHERE id = $1", [user.id])
        #expect(try version(users, user.id) == 4)
        // An update that touches none of them (the display name) keeps the version.
        try connection.execute("UPDATE users SET display_name = 'Ver' WHERE id = $1", [user.id])
        #expect(try version(users, user.id) == 4)

        let reset = try #require(try users.setPasswordHash(id: user.id, passwordHash: Self.hash))
        #expect(reset.tokenVersion == 5)
        #expect(try users.setPasswordHash(id: UUID(), passwordHash: Self.hash) == nil)
        #expect(try users.setDisabled(id: UUID(), true) == nil)
        let unknown = #expect(throws: UserStoreError.self) { try users.setDisabled(email: "nobody@example.org", true) }
        #expect(unknown?.kind == .notFound)
    }

    @Test func accessChangesNotifyTheUsersIdOnceCommitted() throws {
        let conninfo = try TestDatabase.migrated()
        let listener = try Connection(conninfo)
        let writer = try Connection(conninfo)
        try listener.listen(UserStore.accessChannel)
        let users = UserStore(writer)
        let user = try users.create(email: "notify@example.org", passwordHash: Self.hash)
        try writer.execute("UPDATE users SET display_name = 'N' WHERE id = $1", [user.id])
        #expect(try listener.waitForNotifications(timeout: .milliseconds(300)).isEmpty)

        _ = try users.setDisabled(id: user.id, true)
        #expect(try listener.waitForNotifications(timeout: .seconds(5)).map(\.payload) == [user.id.uuidString.lowercased()])
        _ = try users.setDisabled(id: user.id, false)
        #expect(try listener.waitForNotifications(timeout: .seconds(5)).map(\.payload) == [user.id.uuidString.lowercased()])

        struct Abort: Error {}
        #expect(throws: Abort.self) {
            try writer.transaction { c in
                try UserStore(c).setPasswordHash(email: "notify@example.org", passwordHash: Self.otherHash)
                throw Abort()
            }
        }
        #expect(try listener.waitForNotifications(timeout: .milliseconds(300)).isEmpty)
        #expect(try version(users, user.id) == 2)
    }

    @Test func revokedNamesTheVersionsOfGoneDisabledAndChangedAccounts() throws {
        let connection = try Connection(try TestDatabase.migrated())
        let users = UserStore(connection)
        let steady = try users.create(email: "steady@example.org", passwordHash: Self.hash)
        let changed = try users.create(email: "changed@example.org", passwordHash: Self.hash)
        let disabled = try users.create(email: "disabled@example.org", passwordHash: Self.hash)
        try users.setPasswordHash(email: "changed@example.org", passwordHash: Self.otherHash)
        _ = try users.setDisabled(email: "disabled@example.org", true)
        let gone = AccountVersion(userID: UUID(), tokenVersion: 1)

        let asked: Set = [AccountVersion(userID: steady.id, tokenVersion: 1), AccountVersion(userID: changed.id, tokenVersion: 1),
                          AccountVersion(userID: changed.id, tokenVersion: 2), AccountVersion(userID: disabled.id, tokenVersion: 2), gone]
        #expect(try users.revoked(asked) == [AccountVersion(userID: changed.id, tokenVersion: 1),
                                             AccountVersion(userID: disabled.id, tokenVersion: 2), gone])
        #expect(try users.revoked([]) == [])
    }

    @Test func listPagesEveryAccountOldestFirst() throws {
        let connection = try Connection(try TestDatabase.migrated())
        let users = UserStore(connection)
        let emails = (1...5).map { "page\($0)@example.org" }
        for email in emails { _ = try users.create(email: email, passwordHash: Self.hash) }
        var seen: [String] = []
        var page = PageRequest(limit: 2)
        while true {
            let result = try users.list(page: page)
            seen += result.items.compactMap { $0["email"]?.stringValue }
            #expect(result.items.allSatisfy { $0["password_hash"] == nil && $0["disabled"]?.boolValue == false })
            guard let next = result.nextKey else { break }
            page = try PageRequest(limit: 2, after: next, key: UserStore.listKey)
        }
        #expect(seen == emails)
    }
}
