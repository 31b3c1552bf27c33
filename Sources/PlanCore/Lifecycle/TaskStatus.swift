/// Where a task is during execution; derived from its atoms and reviews, stored for the UI.
public enum TaskStatus: String, LifecycleStatus {
    case pending
    case running
    case needsReview = "needs_review"
    case completed
    case failed
    case cancelled

    /// A completed task returns to running when a Gate S repair round regenerates its atoms; a failed one
    /// is retried from pending; a review request can come from a running task or be resolved either way.
    public static let lifecycle = StateMachine<TaskStatus, TaskEvent>(subject: "task", transitions: [
        .init(.pending, .start, .running),
        .init(.pending, .cancel, .cancelled),
        .init(.running, .complete, .completed),
        .init(.running, .requestReview, .needsReview),
        .init(.running, .fail, .failed),
        .init(.running, .cancel, .cancelled),
        .init(.needsReview, .complete, .completed),
        .init(.needsReview, .fail, .failed),
        .init(.needsReview, .repair, .running),
        .init(.needsReview, .cancel, .cancelled),
        .init(.completed, .repair, .running),
        .init(.failed, .retry, .pending),
    ])
}

/// Something that changes a task's status.
public enum TaskEvent: String, JSONEnumeration {
    case start
    case complete
    case requestReview = "request_review"
    case fail
    /// Regenerate the task's atoms (a Gate S repair round, or a reviewer asking for a regeneration).
    case repair
    case retry
    case cancel
}
