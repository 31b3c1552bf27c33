import Base
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
