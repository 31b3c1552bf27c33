import Base
import Foundation
import Store

/// A long-running child process (a server under test) started with `posix_spawn`, its output going
/// to a file, and stopped by its PID — never by name, so nothing else on the machine is touched.
///
/// `Foundation.Process` is not used: its `waitUntilExit` was seen to hang here (see `ChildProcess`).
public final class BackgroundProcess: @unchecked Sendable {
    // `program` (which caches how the child ended) is only used under `lock`, apart from its constant `pid`.
    public let executable: String
    public let outputPath: String
    private let lock = NSLock()
    private let program: RunningProgram

    /// Starts `executable ARGUMENTS` with exactly `environment` (plus PATH when missing), stdin from
    /// `inputPath` (default /dev/null), stdout and stderr appended to `outputPath`, default signal
    /// dispositions and an empty signal mask (the child must not inherit a blocked SIGTERM).
    public init(_ executable: String, _ arguments: [String], environment: [String: String],
                outputPath: String, inputPath: String = "/dev/null") throws {
        self.executable = executable
        self.outputPath = outputPath
        var env = environment
        env["PATH"] = env["PATH"] ?? ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        do {
            program = try SpawnedProgram(executable: executable, arguments: arguments, environment: env, input: inputPath,
                                         output: .file(outputPath, append: true), newProcessGroup: false).start()
        } catch {
            throw PrivateClusterError(message: error.description)
        }
    }

    public var pid: pid_t { program.pid }

    /// Everything the process wrote so far.
    public var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }

    /// True until the process has exited (and was reaped here).
    public var isRunning: Bool { poll() == nil }

    /// The exit status once it exited (128 + signal for a signal), reaping it; nil while it runs.
    public func poll() -> Int32? {
        lock.lock()
        defer { lock.unlock() }
        return program.poll()?.status
    }

    /// Waits up to `seconds` for the process to exit; its status, or nil if it still runs.
    @discardableResult
    public func waitForExit(seconds: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let status = poll() { return status }
            usleep(10_000)
        }
        return poll()
    }

    /// Sends `signal` to the process (by PID).
    /// The first line of its output that satisfies `matches`, waiting up to `seconds` (checked every
    /// 20 ms); nil when none came in time or the process ended without one.
    public func firstLine(seconds: Double = 30, where matches: (Substring) -> Bool) -> String? {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let ended = !isRunning
            if let line = output.split(separator: "\n").first(where: matches) { return String(line) }
            if ended || Date() > deadline { return nil }
            usleep(20_000)
        }
    }

    public func send(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// Sends `signal`, waits up to `seconds`, then SIGKILLs; returns the exit status.
    @discardableResult
    public func stop(_ signal: Int32 = SIGTERM, seconds: Double = 10) -> Int32? {
        guard isRunning else { return poll() }
        kill(pid, signal)
        if let status = waitForExit(seconds: seconds) { return status }
        kill(pid, SIGKILL)
        return waitForExit(seconds: 5)
    }

    /// The PIDs of this process's children (from /proc/*/stat), e.g. the workers of a prefork pool.
    public var childPIDs: [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        var children: [pid_t] = []
        for entry in entries {
            guard let candidate = pid_t(entry),
                  let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            // After "pid (comm)": state, then the parent's pid.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, pid_t(fields[1]) == pid { children.append(candidate) }
        }
        return children.sorted()
    }
}
