/// What a phase of the plan is for: setting the project up, building its core, or polishing it.
public enum PhaseKind: String, JSONEnumeration {
    case setup
    case core
    case polish
}
