import PlanCore

/// What the workspace accepts from generated content, and how long git may take.
public struct WorkspaceLimits: Sendable, Hashable {
    /// The largest file written or read, in bytes.
    public var maxFileBytes: Int
    /// The path rules (length, depth) shared with plan validation.
    public var paths: PlanLimits
    /// Whether each write is flushed to disk (file and folder) before it returns. Off by default: an
    /// accepted atom survives a crash of the machine without it, because its content is durable in
    /// PostgreSQL (the accepted attempt) and a run that resumes rewrites every accepted file whose
    /// hash differs (`PlanRun.recoverWorkspace`); and every commit flushes the workspace's
    /// filesystem once (`Workspace.commit`), which covers git's own files as well — two flushes
    /// per write did not, since git flushes nothing by default.
    public var syncWrites: Bool
    /// Wall-clock limit for one git command.
    public var gitTimeout: Duration

    public init(maxFileBytes: Int = PlanLimits.default.maxFileBytes, paths: PlanLimits = .default, syncWrites: Bool = false,
                gitTimeout: Duration = .seconds(120)) {
        self.maxFileBytes = maxFileBytes
        self.paths = paths
        self.syncWrites = syncWrites
        self.gitTimeout = gitTimeout
    }

    public static let `default` = WorkspaceLimits()
}
