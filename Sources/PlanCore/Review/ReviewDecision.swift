/// Whether an atom is accepted as it is or goes to a human, and how urgently.
public enum ReviewDecision: Sendable, Hashable {
    case accept
    case review(ReviewPriority)
}
