/// Whether an acceptance criterion must hold (Gate S requires 100 %) or should hold (Gate S requires 95 %).
public enum CriterionPriority: String, JSONEnumeration {
    case must
    case should
}
