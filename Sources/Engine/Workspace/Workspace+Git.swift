import Glibc
import PlanCore

extension Workspace {
    /// Commits the working tree as one commit and returns its id.
    ///
    /// Everything git sees is staged, honouring `.gitignore` and `exclude(_:)` (so a dependency folder
    /// made by an install step stays out), and then each of `forcing` — the files the executor wrote —
    /// is staged even if ignored, so a generated `.gitignore` cannot keep written code out of the history.
    /// An unchanged tree still makes a commit (`--allow-empty`): one commit per call, which is what
    /// "one commit per wave" needs.
    ///
    /// Usually two git processes: `add --all` and `commit`. `add --force` runs only for forced files
    /// that the index shows `add --all` left out (see `pathsLeftOutOfIndex(_:)`), and the new id is
    /// read from `.git` rather than asked of `rev-parse`. Before the id is returned (and so before
    /// the caller records it), the commit is on disk: see `flushFilesystem()`.
    @discardableResult
    public func commit(message: String, forcing paths: [String] = []) throws(WorkspaceError) -> String {
        guard !message.isEmpty, !message.utf8.contains(0) else {
            throw WorkspaceError(.git(command: "commit", status: "refused", output: "the commit message is empty or contains NUL"))
        }
        try runGit(["add", "--all", "--", "."], label: "add")
        let written = paths.filter { WorkspacePath.violation(of: $0, limits: limits.paths) == nil && fileExists($0) }
        let forced = pathsLeftOutOfIndex(written)
        // In slices, to stay far below the kernel's limit on argument length.
        var start = 0
        while start < forced.count {
            let slice = Array(forced[start ..< min(forced.count, start + 500)])
            try runGit(["add", "--force", "--"] + slice, label: "add")
            start += slice.count
        }
        try runGit(["commit", "--quiet", "--no-verify", "--allow-empty", "--no-gpg-sign", "--cleanup=verbatim",
                    "--message", message], label: "commit")
        guard let sha = try head() else { throw WorkspaceError(.noCommits) }
        try flushFilesystem()
        return sha
    }

