import Glibc

/// Walks a folder tree through descriptors, never following symbolic links, skipping `.git`.
enum FolderWalker {
    enum Kind: Sendable, Equatable {
        case file
        case folder
        case symlink
        /// FIFOs, sockets, devices: never copied or listed.
        case other
    }

    /// Deeper trees are refused rather than walked (each level holds a descriptor open).
    static let maxDepth = 128

    /// Calls `visit(relativePath, kind, parentFD, name)` for every entry under the open folder `fd`
    /// (which the walk closes), folders before their content, names in directory order. Folders whose
    /// relative path is in `skipping` are neither visited nor entered.
    static func walk(_ fd: Int32, prefix: String, depth: Int = 0, skipping: Set<String> = [],
                     _ visit: (String, Kind, Int32, String) throws(WorkspaceError) -> Void) throws(WorkspaceError) {
        guard depth < maxDepth else {
            close(fd)
            throw WorkspaceError(.system(operation: "walk (more than \(maxDepth) folders deep)", code: ELOOP), path: prefix)
        }
        // fdopendir takes the descriptor; a duplicate stays ours for openat/fstatat.
        let own = dup(fd)
        guard own >= 0, let directory = fdopendir(fd) else {
            let code = errno
            close(fd)
            if own >= 0 { close(own) }
            throw WorkspaceError(.system(operation: "read folder", code: code), path: prefix.isEmpty ? nil : prefix)
        }
        defer {
            closedir(directory)
            close(own)
        }
        var entries: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
            }
            if name == "." || name == ".." || name == ".git" { continue }
            entries.append(name)
        }
        for name in entries {
            let relative = prefix.isEmpty ? name : prefix + "/" + name
            var info = stat()
            guard fstatat(own, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            let kind: Kind
            switch info.st_mode & S_IFMT {
            case S_IFREG: kind = .file
            case S_IFDIR: kind = .folder
            case S_IFLNK: kind = .symlink
            default: kind = .other
            }
            if kind == .folder && skipping.contains(relative) { continue }
            try visit(relative, kind, own, name)
            if kind == .folder {
                let child = openat(own, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard child >= 0 else {
                    throw WorkspaceError(.system(operation: "open folder", code: errno), path: relative)
                }
                try walk(child, prefix: relative, depth: depth + 1, skipping: skipping, visit)
            }
        }
    }
}
