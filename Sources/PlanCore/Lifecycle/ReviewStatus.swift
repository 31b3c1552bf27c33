/// Where a review is (the `reviews.status` of DESIGN.md §4); every resolution is final.
public enum ReviewStatus: String, LifecycleStatus {
    case pending
    case approved
    case rejected
    case edited
    case regenerated

    public static let lifecycle = StateMachine<ReviewStatus, ReviewEvent>(subject: "review", transitions: [
        .init(.pending, .approve, .approved),
        .init(.pending, .reject, .rejected),
        .init(.pending, .edit, .edited),
        .init(.pending, .regenerate, .regenerated),
    ])
}

/// A reviewer's resolution (`POST /reviews/{id}/<event>`).
public enum ReviewEvent: String, JSONEnumeration {
    case approve
    case reject
    case edit
    case regenerate
}
