import Base
import Glibc

/// A plan's git repository: the only place generated code is written, committed wave by wave, and
/// archived for download.
///
/// Every write goes through `write(_:to:)`, which checks the path with PlanCore's `WorkspacePath`,
/// walks to the file one component at a time without following symbolic links, caps the size, accepts
/// only UTF-8 text, and replaces the file atomically. Git runs with a fixed identity and with hooks,
/// fsmonitor and the user's and system's configuration switched off, so it works on a machine with no
/// git configuration and nothing in the repository can make it run a program.
///
/// All methods block (file system and `git`); call them from the executor's own threads.
public struct Workspace: Sendable {
    /// The absolute, normalised path of the repository's working tree.
    public let root: String
    public let limits: WorkspaceLimits
    /// The git executable.
    public let git: String

    public static let authorName = "MasterPlan Executor"
    public static let authorEmail = "executor@masterplan.invalid"

    /// Attributes that override any `.gitattributes` a generated project brings: no end-of-line or
    /// encoding conversion of what was written, no filters, and nothing left out of the archive.
    static let neutralAttributes = "* -text -filter -ident -working-tree-encoding -export-ignore -export-subst\n"

    /// Opens the workspace at `root`, creating the folder (and missing parents) and an empty git
    /// repository on branch `main` when there is none yet. Opening an existing workspace changes nothing.
    public static func open(at root: String, limits: WorkspaceLimits = .default, git: String = "/usr/bin/git") throws(WorkspaceError) -> Workspace {
        guard root.hasPrefix("/"), root != "/", !root.hasSuffix("/"),
              !root.split(separator: "/").contains(where: { $0 == "." || $0 == ".." }) else {
            throw WorkspaceError(.badRoot(reason: "\(root) is not an absolute, normalised path"))
        }
        guard access(git, X_OK) == 0 else {
            throw WorkspaceError(.badRoot(reason: "git is not installed at \(git); install the Debian package git (make deps)"))
        }
        try makeFolders(root)
        let workspace = Workspace(root: root, limits: limits, git: git)
        var info = stat()
        if lstat(root + "/.git", &info) != 0 {
            _ = try workspace.runGit(["init", "--quiet", "--initial-branch=main", root], label: "init")
        } else if info.st_mode & S_IFMT != S_IFDIR {
            throw WorkspaceError(.badRoot(reason: "\(root)/.git is not a folder"))
        }
        try workspace.writeGitInfo("attributes", neutralAttributes)
        return workspace
    }

    init(root: String, limits: WorkspaceLimits, git: String) {
        self.root = root
        self.limits = limits
        self.git = git
    }

    /// Creates `path` and its missing parents as folders readable by the sandbox user (0755, whatever the umask).
    static func makeFolders(_ path: String) throws(WorkspaceError) {
        var current = ""
        for component in path.split(separator: "/") {
            current += "/" + component
            var info = stat()
            if stat(current, &info) == 0 {
                guard info.st_mode & S_IFMT == S_IFDIR else {
                    throw WorkspaceError(.badRoot(reason: "\(current) exists and is not a folder"))
                }
                continue
            }
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw WorkspaceError(.badRoot(reason: "cannot create \(current): \(String(cString: strerror(errno)))"))
            }
            chmod(current, 0o755)
        }
    }

    /// Writes `.git/info/NAME` (git's own per-repository settings that no commit can change).
    func writeGitInfo(_ name: String, _ content: String) throws(WorkspaceError) {
        let folder = root + "/.git/info"
        if mkdir(folder, 0o755) != 0 && errno != EEXIST {
            throw WorkspaceError(.system(operation: "mkdir .git/info", code: errno))
        }
        let fd = Glibc.open(folder + "/" + name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw WorkspaceError(.system(operation: "open .git/info/\(name)", code: errno)) }
        defer { close(fd) }
        let bytes = Array(content.utf8)
        try writeAll(fd, bytes, operation: "write .git/info/\(name)")
    }

    // MARK: git

    /// Arguments that make git independent of the machine's and user's configuration and keep any
    /// program named in the repository (hooks, fsmonitor, pagers) from running.
    var gitBaseArguments: [String] {
        ["-C", root,
         "-c", "user.name=\(Self.authorName)", "-c", "user.email=\(Self.authorEmail)",
         "-c", "user.useConfigOnly=false",
         "-c", "commit.gpgSign=false", "-c", "tag.gpgSign=false",
         "-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", "-c", "core.untrackedCache=false",
         "-c", "core.autocrlf=false", "-c", "core.safecrlf=false", "-c", "core.quotePath=false",
         "-c", "core.pager=cat", "-c", "safe.directory=\(root)",
         "-c", "gc.auto=0", "-c", "maintenance.auto=false"]
    }

    static let gitEnvironment: [String: String] = [
        "PATH": "/usr/bin:/bin",
        "HOME": "/nonexistent",
        "LANG": "C",
        "LC_ALL": "C",
        "TZ": "UTC",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_PAGER": "cat",
        "GIT_AUTHOR_NAME": authorName,
        "GIT_AUTHOR_EMAIL": authorEmail,
        "GIT_COMMITTER_NAME": authorName,
        "GIT_COMMITTER_EMAIL": authorEmail,
    ]

    /// Runs git in the workspace and returns its output; a non-zero exit is an error unless `allowing` it.
    @discardableResult
    func runGit(_ arguments: [String], label: String, outputLimit: Int = 1 << 20,
                allowing allowedStatuses: Set<Int32> = [0]) throws(WorkspaceError) -> (status: Int32, output: String) {
        let program = SpawnedProgram(executable: git, arguments: gitBaseArguments + arguments,
                                     environment: Self.gitEnvironment, timeout: limits.gitTimeout, outputLimit: outputLimit)
        let run: SpawnedProgram.Run
        do {
            run = try program.run()
        } catch {
            throw WorkspaceError(.git(command: label, status: "not started", output: error.description))
        }
        switch run.termination {
        case .exited(let code) where allowedStatuses.contains(code):
            return (code, run.output.text)
        case .exited(let code):
            throw WorkspaceError(.git(command: label, status: "exit status \(code)", output: run.output.text))
        case .signalled(let signal):
            throw WorkspaceError(.git(command: label, status: "signal \(signal)", output: run.output.text))
        case .timedOut:
            throw WorkspaceError(.git(command: label, status: "timed out after \(limits.gitTimeout)", output: run.output.text))
        }
    }
}

/// Writes every byte of `bytes` to `fd`.
func writeAll(_ fd: Int32, _ bytes: [UInt8], operation: String, path: String? = nil) throws(WorkspaceError) {
    var written = 0
    while written < bytes.count {
        let n = bytes.withUnsafeBytes { buffer in
            Glibc.write(fd, buffer.baseAddress! + written, buffer.count - written)
        }
        if n < 0 {
            if errno == EINTR { continue }
            throw WorkspaceError(.system(operation: operation, code: errno), path: path)
        }
        written += n
    }
}
