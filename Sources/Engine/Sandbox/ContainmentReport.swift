import Base
import Foundation

/// What `ContainmentCheck.run()` found: one finding per probe and kind of run, or why no probe could run.
public struct ContainmentReport: Sendable {
    public var findings: [ContainmentFinding]
    /// Why no probe could run at all (the box does not start here, python3 is missing); nil when they ran.
    public var boxFailure: String?
    public var duration: Duration

    public init(findings: [ContainmentFinding], boxFailure: String? = nil, duration: Duration = .zero) {
        self.findings = findings
        self.boxFailure = boxFailure
        self.duration = duration
    }

    /// Every finding that is not contained: the leaks and the probes that errored.
    public var leaks: [ContainmentFinding] { findings.filter(\.isNotContained) }

    /// The probes that errored (also in `leaks`).
    public var errors: [ContainmentFinding] { findings.filter { $0.verdict == .error } }

    /// True when the box started and no probe got out or errored.
    public var isContained: Bool { boxFailure == nil && leaks.isEmpty }

    /// The finding of `probe` in runs of `kind`, if it ran.
    public func finding(_ probe: ContainmentProbe, in kind: ContainmentRunKind) -> ContainmentFinding? {
        findings.first { $0.probe == probe && $0.kind == kind }
    }

    /// One line per finding, `NAME  VERDICT  DETAIL`, in aligned columns.
    public var lines: [String] {
        let nameWidth = findings.map(\.name.count).max() ?? 0
        let verdictWidth = findings.map(\.verdict.rawValue.count).max() ?? 0
        return findings.map { finding in
            finding.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0) + "  "
                + finding.verdict.rawValue.padding(toLength: verdictWidth, withPad: " ", startingAt: 0) + "  " + finding.detail
        }
    }

    /// One line: how many probes ran and how many were contained, leaked, errored or were skipped.
    public var summary: String {
        if let boxFailure { return "the box does not start, no probe ran: \(boxFailure)" }
        func count(_ verdict: ContainmentFinding.Verdict) -> Int { findings.filter { $0.verdict == verdict }.count }
        let seconds = duration.inSeconds
        let parts = ["\(count(.contained)) contained", "\(count(.leak)) LEAK", "\(count(.error)) ERROR", "\(count(.skipped)) skipped"]
        return "\(findings.count) probes in \(String(format: "%.1f", seconds)) s: " + parts.joined(separator: ", ")
            + (isContained ? "; the box is contained" : "; the box is NOT contained")
    }

    /// The one sentence the executor refuses to start with, naming what is not contained and the command
    /// that shows the details; nil when the box is contained.
    public func refusal(checkCommand: String = "masterplan sandbox check") -> String? {
        if let boxFailure {
            return "the sandbox cannot run its containment probes on this machine (\(boxFailure)); run \(checkCommand) for details"
        }
        let names = leaks.map(\.name)
        guard !names.isEmpty else { return nil }
        let shown = names.prefix(6).joined(separator: ", ") + (names.count > 6 ? " and \(names.count - 6) more" : "")
        return "the sandbox is not contained (\(shown)): generated code could reach this machine's secrets or resources; "
            + "run \(checkCommand) to see what each probe got at, and fix the box or the layout it names before starting the executor"
    }
}
