import API
import Foundation
import Postgres
import Store
import TestSupport
import Testing

/// `masterplan user add|list|passwd` as a sysadmin runs them, then a login through nginx.
@Suite(.dedicatedThreads, .serialized) struct UserCommandEndToEndTests {
    let stack: APIStack

    init() throws {
        stack = try SharedStack.get()
    }


    @Test func addedUserLogsInWithThePasswordFromStdinAndPasswdChangesIt() throws {
        let email = "ops-\(UUID().uuidString.prefix(6).lowercased())@example.org"
        let added = try stack.masterplan(["user", "add", email, "--role", "admin", "--name", "Ops"], input: "first password\n")
        #expect(added.status == 0, "\(added.output)")
        #expect(added.output.hasPrefix("added \(email) (admin)"))

        let stored = try #require(try UserStore(stack.database()).credentials(email: email))
        #expect(PasswordHasher.parse(stored.passwordHash)?.iterations == PasswordHasher.defaultIterations)
        #expect(try stack.login(email, password: "first password").isEmpty == false)

        let listed = try stack.masterplan(["user", "list"], input: "")
        #expect(listed.output.contains(email))

        let changed = try stack.masterplan(["user", "passwd", email], input: "second password\n")
        #expect(changed.status == 0, "\(changed.output)")
        let old = try stack.call("POST", "/api/v1/auth/login", json: ["email": .string(email), "password": "first password"])
        #expect(old.status == 401)
        #expect(try stack.login(email, password: "second password").isEmpty == false)
    }

    @Test func refusalsAreOneLineAndChangeNothing() throws {
        let email = "dup-\(UUID().uuidString.prefix(6).lowercased())@example.org"
        #expect(try stack.masterplan(["user", "add", email], input: "long enough password\n").status == 0)
        let duplicate = try stack.masterplan(["user", "add", email.uppercased()], input: "another password\n")
        #expect(duplicate.status != 0)
        #expect(duplicate.output.trimmingCharacters(in: .whitespacesAndNewlines) == "Error: a user with the email \(email.uppercased()) already exists")
        let short = try stack.masterplan(["user", "add", "short-\(email)"], input: "abc\n")
        #expect(short.status != 0)
        #expect(short.output.contains("at least 8"))
        let none = try stack.masterplan(["user", "add", "none-\(email)"], input: "")
        #expect(none.status != 0)
        #expect(none.output.contains("no password on standard input"))
        #expect(try UserStore(stack.database()).credentials(email: "short-\(email)") == nil)
        let unknown = try stack.masterplan(["user", "passwd", "nobody-\(email)"], input: "whatever password\n")
        #expect(unknown.output.contains("no user has the email"))
    }
}
