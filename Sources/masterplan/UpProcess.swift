import Foundation
import Glibc

/// One long-running child of `masterplan up`: started with `posix_spawn`, its output appended to a
/// log file, signalled and reaped by its PID.
///
/// The child leads a process group of its own, so a Ctrl-C in the terminal reaches only `up`, which
/// then stops the children in order (the executor before the model it talks to, the database last).
/// The group also lets `up` find what a child left behind (the API pool's workers) by group id.
final class UpProcess {
    /// Short name used in the console and in the log file's name (`api`, `executor`, …).
    let name: String
    let pid: pid_t
    let logPath: String
    /// Where this child's part of the log starts: the file is appended to by every run of `up` and
    /// every restart, and only what this child wrote counts (an old line must never be read as new).
    let logStart: UInt64
    /// When it was started, for the restart backoff (a child that ran long enough starts afresh).
    let startedAt = Date()
    private(set) var exitStatus: Int32?

    /// Starts `executable ARGUMENTS` with `environment`, stdin from /dev/null, stdout and stderr
    /// appended to `logPath`, default signal dispositions and an empty signal mask.
    init(name: String, executable: String, arguments: [String], environment: [String: String], logPath: String) throws {
        self.name = name
        self.logPath = logPath
        var existing = stat()
        logStart = stat(logPath, &existing) == 0 ? UInt64(existing.st_size) : 0
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

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
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        let code = posix_spawn(&child, executable, &actions, &attributes, argv, envp)
        guard code == 0 else {
            throw UpFailure("cannot start \(name) (\(executable)): \(String(cString: strerror(code)))")
        }
        pid = child
    }

    /// True until the child has exited (and was reaped here).
    var isRunning: Bool { poll() == nil }

    /// The exit status once it exited (128 + signal for a signal), reaping it; nil while it runs.
    @discardableResult
    func poll() -> Int32? {
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == pid {
            // WIFEXITED / WEXITSTATUS are macros; decode the status word by hand.
            exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        } else if result < 0 && errno == ECHILD {
            exitStatus = 255  // reaped elsewhere; it is gone either way
        }
        return exitStatus
    }

    /// Sends `signal` to the child (by PID) if it still runs.
    func send(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// Whether anything is left in the child's process group (the child or what it started).
    var groupIsAlive: Bool { kill(-pid, 0) == 0 }

    /// SIGKILLs whatever is left in the child's process group (by its group id, which is the PID).
    func killGroup() {
        if groupIsAlive { kill(-pid, SIGKILL) }
        poll()
    }

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
