import Base
import JSON

/// How one program run in the sandbox ended, with the tail of what it printed.
public struct SandboxResult: Sendable {
    public enum Status: String, Sendable, Hashable {
        /// The program exited with status 0.
        case passed = "pass"
        /// The program exited with another status or was ended by a signal.
        case failed = "fail"
        /// The program was killed at the wall-clock limit.
        case timedOut = "timeout"
        /// The program could not be started (the sandbox itself failed, or the interpreter is missing);
        /// `output` says why. Not the program's fault.
        case error
    }

    public var status: Status
    /// The program's exit status when it exited by itself.
    public var exitCode: Int32?
    /// The signal that ended the sandbox, when one did (the program's own signals show as exit code 128 + n).
    public var signal: Int32?
    public var duration: Duration
    /// The tail of standard output and standard error, interleaved as written.
    public var output: String
    /// Every byte the program wrote; more than `output` holds when the tail was cut.
    public var outputBytes: Int
    /// Bytes written before the kept tail.
    public var droppedOutputBytes: Int
    /// What the program wrote to descriptor 4 when the run captured it (see `Sandbox.run`).
    public var report: [UInt8] = []
    /// Bytes descriptor 4 carried past its limit (dropped): a report or export that was too large.
    public var reportOverflow = 0
    /// The errno of a failed write to the export file (`Sandbox.run`'s `export`), when one failed.
    public var exportError: Int32?

    public init(status: Status, exitCode: Int32?, signal: Int32?, duration: Duration, output: String,
                outputBytes: Int, droppedOutputBytes: Int) {
        self.status = status
        self.exitCode = exitCode
        self.signal = signal
        self.duration = duration
        self.output = output
        self.outputBytes = outputBytes
        self.droppedOutputBytes = droppedOutputBytes
    }

    /// A result for a run that never started.
    static func notStarted(_ reason: String) -> SandboxResult {
        SandboxResult(status: .error, exitCode: nil, signal: nil, duration: .zero, output: reason,
                      outputBytes: reason.utf8.count, droppedOutputBytes: 0)
    }

    /// The output with a first line saying how much was cut, for people and for the LLM's repair prompt.
    public var outputWithNotice: String {
        droppedOutputBytes > 0 ? "[\(droppedOutputBytes) earlier bytes of output omitted]\n" + output : output
    }

    public var durationMilliseconds: Int64 { duration.wholeMilliseconds }

    /// `{"status", "exit_code", "signal", "duration_ms", "output", "output_bytes"}` for storage.
    public var jsonValue: JSONValue {
        var object = JSONObject()
        object["status"] = .string(status.rawValue)
        object["exit_code"] = exitCode.map { .int(Int64($0)) } ?? .null
        object["signal"] = signal.map { .int(Int64($0)) } ?? .null
        object["duration_ms"] = .int(duration.wholeMilliseconds)
        object["output"] = .string(outputWithNotice)
        object["output_bytes"] = .int(Int64(outputBytes))
        return .object(object)
    }
}
