import Base
import Base
import Glibc

/// A FastCGI process manager in the manner of php-fpm: `workers` forked processes accept on one
/// FastCGI socket, each running `worker` (the API's `APIWorker`: one request at a time on its own
/// database connection) and exiting with the status it returns.
///
/// - A worker that exits (crash, `kill`, `max_requests` reached) is replaced at once; one that keeps
///   dying within a second of starting is replaced at most once a second.
/// - SIGTERM / SIGINT: stop fast — workers get SIGTERM (SIGKILL after 5 s), requests in flight are cut.
/// - SIGQUIT: stop gracefully — workers get SIGQUIT and finish the request they are serving
///   (SIGTERM after `gracefulTimeout`).
/// - SIGHUP: replace the workers one by one — a new worker is started, then the old one is sent
///   SIGQUIT and waited for, then the next — so the pool never serves with fewer than `workers`.
///
/// The supervisor itself never starts a thread, a Dispatch queue or a Task: workers are forked from
/// it, and a forked child keeps only the thread that forked, so it would not get those. It waits in `waitpid`, which its
/// signal handlers (installed without `SA_RESTART`) interrupt.
public final class PreforkSupervisor {
    public struct Options: Sendable {
        public var workers: Int
        /// Requests a worker serves before it is replaced (0: no limit).
        public var maxRequests: Int
        /// How long SIGQUIT waits for requests in flight before it turns into SIGTERM.
        public var gracefulTimeoutSeconds: UInt32

        public init(workers: Int, maxRequests: Int, gracefulTimeoutSeconds: UInt32 = 30) {
            self.workers = workers
            self.maxRequests = maxRequests
            self.gracefulTimeoutSeconds = gracefulTimeoutSeconds
        }
    }

    struct Worker {
        var generation: Int
        var startedAt: Int64
    }

    let socket: ListeningSocket
    let options: Options
    /// What a forked worker runs; its result is the worker's exit status.
    let worker: () -> Int32
    private var workers: [pid_t: Worker] = [:]
    private var generation = 0
    /// Old workers still to be replaced after a SIGHUP, and the one being retired now.
    private var reloadQueue: [pid_t] = []
    private var retiring: pid_t?
    private var rapidFailures = 0

    public init(socket: ListeningSocket, options: Options, worker: @escaping () -> Int32) {
        self.socket = socket
        self.options = options
        self.worker = worker
    }

    /// The pids of the live workers (for tests and status output).
    public var workerPIDs: [pid_t] { Array(workers.keys).sorted() }

    /// Runs the pool until a stop signal; returns the exit status for the process.
    public func run() -> Int32 {
        // libfcgi's own SIGTERM/SIGUSR1 handlers would only interrupt accept(); ours replace them.
        guard FastCGILibrary.takeOverSignals() else { return 1 }
        ProcessSignals.prepare()
        ProcessSignals.install(SIGTERM) { _ in ProcessSignals.terminate.store(true, ordering: .relaxed) }
        ProcessSignals.install(SIGINT) { _ in ProcessSignals.terminate.store(true, ordering: .relaxed) }
        ProcessSignals.install(SIGQUIT) { _ in ProcessSignals.quit.store(true, ordering: .relaxed) }
        ProcessSignals.install(SIGHUP) { _ in ProcessSignals.reload.store(true, ordering: .relaxed) }
        ProcessSignals.install(SIGALRM) { _ in ProcessSignals.alarm.store(true, ordering: .relaxed) }

        Log.info("api pool starting", ["workers": String(options.workers), "max_requests": String(options.maxRequests),
                                       "socket": socket.path ?? "fd \(socket.fileDescriptor)", "pid": String(getpid())])
        for _ in 0..<options.workers { _ = spawn() }

        while true {
            if ProcessSignals.terminate.load(ordering: .relaxed) { return stop(graceful: false) }
            if ProcessSignals.quit.load(ordering: .relaxed) { return stop(graceful: true) }
            if ProcessSignals.reload.exchange(false, ordering: .relaxed) { beginReload() }
            continueReload()
            while workers.count - (retiring == nil ? 0 : 1) < options.workers {
                if !spawn() { break }
            }

            var status: Int32 = 0
            let pid = waitpid(-1, &status, 0)
            if pid > 0 {
                exited(pid, status: status)
            } else if errno == ECHILD {
                // No children at all (every fork failed): try again in a second.
                sleepInterruptibly(seconds: 1)
            }
        }
    }

