/// How urgently a human should look at a low-confidence atom (the `reviews.priority` of DESIGN.md §4).
public enum ReviewPriority: String, JSONEnumeration {
    case high
    case medium
}
