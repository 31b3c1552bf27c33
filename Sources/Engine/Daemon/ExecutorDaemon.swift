import Base
import Foundation
import Postgres
import Store
import Synchronization

/// The executor: claims jobs from PostgreSQL and runs them with their handlers.
///
/// It wakes on `NOTIFY masterplan_jobs` and also polls, so a missed notification only delays a job
/// by one poll interval. Each running job's lease is renewed in the background; a job whose lease
/// is lost (this executor stalled and another took the job over) is told to stop. Expired leases
/// of other executors are reclaimed on every poll. `stop()` lets running jobs reach a checkpoint,
/// hands unfinished jobs back to the queue, and returns from `run()`.
public final class ExecutorDaemon: Sendable {
    public struct Configuration: Sendable {
        public var conninfo: String
        /// Jobs run at once by this executor.
        public var jobSlots: Int
        public var lease: Duration
        public var pollInterval: Duration
        /// Retry delay after a failed attempt.
        public var retryDelay: Duration
        public var owner: String

        public init(conninfo: String, jobSlots: Int = 4, lease: Duration = .seconds(30), pollInterval: Duration = .seconds(2),
                    retryDelay: Duration = .seconds(5), owner: String = JobClaims.processOwnerName()) {
            self.conninfo = conninfo
            self.jobSlots = jobSlots
            self.lease = lease
            self.pollInterval = pollInterval
            self.retryDelay = retryDelay
            self.owner = owner
        }
    }

    public let configuration: Configuration
    public let database: AsyncDatabase
    private let handlers: [String: any JobHandler]
    private let claims: JobClaims
    private let stopping = Atomic<Bool>(false)
    private let running = Atomic<Int>(0)
    private let wakeUps: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation
    private let interrupter = WaitInterrupter()
    /// Jobs running in this process (their leases are renewed here, so no reclaim takes them).
    private let inFlight = Mutex<Set<UUID>>([])
    /// Jobs that ended on a lost database connection, to hand back once it answers.
    private let interrupted = Mutex<Set<UUID>>([])
    private let log: Logger

