/// Where a wave is (the `waves.status` column).
public enum WaveStatus: String, LifecycleStatus {
    case pending
    case running
    case gating
    case passed
    case failed
    /// The gate failed and reviewers accepted its failing tests with written reasons: finished, but
    /// never shown as passed.
    case waived
    /// Its plan was cancelled before the wave finished: it will not run (or finish) any more.
    case cancelled

    /// A failed gate leads to a repair round (back to running) or to a human waiver with a recorded reason.
    /// A wave also fails without a gate when one of its atoms never validated (`atomsFailed`), and a
    /// finished last wave fails again when the final gate, run after content was accepted later, fails.
    public static let lifecycle = StateMachine<WaveStatus, WaveEvent>(subject: "wave", transitions: [
        .init(.pending, .start, .running),
        .init(.running, .atomsFinished, .gating),
        .init(.running, .requeue, .pending),
        .init(.running, .atomsFailed, .failed),
        .init(.gating, .gatePassed, .passed),
        .init(.gating, .gateFailed, .failed),
        .init(.failed, .repair, .running),
        .init(.failed, .waive, .waived),
        .init(.passed, .gateFailed, .failed),
        .init(.waived, .gateFailed, .failed),
        .init(.pending, .cancel, .cancelled),
        .init(.running, .cancel, .cancelled),
        .init(.gating, .cancel, .cancelled),
    ])

    /// The statuses a cancellation ends (`cancel`): the wave had not finished.
    public static var unfinished: [WaveStatus] { allCases.filter { $0.allowedEvents.contains(.cancel) } }
}

/// Something that changes a wave's status.
public enum WaveEvent: String, JSONEnumeration {
    case start
    case atomsFinished = "atoms_finished"
    /// An atom of the wave never validated: its blocking review holds the wave.
    case atomsFailed = "atoms_failed"
    case requeue
    case gatePassed = "gate_passed"
    case gateFailed = "gate_failed"
    case repair
    case waive
    /// The plan was cancelled.
    case cancel
}
