/// One commit of a workspace's history.
public struct WorkspaceCommit: Sendable, Hashable {
    /// The full 40-hex-digit commit id.
    public var sha: String
    public var parents: [String]
    /// The first line of the message, e.g. "wave 3: 12 atoms".
    public var subject: String
    /// Commit time, ISO 8601 with offset (`%cI`).
    public var committedAt: String

    public init(sha: String, parents: [String], subject: String, committedAt: String) {
        self.sha = sha
        self.parents = parents
        self.subject = subject
        self.committedAt = committedAt
    }
}