    public init(configuration: Configuration, handlers: [any JobHandler], log: Logger = .silent) {
        self.configuration = configuration
        database = AsyncDatabase(conninfo: configuration.conninfo, connections: max(2, configuration.jobSlots + 1))
        self.handlers = Dictionary(handlers.map { ($0.kind, $0) }, uniquingKeysWith: { first, _ in first })
        claims = JobClaims(owner: configuration.owner, lease: configuration.lease)
        (wakeUps, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        self.log = log
    }

    /// Asks the daemon to stop: no new claims; running jobs stop at their next checkpoint.
    public func stop() {
        stopping.store(true, ordering: .releasing)
        interrupter.interrupt()
        wake.yield()
    }

    public var isStopping: Bool { stopping.load(ordering: .acquiring) }

    /// Claims and runs jobs until `stop()`; returns when every running job has finished or been handed back.
    ///
    /// The database may go away at any time (a restart, an outage of any length): the loop then logs
    /// once, retries with backoff and carries on when it answers again. A job that lost its connection
    /// mid-way is handed back without counting an attempt and resumes from the database, like a job
    /// of a stopped executor; jobs still running keep their lease (their renewer renews it again).
    public func run() async {
        let listener = startListener()
        defer { listener.cancel() }
        await withDiscardingTaskGroup { group in
            var wakes = wakeUps.makeAsyncIterator()
            var outage = DatabaseOutage(log: log)
            while !isStopping {
                do {
                    try await handBackInterruptedJobs()
                    let spared = inFlight.withLock { Array($0) }
                    let reclaimed = try await database.run { c in try JobClaims.reclaimExpired(on: c, sparing: spared) }
                    for reclaim in reclaimed {
                        log.warning("job taken back: its lease lapsed", ["job.id": reclaim.job.id.uuidString.lowercased(),
                                                                         "state": reclaim.state, "error": reclaim.job.lastError])
                        if reclaim.state == "failed" { await gaveUp(reclaim.job) }
                    }
                    while running.load(ordering: .acquiring) < configuration.jobSlots, !isStopping {
                        let kinds = Array(handlers.keys)
                        let claims = self.claims
                        guard let job = try await database.run({ c in try claims.claimNext(on: c, kinds: kinds) }) else { break }
                        running.add(1, ordering: .acquiringAndReleasing)
                        inFlight.withLock { _ = $0.insert(job.id) }
                        group.addTask {
                            await self.execute(job)
                            self.inFlight.withLock { _ = $0.remove(job.id) }
                            self.running.subtract(1, ordering: .acquiringAndReleasing)
                            self.wake.yield()
                        }
                    }
                    outage.answered()
                } catch {
                    // Unreachable, restarting, or any other failure of these few statements: never a
                    // reason to exit. Wait (stop() cuts it short) and try again.
                    let delay = outage.failed(error)
                    await waitWhileRunning(seconds: delay)
                    continue
                }
                // Wait for a wake-up: a NOTIFY, the poll interval, a job ending, or stop().
                _ = await wakes.next()
            }
        }
    }

    /// Jobs this executor is running now.
    public var runningJobs: Int { running.load(ordering: .acquiring) }

    /// Sleeps up to `seconds` in short steps, returning early when the daemon stops.
    private func waitWhileRunning(seconds: Double) async {
        let deadline = Date(timeIntervalSinceNow: seconds)
        while !isStopping && Date() < deadline { try? await Task.sleep(for: .milliseconds(100)) }
    }

    /// Hands back the jobs that ended because the database connection was lost: queued again at
    /// once, the claim not counted. Throws (keeping them) while the database is still away.
    private func handBackInterruptedJobs() async throws {
        let jobs = interrupted.withLock { Array($0) }
        guard !jobs.isEmpty else { return }
        let claims = self.claims
        for id in jobs {
            let handedBack = try await database.run { c in try claims.release(id, on: c) }
            interrupted.withLock { _ = $0.remove(id) }
            if handedBack {
                log.info("job handed back after losing the database", ["job.id": id.uuidString.lowercased(),
                                                                        "action": "it resumes from where the database says it was"])
            } else {
                log.info("job taken over while the database was away", ["job.id": id.uuidString.lowercased()])
            }
        }
    }

    /// Tells the job's handler that it failed for good (the plan then says so), once.
    private func gaveUp(_ job: FailedJob) async {
        guard let handler = handlers[job.kind] else { return }
        do {
            try await handler.jobGaveUp(job, database: database)
        } catch {
            log.error("job failed for good, and recording that failed too", ["job.id": job.id.uuidString.lowercased(), "error": "\(error)"])
        }
    }

    private func execute(_ job: ClaimedJob) async {
        guard let handler = handlers[job.kind] else { return }
        let context = JobContext(database: database, job: job, daemonStopping: { [self] in self.isStopping })
        let renewer = startRenewer(of: job, context: context)
        defer { renewer.cancel() }
        let claims = self.claims
        do {
            try await handler.run(job, context: context)
            renewer.cancel()
            if try await !database.run({ c in try claims.complete(job.id, on: c) }) {
                log.warning("job finished after its lease was lost", ["job.id": job.id.uuidString.lowercased(),
                                                                      "action": "another executor owns it now"])
            }
        } catch let interruption as JobContext.Interruption {
            renewer.cancel()
            if interruption == .executorStopping {
                _ = try? await database.run { c in try claims.release(job.id, on: c) }
            }
            log.info("job stopped", ["job.id": job.id.uuidString.lowercased(), "reason": "\(interruption)"])
        } catch let error as PostgresError where error.isConnectionLost {
            // Not the job's fault: it goes back to the queue once the database answers (run()).
            renewer.cancel()
            interrupted.withLock { _ = $0.insert(job.id) }
            log.warning("job paused: the database connection was lost", ["job.id": job.id.uuidString.lowercased(), "error": "\(error)",
                                                                           "action": "it is handed back when the database answers"])
        } catch {
            renewer.cancel()
            let message = String(describing: error)
            let delay = configuration.retryDelay
            do {
                let state = try await database.run { c in try claims.fail(job.id, error: message, retryAfter: delay, on: c) }
                log.warning("job failed", ["job.id": job.id.uuidString.lowercased(), "job.kind": job.kind, "attempt": String(job.attempts),
                                           "max_attempts": String(job.maxAttempts), "state": state ?? "lost", "error": message])
                if state == "failed" {
                    await gaveUp(FailedJob(id: job.id, kind: job.kind, planID: job.planID, conversationID: job.conversationID,
                                           attempts: job.attempts, lastError: message))
                }
            } catch {
                // The failure could not be recorded: the lease lapses and the job is taken back then.
                log.error("job failed, and recording it failed too", ["job.id": job.id.uuidString.lowercased(), "error": message,
                                                                       "db.error": "\(error)"])
            }
        }
    }

    /// Renews the job's lease every third of it on a thread of its own with its own connection, so
    /// neither busy database threads nor a saturated cooperative pool can let the lease lapse while
    /// the job is making progress. A renewal that finds the lease gone tells the job to stop.
    private func startRenewer(of job: ClaimedJob, context: JobContext) -> RenewerHandle {
        let handle = RenewerHandle()
        let interval = configuration.lease / 3
        let seconds = interval.inSeconds
        let claims = self.claims
        let conninfo = configuration.conninfo
        let thread = Thread {
            var connection: Connection?
            while handle.wait(seconds: seconds) {
                do {
                    if connection == nil { connection = try Connection(conninfo) }
                    if try !claims.renew(job.id, on: connection!) {
                        context.markLeaseLost()
                        return
                    }
                } catch {
                    // A database hiccup: try again next interval; the lease still has two thirds left.
                    connection = nil
                }
            }
        }
        thread.start()
        return handle
    }

    /// Stops a lease renewer: `wait` returns false once cancelled.
    final class RenewerHandle: @unchecked Sendable {
        // `cancelled` is only read and written with `condition` locked.
        private var cancelled = false
        private let condition = NSCondition()

        /// Waits `seconds` (or until cancelled); true when the renewer should renew now.
        func wait(seconds: Double) -> Bool {
            condition.lock()
            defer { condition.unlock() }
            let deadline = Date(timeIntervalSinceNow: seconds)
            while !cancelled && condition.wait(until: deadline) {}
            return !cancelled
        }

        func cancel() {
            condition.lock()
            cancelled = true
            condition.broadcast()
            condition.unlock()
        }
    }

    /// A thread that LISTENs on `masterplan_jobs` and wakes the loop on every notification and
    /// every poll interval.
    private func startListener() -> ListenerHandle {
        let handle = ListenerHandle()
        let conninfo = configuration.conninfo
        let poll = configuration.pollInterval
        let interrupter = self.interrupter
        let wake = self.wake
        let thread = Thread { [self] in
            var connection: Connection?
            while !handle.isCancelled && !self.isStopping {
                do {
                    if connection == nil {
                        connection = try Connection(conninfo)
                        try connection!.listen("masterplan_jobs")
                    }
                    _ = try connection!.waitForNotifications(timeout: poll, interrupter: interrupter)
                } catch let error as PostgresError where error.kind == .interrupted {
                    continue
                } catch {
                    connection = nil
                    Thread.sleep(forTimeInterval: 1)  // the database is unreachable: retry the LISTEN shortly
                }
                wake.yield()
            }
        }
        thread.start()
        return handle
    }

    final class ListenerHandle: Sendable {
        private let cancelled = Atomic<Bool>(false)
        var isCancelled: Bool { cancelled.load(ordering: .acquiring) }
        func cancel() { cancelled.store(true, ordering: .releasing) }
    }
}

/// Whether the executor can reach its database, for the log (one line per change, not one per retry)
/// and the retry delay (doubling from 1 s to 15 s while it stays away).
struct DatabaseOutage {
    let log: Logger
    private(set) var since: Date?
    private(set) var failures = 0

    init(log: Logger) { self.log = log }

    /// The database answered: logs the end of an outage.
    mutating func answered() {
        guard let since else { return }
        log.info("database reachable again", ["duration_ms": String(Int(Date().timeIntervalSince(since) * 1000)),
                                              "action": "claiming jobs"])
        self.since = nil
        failures = 0
    }

    /// A failed round; returns the seconds to wait before the next. Logs the first failure of an
    /// outage, and errors that are not about reaching the database every time.
    mutating func failed(_ error: any Error) -> Double {
        failures += 1
        let lost = (error as? PostgresError)?.isConnectionLost == true
        if since == nil && lost {
            since = Date()
            log.error("database unreachable", ["error": "\(error)", "action": "retrying with backoff; running jobs carry on"])
        } else if !lost {
            log.warning("claiming jobs failed", ["error": "\(error)", "action": "retrying"])
        }
        return min(15, pow(2, Double(min(failures - 1, 4))))
    }
}
