import Foundation
import Glibc

/// Waiting for a child to be ready during `UpStack.start()`, giving up with the end of its log.
extension UpStack {
    private func failure(_ process: UpProcess, _ title: String) -> UpFailure {
        UpFailure("the \(title) \(process.endDescription) while starting; the end of \(process.logPath):\n\(process.logTail())")
    }

    func waitForSocket(_ path: String, of process: UpProcess, title: String) throws {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            try checkpoint()
            if process.poll() != nil { throw failure(process, title) }
            if Self.unixSocketAccepts(path) { return }
            usleep(50_000)
        }
        throw UpFailure("the \(title) did not listen on \(path) within 30 s; see \(process.logPath)")
    }

    /// Waits until the child's log has a line containing `marker`; returns that line.
    @discardableResult
    func waitForLine(_ marker: String, of process: UpProcess, title: String, seconds: Double) throws -> String {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            try checkpoint()
            if let line = process.ownLog.split(separator: "\n").last(where: { $0.contains(marker) }) { return String(line) }
            if process.poll() != nil { throw failure(process, title) }
            usleep(50_000)
        }
        throw UpFailure("the \(title) did not start within \(Int(seconds)) s; see \(process.logPath):\n\(process.logTail())")
    }

    /// Waits until `GET /health/ready` answers 200 through nginx.
    func waitForReadiness() throws {
        let deadline = Date().addingTimeInterval(Double(options.readyTimeoutSeconds))
        var last = "no answer"
        while Date() < deadline {
            try checkpoint()
            for (title, process) in children where process.poll() != nil { throw failure(process, title) }
            if let response = try? LoopbackHTTP.request(port: UInt16(options.port), path: "/health/ready", timeout: .seconds(2)) {
                if response.status == 200 { return }
                last = "\(response.status) \(response.text.prefix(600))"
            }
            usleep(200_000)
        }
        throw UpFailure("http://127.0.0.1:\(options.port)/health/ready did not answer 200 within \(options.readyTimeoutSeconds) s; last answer: \(last)")
    }

    static func unixSocketAccepts(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        } == 0
    }
}
