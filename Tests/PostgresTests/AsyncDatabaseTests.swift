import Foundation
import Postgres
import Testing
import TestSupport

@Suite(.dedicatedThreads) struct AsyncDatabaseTests {
    @Test func runsClosuresOnItsOwnThreadsAndReturnsResults() async throws {
        let database = AsyncDatabase(conninfo: try TestDatabase.empty(), connections: 2)
        defer { database.close() }
        // A blocking statement occupies a database thread, not a Swift concurrency thread: with
        // one connection busy sleeping, async work elsewhere still runs.
        async let slow: Void = database.run { c in _ = try c.query("SELECT pg_sleep(0.3)") }
        let marker = await Task.detached { 7 }.value
        #expect(marker == 7)
        try await slow
        let sum = try await database.run { c in try c.query("SELECT $1::int + $2::int", [40, 2]).first!.decode(Int.self, 0) }
        #expect(sum == 42)
    }

    @Test func manyConcurrentCallersShareTheConnections() async throws {
        let database = AsyncDatabase(conninfo: try TestDatabase.empty(), connections: 3)
        defer { database.close() }
        let pids = try await withThrowingTaskGroup(of: Int32.self) { group in
            for _ in 0..<60 {
                group.addTask { try await database.run { c in try c.query("SELECT pg_backend_pid()").first!.decode(Int32.self, 0) } }
            }
            return try await group.reduce(into: Set<Int32>()) { $0.insert($1) }
        }
        #expect(pids.count >= 1 && pids.count <= 3)
    }

    @Test func errorsReachTheCaller() async throws {
        let database = AsyncDatabase(conninfo: try TestDatabase.empty(), connections: 1)
        defer { database.close() }
        await #expect(throws: PostgresError.self) { try await database.run { c in try c.query("SELECT * FROM missing_table") } }
        // The connection is still good afterwards.
        #expect(try await database.run { c in try c.query("SELECT 1").first!.decode(Int.self, 0) } == 1)
    }

    @Test func aBadConninfoFailsEachCallWithTheConnectionError() async throws {
        let database = AsyncDatabase(conninfo: "host=127.0.0.1 port=1 connect_timeout=2", connections: 1)
        defer { database.close() }
        do {
            _ = try await database.run { c in try c.query("SELECT 1") }
            Issue.record("query on an unreachable server succeeded")
        } catch let error as PostgresError {
            #expect(error.kind == .connection)
        }
    }

    @Test func closedPoolRefusesWork() async throws {
        let database = AsyncDatabase(conninfo: try TestDatabase.empty(), connections: 1)
        database.close()
        await #expect(throws: PostgresError.self) { try await database.run { _ in 1 } }
    }
}
