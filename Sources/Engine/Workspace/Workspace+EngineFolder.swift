import Glibc

/// The workspace's `.masterplan/` folder: the engine's own (installed dependencies, install markers),
/// which task files may not name and boxed programs never get to write.
///
/// Every operation opens `.masterplan` and what is in it without following links, and a folder that
/// is not the executor's own (a workspace from a version that let the install box write there) is
/// removed and made again, so no root operation ever acts on a path a box could have planted.
extension Workspace {
    /// The engine folder's name, relative to the root.
    public static let engineFolder = ".masterplan"

    /// Opens `.masterplan` (making it, 0755, when missing) with `O_NOFOLLOW`; the caller closes the descriptor.
    func openEngineFolder() throws(WorkspaceError) -> Int32 {
        let rootFD = Glibc.open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard rootFD >= 0 else { throw WorkspaceError(.badRoot(reason: "cannot open \(root): \(String(cString: strerror(errno)))")) }
        defer { close(rootFD) }
        for _ in 0..<2 {
            var info = stat()
            if fstatat(rootFD, Self.engineFolder, &info, AT_SYMLINK_NOFOLLOW) == 0,
               info.st_mode & S_IFMT != S_IFDIR || info.st_uid != geteuid() {
                // Not ours (or not a folder): nothing in it can be trusted. Move it aside, then delete it
                // with a program that never follows links.
                let aside = ".masterplan-untrusted-\(String(UInt64.random(in: .min ... .max), radix: 16))"
                guard renameat(rootFD, Self.engineFolder, rootFD, aside) == 0 else {
                    throw WorkspaceError(.system(operation: "move aside an untrusted .masterplan", code: errno), path: Self.engineFolder)
                }
                ScratchFolder(path: root + "/" + aside).remove()
            }
            if mkdirat(rootFD, Self.engineFolder, 0o755) != 0 && errno != EEXIST {
                throw WorkspaceError(.system(operation: "mkdir", code: errno), path: Self.engineFolder)
            }
            let fd = openat(rootFD, Self.engineFolder, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { continue }
            var opened = stat()
            if fstat(fd, &opened) == 0, opened.st_uid == geteuid() {
                fchmod(fd, 0o755)
                return fd
            }
            close(fd)
        }
        throw WorkspaceError(.system(operation: "open the engine folder", code: EPERM), path: Self.engineFolder)
    }

    /// The text of `.masterplan/<name>`, or nil when it is missing, a link or not a small regular file.
    public func readEngineFile(_ name: String) -> String? {
        guard let folder = try? openEngineFolder() else { return nil }
        defer { close(folder) }
        let fd = openat(folder, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_size <= 64 << 10 else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        let count = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard count == bytes.count else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Replaces `.masterplan/<name>` with `text` (a temporary file renamed over it: a link there is
    /// replaced, never followed).
    public func writeEngineFile(_ name: String, _ text: String) throws(WorkspaceError) {
        let folder = try openEngineFolder()
        defer { close(folder) }
        try Self.replace(name, in: folder, with: Array(text.utf8), temporaryPrefix: name + ".", path: Self.engineFolder + "/" + name,
                         sync: false)
    }

    /// Makes a new, empty folder `.masterplan/<prefix>-<random>` (mode 0700 by default), handed to `owner` when
    /// given (the sandbox's user, so that a box may write there), and returns its absolute path. The
    /// folder is brand new: no box has seen it, so changing its owner follows nothing.
    public func makeEngineFolder(prefix: String, owner: (user: UInt32, group: UInt32)?,
                                 mode: mode_t = 0o700) throws(WorkspaceError) -> String {
        let folder = try openEngineFolder()
        defer { close(folder) }
        let name = prefix + "-" + String(UInt64.random(in: .min ... .max), radix: 16)
        guard mkdirat(folder, name, mode) == 0 else {
            throw WorkspaceError(.system(operation: "mkdir", code: errno), path: Self.engineFolder + "/" + name)
        }
        let fd = openat(folder, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw WorkspaceError(.system(operation: "open", code: errno), path: Self.engineFolder + "/" + name) }
        defer { close(fd) }
        fchmod(fd, mode)
        if let owner, fchown(fd, owner.user, owner.group) != 0 {
            throw WorkspaceError(.system(operation: "chown", code: errno), path: Self.engineFolder + "/" + name)
        }
        return root + "/" + Self.engineFolder + "/" + name
    }

    /// Puts the folder `.masterplan/<from>` in the place of `.masterplan/<to>`, deleting what was there
    /// (with a program that never follows links). Both are entries of the engine folder, so neither
    /// can have been swapped for a link by a box.
    public func replaceEngineFolder(_ to: String, with from: String) throws(WorkspaceError) {
        let folder = try openEngineFolder()
        defer { close(folder) }
        var info = stat()
        guard fstatat(folder, from, &info, AT_SYMLINK_NOFOLLOW) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw WorkspaceError(.notAFolder(component: Self.engineFolder + "/" + from), path: Self.engineFolder + "/" + from)
        }
        if fstatat(folder, to, &info, AT_SYMLINK_NOFOLLOW) == 0 {
            let aside = to + ".old-" + String(UInt64.random(in: .min ... .max), radix: 16)
            guard renameat(folder, to, folder, aside) == 0 else {
                throw WorkspaceError(.system(operation: "rename", code: errno), path: Self.engineFolder + "/" + to)
            }
            ScratchFolder(path: root + "/" + Self.engineFolder + "/" + aside).remove()
        }
        guard renameat(folder, from, folder, to) == 0 else {
            throw WorkspaceError(.system(operation: "rename", code: errno), path: Self.engineFolder + "/" + to)
        }
    }
}
