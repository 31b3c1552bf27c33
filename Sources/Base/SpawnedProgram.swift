import Glibc

/// Runs a program with `posix_spawn`: to completion, keeping the tail of its output and killing it at
/// a deadline (`run()`), or in the background as a long-running child signalled and reaped by its PID
/// (`start()`).
///
/// Why not Foundation's `Process`: its `waitUntilExit` was seen to hang here (the child stayed a
/// zombie when it left a daemon behind, as `pg_ctl start` does), and it cannot put the child in its
/// own process group before exec. Why not `fork`: Swift cannot safely run code between fork and exec.
/// `posix_spawn` does all the child-side set-up in the C library: a new process group (so a timeout
/// kills everything the program started), default signal dispositions and an empty signal mask (so an
/// ignored SIGPIPE or a blocked signal of this process is not inherited), stdin from /dev/null or a file,
/// stdout and stderr into one pipe or one file, and no other descriptor of this process.
///
/// Blocking: call `run()` from a thread of its own (a `BlockingPool`), never from the cooperative pool.
public struct SpawnedProgram: Sendable {
    public var executable: String
    public var arguments: [String]
    /// The complete environment of the program; nil inherits this process's environment.
    public var environment: [String: String]?
    /// Wall-clock time before the process group is killed; nil waits for ever (`run()` only).
    public var timeout: Duration?
    /// Output bytes kept (the tail) when the output goes to a pipe.
    public var outputLimit: Int
    /// The file standard input reads.
    public var input = "/dev/null"
    /// Where standard output goes.
    public var output: Output = .pipe
    /// Where standard error goes.
    public var standardError: StandardError = .withOutput
    /// When true the program leads a process group of its own (its PID is the group id).
    public var newProcessGroup = true
    /// When true, descriptor 3 of the program is a second pipe whose content comes back in `Run.statusBytes`
    /// (bwrap's `--json-status-fd 3`).
    public var capturesDescriptor3 = false
    /// When true, descriptor 4 of the program is a third pipe whose content (up to `reportLimit` bytes)
    /// comes back in `Run.reportBytes`: a channel of its own for a machine-readable report, kept apart
    /// from the output, whose tail is all that is kept.
    public var capturesDescriptor4 = false
    public var reportLimit = SpawnedProgram.defaultReportLimit
    public static let defaultReportLimit = 4 << 20
    /// When set, descriptor 4's bytes (up to `reportLimit`) are written to this open file instead of
    /// being kept in memory: a bounded way for a box to hand over a large result.
    public var reportSink: Int32?
    /// Open descriptors of this process the child gets at the given numbers.
    public var passedDescriptors: [(source: Int32, target: Int32)] = []
    /// Files the child opens read-only at the given descriptors before exec (bwrap's `--seccomp 5`).
    public var openedFiles: [(descriptor: Int32, path: String)] = []

