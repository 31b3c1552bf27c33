import Base
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
            if UnixSocketAddress.accepts(path) { return }
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
}
