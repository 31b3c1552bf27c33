import Base
import Foundation
import Postgres
import Store

/// Opens many SSE streams through nginx, emits events one at a time, and measures for every stream
/// and event the time from the emitting transaction's commit to the event's arrival.
///
/// The reader is one thread waiting on every stream with epoll (its cost follows the streams that
/// have data, not the streams open: with `poll` over a thousand sockets the reader used as much CPU
/// as nginx, on the same two cores, and its own work counted as relay latency). It parses bytes in
/// place, and stamps a batch of arrivals with the time `epoll_wait` returned.
struct SSELatency {
    let bench: BenchEnvironment
    let planID: UUID
    let streams: Int
    let events: Int

    struct Outcome {
        var connected: Int
        var deliveries: Int
        var missing: Int
        var p50: Double
        var p99: Double
        var max: Double
    }

    /// What one stream has shown so far: the start of a line not yet complete, and whether the
    /// head and `retry:` have arrived.
    struct StreamState {
        var partial: [UInt8] = []
        var headerDone = false
    }

    func run() throws -> Outcome {
        let path = "/api/v1/masterplans/\(planID.uuidString.lowercased())/events"
        var sockets: [Int32] = []
        defer { sockets.forEach { close($0) } }
        let epoll = try Epoll()
        for index in 0..<streams {
            let fd = try LoopbackHTTP.connect(port: bench.port)
            sockets.append(fd)
            try LoopbackHTTP.sendAll(fd, Array("GET \(path) HTTP/1.0\r\nHost: bench\r\nAuthorization: Bearer \(bench.token)\r\n\r\n".utf8))
            try epoll.add(fd, tag: UInt64(index))
        }
        var states = [StreamState](repeating: StreamState(), count: sockets.count)
        var scratch = [UInt8](repeating: 0, count: 65536)
        var ready: [UInt64] = []
        var arrivals: [(stream: Int, id: Int64)] = []
        let clock = ContinuousClock()

        // Reads whatever arrived on the streams epoll reports; fills `arrivals` with the streams that
        // completed an `id:` line, and returns when epoll_wait returned.
        func readReady(timeoutMS: Int32) -> ContinuousClock.Instant {
            arrivals.removeAll(keepingCapacity: true)
            epoll.wait(into: &ready, timeoutMS: timeoutMS)
            let now = clock.now
            for tag in ready {
                let index = Int(tag)
                while true {
                    let got = scratch.withUnsafeMutableBytes { recv(sockets[index], $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                    guard got > 0 else { break }
                    scan(scratch, count: got, stream: index)
                    if got < scratch.count { break }
                }
            }
            return now
        }

        // Splits the bytes into lines (the first joined to what was left of the last read).
        func scan(_ bytes: [UInt8], count: Int, stream index: Int) {
            var lineStart = 0
            for position in 0..<count where bytes[position] == 10 {
                if states[index].partial.isEmpty {
                    line(bytes[lineStart..<position], stream: index)
                } else {
                    states[index].partial += bytes[lineStart..<position]
                    let joined = states[index].partial
                    states[index].partial.removeAll()
                    line(joined[...], stream: index)
                }
                lineStart = position + 1
            }
            if lineStart < count { states[index].partial += bytes[lineStart..<count] }
        }

        func line(_ text: ArraySlice<UInt8>, stream index: Int) {
            let start = text.startIndex
            if text.count >= 6 && text[start] == UInt8(ascii: "r") && text.starts(with: "retry:".utf8) {
                states[index].headerDone = true
                return
            }
            guard text.count > 4, text[start] == UInt8(ascii: "i"), text[start + 1] == UInt8(ascii: "d"),
                  text[start + 2] == UInt8(ascii: ":") else { return }
            var id: Int64 = 0
            for digit in text[(start + 4)...] where digit >= 48 && digit <= 57 { id = id * 10 + Int64(digit - 48) }
            arrivals.append((index, id))
        }

        // Every stream has its head and retry: line before the first event is sent.
        let openDeadline = Date().addingTimeInterval(60)
        while states.contains(where: { !$0.headerDone }) && Date() < openDeadline { _ = readReady(timeoutMS: 100) }
        let connected = states.filter(\.headerDone).count

        let db = try Connection(bench.conninfo)
        var latencies: [Double] = []
        latencies.reserveCapacity(connected * events)
        var waiting = [Bool](repeating: false, count: sockets.count)
        for sequence in 0..<events {
            let id = try bench.emit(planID: planID, sequence: sequence, on: db)
            let committed = clock.now
            var left = 0
            for index in sockets.indices where states[index].headerDone {
                waiting[index] = true
                left += 1
            }
            let deadline = Date().addingTimeInterval(5)
            while left > 0 && Date() < deadline {
                let at = readReady(timeoutMS: 50)
                for arrival in arrivals where arrival.id == id && waiting[arrival.stream] {
                    let elapsed = at - committed
                    latencies.append(elapsed.inMilliseconds)
                    waiting[arrival.stream] = false
                    left -= 1
                }
            }
            for index in waiting.indices { waiting[index] = false }
        }
        latencies.sort()
        func percentile(_ p: Double) -> Double {
            latencies.isEmpty ? .infinity : latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]
        }
        return Outcome(connected: connected, deliveries: latencies.count, missing: connected * events - latencies.count,
                       p50: percentile(0.50), p99: percentile(0.99), max: latencies.last ?? .infinity)
    }
}
