/// Where a review is (the `reviews.status` column); every resolution is final.
public enum ReviewStatus: String, LifecycleStatus {
    case pending
    case approved
    case rejected
    case edited
    case regenerated
    /// A blocking review of a wave whose acceptance tests still failed, accepted with a written
    /// reason: the failing tests are waived for that wave.
    case waived

    public static let lifecycle = StateMachine<ReviewStatus, ReviewEvent>(subject: "review", transitions: [
        .init(.pending, .approve, .approved),
        .init(.pending, .reject, .rejected),
        .init(.pending, .edit, .edited),
        .init(.pending, .regenerate, .regenerated),
        .init(.pending, .waive, .waived),
    ])
}

/// A reviewer's resolution (`POST /reviews/{id}/<event>`).
public enum ReviewEvent: String, JSONEnumeration {
    case approve
    case reject
    case edit
    case regenerate
    case waive
}
