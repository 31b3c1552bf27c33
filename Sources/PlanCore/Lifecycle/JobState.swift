/// Where a background job is (the `jobs.state` column).
public enum JobState: String, LifecycleStatus {
    case queued
    case running
    case done
    case failed
    case cancelled

    /// `retry` puts a running job back in the queue (a transient failure, or a lease that expired when its
    /// executor died); `requeue` lets an operator give a failed job another go.
    public static let lifecycle = StateMachine<JobState, JobEvent>(subject: "job", transitions: [
        .init(.queued, .claim, .running),
        .init(.queued, .cancel, .cancelled),
        .init(.running, .finish, .done),
        .init(.running, .fail, .failed),
        .init(.running, .retry, .queued),
        .init(.running, .cancel, .cancelled),
        .init(.failed, .requeue, .queued),
    ])
}

/// Something that changes a job's state.
public enum JobEvent: String, JSONEnumeration {
    case claim
    case finish
    case fail
    case retry
    case requeue
    case cancel
}