    /// Flushes everything written to the workspace's filesystem to disk with one `syncfs(2)`: the
    /// commit's objects, refs and index, which git leaves in the page cache by default, and the working
    /// tree. One call per commit costs less than git's per-object `core.fsync` or a flush per written
    /// file, and it is the only flush the workspace needs (see `WorkspaceLimits.syncWrites`).
    func flushFilesystem() throws(WorkspaceError) {
        guard let syncfs = Self.syncfs else { throw WorkspaceError(.system(operation: "syncfs (not in this C library)", code: ENOSYS)) }
        let fd = Glibc.open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw WorkspaceError(.system(operation: "open the workspace to flush it", code: errno)) }
        defer { close(fd) }
        guard syncfs(fd) == 0 else { throw WorkspaceError(.system(operation: "syncfs", code: errno)) }
    }

    /// glibc's `syncfs(2)` wrapper, which Swift's Glibc module does not declare (it needs _GNU_SOURCE).
    static let syncfs: (@convention(c) (Int32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "syncfs") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32) -> Int32).self)
    }()

    /// Commits a finished wave with the message "wave N: K atoms", forcing in the wave's `files`.
    @discardableResult
    public func commitWave(_ number: Int, atomCount: Int, files: [String] = []) throws(WorkspaceError) -> String {
        try commit(message: Self.waveMessage(number, atomCount: atomCount), forcing: files)
    }

    /// Sets the repository's own ignore patterns (`.git/info/exclude`, one per line, gitignore syntax),
    /// for folders a sandboxed step creates that must never be committed (`.venv/`, `node_modules/`).
    public func exclude(_ patterns: [String]) throws(WorkspaceError) {
        guard patterns.allSatisfy({ !$0.contains("\n") && !$0.utf8.contains(0) }) else {
            throw WorkspaceError(.badRoot(reason: "an exclude pattern contains a line break"))
        }
        try writeGitInfo("exclude", patterns.map { $0 + "\n" }.joined())
    }

    /// "wave 3: 12 atoms" (and "1 atom").
    public static func waveMessage(_ number: Int, atomCount: Int) -> String {
        "wave \(number): \(atomCount) \(atomCount == 1 ? "atom" : "atoms")"
    }

    /// Whether the working tree and index match the current commit (ignored files aside).
    public func isClean() throws(WorkspaceError) -> Bool {
        let (_, output) = try runGit(["status", "--porcelain", "--untracked-files=all"], label: "status")
        return output.trimmingWhitespace.isEmpty
    }

    /// The id of the current commit, or nil before the first commit.
    ///
    /// Read from `.git` when it holds what git writes in the plain case (`headFromFiles()`); otherwise,
    /// as after `git pack-refs`, from `rev-parse`.
    public func head() throws(WorkspaceError) -> String? {
        switch headFromFiles() {
        case .commit(let id): return id
        case .unborn: return nil
        case .askGit: return try headFromGit()
        }
    }

    /// The id of the current commit according to `git rev-parse`, or nil before the first commit.
    func headFromGit() throws(WorkspaceError) -> String? {
        let (status, output) = try runGit(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], label: "rev-parse",
                                          allowing: [0, 1])
        guard status == 0 else { return nil }
        let sha = output.trimmingWhitespace
        return sha.isEmpty ? nil : sha
    }

    /// The commits reachable from HEAD, newest first (at most `limit`); empty before the first commit.
    public func log(limit: Int = 10_000) throws(WorkspaceError) -> [WorkspaceCommit] {
        guard try head() != nil else { return [] }
        // Unit separator between fields, record separator between commits: neither appears in a subject.
        let (_, output) = try runGit(["log", "--no-color", "--max-count=\(max(1, limit))",
                                      "--format=%H%x1f%P%x1f%cI%x1f%s%x1e"], label: "log", outputLimit: 64 << 20)
        return output.split(separator: "\u{1e}").compactMap { record in
            let fields = record.trimmingPrefix("\n").split(separator: "\u{1f}", omittingEmptySubsequences: false)
            guard fields.count == 4 else { return nil }
            return WorkspaceCommit(sha: String(fields[0]), parents: fields[1].split(separator: " ").map(String.init),
                                   subject: String(fields[3]), committedAt: String(fields[2]))
        }
    }

    /// The files recorded in `commit` (default HEAD), sorted.
    public func committedFiles(at commit: String = "HEAD") throws(WorkspaceError) -> [String] {
        try checkRevision(commit)
        let (_, output) = try runGit(["ls-tree", "-r", "-z", "--name-only", "--full-tree", commit], label: "ls-tree",
                                     outputLimit: 64 << 20)
        return output.split(separator: "\0").map(String.init).sorted()
    }

    /// The content of `path` as recorded in `commit`.
    public func committedContent(of path: String, at commit: String = "HEAD") throws(WorkspaceError) -> String {
        try checkRevision(commit)
        let (_, output) = try runGit(["show", "--no-textconv", "\(commit):\(path)"], label: "show",
                                     outputLimit: limits.maxFileBytes + 1)
        return output
    }

    /// Writes the tree of HEAD as a gzip-compressed tar file to `destination` (an absolute path), every
    /// entry under `prefix/`.
    ///
    /// The archive is the committed state, not the working tree: what was validated and committed,
    /// the same bytes every time for one commit, without `.git` or anything a sandboxed run may have
    /// left behind. In-tree `.gitattributes` cannot leave files out (`export-ignore` is overridden).
    public func archive(to destination: String, prefix: String) throws(WorkspaceError) {
        guard destination.hasPrefix("/") else {
            throw WorkspaceError(.badRoot(reason: "the archive path \(destination) must be absolute"))
        }
        guard !prefix.isEmpty, !prefix.contains("/"), prefix != ".", prefix != "..", !prefix.utf8.contains(0) else {
            throw WorkspaceError(.badRoot(reason: "the archive prefix \(prefix) must be one plain folder name"))
        }
        guard try head() != nil else { throw WorkspaceError(.noCommits) }
        try runGit(["archive", "--format=tar.gz", "--prefix=\(prefix)/", "--output=\(destination)", "HEAD"], label: "archive")
    }

    /// The patch from `old` to `new` (both commit ids or revisions), without external diff programs or
    /// text conversion; at most `limit` bytes (the end is kept).
    public func diff(from old: String, to new: String, limit: Int = 1 << 20) throws(WorkspaceError) -> String {
        try checkRevision(old)
        try checkRevision(new)
        let (_, output) = try runGit(["diff", "--no-color", "--no-ext-diff", "--no-textconv", old, new, "--"],
                                     label: "diff", outputLimit: limit)
        return output
    }

    /// Refuses revisions that git could read as options.
    private func checkRevision(_ revision: String) throws(WorkspaceError) {
        guard !revision.isEmpty, !revision.hasPrefix("-"), !revision.utf8.contains(0) else {
            throw WorkspaceError(.git(command: "rev-parse", status: "refused", output: "\(revision) is not a revision"))
        }
    }
}

fileprivate extension String {
    /// The string without leading and trailing spaces, tabs and newlines.
    var trimmingWhitespace: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
