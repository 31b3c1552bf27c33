import Foundation

/// A short folder under /tmp (unix socket paths hold at most 107 bytes) that nginx's workers, which
/// run as `nobody`, can search; removed with its contents by `remove()`.
public final class TemporaryFolder: Sendable {
    public let path: String

    public init(prefix: String = "mp") throws {
        var template = Array("/tmp/\(prefix).XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw TestFailure("mkdtemp: \(String(cString: strerror(errno)))")
        }
        path = String(cString: made)
        guard chmod(path, 0o755) == 0 else { throw TestFailure("chmod \(path): \(String(cString: strerror(errno)))") }
    }

    public func file(_ name: String) -> String { path + "/" + name }

    /// Creates a subfolder (mode 0755) and returns its path.
    public func folder(_ name: String) throws -> String {
        let sub = file(name)
        try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        return sub
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// A test helper's failure, with a message that says what went wrong.
public struct TestFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
