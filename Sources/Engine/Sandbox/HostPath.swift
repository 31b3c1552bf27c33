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
}
