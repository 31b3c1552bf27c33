import Dispatch
import Foundation
import Postgres
import Synchronization

/// Samples this process's memory (`/proc/self/status`) and the plan's atoms in flight every 50 ms
/// on a thread of its own with its own database connection.
final class MemorySampler: Sendable {
    struct Figures: Sendable {
        var before = 0.0
        var maxRSS = 0.0
        var threshold = 0
        var maxRSSInFlight = 0.0
        var samplesInFlight = 0
        var maxInFlight = 0
        var highWaterMark = 0.0
        var maxThreads = 0
    }

    private let figures: Mutex<Figures>
    private let stopping = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)

    init(conninfo: String, planID: UUID, threshold: Int) {
        figures = Mutex(Figures(before: ProcessStat.status(of: "self")["VmRSS"] ?? 0, threshold: threshold))
        let thread = Thread { [self] in
            defer { finished.signal() }
            let connection = try? Connection(conninfo)
            while !stopping.load(ordering: .acquiring) {
                let inFlight = connection.flatMap { Self.running(planID: planID, on: $0) }
                let status = ProcessStat.status(of: "self")
                let rss = status["VmRSS"] ?? 0
                figures.withLock { figures in
                    figures.maxRSS = max(figures.maxRSS, rss)
                    figures.maxThreads = max(figures.maxThreads, Int(status["Threads"] ?? 0))
                    if let running = inFlight {
                        figures.maxInFlight = max(figures.maxInFlight, running)
                        if running >= threshold {
                            figures.maxRSSInFlight = max(figures.maxRSSInFlight, rss)
                            figures.samplesInFlight += 1
                        }
                    }
                }
                usleep(50_000)
            }
        }
        thread.start()
    }

    /// Stops sampling and returns the figures (megabytes).
    func stop() -> Figures {
        stopping.store(true, ordering: .releasing)
        finished.wait()
        return figures.withLock { figures in
            var result = figures
            result.highWaterMark = ProcessStat.status(of: "self")["VmHWM"] ?? 0
            return result
        }
    }

    /// The plan's atoms in flight now; nil when the query fails.
    static func running(planID: UUID, on connection: Connection) -> Int? {
        try? connection.query("SELECT count(*) FROM atoms WHERE plan_id = $1 AND status = 'running'", [planID]).first?.decode(Int.self, 0)
    }
}
