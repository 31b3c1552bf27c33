import Foundation
import Store
import Synchronization

/// Keep-alive GETs on `connections` threads for a while; counts completed 200 responses.
struct LoadGenerator {
    let port: UInt16
    let path: String
    let extraHeaders: String
    let connections: Int

    struct Outcome {
        var requestsPerSecond: Double
        var errors: Int
    }

    func run(seconds: Double) -> Outcome {
        let completed = Atomic<Int>(0)
        let failed = Atomic<Int>(0)
        let finished = Atomic<Int>(0)
        let request = Array("GET \(path) HTTP/1.1\r\nHost: bench\r\n\(extraHeaders)\r\n".utf8)
        let start = Date()
        let end = start.addingTimeInterval(seconds)
        for _ in 0..<connections {
            let thread = Thread { [port] in
                defer { finished.add(1, ordering: .releasing) }
                var fd: Int32 = -1
                var reader: LoopbackHTTP.ResponseReader?
                while Date() < end {
                    do {
                        if fd < 0 {
                            fd = try LoopbackHTTP.connect(port: port)
                            reader = LoopbackHTTP.ResponseReader(fd: fd)
                        }
                        try LoopbackHTTP.sendAll(fd, request)
                        guard let response = try reader?.next() else { throw BenchFailure("closed") }
                        if response.status == 200 { completed.add(1, ordering: .relaxed) } else { failed.add(1, ordering: .relaxed) }
                    } catch {
                        failed.add(1, ordering: .relaxed)
                        if fd >= 0 { close(fd) }
                        fd = -1
                    }
                }
                if fd >= 0 { close(fd) }
            }
            thread.start()
        }
        while finished.load(ordering: .acquiring) < connections { usleep(10_000) }
        let elapsed = Date().timeIntervalSince(start)
        return Outcome(requestsPerSecond: Double(completed.load(ordering: .relaxed)) / elapsed, errors: failed.load(ordering: .relaxed))
    }
}
