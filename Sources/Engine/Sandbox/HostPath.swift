import Glibc

/// Small helpers for absolute host paths.
enum HostPath {
    /// Whether `path` lies strictly inside `folder` (both absolute and normalised).
    static func isInside(_ path: String, _ folder: String) -> Bool {
        folder == "/" ? path != "/" : path.hasPrefix(folder + "/")
    }

    /// The folder holding `path` ("/" for a top-level entry).
    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }

    /// The path with every link resolved (`realpath(3)`), or nil when it does not resolve.
    static func resolved(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// A new unnamed file in `folder` (`O_TMPFILE`: no name, gone when its last descriptor closes), open
    /// for reading and writing and close-on-exec; -1 with `errno` set when it cannot be made.
    static func unnamedFile(in folder: String, mode: mode_t) -> Int32 {
        // O_TMPFILE is `__O_TMPFILE | O_DIRECTORY` (Linux's fcntl.h); Glibc's module does not export it.
        open(folder, 0o20000000 | O_DIRECTORY | O_RDWR | O_CLOEXEC, mode)
    }
}
