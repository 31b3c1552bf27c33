import Postgres
import Store

/// Runs one kind of job (generation, execution, …) for the executor daemon.
///
/// A handler checks `context.checkpoint()` between units of work (atoms, LLM calls): it throws
/// when the daemon is stopping or the lease was lost, and the daemon then hands the job back
/// unfinished, to be resumed from the database by whichever executor claims it next.
public protocol JobHandler: Sendable {
    /// The `jobs.kind` this handler runs.
    var kind: String { get }
    func run(_ job: ClaimedJob, context: JobContext) async throws
    /// Called once when the job failed for good (its last attempt failed, or its lease expired with
    /// no attempt left), so that what the job was for says so instead of looking as if it still ran.
    func jobGaveUp(_ job: FailedJob, database: AsyncDatabase) async throws
}

extension JobHandler {
    public func jobGaveUp(_ job: FailedJob, database: AsyncDatabase) async throws {}
}