    public init(executable: String, arguments: [String], environment: [String: String]?, timeout: Duration? = nil,
                outputLimit: Int = 64 << 10, input: String = "/dev/null", output: Output = .pipe, standardError: StandardError = .withOutput,
                newProcessGroup: Bool = true, capturesDescriptor3: Bool = false, capturesDescriptor4: Bool = false,
                reportLimit: Int = SpawnedProgram.defaultReportLimit, reportSink: Int32? = nil,
                passedDescriptors: [(source: Int32, target: Int32)] = [],
                openedFiles: [(descriptor: Int32, path: String)] = []) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.timeout = timeout
        self.outputLimit = outputLimit
        self.input = input
        self.output = output
        self.standardError = standardError
        self.newProcessGroup = newProcessGroup
        self.capturesDescriptor3 = capturesDescriptor3
        self.capturesDescriptor4 = capturesDescriptor4
        self.reportLimit = reportLimit
        self.reportSink = reportSink
        self.passedDescriptors = passedDescriptors
        self.openedFiles = openedFiles
    }

    /// Where standard output goes.
    public enum Output: Sendable, Equatable {
        /// A pipe read by `run()`, whose tail (`outputLimit` bytes) comes back in `Run.output`.
        case pipe
        /// A file, created if missing (mode 0644), truncated first unless `append`. A file rather than
        /// a pipe when a daemon the program starts inherits it: nobody has to keep reading.
        case file(String, append: Bool)
    }

    /// Where standard error goes.
    public enum StandardError: Sendable, Equatable {
        /// Wherever standard output goes, interleaved with it.
        case withOutput
        /// /dev/null.
        case discarded
    }

    /// How the program ended.
    public enum Termination: Sendable, Equatable {
        case exited(Int32)
        case signalled(Int32)
        /// Killed at the deadline.
        case timedOut

        /// Decodes a `waitpid` status word (WIFEXITED / WEXITSTATUS / WTERMSIG are macros Swift
        /// cannot call).
        init(waitStatus word: Int32) {
            self = word & 0x7f == 0 ? .exited((word >> 8) & 0xff) : .signalled(word & 0x7f)
        }

        /// The status a shell would report: the exit code, or 128 + the signal number.
        public var status: Int32 {
            switch self {
            case .exited(let code): code
            case .signalled(let signal): 128 + signal
            case .timedOut: 128 + SIGKILL
            }
        }
    }

    public struct Run: Sendable {
        public var termination: Termination
        public var duration: Duration
        /// The tail of the output when it went to a pipe; empty otherwise.
        public var output: OutputTail
        public var statusBytes: [UInt8]
        public var reportBytes: [UInt8]
        /// Bytes descriptor 4 carried past `reportLimit` (read and dropped).
        public var reportOverflow = 0
        /// A write to `reportSink` failed with this errno.
        public var reportSinkError: Int32?
    }

    /// The program could not be started at all.
    public struct LaunchError: Error, CustomStringConvertible {
        public var executable: String
        public var operation: String
        public var code: Int32
        public var description: String {
            "cannot start \(executable): \(operation) failed: \(String(cString: strerror(code)))"
        }
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later), which closes every descriptor
    /// from a number on in the child; Swift's Glibc module does not declare it, so it is looked up once.
    typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    static let closeFrom: CloseFrom? = {
        // RTLD_DEFAULT is the null handle in glibc.
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: CloseFrom.self)
    }()

    /// Whether this C library can keep this process's other descriptors out of a child (glibc 2.34
    /// or later); without it a child inherits every descriptor opened without close-on-exec.
    public static var closesInheritedDescriptors: Bool { closeFrom != nil }

    /// What bwrap writes to its status descriptor is a few hundred bytes; anything beyond is ignored.
    private static let statusLimit = 64 << 10
    /// After the program exits, how long descendants that still hold the output pipe may keep it open.
    private static let drainGrace: Duration = .milliseconds(300)

    /// Runs the program to completion (or to its deadline) and reports how it ended.
    public func run() throws(LaunchError) -> Run {
        let clock = ContinuousClock()
        let start = clock.now
        var pipes: [(read: Int32, write: Int32)] = []
        func closePipes() { for pipe in pipes { close(pipe.read); close(pipe.write) } }
        let output: (read: Int32, write: Int32)?
        let status: (read: Int32, write: Int32)?
        let report: (read: Int32, write: Int32)?
        let pid: pid_t
        do {
            output = self.output == .pipe ? try makePipe() : nil
            if let output { pipes.append(output) }
            status = capturesDescriptor3 ? try makePipe() : nil
            if let status { pipes.append(status) }
            report = capturesDescriptor4 ? try makePipe() : nil
            if let report { pipes.append(report) }
            pid = try spawn(outputWrite: output?.write, statusWrite: status?.write, reportWrite: report?.write)
        } catch {
            closePipes()
            throw error
        }
        for pipe in pipes { close(pipe.write) }

        var reader = PipeReader(outputFD: output?.read, statusFD: status?.read, reportFD: report?.read,
                                output: OutputTail(capacity: outputLimit), statusLimit: Self.statusLimit,
                                reportLimit: reportLimit, reportSink: reportSink)
        defer { reader.closeAll() }
        let deadline = timeout.map { start + $0 }
        var exitedAt: ContinuousClock.Instant?
        var waitStatus: Int32?
        var timedOut = false
        var idleSleep: Duration = .microseconds(200)

        while true {
            if waitStatus == nil, let reaped = Self.reap(pid, blocking: !reader.isOpen && deadline == nil) {
                waitStatus = reaped
                exitedAt = clock.now
            }
            if waitStatus != nil {
                if !reader.isOpen { break }
                if let exitedAt, clock.now - exitedAt > Self.drainGrace { break }
            } else if let deadline, clock.now >= deadline {
                // The program is in its own process group; bwrap's --die-with-parent and the end of its pid
                // namespace take everything inside the box with it.
                if newProcessGroup { kill(-pid, SIGKILL) }
                kill(pid, SIGKILL)
                waitStatus = Self.reap(pid, blocking: true)
                timedOut = true
                reader.drain(for: .milliseconds(100))
                break
            }
            var slice: Duration = .milliseconds(100)
            if let deadline { slice = min(slice, max(.zero, deadline - clock.now)) }
            if let exitedAt { slice = min(slice, max(.zero, Self.drainGrace - (clock.now - exitedAt))) }
            if reader.isOpen {
                reader.poll(for: slice)
            } else {
                // No pipe to wait on (closed, or the output goes to a file) and the process has not been
                // reaped yet: look again soon.
                let nap = min(idleSleep, slice)
                usleep(UInt32(max(1, nap.wholeMicroseconds)))
                idleSleep = min(idleSleep * 2, .milliseconds(20))
            }
        }

        let termination = timedOut ? .timedOut : Termination(waitStatus: waitStatus ?? 0)
        return Run(termination: termination, duration: clock.now - start, output: reader.output,
                   statusBytes: reader.status, reportBytes: reader.report, reportOverflow: reader.reportOverflow,
                   reportSinkError: reader.sinkError)
    }

    /// Starts the program in the background and returns at once: a long-running child whose output
    /// goes to a file. `timeout` and the captured descriptors do not apply; the caller polls, signals
    /// and reaps the child through the returned `RunningProgram`.
    public func start() throws(LaunchError) -> RunningProgram {
        precondition(output != .pipe && !capturesDescriptor3 && !capturesDescriptor4,
                     "a started program writes to a file: nobody reads a pipe for it")
        return RunningProgram(pid: try spawn(outputWrite: nil, statusWrite: nil, reportWrite: nil),
                              leadsGroup: newProcessGroup)
    }

    /// A connected pair of descriptors used as a pipe (read end, write end), close-on-exec from the
    /// start and numbered 10 or above, so that no file action of the child (which writes descriptors
    /// 0–3) can clobber one before it is duplicated. `socketpair` rather than `pipe`: Swift does not see
    /// `pipe2`, and a plain `pipe` would leave a moment in which a spawn on another thread inherits it.
    private func makePipe() throws(LaunchError) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        guard socketpair(AF_UNIX, type, 0, &fds) == 0 else {
            throw LaunchError(executable: executable, operation: "socketpair", code: errno)
        }
        var moved: [Int32] = []
        for fd in fds {
            let high = fcntl(fd, F_DUPFD_CLOEXEC, 10)
            let code = errno
            close(fd)
            if high < 0 {
                moved.forEach { close($0) }
                throw LaunchError(executable: executable, operation: "fcntl(F_DUPFD_CLOEXEC)", code: code)
            }
            moved.append(high)
        }
        // One direction only: the child cannot read back through its output.
        shutdown(moved[0], Int32(SHUT_WR))
        shutdown(moved[1], Int32(SHUT_RD))
        return (moved[0], moved[1])
    }

    private func spawn(outputWrite: Int32?, statusWrite: Int32?, reportWrite: Int32?) throws(LaunchError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, input, O_RDONLY, 0)
        switch output {
        case .pipe:
            if let outputWrite { posix_spawn_file_actions_adddup2(&actions, outputWrite, 1) }
        case .file(let path, let append):
            posix_spawn_file_actions_addopen(&actions, 1, path, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0o644)
        }
        switch standardError {
        case .withOutput: posix_spawn_file_actions_adddup2(&actions, 1, 2)
        case .discarded: posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        }
        if let statusWrite { posix_spawn_file_actions_adddup2(&actions, statusWrite, 3) }
        if let reportWrite { posix_spawn_file_actions_adddup2(&actions, reportWrite, 4) }
        for passed in passedDescriptors { posix_spawn_file_actions_adddup2(&actions, passed.source, passed.target) }
        for file in openedFiles { posix_spawn_file_actions_addopen(&actions, file.descriptor, file.path, O_RDONLY, 0) }
        // Nothing else of this process reaches the child: a descriptor some library opened without
        // close-on-exec (a socket, a pipe, a database connection) would otherwise be the box's too.
        if let closeFrom = Self.closeFrom {
            let highest = ([4] + passedDescriptors.map(\.target) + openedFiles.map(\.descriptor)).max()!
            _ = closeFrom(&actions, highest + 1)
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if newProcessGroup {
            posix_spawnattr_setpgroup(&attributes, 0)
            flags |= POSIX_SPAWN_SETPGROUP
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let envp: [UnsafeMutablePointer<CChar>?]? = environment.map { environment in
            environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        }
        defer { envp?.forEach { free($0) } }

        var pid: pid_t = 0
        let rc = envp.map { posix_spawn(&pid, executable, &actions, &attributes, argv, $0) }
            ?? posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard rc == 0 else { throw LaunchError(executable: executable, operation: "posix_spawn", code: rc) }
        return pid
    }

    /// The wait status of `pid`, or nil when it is still running (non-blocking).
    static func reap(_ pid: pid_t, blocking: Bool) -> Int32? {
        var word: Int32 = 0
        while true {
            let rc = waitpid(pid, &word, blocking ? 0 : WNOHANG)
            if rc == pid { return word }
            if rc == 0 { return nil }
            if errno == EINTR { continue }
            // ECHILD: someone else reaped it (a SIGCHLD handler set to SIG_IGN); report a plain failure.
            return 1 << 8
        }
    }
}

