/// The one host folder a sandboxed program may see besides the read-only system (and read-only folders
/// such as installed dependencies): it is the program's working directory, shown at `path`.
public struct SandboxWorkspace: Sendable, Hashable {
    /// Where the program sees the folder (an absolute path); also its working directory.
    public var path: String
    /// The host folder mounted there; usually `path` itself, or a throwaway copy of it.
    public var source: String
    /// Whether the program may change the folder (only the dependency-install step needs to).
    public var writable: Bool
    /// Whether the box works on a copy of `source` of its own: a size-limited tmpfs at `path`, filled
    /// from `source` (shown read-only) before the program starts, and gone when the run ends. What the
    /// program writes reaches no host disk and is bounded by `SandboxLimits.workspaceBytes`.
    public var copiesIntoBox = false
    /// Host folders shown read-only, such as the installed dependencies, which nothing a test runs may
    /// change; at paths inside `path` they lie over the copy's own content there.
    public var readOnlyBinds: [ReadOnlyBind] = []

    public struct ReadOnlyBind: Sendable, Hashable {
        /// The host folder.
        public var source: String
        /// Where the program sees it: an absolute, normalised path outside the system folders.
        public var path: String

        public init(source: String, path: String) {
            self.source = source
            self.path = path
        }
    }

    public init(path: String, source: String? = nil, writable: Bool) {
        self.path = path
        self.source = source ?? path
        self.writable = writable
    }

    /// The folder as it is, read-only: validators look and never touch.
    public static func readOnly(_ path: String) -> SandboxWorkspace {
        SandboxWorkspace(path: path, writable: false)
    }

    /// The folder as it is, writable. When the executor runs as root the box is the sandbox user on the
    /// host too, so the folder (or the part of it the program writes, such as a dependency folder)
    /// must be writable by that user.
    public static func readWrite(_ path: String) -> SandboxWorkspace {
        SandboxWorkspace(path: path, writable: true)
    }

    /// A writable throwaway copy of `copy` made inside the box (see `copiesIntoBox`), shown at the
    /// workspace's own path, so that what the program writes never reaches the workspace or the host.
    public static func scratchCopy(_ copy: String, shownAt path: String, readOnly binds: [ReadOnlyBind] = []) -> SandboxWorkspace {
        var workspace = SandboxWorkspace(path: path, source: copy, writable: true)
        workspace.copiesIntoBox = true
        workspace.readOnlyBinds = binds
        return workspace
    }
}
