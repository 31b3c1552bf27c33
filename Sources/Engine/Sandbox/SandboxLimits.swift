/// Limits for one program run inside the sandbox (a validator, an acceptance test, a dependency install).
public struct SandboxLimits: Sendable, Equatable {
    /// Wall-clock time before the program is killed.
    public var timeout: Duration
    /// Address-space limit for the program (`RLIMIT_AS`), in bytes.
    public var memoryBytes: Int
    /// Output kept (the tail) from standard output and standard error together.
    public var outputBytes: Int
    /// Whether the program may use the host's network (only the dependency fetch's guard may).
    public var network: Bool
    /// Whether the box shows the network's settings (resolver, certificates, pip's configuration)
    /// without the network itself: the fetch box talks to the index only through its guard.
    public var networkSettings = false
    /// Whether the box has a `/proc` of its own. A run without one (Go's acceptance tests) leaves its
    /// program no path to its own descriptors (`/proc/self/fd`, `/dev/fd`) or memory: a descriptor the
    /// harness was given is then reachable only through the calls its static checks refuse.
    public var processFiles = true
    /// Processes and threads of the sandbox user (`RLIMIT_NPROC`); stops fork bombs. The count is per
    /// user, so boxes running at the same time share it.
    public var processes: Int
    /// The largest file the program may write (`RLIMIT_FSIZE`), in bytes.
    public var fileBytes: Int
    /// Size of the private `/tmp` (and, separately, of `/dev/shm`); both live in memory.
    public var tmpBytes: Int
    /// Size of the box's own copy of the workspace (a run on `SandboxWorkspace.scratchCopy`), which lives
    /// in memory too: with `tmpBytes`, what such a run can write at all.
    public var workspaceBytes: Int

    public init(timeout: Duration = .seconds(60), memoryBytes: Int = 1 << 30, outputBytes: Int = 64 << 10, network: Bool = false,
                processes: Int = 256, fileBytes: Int = 64 << 20, tmpBytes: Int = 128 << 20, workspaceBytes: Int = 256 << 20) {
        self.timeout = timeout
        self.memoryBytes = memoryBytes
        self.outputBytes = outputBytes
        self.network = network
        self.processes = processes
        self.fileBytes = fileBytes
        self.tmpBytes = tmpBytes
        self.workspaceBytes = workspaceBytes
    }

    /// Validators: short and small.
    public static let validator = SandboxLimits(timeout: .seconds(30), memoryBytes: 512 << 20, tmpBytes: 16 << 20)
    /// Acceptance tests: longer, still without network.
    public static let acceptanceTest = SandboxLimits(timeout: .seconds(120), memoryBytes: 1 << 30)
}