/// Reads the output pipe (and bwrap's status pipe, and the report pipe) without ever blocking past the
/// caller's slice.
private struct PipeReader {
    var outputFD: Int32?
    var statusFD: Int32?
    var reportFD: Int32?
    var output: OutputTail
    var status: [UInt8] = []
    var report: [UInt8] = []
    let statusLimit: Int
    let reportLimit: Int
    let reportSink: Int32?
    /// Bytes written to the sink so far, bytes dropped past the limit, and a failed write's errno.
    var sunk = 0
    var reportOverflow = 0
    var sinkError: Int32?
    private var chunk = [UInt8](repeating: 0, count: 64 << 10)

    init(outputFD: Int32?, statusFD: Int32?, reportFD: Int32?, output: OutputTail, statusLimit: Int, reportLimit: Int,
         reportSink: Int32?) {
        self.reportSink = reportSink
        self.outputFD = outputFD
        self.statusFD = statusFD
        self.reportFD = reportFD
        self.output = output
        self.statusLimit = statusLimit
        self.reportLimit = reportLimit
    }

    var isOpen: Bool { outputFD != nil || statusFD != nil || reportFD != nil }

    /// Waits up to `slice` for data or end of file on the open pipes and reads what is there.
    mutating func poll(for slice: Duration) {
        var fds: [pollfd] = []
        if let outputFD { fds.append(pollfd(fd: outputFD, events: Int16(POLLIN), revents: 0)) }
        if let statusFD { fds.append(pollfd(fd: statusFD, events: Int16(POLLIN), revents: 0)) }
        if let reportFD { fds.append(pollfd(fd: reportFD, events: Int16(POLLIN), revents: 0)) }
        let milliseconds = Int32(clamping: max(0, slice.wholeMilliseconds))
        let ready = Glibc.poll(&fds, nfds_t(fds.count), milliseconds)
        guard ready > 0 else { return }
        for entry in fds where entry.revents != 0 {
            readOnce(entry.fd)
        }
    }

