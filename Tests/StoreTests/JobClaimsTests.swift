import Foundation
import JSON
import Postgres
import Store
import Testing
import TestSupport

@Suite(.dedicatedThreads) struct JobClaimsTests {
    let queue: ChatJobQueue
    var conninfo: String { queue.conninfo }
    var connection: Connection { queue.connection }
    var conversation: UUID { queue.conversation }

    init() throws {
        queue = try ChatJobQueue(tag: "jobs")
    }

    @discardableResult
    func enqueue(maxAttempts: Int = 3, payload: JSONValue = ["n": 1]) throws -> UUID {
        try queue.enqueue(maxAttempts: maxAttempts, payload: payload)
    }

    @Test func claimTakesTheOldestDueJobOnce() throws {
        let first = try enqueue(payload: ["n": 1])
        let second = try enqueue(payload: ["n": 2])
        let a = JobClaims(owner: "a")
        let claimed = try #require(try a.claimNext(on: connection))
        #expect(claimed.id == first)
        #expect(claimed.attempts == 1)
        #expect(claimed.payload == ["n": 1])
        #expect(try a.claimNext(on: connection)?.id == second)
        #expect(try a.claimNext(on: connection) == nil)
    }

    @Test func aJobIsNotClaimedBeforeItsRunAfter() throws {
        try connection.execute("INSERT INTO jobs (kind, conversation_id, run_after) VALUES ('chat', $1, now() + interval '1 hour')", [conversation])
        #expect(try JobClaims(owner: "a").claimNext(on: connection) == nil)
    }

    @Test func concurrentExecutorsNeverClaimTheSameJob() throws {
        for _ in 0..<40 { try enqueue() }
        let claimedIDs = Mutexed<[UUID]>([])
        let group = DispatchGroup()
        for worker in 0..<4 {
            group.enter()
            Thread {
                defer { group.leave() }
                guard let c = try? Connection(conninfo) else { return }
                let claims = JobClaims(owner: "worker-\(worker)")
                while let job = try? claims.claimNext(on: c) {
                    claimedIDs.mutate { $0.append(job.id) }
                }
            }.start()
        }
        group.wait()
        let ids = claimedIDs.value
        #expect(ids.count == 40)
        #expect(Set(ids).count == 40)
    }

    @Test func onlyTheLeaseOwnerCanRenewCompleteOrFail() throws {
        let id = try enqueue()
        let a = JobClaims(owner: "a"), b = JobClaims(owner: "b")
        _ = try #require(try a.claimNext(on: connection))
        #expect(try !b.renew(id, on: connection))
        #expect(try !b.complete(id, on: connection))
        #expect(try b.fail(id, error: "x", on: connection) == nil)
        #expect(try a.renew(id, on: connection))
        #expect(try a.complete(id, on: connection))
        #expect(try connection.query("SELECT state FROM jobs WHERE id = $1", [id]).first!.decode(String.self, 0) == "done")
        #expect(try !a.complete(id, on: connection))
    }

    @Test func aFailedAttemptIsRetriedUntilAttemptsRunOut() throws {
        let id = try enqueue(maxAttempts: 2)
        let a = JobClaims(owner: "a")
        _ = try #require(try a.claimNext(on: connection))
        #expect(try a.fail(id, error: "provider down", retryAfter: .zero, on: connection) == "queued")
        let again = try #require(try a.claimNext(on: connection))
        #expect(again.attempts == 2)
        #expect(try a.fail(id, error: "still down", retryAfter: .zero, on: connection) == "failed")
        let row = try connection.query("SELECT state, last_error, finished_at IS NOT NULL FROM jobs WHERE id = $1", [id]).first!
        #expect(try row.decode(String.self, 0) == "failed")
        #expect(try row.decode(String.self, 1) == "still down")
        #expect(try row.decode(Bool.self, 2))
    }

    @Test func anExpiredLeaseIsTakenOverByAnotherExecutor() throws {
        let id = try enqueue()
        let crashed = JobClaims(owner: "crashed", lease: .milliseconds(50))
        _ = try #require(try crashed.claimNext(on: connection))
        // While the lease holds, nothing is reclaimed.
        try connection.execute("UPDATE jobs SET lease_expires_at = now() + interval '1 hour' WHERE id = $1", [id])
        #expect(try JobClaims.reclaimExpired(on: connection).isEmpty)
        // Once it lapses (the executor stopped renewing), another executor gets the job.
        try connection.execute("UPDATE jobs SET lease_expires_at = now() - interval '1 second' WHERE id = $1", [id])
        #expect(try JobClaims.reclaimExpired(on: connection).map(\.state) == ["queued"])
        let survivor = JobClaims(owner: "survivor")
        let taken = try #require(try survivor.claimNext(on: connection))
        #expect(taken.id == id)
        #expect(taken.attempts == 2)
        // The crashed executor, if it comes back, can no longer finish the job.
        #expect(try !crashed.complete(id, on: connection))
        #expect(try survivor.complete(id, on: connection))
    }

    @Test func claimingCanBeLimitedToKinds() throws {
        try enqueue()
        #expect(try JobClaims(owner: "a").claimNext(on: connection, kinds: ["execution"]) == nil)
        #expect(try JobClaims(owner: "a").claimNext(on: connection, kinds: ["chat"]) != nil)
    }

    /// A lease that lapsed while the database was away is not a dead executor: the executor still
    /// running the job spares it; a job with no attempt left comes back as failed, for its handler.
    @Test func reclaimingSparesTheCallersOwnJobsAndReportsTheOnesThatFailedForGood() throws {
        let mine = try enqueue(maxAttempts: 1)
        let orphan = try enqueue(maxAttempts: 1)
        let executor = JobClaims(owner: "me")
        _ = try #require(try executor.claimNext(on: connection))
        _ = try #require(try JobClaims(owner: "dead").claimNext(on: connection))
        try connection.execute("UPDATE jobs SET lease_expires_at = now() - interval '1 second'")
        let reclaimed = try JobClaims.reclaimExpired(on: connection, sparing: [mine])
        #expect(reclaimed.map(\.job.id) == [orphan])
        #expect(reclaimed.first?.state == "failed")
        #expect(reclaimed.first?.job.lastError == "lease of dead expired after its last attempt")
        #expect(reclaimed.first?.job.attempts == 1)
        // The spared job is still this executor's: its renewal holds it again.
        #expect(try executor.renew(mine, on: connection))
    }

    @Test func enqueueingNotifiesExecutors() throws {
        let listener = try Connection(conninfo)
        try listener.listen("masterplan_jobs")
        let id = try enqueue()
        #expect(try listener.waitForNotifications(timeout: .seconds(5)).map(\.payload) == [id.uuidString.lowercased()])
    }
}

/// A value shared between test threads.
final class Mutexed<Value>: @unchecked Sendable {
    // Every access goes through `lock`.
    private var stored: Value
    private let lock = NSLock()
    init(_ value: Value) { stored = value }
    func mutate(_ body: (inout Value) -> Void) { lock.lock(); body(&stored); lock.unlock() }
    var value: Value { lock.lock(); defer { lock.unlock() }; return stored }
}
