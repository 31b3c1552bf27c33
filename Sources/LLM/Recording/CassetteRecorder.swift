import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Appends every completed exchange to a cassette file (`MASTERPLAN_LLM_RECORD=FILE`), one JSON line
/// each, so that `masterplan replay-llm` can serve the run again without a model.
///
/// Each line is written with `O_APPEND` under a lock, so concurrent calls of one process never
/// interleave; the file is opened per line, so it may be moved away between runs.
public final class CassetteRecorder: Sendable {
    public let path: String
    private let lock = Mutex<Void>(())

    public init(path: String) {
        self.path = path
    }

    /// Appends the exchange of `request` answered by `result`.
    public func record(_ request: LLMRequest, result: LLMResult) throws {
        let entry = CassetteEntry(
            purpose: request.purpose.rawValue, key: request.key, response: result.text, model: result.model,
            finishReason: result.stopReason.openAIFinishReason, usage: result.usage, fingerprint: request.fingerprint,
            provider: result.provider.rawValue, recordedAt: Self.timestamp())
        try append(entry.jsonLine + "\n")
    }

    private func append(_ line: String) throws {
        try lock.withLock { _ in
            let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                throw CassetteRecorderError(message: "cannot open the cassette \(path) for appending: \(String(cString: strerror(errno)))")
            }
            defer { close(fd) }
            var bytes = Array(line.utf8)
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeMutableBytes { buffer in
                    write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                }
                if written < 0 {
                    if errno == EINTR { continue }
                    throw CassetteRecorderError(message: "cannot write to the cassette \(path): \(String(cString: strerror(errno)))")
                }
                offset += written
            }
            bytes.removeAll()
        }
    }

    private static func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date())
    }
}

/// The cassette file cannot be written.
public struct CassetteRecorderError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
