import Glibc
import PlanCore

extension Workspace {
    /// Writes `text` to the relative `path`; see `write(_:to:)` for bytes.
    public func write(_ text: String, to path: String) throws(WorkspaceError) {
        try write(Array(text.utf8), to: path)
    }

    /// Writes generated content to the relative `path`, replacing the file atomically; the one way
    /// generated content reaches the disk.
    ///
    /// Refused: a path `WorkspacePath` rejects (absolute, `..`, `.git`, hidden characters, …); a
    /// symbolic link anywhere on the way, including the file itself (code run earlier in the sandbox
    /// may have planted one to redirect this write); content larger than `limits.maxFileBytes`, with
    /// a NUL byte, or not valid UTF-8. Folders on the way are created (0755). The content goes to a
    /// temporary file in the same folder, which is written in full (and flushed to disk when
    /// `limits.syncWrites`) and renamed over the target, so a reader sees the old or the new file,
    /// never half of one. Safe to call from several threads at once for
    /// different paths.
    public func write(_ bytes: [UInt8], to path: String) throws(WorkspaceError) {
        if let violation = WorkspacePath.violation(of: path, limits: limits.paths) {
            throw WorkspaceError(.pathRefused(violation), path: path)
        }
        try Self.checkText(bytes, limit: limits.maxFileBytes, path: path)
        let components = path.split(separator: "/").map(String.init)
        let folder = try openFolder(leadingTo: components, creating: true, path: path)
        defer { close(folder) }
        let name = components[components.count - 1]

        var info = stat()
        if fstatat(folder, name, &info, AT_SYMLINK_NOFOLLOW) == 0 {
            switch info.st_mode & S_IFMT {
            case S_IFREG: break
            case S_IFLNK: throw WorkspaceError(.symlink(component: path), path: path)
            case S_IFDIR: throw WorkspaceError(.isAFolder, path: path)
            default: throw WorkspaceError(.notARegularFile, path: path)
            }
        }

        try Self.replace(name, in: folder, with: bytes, temporaryPrefix: ".masterplan-", path: path, sync: limits.syncWrites)
    }

    /// Writes `bytes` (mode 0644, readable by the sandbox user whatever the executor's umask) to a new
    /// temporary file in the open `folder`, then renames it over `name`: a reader sees the old file or
    /// the new one, never half of one, and the rename never follows a link at `name` (one swapped in
    /// since a caller's check is replaced, not followed). With `sync`, the file and the folder are
    /// flushed to disk. `path` names the file in errors.
    static func replace(_ name: String, in folder: Int32, with bytes: [UInt8], temporaryPrefix: String,
                        path: String, sync: Bool) throws(WorkspaceError) {
        let temporary = temporaryPrefix + String(UInt64.random(in: .min ... .max), radix: 16) + ".tmp"
        let fd = openat(folder, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw WorkspaceError(.system(operation: "create", code: errno), path: path) }
        do throws(WorkspaceError) {
            defer { close(fd) }
            fchmod(fd, 0o644)
            try writeAll(fd, bytes, operation: "write", path: path)
            if sync && fsync(fd) != 0 {
                throw WorkspaceError(.system(operation: "fsync", code: errno), path: path)
            }
        } catch {
            unlinkat(folder, temporary, 0)
            throw error
        }
        guard renameat(folder, temporary, folder, name) == 0 else {
            let code = errno
            unlinkat(folder, temporary, 0)
            throw WorkspaceError(.system(operation: "rename", code: code), path: path)
        }
        if sync { fsync(folder) }
    }

