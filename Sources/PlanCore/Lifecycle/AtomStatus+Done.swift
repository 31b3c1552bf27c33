extension AtomStatus {
    /// The statuses in which an atom's accepted content stands: produced and validated (or accepted by a
    /// reviewer), whether or not a review of it is still waiting.
    public static let holdingAcceptedContent: [AtomStatus] = [.succeeded, .needsReview, .approved]

    /// Whether an atom in this status is done: it has accepted content (its `final_content_sha256` is
    /// set) and its status keeps it. This is the one definition of "done": the executor's checks, the
    /// task progress in `ExecutionStore` and the `atoms_count_completed` trigger (Migrations, 0009) all
    /// agree with it, which `AtomDoneAgreementTests` checks for every status.
    public func isDone(hasAcceptedContent: Bool) -> Bool {
        hasAcceptedContent && Self.holdingAcceptedContent.contains(self)
    }

    /// The events that take an atom in this status to `running` for a new production: its first start,
    /// a retry, a regeneration (after a review, a rejection or for a Gate S repair), or a requeue of an
    /// atom whose last run was cut short.
    public var eventsToStart: [AtomEvent] {
        switch self {
        case .pending: [.start]
        case .running: [.requeue, .start]
        case .failed: [.retry, .start]
        case .succeeded, .needsReview, .approved, .rejected: [.regenerate, .start]
        }
    }
}
