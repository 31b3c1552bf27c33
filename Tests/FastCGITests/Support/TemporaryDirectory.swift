import Foundation

/// A folder under /tmp for sockets and nginx files, searchable by everyone (nginx's workers run as
/// `nobody`), removed with its contents by `remove()`.
final class TemporaryDirectory: Sendable {
    let path: String

    init() throws {
        // Short on purpose: unix socket paths hold at most 107 bytes.
        var template = Array(("/tmp/mpfcgi." + String(repeating: "X", count: 6)).utf8CString)  // mkdtemp's template
        guard let made = mkdtemp(&template) else { throw TestClientError("mkdtemp: \(String(cString: strerror(errno)))") }
        path = String(cString: made)
        guard chmod(path, 0o755) == 0 else { throw TestClientError("chmod \(path): \(String(cString: strerror(errno)))") }
    }

    func file(_ name: String) -> String { path + "/" + name }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
