import Foundation
import Postgres
import Store
import Testing
import TestSupport

@Suite struct ConnectionFailureTests {
    @Test func unreachableHostGivesOneClearLine() {
        do {
            _ = try Connection("host=127.0.0.1 port=1 user=nobody password=hunter2 dbname=x connect_timeout=3")
            Issue.record("connected to a closed port")
        } catch {
            #expect(error.kind == .connection)
            #expect(error.description.hasPrefix("could not connect to PostgreSQL: "))
            #expect(error.description.contains("127.0.0.1"))
            #expect(!error.description.contains("\n"))
            #expect(!error.description.contains("hunter2"))
        }
    }

    @Test func wrongPasswordGivesOneClearLine() throws {
        let cluster = try TestDatabase.cluster()
        let admin = try Connection(cluster.conninfo())
        try admin.simpleQuery("DROP ROLE IF EXISTS mp_password_user")
        try admin.simpleQuery("CREATE ROLE mp_password_user LOGIN PASSWORD 'right-password'")
        try TestDatabase.requirePasswordFor(user: "mp_password_user")
        // The right password works …
        _ = try Connection("host=\(cluster.socketDirectory) port=\(cluster.port) user=mp_password_user password=right-password dbname=postgres")
        // … a wrong one is one line naming the problem, without the password.
        do {
            _ = try Connection("host=\(cluster.socketDirectory) port=\(cluster.port) user=mp_password_user password=wrong-secret dbname=postgres")
            Issue.record("wrong password accepted")
        } catch {
            #expect(error.kind == .connection)
            #expect(error.description.contains("password authentication failed for user \"mp_password_user\""))
            #expect(!error.description.contains("\n"))
            #expect(!error.description.contains("wrong-secret"))
        }
    }

    @Test func unknownDatabaseIsNamed() throws {
        let cluster = try TestDatabase.cluster()
        do {
            _ = try Connection(cluster.conninfo(database: "no_such_database"))
            Issue.record("connected to a missing database")
        } catch {
            #expect(error.description.contains("\"no_such_database\" does not exist"))
        }
    }

    /// Runs on a cluster of its own: restarting the shared one would disturb the other suites.
    @Test func reconnectsAfterTheServerRestarts() throws {
        let folder = "/tmp/masterplan-restart-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let cluster = try PrivateCluster.start(in: folder, options: .init(throwaway: true))
        defer {
            try? cluster.stop(immediate: true)
            try? FileManager.default.removeItem(atPath: folder)
        }
        let connection = try Connection(cluster.conninfo())
        let listener = try Connection(cluster.conninfo())
        try listener.listen("after_restart")
        let pidBefore = connection.backendPID

        try cluster.restart()

        // The idle connection notices the server went away and reconnects before the statement.
        #expect(try connection.query("SELECT 1").first!.decode(Int.self, 0) == 1)
        #expect(connection.reconnectCount == 1)
        #expect(connection.backendPID != pidBefore)

        // The listener reconnects and LISTENs again; a notification sent afterwards arrives.
        var received: [Postgres.Notification] = []
        for _ in 0..<3 where received.isEmpty {
            do {
                // A short wait lets the listener find out about the restart and re-LISTEN.
                _ = try listener.waitForNotifications(timeout: .milliseconds(100))
                try connection.notify("after_restart", payload: "hello")
                received = try listener.waitForNotifications(timeout: .seconds(5))
            } catch {
                // The first wait may learn of the restart; the next one reconnects.
                #expect(error.isConnectionLost)
            }
        }
        #expect(received.map(\.payload).contains("hello"))
        #expect(listener.reconnectCount == 1)
    }

    @Test func queryWhileTheServerIsDownFailsWithAConnectionError() throws {
        let folder = "/tmp/masterplan-down-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let cluster = try PrivateCluster.start(in: folder, options: .init(throwaway: true))
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let connection = try Connection(cluster.conninfo())
        try cluster.stop()
        do {
            try connection.query("SELECT 1")
            Issue.record("query succeeded with the server stopped")
        } catch {
            #expect(error.isConnectionLost)
            #expect(!error.description.contains("\n"))
        }
    }
}
