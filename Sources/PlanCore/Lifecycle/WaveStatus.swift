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

    /// A failed gate leads to a repair round (back to running) or to a human waiver with a recorded reason.
    public static let lifecycle = StateMachine<WaveStatus, WaveEvent>(subject: "wave", transitions: [
        .init(.pending, .start, .running),
        .init(.running, .atomsFinished, .gating),
        .init(.running, .requeue, .pending),
        .init(.gating, .gatePassed, .passed),
        .init(.gating, .gateFailed, .failed),
        .init(.failed, .repair, .running),
        .init(.failed, .waive, .waived),
    ])
}

/// Something that changes a wave's status.
public enum WaveEvent: String, JSONEnumeration {
    case start
    case atomsFinished = "atoms_finished"
    case requeue
    case gatePassed = "gate_passed"
    case gateFailed = "gate_failed"
    case repair
    case waive
}
