import Base
import Foundation
import Postgres
import Store
import Testing
import TestSupport

@Suite(.dedicatedThreads) struct ConnectionFailureTests {
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
        try TestDatabase.requirePasswordFor(user: "mp_password_user", password: "right-password")
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

    /// Local connections authenticate (peer): only the user that runs the stack may log in, and only as
    /// the superuser. Another local user is refused even when a misconfiguration opens the socket to it
    /// (the sandbox's user, say), and the stack's user cannot log in under another role.
    @Test func onlyTheStacksOwnUserMayLogInEvenWhenTheSocketIsOpen() throws {
        let folder = "/tmp/masterplan-peer-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let cluster = try PrivateCluster.start(in: folder, options: .init(throwaway: true, port: 5466))
        defer {
            try? cluster.stop(immediate: true)
            try? FileManager.default.removeItem(atPath: folder)
        }
        let admin = try Connection(cluster.conninfo())
        try admin.simpleQuery("CREATE ROLE mp_other LOGIN")
        let hba = try String(contentsOfFile: cluster.dataDirectory + "/pg_hba.conf", encoding: .utf8)
        #expect(!hba.contains("trust"), "\(hba)")
        do {
            _ = try Connection("host=\(folder) port=5466 user=mp_other dbname=postgres")
            Issue.record("the stack's user logged in as another role")
        } catch {
            #expect(error.description.contains("Peer authentication failed"), "\(error.description)")
        }
        guard geteuid() == 0 else { return }
        chmod(folder, 0o755)
        chmod(folder + "/.s.PGSQL.5466", 0o777)
        let output = folder + "-psql.out"
        defer { unlink(output) }
        let outcome = try ChildProcess.run("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "--",
                                                               "/usr/bin/psql", "-X", "-w", "host=\(folder) port=5466 user=postgres dbname=postgres",
                                                               "-c", "SELECT 1"], outputPath: output)
        #expect(outcome.status != 0)
        #expect(outcome.output.contains("Peer authentication failed for user \"postgres\""), "\(outcome.output)")
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
