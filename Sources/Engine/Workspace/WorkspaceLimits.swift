import PlanCore

/// What the workspace accepts from generated content, and how long git may take.
public struct WorkspaceLimits: Sendable, Hashable {
    /// The largest file written or read, in bytes.
    public var maxFileBytes: Int
    /// The path rules (length, depth) shared with plan validation.
    public var paths: PlanLimits
    /// Whether each write is flushed to disk (file and folder) before it counts as done; an accepted
    /// atom must survive a crash of the machine, not only of the executor.
    public var syncWrites: Bool
    /// Wall-clock limit for one git command.
    public var gitTimeout: Duration

    public init(maxFileBytes: Int = 1 << 20, paths: PlanLimits = .default, syncWrites: Bool = true,
                gitTimeout: Duration = .seconds(120)) {
        self.maxFileBytes = maxFileBytes
        self.paths = paths
        self.syncWrites = syncWrites
        self.gitTimeout = gitTimeout
    }

    public static let `default` = WorkspaceLimits()
}
