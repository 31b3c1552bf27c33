import Postgres
import Store
import Synchronization

/// What a running job can see of its executor: the database, and whether it must stop now.
public final class JobContext: Sendable {
    public let database: AsyncDatabase
    public let job: ClaimedJob
    private let stopping: Atomic<Bool>
    private let leaseLost = Atomic<Bool>(false)
    private let daemonStopping: @Sendable () -> Bool

    init(database: AsyncDatabase, job: ClaimedJob, daemonStopping: @escaping @Sendable () -> Bool) {
        self.database = database
        self.job = job
        self.daemonStopping = daemonStopping
        stopping = Atomic(false)
    }

    /// Why a job stopped before finishing.
    public enum Interruption: Error, Sendable, Equatable {
        /// The executor is shutting down (SIGTERM/SIGQUIT); the job goes back to the queue.
        case executorStopping
        /// Another executor took the job over after this one failed to renew its lease in time.
        case leaseLost
    }

    /// True when the job should stop at the next safe point.
    public var shouldStop: Bool { daemonStopping() || leaseLost.load(ordering: .acquiring) }

    /// Throws `Interruption` when the job must stop; call it between units of work.
    public func checkpoint() throws(Interruption) {
        if leaseLost.load(ordering: .acquiring) { throw .leaseLost }
        if daemonStopping() { throw .executorStopping }
    }

    func markLeaseLost() { leaseLost.store(true, ordering: .releasing) }
    var isLeaseLost: Bool { leaseLost.load(ordering: .acquiring) }
}
