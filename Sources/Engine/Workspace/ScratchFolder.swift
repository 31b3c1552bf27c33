import Base
import Glibc

/// A throwaway copy of a workspace's working tree (without `.git`) for one sandboxed run that may
/// write: acceptance tests create databases, caches and temporary files that must never reach the
/// workspace or its next commit.
///
/// The copy lives in a fresh private folder (0700) owned by the sandbox user, so the boxed program
/// can write there and nobody else can. `remove()` deletes it; the caller must call it.
public struct ScratchFolder: Sendable {
    /// The folder holding the copy.
    public let path: String

    /// Copies `workspace`'s working tree into a new folder under `parent` (an absolute path).
    ///
    /// Regular files keep their permission bits, links are copied as links (they resolve inside the
    /// box, where only the copy is visible), other special files are skipped. With `owner`, every
    /// entry is handed to that user and group (pass the sandbox's when the executor runs as root).
    /// Files whose relative path is in `excluded` are left out (a mutation run: the tests without the
    /// code they are meant to check), and so are folders in `excludedFolders` with all they hold.
    public static func copy(of workspace: Workspace, under parent: String,
                            owner: (user: UInt32, group: UInt32)?, leavingOut excluded: Set<String> = [],
                            leavingOutFolders excludedFolders: Set<String> = []) throws(WorkspaceError) -> ScratchFolder {
        var template = Array((parent + "/masterplan-run-XXXXXX").utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard created != nil else { throw WorkspaceError(.system(operation: "mkdtemp under \(parent)", code: errno)) }
        let path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let scratch = ScratchFolder(path: path)
        do {
            try scratch.fill(from: workspace, owner: owner, leavingOut: excluded, leavingOutFolders: excludedFolders)
        } catch {
            scratch.remove()
            throw error
        }
        return scratch
    }

    private func fill(from workspace: Workspace, owner: (user: UInt32, group: UInt32)?, leavingOut excluded: Set<String>,
                      leavingOutFolders excludedFolders: Set<String>) throws(WorkspaceError) {
        let destination = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard destination >= 0 else { throw WorkspaceError(.system(operation: "open \(path)", code: errno)) }
        defer { close(destination) }
        if let owner { fchown(destination, owner.user, owner.group) }
        let source = Glibc.open(workspace.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard source >= 0 else { throw WorkspaceError(.badRoot(reason: "cannot open \(workspace.root): \(String(cString: strerror(errno)))")) }
        var buffer = [UInt8](repeating: 0, count: 256 << 10)
        try FolderWalker.walk(source, prefix: "", skipping: excludedFolders) { relative, kind, parentFD, name throws(WorkspaceError) in
            switch kind {
            case .folder:
                guard mkdirat(destination, relative, 0o755) == 0 else {
                    throw WorkspaceError(.system(operation: "mkdir in scratch copy", code: errno), path: relative)
                }
                fchmodat(destination, relative, 0o755, 0)
            case .file:
                if excluded.contains(relative) { return }
                try copyFile(parentFD, name, to: destination, relative, buffer: &buffer)
            case .symlink:
                var target = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                let length = readlinkat(parentFD, name, &target, target.count - 1)
                guard length >= 0 else { return }
                target[length] = 0
                guard symlinkat(target, destination, relative) == 0 else {
                    throw WorkspaceError(.system(operation: "symlink in scratch copy", code: errno), path: relative)
                }
            case .other:
                return
            }
            if let owner { fchownat(destination, relative, owner.user, owner.group, AT_SYMLINK_NOFOLLOW) }
        }
    }

    private func copyFile(_ parentFD: Int32, _ name: String, to destination: Int32, _ relative: String,
                          buffer: inout [UInt8]) throws(WorkspaceError) {
        let input = openat(parentFD, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard input >= 0 else { throw WorkspaceError(.system(operation: "open for copy", code: errno), path: relative) }
        defer { close(input) }
        var info = stat()
        fstat(input, &info)
        let mode = mode_t(info.st_mode & 0o777)
        let output = openat(destination, relative, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard output >= 0 else { throw WorkspaceError(.system(operation: "create in scratch copy", code: errno), path: relative) }
        defer { close(output) }
        fchmod(output, mode)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw WorkspaceError(.system(operation: "read for copy", code: errno), path: relative)
            }
            if count == 0 { break }
            try writeAll(output, Array(buffer[0..<count]), operation: "write in scratch copy", path: relative)
        }
    }

    /// Writes `content` as a new file at the relative `path` of the copy (mode 0644, owned like the
    /// copy with `owner`), replacing whatever the copy holds there; the folders on the way must be real
    /// folders of the copy (the run's harness files: `HarnessCommand.files`).
    public func add(_ content: String, at relative: String, owner: (user: UInt32, group: UInt32)?) throws(WorkspaceError) {
        let components = relative.split(separator: "/").map(String.init)
        guard !components.isEmpty, !components.contains(where: { $0 == ".." || $0 == "." }) else {
            throw WorkspaceError(.system(operation: "add to scratch copy", code: EINVAL), path: relative)
        }
        var folder = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard folder >= 0 else { throw WorkspaceError(.system(operation: "open \(path)", code: errno)) }
        for component in components.dropLast() {
            let next = openat(folder, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            let code = errno
            close(folder)
            guard next >= 0 else { throw WorkspaceError(.system(operation: "open in scratch copy", code: code), path: relative) }
            folder = next
        }
        defer { close(folder) }
        let name = components[components.count - 1]
        unlinkat(folder, name, 0)
        let output = openat(folder, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard output >= 0 else { throw WorkspaceError(.system(operation: "create in scratch copy", code: errno), path: relative) }
        defer { close(output) }
        fchmod(output, 0o644)
        if let owner { fchown(output, owner.user, owner.group) }
        try writeAll(output, Array(content.utf8), operation: "write in scratch copy", path: relative)
    }

    /// Deletes the copy and everything a run left in it. `rm` handles any depth and never follows links;
    /// `--one-file-system` keeps it inside the copy even if something was mounted there.
    public func remove() {
        if geteuid() != 0 {
            // Without root, a folder the run made unreadable (chmod 000) would stop rm; give them back first.
            let chmod = SpawnedProgram(executable: "/usr/bin/chmod", arguments: ["-R", "u+rwX", "--", path],
                                       environment: ["PATH": "/usr/bin:/bin", "LC_ALL": "C"], timeout: .seconds(120),
                                       outputLimit: 4096)
            _ = try? chmod.run()
        }
        let program = SpawnedProgram(executable: "/usr/bin/rm", arguments: ["-rf", "--one-file-system", "--", path],
                                     environment: ["PATH": "/usr/bin:/bin", "LC_ALL": "C"], timeout: .seconds(120),
                                     outputLimit: 4096)
        _ = try? program.run()
    }
}
