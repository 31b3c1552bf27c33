/// How hard a task is, as the planner judged it; it drives token estimates and confidence.
public enum Complexity: String, JSONEnumeration {
    case low
    case medium
    case high
    case critical
}
