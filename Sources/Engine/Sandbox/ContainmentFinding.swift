/// The verdict of one probe in one kind of run, with a short reason taken from what happened.
public struct ContainmentFinding: Sendable, Hashable {
    public enum Verdict: String, Sendable, Hashable {
        /// The box stopped the attempt, and the host shows no trace of it.
        case contained
        /// The attempt got through: the box saw, reached, changed or used up what it must not.
        case leak = "LEAK"
        /// The probe could not give an answer (the box did not start it, it printed nothing usable):
        /// counted as not contained.
        case error = "ERROR"
        /// Nothing to try on this machine (no such socket, no such file), or not applicable to the kind.
        case skipped
    }

    public var kind: ContainmentRunKind
    public var probe: ContainmentProbe
    public var verdict: Verdict
    public var detail: String

    public init(kind: ContainmentRunKind, probe: ContainmentProbe, verdict: Verdict, detail: String) {
        self.kind = kind
        self.probe = probe
        self.verdict = verdict
        self.detail = detail
    }

    /// `KIND.PROBE`, e.g. `validator.read-data-folder`.
    public var name: String { kind.rawValue + "." + probe.rawValue }

    /// Whether this finding keeps the box from counting as contained.
    public var isNotContained: Bool { verdict == .leak || verdict == .error }
}
