import Base
import Foundation
import Glibc

/// One long-running child of `masterplan up`: a `RunningProgram` started with its output appended to
/// a log file, plus what `up` needs of that log.
///
/// The child leads a process group of its own, so a Ctrl-C in the terminal reaches only `up`, which
/// then stops the children in order (the executor before the model it talks to, the database last).
/// The group also lets `up` find what a child left behind (the API pool's workers) by group id.
final class UpProcess {
    /// Short name used in the console and in the log file's name (`api`, `executor`, …).
    let name: String
    let logPath: String
    /// Where this child's part of the log starts: the file is appended to by every run of `up` and
    /// every restart, and only what this child wrote counts (an old line must never be read as new).
    let logStart: UInt64
    /// When it was started, for the restart backoff (a child that ran long enough starts afresh).
    let startedAt = Date()
    private let program: RunningProgram

    /// Starts `executable ARGUMENTS` with `environment`, stdin from /dev/null, stdout and stderr
    /// appended to `logPath`, default signal dispositions and an empty signal mask.
    init(name: String, executable: String, arguments: [String], environment: [String: String], logPath: String) throws {
        self.name = name
        self.logPath = logPath
        var existing = stat()
        logStart = stat(logPath, &existing) == 0 ? UInt64(existing.st_size) : 0
        do {
            program = try SpawnedProgram(executable: executable, arguments: arguments, environment: environment,
                                         output: .file(logPath, append: true)).start()
        } catch {
            throw UpFailure("cannot start \(name) (\(executable)): \(String(cString: strerror(error.code)))")
        }
    }

    var pid: pid_t { program.pid }

    /// The exit status once it exited (128 + signal for a signal); nil while it runs.
    var exitStatus: Int32? { program.termination?.status }

    /// True until the child has exited (and was reaped here).
    var isRunning: Bool { program.isRunning }

    /// The exit status once it exited (128 + signal for a signal), reaping it; nil while it runs.
    @discardableResult
    func poll() -> Int32? { program.poll()?.status }

    /// Sends `signal` to the child (by PID) if it still runs.
    func send(_ signal: Int32) { program.send(signal) }

    /// Whether anything is left in the child's process group (the child or what it started).
    var groupIsAlive: Bool { program.groupIsAlive }

    /// SIGKILLs whatever is left in the child's process group (by its group id, which is the PID).
    func killGroup() { program.killGroup() }

    /// What this child wrote to its log so far (not what earlier runs wrote before it).
    var ownLog: String {
        guard let handle = FileHandle(forReadingAtPath: logPath) else { return "" }
        defer { try? handle.close() }
        guard (try? handle.seek(toOffset: logStart)) != nil, let data = try? handle.readToEnd() else { return "" }
        return String(decoding: data, as: UTF8.self)
    }

    /// The last `lines` lines this child wrote to its log, for the console when it fails.
    func logTail(_ lines: Int = 8) -> String {
        let text = ownLog
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines + 1)
            .joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A description of how it ended: "exited with status 1" or "was killed by signal 9".
    var endDescription: String {
        guard let status = exitStatus else { return "is running" }
        return status > 128 ? "was killed by signal \(status - 128)" : "exited with status \(status)"
    }
}

/// Why `masterplan up` could not bring the stack up, or had to stop it: one sentence for the console.
struct UpFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
