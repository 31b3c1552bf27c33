import Glibc

extension Workspace {
    /// What `.git/HEAD` and the branch file it names say HEAD is.
    enum HeadFromFiles: Equatable {
        case commit(String)
        /// HEAD names a branch that has no commit yet: no branch file and no `packed-refs`.
        case unborn
        /// Something this reading does not handle — packed refs, a detached HEAD, an object that is not
        /// loose, a file that is not as git writes it: only git can say.
        case askGit
    }

    /// Reads HEAD from git's files, as `rev-parse --verify HEAD^{commit}` would answer, without starting
    /// git (a process costs milliseconds; these reads cost microseconds).
    ///
    /// Answers only the plain case git itself writes: `.git/HEAD` is `ref: refs/heads/NAME`, and the
    /// branch file holds a 40-digit id whose object exists as a loose object file (a branch can only
    /// point to a commit). Git replaces both files by renaming, so a read sees the old or the new content.
    func headFromFiles() -> HeadFromFiles {
        guard case .content(let headFile) = readGitFile("HEAD", limit: 4096),
              headFile.last == UInt8(ascii: "\n"), headFile.starts(with: "ref: ".utf8) else { return .askGit }
        let ref = String(decoding: headFile.dropFirst(5).dropLast(), as: UTF8.self)
        guard Self.isPlainBranchRef(ref) else { return .askGit }
        switch readGitFile(ref, limit: 4096) {
        case .missing:
            // A branch without a loose file is unborn, unless it was packed.
            var info = stat()
            return lstat(root + "/.git/packed-refs", &info) != 0 && errno == ENOENT ? .unborn : .askGit
        case .content(let content):
            let digits = content.dropLast()
            guard content.count == 41, content.last == UInt8(ascii: "\n"), digits.allSatisfy(Self.isLowercaseHexDigit) else {
                return .askGit
            }
            let id = String(decoding: digits, as: UTF8.self)
            // rev-parse also checks that the commit exists.
            var info = stat()
            let object = root + "/.git/objects/" + id.prefix(2) + "/" + id.dropFirst(2)
            guard lstat(object, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return .askGit }
            return .commit(id)
        case .unreadable:
            return .askGit
        }
    }

    /// Of `paths` (existing files of the work tree), those that `git add --all` just left out of the
    /// index — the ignored ones, which `add --force` must stage; all of them when the index cannot be
    /// read with certainty.
    ///
    /// Why that is enough: `add --all` stages the current content of every tracked file (ignore rules
    /// do not apply to tracked files) and of every untracked file that is not ignored. So a path with a
    /// plain stage-0 entry right after it holds exactly what `add --force` would stage; only the others
    /// are ignored and untracked.
    func pathsLeftOutOfIndex(_ paths: [String]) -> [String] {
        guard !paths.isEmpty, usesSHA1Ids(), case .content(let index) = readGitFile("index", limit: 64 << 20) else {
            return paths
        }
        let wanted = Set(paths.map { Array($0.utf8) })
        guard let staged = GitIndex.plainEntries(among: wanted, in: index) else { return paths }
        return paths.filter { !staged.contains(Array($0.utf8)) }
    }

    /// Whether the repository's configuration leaves object ids at git's default, SHA-1: only
    /// `extensions.objectFormat` changes that, and a config that mentions it (or includes other files)
    /// is not trusted to.
    func usesSHA1Ids() -> Bool {
        guard case .content(let config) = readGitFile("config", limit: 1 << 20) else { return false }
        let lowered = config.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
        return !Self.contains(lowered, "objectformat") && !Self.contains(lowered, "include")
    }

    /// The result of reading one of git's own files.
    enum GitFileRead {
        case content([UInt8])
        case missing
        /// Not a regular file, a link, larger than the limit, or an error other than "no such file".
        case unreadable
    }

    /// Reads `.git/RELATIVE` without following a link at the file itself.
    func readGitFile(_ relative: String, limit: Int) -> GitFileRead {
        let fd = Glibc.open(root + "/.git/" + relative, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return errno == ENOENT ? .missing : .unreadable }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, Int(info.st_size) <= limit,
              let bytes = try? readToEnd(fd, expected: Int(info.st_size), limit: limit, path: nil),
              bytes.count <= limit else {
            return .unreadable
        }
        return .content(bytes)
    }

    /// Whether `ref` is `refs/heads/` and a branch name made only of characters git never escapes:
    /// letters, digits, `-`, `_`, `.` and `/` between non-empty parts that do not start with a dot,
    /// contain `..` or end in `.lock`.
    static func isPlainBranchRef(_ ref: String) -> Bool {
        guard ref.hasPrefix("refs/heads/"), ref.utf8.count <= 1024 else { return false }
        let name = ref.dropFirst("refs/heads/".count)
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        return !parts.isEmpty && parts.allSatisfy { part in
            !part.isEmpty && !part.hasPrefix(".") && !part.hasSuffix(".lock") && !part.contains("..")
                && part.utf8.allSatisfy { byte in
                    (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                        || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
                }
        }
    }

    static func isLowercaseHexDigit(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66)
    }

    private static func contains(_ bytes: [UInt8], _ needle: String) -> Bool {
        let pattern = Array(needle.utf8)
        guard bytes.count >= pattern.count else { return false }
        return (0 ... bytes.count - pattern.count).contains { start in
            bytes[start ..< start + pattern.count].elementsEqual(pattern)
        }
    }
}
