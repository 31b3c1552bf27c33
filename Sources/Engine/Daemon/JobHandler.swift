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
}
