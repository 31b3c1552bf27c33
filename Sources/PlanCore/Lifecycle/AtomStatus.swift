/// Where an atom is (the `atoms.status` column).
public enum AtomStatus: String, LifecycleStatus {
    case pending
    case running
    case succeeded
    case failed
    case needsReview = "needs_review"
    case approved
    case rejected

    /// `requeue` returns a running atom to pending when its executor lost the lease (crashed), so it is
    /// neither lost nor run twice; `regenerate` sends an atom back for a new attempt after a review or a
    /// Gate S repair round; `edit` is a reviewer's content that validated and replaces the atom's output.
    ///
    /// The executor also sends accepted content to review after the fact: when Gate S still fails after
    /// its repair rounds, a succeeded, approved or reviewed atom of a failing test's task gets a blocking
    /// review (`requestReview` from those states), and a reviewer's edit that does not validate goes back
    /// to review. A gate repair whose new content never validates keeps the content and the status it
    /// had, approved included (`approve` from running).
    public static let lifecycle = StateMachine<AtomStatus, AtomEvent>(subject: "atom", transitions: [
        .init(.pending, .start, .running),
        .init(.running, .succeed, .succeeded),
        .init(.running, .fail, .failed),
        .init(.running, .requestReview, .needsReview),
        .init(.running, .requeue, .pending),
        .init(.running, .approve, .approved),
        .init(.failed, .retry, .pending),
        .init(.failed, .requestReview, .needsReview),
        .init(.succeeded, .regenerate, .pending),
        .init(.succeeded, .requestReview, .needsReview),
        .init(.needsReview, .requestReview, .needsReview),
        .init(.approved, .requestReview, .needsReview),
        .init(.needsReview, .approve, .approved),
        .init(.needsReview, .edit, .approved),
        .init(.needsReview, .reject, .rejected),
        .init(.needsReview, .regenerate, .pending),
        .init(.approved, .regenerate, .pending),
        .init(.rejected, .regenerate, .pending),
    ])
}

/// Something that changes an atom's status.
public enum AtomEvent: String, JSONEnumeration {
    case start
    case succeed
    case fail
    case requestReview = "request_review"
    case requeue
    case retry
    case approve
    case edit
    case reject
    case regenerate
}
