/// The one host folder a sandboxed program may see besides the read-only system: it is the program's
/// working directory, mounted at `path`.
public struct SandboxWorkspace: Sendable, Hashable {
    /// Where the program sees the folder (an absolute path); also its working directory.
    public var path: String
    /// The host folder mounted there; usually `path` itself, or a throwaway copy of it.
    public var source: String
    /// Whether the program may change the folder (only the dependency-install step needs to).
    public var writable: Bool
    /// Host folders shown read-only at paths inside `path` (over the copy's own content there), such as
    /// the installed dependencies, which nothing a test runs may change.
    public var readOnlyBinds: [ReadOnlyBind] = []

    public struct ReadOnlyBind: Sendable, Hashable {
        /// The host folder.
        public var source: String
        /// Where the program sees it: an absolute path inside the workspace's `path`.
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

    /// A writable throwaway copy (`copy`) shown at the workspace's own path, so that what the program
    /// writes never reaches the workspace.
    public static func scratchCopy(_ copy: String, shownAt path: String, readOnly binds: [ReadOnlyBind] = []) -> SandboxWorkspace {
        var workspace = SandboxWorkspace(path: path, source: copy, writable: true)
        workspace.readOnlyBinds = binds
        return workspace
    }
}