    // MARK: - Workers

    /// Forks one worker; false when `fork` failed (logged).
    @discardableResult
    private func spawn() -> Bool {
        let supervisor = getpid()
        let pid = fork()
        if pid == 0 {
            // The child: becomes a worker and never returns into the supervisor's loop; it dies with
            // the supervisor, so no orphan keeps serving.
            ParentDeath.follow(parent: supervisor)
            exit(worker())
        }
        guard pid > 0 else {
            Log.error("fork failed", ["error": String(cString: strerror(errno))])
            return false
        }
        workers[pid] = Worker(generation: generation, startedAt: Self.now())
        return true
    }

    private func exited(_ pid: pid_t, status: Int32) {
        guard let worker = workers.removeValue(forKey: pid) else { return }
        let signal = status & 0x7f
        let code = (status >> 8) & 0xff
        let how = signal == 0 ? "exit \(code)" : "signal \(signal)"
        if pid == retiring {
            retiring = nil
            Log.info("worker retired", ["pid": String(pid)])
            return
        }
        let lived = Self.now() - worker.startedAt
        if signal == 0 && code == 0 {
            Log.info("worker exited", ["pid": String(pid), "status": how, "action": "respawn"])
            rapidFailures = 0
        } else {
            Log.warning("worker died", ["pid": String(pid), "status": how, "action": "respawn"])
            rapidFailures = lived < 1 ? rapidFailures + 1 : 0
            // A worker that cannot even start (bad configuration) must not turn into a fork loop.
            if rapidFailures >= 3 { sleepInterruptibly(seconds: 1) }
        }
        reloadQueue.removeAll { $0 == pid }
    }

    // MARK: - Reload (SIGHUP)

    private func beginReload() {
        generation += 1
        reloadQueue = workers.filter { $0.value.generation < generation }.map(\.key).sorted()
        Log.info("reloading workers", ["count": String(reloadQueue.count)])
    }

    /// Retires the next old worker once the previous one is gone: start its replacement first, then
    /// ask it to finish (SIGQUIT).
    private func continueReload() {
        guard retiring == nil, !reloadQueue.isEmpty else { return }
        let old = reloadQueue.removeFirst()
        guard workers[old] != nil else { return continueReload() }
        spawn()
        retiring = old
        kill(old, SIGQUIT)
    }

    // MARK: - Stopping

    private func stop(graceful: Bool) -> Int32 {
        Log.info(graceful ? "api pool stopping gracefully" : "api pool stopping", ["workers": String(workers.count)])
        for pid in workers.keys { kill(pid, graceful ? SIGQUIT : SIGTERM) }
        var escalated = false
        ProcessSignals.alarm.store(false, ordering: .relaxed)
        alarm(graceful ? options.gracefulTimeoutSeconds : 5)
        while !workers.isEmpty {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, 0)
            if pid > 0 {
                workers.removeValue(forKey: pid)
                continue
            }
            if errno == ECHILD { break }
            let deadline = ProcessSignals.alarm.exchange(false, ordering: .relaxed)
            let hurried = graceful && !escalated && ProcessSignals.terminate.load(ordering: .relaxed)
            if deadline || hurried {
                // Graceful ran out of time (or TERM arrived meanwhile): TERM, then KILL 5 s later.
                let signal = escalated || !graceful ? SIGKILL : SIGTERM
                for pid in workers.keys { kill(pid, signal) }
                escalated = true
                alarm(5)
            }
        }
        alarm(0)
        socket.close(removingSocketFile: true)
        Log.info("api pool stopped")
        return 0
    }

    private func sleepInterruptibly(seconds: Int) {
        var request = timespec(tv_sec: seconds, tv_nsec: 0)
        _ = nanosleep(&request, nil)
    }

    static func now() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Int64(spec.tv_sec)
    }
}
