import Foundation
import Store

/// A fresh folder under /tmp for one test, searchable by the sandbox user (0755), removed by `remove()`.
struct TemporaryFolder {
    let path: String

    init(_ label: String = "engine") throws {
        var template = Array("/tmp/masterplan-\(label)-XXXXXX".utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        chmod(path, 0o755)
    }

    /// A sub-folder path (not created).
    func sub(_ name: String) -> String { path + "/" + name }

    func remove() {
        _ = try? ChildProcess.run("/usr/bin/rm", ["-rf", "--", path], outputPath: "/dev/null")
    }
}

/// Runs a host program and returns its output (for checks the test makes outside the sandbox).
func hostRun(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> ChildProcess.Outcome {
    let output = try TemporaryFolder("out")
    defer { output.remove() }
    return try ChildProcess.run(executable, arguments, outputPath: output.sub("output"), environment: environment)
}

/// Whether some host process has `needle` among its command-line arguments.
func hostProcessExists(withArgument needle: String) -> Bool {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return false }
    for entry in entries where entry.allSatisfy(\.isNumber) {
        guard let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { continue }
        let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        if arguments.contains(needle) { return true }
    }
    return false
}

/// A TCP socket listening on 127.0.0.1 on the host, to prove the sandbox cannot reach it.
final class LoopbackListener {
    let fd: Int32
    let port: UInt16

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else { close(fd); throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        port = UInt16(bigEndian: address.sin_port)
    }

    /// Whether a connection is waiting (non-blocking accept); an accepted one is closed.
    func acceptedConnection() -> Bool {
        let client = accept(fd, nil, nil)
        if client >= 0 { close(client); return true }
        return false
    }

    /// Whether any connection waiting on the listener carried `marker` (read without blocking): other
    /// checks may connect to every loopback port at the same time, but only the code under test knows it.
    func received(_ marker: String) -> Bool {
        var seen = false
        while true {
            let client = accept(fd, nil, nil)
            guard client >= 0 else { return seen }
            var buffer = [UInt8](repeating: 0, count: 512)
            let count = recv(client, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if count > 0, String(decoding: buffer[0..<count], as: UTF8.self).contains(marker) { seen = true }
            close(client)
        }
    }

    deinit { close(fd) }
}
