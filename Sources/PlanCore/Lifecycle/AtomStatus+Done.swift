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

    /// Whether an atom counts as accepted for the person (`atoms.accepted`, the plan's `completed_atoms`
    /// and its tasks' `completed`): its content is accepted and no review of it waits. Unlike `isDone`
    /// (which lets the waves go on past an atom waiting for review), an atom waiting for review is not
    /// accepted. An atom produced again (`running`) keeps what it was (`wasAccepted`): a Gate S repair
    /// regenerates accepted atoms whose content stands until it is replaced, so the counts do not go
    /// backwards during a repair round. The atoms_set_accepted trigger (Migrations, 0019) is this rule.
    public func isAccepted(hasAcceptedContent: Bool, wasAccepted: Bool) -> Bool {
        guard hasAcceptedContent else { return false }
        switch self {
        case .succeeded, .approved: return true
        case .running: return wasAccepted
        case .pending, .failed, .needsReview, .rejected: return false
        }
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
