import Foundation
import Store

/// A long-running child process (a server under test) started with `posix_spawn`, its output going
/// to a file, and stopped by its PID — never by name, so nothing else on the machine is touched.
///
/// `Foundation.Process` is not used: its `waitUntilExit` was seen to hang here (see `ChildProcess`).
public final class BackgroundProcess: @unchecked Sendable {
    // Mutable state (`exitStatus`) is only touched under `lock`; everything else is set once in init.
    public let pid: pid_t
    public let executable: String
    public let outputPath: String
    private let lock = NSLock()
    private var exitStatus: Int32?

    /// Starts `executable ARGUMENTS` with exactly `environment` (plus PATH when missing), stdin from
    /// `inputPath` (default /dev/null), stdout and stderr appended to `outputPath`.
    public init(_ executable: String, _ arguments: [String], environment: [String: String],
                outputPath: String, inputPath: String = "/dev/null") throws {
        self.executable = executable
        self.outputPath = outputPath
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, inputPath, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        // A fresh signal mask and default dispositions: the child must not inherit a blocked SIGTERM.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGPIPE, SIGUSR1, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var env = environment
        env["PATH"] = env["PATH"] ?? ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        let code = posix_spawn(&child, executable, &actions, &attributes, argv, envp)
        guard code == 0 else {
            throw PrivateClusterError(message: "cannot start \(executable): \(String(cString: strerror(code)))")
        }
        pid = child
    }

    /// Everything the process wrote so far.
    public var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }

    /// True until the process has exited (and was reaped here).
    public var isRunning: Bool { poll() == nil }

    /// The exit status once it exited (128 + signal for a signal), reaping it; nil while it runs.
    public func poll() -> Int32? {
        lock.lock()
        defer { lock.unlock() }
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        guard result == pid else { return nil }
        exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return exitStatus
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