    /// Reads whatever arrives within `duration` (used after a kill).
    mutating func drain(for duration: Duration) {
        let clock = ContinuousClock()
        let end = clock.now + duration
        while isOpen, clock.now < end {
            poll(for: end - clock.now)
        }
    }

    private mutating func readOnce(_ fd: Int32) {
        let count = chunk.withUnsafeMutableBytes { buffer -> Int in
            while true {
                let n = read(fd, buffer.baseAddress, buffer.count)
                if n < 0 && errno == EINTR { continue }
                return n
            }
        }
        if count <= 0 {
            close(fd)
            if fd == outputFD { outputFD = nil } else if fd == statusFD { statusFD = nil } else if fd == reportFD { reportFD = nil }
            return
        }
        if fd == outputFD {
            chunk.withUnsafeBytes { output.append(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
        } else if fd == statusFD {
            if status.count < statusLimit { status.append(contentsOf: chunk[0..<min(count, statusLimit - status.count)]) }
        } else if let reportSink {
            let kept = min(count, reportLimit - sunk)
            reportOverflow += count - kept
            if kept > 0 && sinkError == nil {
                var written = 0
                while written < kept {
                    let n = chunk.withUnsafeBytes { write(reportSink, $0.baseAddress! + written, kept - written) }
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 {
                        sinkError = errno
                        break
                    }
                    written += n
                }
            }
            sunk += kept
        } else if report.count < reportLimit {
            // Past the limit the rest is read and dropped: a report cut short lacks its end and fails.
            reportOverflow += count - min(count, reportLimit - report.count)
            report.append(contentsOf: chunk[0..<min(count, reportLimit - report.count)])
        } else {
            reportOverflow += count
        }
    }

    mutating func closeAll() {
        if let outputFD { close(outputFD) }
        if let statusFD { close(statusFD) }
        if let reportFD { close(reportFD) }
        outputFD = nil
        statusFD = nil
        reportFD = nil
    }
}
