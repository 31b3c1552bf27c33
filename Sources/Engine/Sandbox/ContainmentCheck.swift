import Dispatch
import Foundation
import Glibc
import JSON
import Synchronization

/// Tries to get out of the real box, the way generated code would, and reports what got through.
///
/// Every probe (`ContainmentProbe`) runs through `Sandbox.run` in each of the engine's kinds of run
/// (`ContainmentRunKind`), with the same workspace view and limits the engine uses (`BoxView`): a
/// validator sees the workspace read-only; an acceptance test runs in the box's own copy of a throwaway
/// copy under `scratchParent`, with the installed dependencies bound read-only; the install step's fetch
/// box writes only in a new download folder, with network; its install box writes only in a new target
/// folder, with the downloads read-only. The workspace is a throwaway one made in the executor's
/// workspaces folder the way the executor makes them, beside a throwaway "other workspace".
///
/// A verdict comes from what happened: what the probe reports on its own channel (descriptor 4), and
/// what the check then finds on the host — files that appeared, free space that went, processes that
/// outlived the box, connections its own listeners accepted, the uid the box's process had. A probe that
/// gives no usable answer is an error, never "contained".
///
/// Blocking; it starts several boxes at once (`parallelism`), and runs the disk and process probes with
/// no other box beside them. The process probe uses up the sandbox user's processes for a moment: on a
/// kernel that counts them per host user rather than per box, boxes of a running executor could fail to
/// start processes meanwhile.
public struct ContainmentCheck: Sendable {
    public let sandbox: Sandbox
    public var targets: ContainmentTargets
    /// The Python the probes run with (Debian's, as the engine's boxes use).
    public var python: String?
    public var kinds: [ContainmentRunKind] = ContainmentRunKind.allCases
    public var probes: [ContainmentProbe] = ContainmentProbe.allCases
    /// How much of the disk behind the box's working directory a probe may take before it counts as a
    /// leak (the probe stops itself there), and how far the host's free space may fall meanwhile.
    public var diskBound: Int = 1 << 30
    /// How far past its kind's `/tmp` size (`SandboxLimits.tmpBytes`) a probe writes there before it
    /// counts as a leak.
    public var tmpSlack: Int = 64 << 20
    /// How many processes a probe may start before it counts as a leak (the probe stops itself there).
    public var processBound: Int = 1024
    /// How far past its kind's memory limit a probe allocates before it counts as a leak.
    public var memorySlack: Int = 256 << 20
    /// Boxes running at the same time.
    public var parallelism: Int = min(4, max(2, ProcessInfo.processInfo.activeProcessorCount))

    public init(sandbox: Sandbox, targets: ContainmentTargets, interpreters: Interpreters = .locate()) {
        self.sandbox = sandbox
        self.targets = targets
        python = interpreters.python3
    }

    /// Runs every probe in every kind and reports each verdict; a box that does not start at all (or a
    /// missing python3, or a probe workspace that cannot be made) is `boxFailure` with no findings.
    public func run() -> ContainmentReport {
        let started = ContinuousClock.now
        guard let python else {
            return ContainmentReport(findings: [], boxFailure: "python3 is not installed; install the Debian package python3 (make deps)")
        }
        let stage: Stage
        do {
            stage = try Stage(targets: targets, sandbox: sandbox)
        } catch {
            return ContainmentReport(findings: [], boxFailure: error.description)
        }
        defer { stage.remove() }
        let start = sandbox.run(python, ["-I", "-c", "pass"], in: .readOnly(stage.root), limits: .validator)
        guard start.status == .passed else {
            let reason = start.output.split(separator: "\n").prefix(3).joined(separator: " ")
            return ContainmentReport(findings: [], boxFailure: reason.isEmpty ? "status \(start.status.rawValue)" : reason,
                                     duration: ContinuousClock.now - started)
        }

        let attempts = kinds.flatMap { kind in probes.map { (kind, $0) } }
        let findings = Mutex<[Int: ContainmentFinding]>([:])
        let together = attempts.indices.filter { !attempts[$0].1.runsAlone }
        let next = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: max(1, min(parallelism, together.count))) { _ in
            while true {
                let position = next.add(1, ordering: .relaxed).oldValue
                guard position < together.count else { return }
                let index = together[position]
                let finding = attempt(attempts[index].1, in: attempts[index].0, python: python, stage: stage)
                findings.withLock { $0[index] = finding }
            }
        }
        for index in attempts.indices where attempts[index].1.runsAlone {
            let finding = attempt(attempts[index].1, in: attempts[index].0, python: python, stage: stage)
            findings.withLock { $0[index] = finding }
        }
        let ordered = findings.withLock { found in attempts.indices.compactMap { found[$0] } }
        return ContainmentReport(findings: ordered, duration: ContinuousClock.now - started)
    }

    // MARK: running one probe

    /// What a probe reported on descriptor 4, and how its box ended.
    struct Outcome {
        var box: SandboxResult
        /// The probe's `{"result": …}`, nil when it did not get that far.
        var result: JSONValue?
        /// The last `{"progress": …}` it reported.
        var progress: JSONValue?

        init(_ box: SandboxResult) {
            self.box = box
            for line in box.report.split(separator: UInt8(ascii: "\n")) {
                guard let document = try? JSONValue.parse(Array(line)) else { continue }
                if let result = document["result"] { self.result = result }
                if let progress = document["progress"] { self.progress = progress }
            }
        }

        /// How the box ended, for an error line: it did not start, it timed out, a signal, or no answer.
        var failure: String {
            switch box.status {
            case .error:
                return "the box did not start the probe: " + Self.excerpt(box.output)
            case .timedOut:
                return "the probe ran out of time"
            case .passed, .failed:
                if let signal = box.signal { return "the probe was ended by signal \(signal) before it answered" }
                if let code = box.exitCode, code > 128 { return "the probe was ended by signal \(code - 128) before it answered" }
                return "the probe gave no answer (exit status \(box.exitCode.map(String.init) ?? "?")): " + Self.excerpt(box.output)
            }
        }

        static func excerpt(_ output: String) -> String {
            let lines = output.split(separator: "\n").suffix(2).joined(separator: " | ")
            return lines.isEmpty ? "no output" : String(lines.prefix(300))
        }
    }

    /// Runs `probe`'s program with `arguments` (plus a self-imposed time limit) in a box of `kind` that
    /// sees `view`, and returns what it reported.
    func runBox(_ probe: ContainmentProbe, in kind: ContainmentRunKind, view: BoxView, python: String,
                arguments: JSONObject) -> Outcome {
        var arguments = arguments
        if arguments["alarm"] == nil { arguments["alarm"] = .int(20) }
        let program = ["-I", "-c", probe.script, JSONValue.object(arguments).jsonText]
        return Outcome(sandbox.run(python, program, in: view.workspace, limits: kind.limits, capturesReport: true))
    }
}
