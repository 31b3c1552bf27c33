/// How urgently a human should look at a low-confidence atom (the `reviews.priority` column).
public enum ReviewPriority: String, JSONEnumeration {
    case high
    case medium
}