    /// Reads the text file at the relative `path`, with the same path, link, size and text rules as `write`.
    public func read(_ path: String) throws(WorkspaceError) -> String {
        if let violation = WorkspacePath.violation(of: path, limits: limits.paths) {
            throw WorkspaceError(.pathRefused(violation), path: path)
        }
        let components = path.split(separator: "/").map(String.init)
        let folder = try openFolder(leadingTo: components, creating: false, path: path)
        defer { close(folder) }
        let fd = openat(folder, components[components.count - 1], O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            let code = errno
            switch code {
            case ENOENT: throw WorkspaceError(.notFound, path: path)
            case ELOOP: throw WorkspaceError(.symlink(component: path), path: path)
            default: throw WorkspaceError(.system(operation: "open", code: code), path: path)
            }
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw WorkspaceError(.system(operation: "fstat", code: errno), path: path) }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw WorkspaceError(info.st_mode & S_IFMT == S_IFDIR ? .isAFolder : .notARegularFile, path: path)
        }
        guard Int(info.st_size) <= limits.maxFileBytes else {
            throw WorkspaceError(.tooLarge(bytes: Int(info.st_size), limit: limits.maxFileBytes), path: path)
        }
        let bytes = try readToEnd(fd, expected: Int(info.st_size), limit: limits.maxFileBytes, path: path)
        return try Self.text(bytes, limit: limits.maxFileBytes, path: path)
    }

    /// Reads `fd` to its end, at most `limit + 1` bytes (one more than allowed shows a file too large).
    ///
    /// The buffer is sized for the `expected` bytes fstat reported plus one, so a file that grew since
    /// is noticed; the buffer then grows, so the whole file is still read, up to `limit + 1` bytes.
    func readToEnd(_ fd: Int32, expected: Int, limit: Int, path: String?) throws(WorkspaceError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: min(max(expected, 0), limit) + 1)
        var count = 0
        while true {
            if count == bytes.count {
                guard bytes.count <= limit else { break }
                bytes.append(contentsOf: repeatElement(0, count: min(bytes.count, limit + 1 - bytes.count)))
            }
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + count, $0.count - count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw WorkspaceError(.system(operation: "read", code: errno), path: path)
            }
            if n == 0 { break }
            count += n
        }
        bytes.removeSubrange(count...)
        return bytes
    }

    /// Removes the regular file at the relative `path` (not a link's target, not a folder); nothing
    /// happens when there is no file. Used to take back content that was never accepted.
    public func remove(_ path: String) throws(WorkspaceError) {
        if let violation = WorkspacePath.violation(of: path, limits: limits.paths) {
            throw WorkspaceError(.pathRefused(violation), path: path)
        }
        let components = path.split(separator: "/").map(String.init)
        let folder: Int32
        do {
            folder = try openFolder(leadingTo: components, creating: false, path: path)
        } catch {
            if error.kind == .notFound { return }
            throw error
        }
        defer { close(folder) }
        if unlinkat(folder, components[components.count - 1], 0) != 0 {
            let code = errno
            if code == ENOENT { return }
            throw WorkspaceError(code == EISDIR ? .isAFolder : .system(operation: "unlink", code: code), path: path)
        }
    }

    /// Whether a regular file exists at the relative `path` (links are not followed).
    public func fileExists(_ path: String) -> Bool {
        guard WorkspacePath.violation(of: path, limits: limits.paths) == nil else { return false }
        let components = path.split(separator: "/").map(String.init)
        guard let folder = try? openFolder(leadingTo: components, creating: false, path: path) else { return false }
        defer { close(folder) }
        var info = stat()
        return fstatat(folder, components[components.count - 1], &info, AT_SYMLINK_NOFOLLOW) == 0
            && info.st_mode & S_IFMT == S_IFREG
    }

    /// The relative paths of the regular files in the working tree, sorted, without `.git` folders;
    /// links are not followed (and not listed).
    public func files() throws(WorkspaceError) -> [String] {
        let fd = Glibc.open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw WorkspaceError(.system(operation: "open", code: errno)) }
        var result: [String] = []
        try FolderWalker.walk(fd, prefix: "") { relative, kind, _, _ in
            if kind == .file { result.append(relative) }
        }
        return result.sorted()
    }

    /// Checks that `bytes` is a text file the workspace accepts.
    static func checkText(_ bytes: [UInt8], limit: Int, path: String) throws(WorkspaceError) {
        _ = try text(bytes, limit: limit, path: path)
    }

    /// `bytes` as a string, when it is a text file the workspace accepts: at most `limit` bytes, no NUL,
    /// valid UTF-8.
    ///
    /// The standard library validates in one fast pass; only refused content is decoded again, scalar by
    /// scalar, to name the offset of the first bad byte.
    static func text(_ bytes: [UInt8], limit: Int, path: String) throws(WorkspaceError) -> String {
        if bytes.count > limit {
            throw WorkspaceError(.tooLarge(bytes: bytes.count, limit: limit), path: path)
        }
        let nul = bytes.withUnsafeBytes { buffer -> Int? in
            guard let base = buffer.baseAddress, let found = memchr(base, 0, buffer.count) else { return nil }
            return base.distance(to: UnsafeRawPointer(found))
        }
        if let nul {
            throw WorkspaceError(.notText(reason: "a NUL byte", offset: nul), path: path)
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw WorkspaceError(.notText(reason: "invalid UTF-8", offset: firstInvalidUTF8Offset(bytes) ?? 0), path: path)
        }
        return text
    }

    /// The byte offset where the first invalid UTF-8 sequence starts, or nil when all of `bytes` is valid.
    static func firstInvalidUTF8Offset(_ bytes: [UInt8]) -> Int? {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        var offset = 0
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): offset += UTF8.width(scalar)
            case .emptyInput: return nil
            case .error: return offset
            }
        }
    }

    /// Opens the folder holding the last of `components`, one component at a time from the root with
    /// `O_NOFOLLOW`, creating missing folders when asked. A link or a file on the way is an error.
    func openFolder(leadingTo components: [String], creating: Bool, path: String) throws(WorkspaceError) -> Int32 {
        var fd = Glibc.open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw WorkspaceError(.badRoot(reason: "cannot open \(root): \(String(cString: strerror(errno)))")) }
        var walked = ""
        for component in components.dropLast() {
            walked += walked.isEmpty ? component : "/" + component
            var next = openat(fd, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if next < 0 && errno == ENOENT && creating {
                if mkdirat(fd, component, 0o755) == 0 {
                    next = openat(fd, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                    if next >= 0 { fchmod(next, 0o755) }
                } else if errno == EEXIST {
                    // Another thread created it first.
                    next = openat(fd, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                }
            }
            if next < 0 {
                let code = errno
                var info = stat()
                let exists = fstatat(fd, component, &info, AT_SYMLINK_NOFOLLOW) == 0
                close(fd)
                if exists && info.st_mode & S_IFMT == S_IFLNK { throw WorkspaceError(.symlink(component: walked), path: path) }
                if exists && info.st_mode & S_IFMT != S_IFDIR { throw WorkspaceError(.notAFolder(component: walked), path: path) }
                if code == ENOENT { throw WorkspaceError(.notFound, path: path) }
                throw WorkspaceError(.system(operation: "open folder \(walked)", code: code), path: path)
            }
            close(fd)
            fd = next
        }
        return fd
    }
}
