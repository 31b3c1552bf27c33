import Foundation
import Synchronization
import Testing

/// Runs a suite's tests on threads of their own instead of Swift's cooperative pool.
///
/// Why: Swift Testing runs every test body — synchronous ones too — on the cooperative pool, which
/// has one thread per core (two on the CI machine). A test that blocks (waits for a child process,
/// sleeps between polls, reads a socket, calls libpq) holds one of those threads for as long as it
/// blocks. Two such tests at once left nothing to run the in-process servers and clients of every
/// other test: a scripted model stopped answering for more than its 30 s idle timeout, generation
/// tests failed with "the provider stopped answering", and an executor test missed its lease renewal
/// (the failed CI run of 7523d24, reproduced by sampling the test process's threads with gdb).
///
/// With `@Suite(.dedicatedThreads)` each test case runs with `DedicatedThreadsExecutor.shared` as its
/// task executor preference: its body, and the child tasks it starts, run on threads that exist only
/// for such tests, and the cooperative pool stays free. At most `limit` such test cases run at once
/// (the cooperative pool's two threads used to cap them, by accident); the others wait without
/// holding a thread. `MASTERPLAN_TEST_DEDICATED_THREADS` sets the limit. The wait counts toward a
/// `.timeLimit`, so suites with a time limit (asynchronous ones that never block) do not use this.
public struct DedicatedThreadsTrait: SuiteTrait, TestTrait, TestScoping {
    public var isRecursive: Bool { true }

    public func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void)
        async throws {
        // Within a turn already (the trait given twice, or on a suite and its test): taking a second
        // turn could wait for turns held by scopes that wait the same way, a deadlock.
        if Self.holdsTurn {
            try await function()
            return
        }
        await Self.turns.acquire()
        defer { Self.turns.release() }
        try await Self.$holdsTurn.withValue(true) {
            try await withTaskExecutorPreference(DedicatedThreadsExecutor.shared) {
                try await function()
            }
        }
    }

    /// True inside a scope of this trait.
    @TaskLocal static var holdsTurn = false

    /// How many test cases of such suites run at once.
    public static let limit: Int = {
        if let text = ProcessInfo.processInfo.environment["MASTERPLAN_TEST_DEDICATED_THREADS"], let value = Int(text), value > 0 {
            return value
        }
        return 4
    }()

    static let turns = AsyncTurns(limit: limit)
}

extension Trait where Self == DedicatedThreadsTrait {
    /// Runs the suite's tests off Swift's cooperative pool; see `DedicatedThreadsTrait`.
    public static var dedicatedThreads: DedicatedThreadsTrait { DedicatedThreadsTrait() }
}

/// A task executor that runs each job on a thread of its own pool, starting a new thread whenever
/// no thread is idle, so a job that blocks never delays another. Threads idle for 30 s end.
public final class DedicatedThreadsExecutor: TaskExecutor, @unchecked Sendable {
    // @unchecked Sendable: every stored property but the constants is read and written only while
    // `condition` is locked.
    public static let shared = DedicatedThreadsExecutor()

    /// The name its threads carry (at most 15 bytes, the limit of a Linux thread name).
    public static let threadName = "test-dedicated"

    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    /// Threads waiting for work and not yet handed any.
    private var idle = 0
    /// Idle threads handed a job by `enqueue` that have not woken up yet.
    private var handedOver = 0
    private var threads = 0

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        let startThread: Bool
        if idle > 0 {
            // Hand the job to one idle thread; the next job finds one fewer idle thread, so two jobs
            // never queue behind one thread.
            idle -= 1
            handedOver += 1
            condition.signal()
            startThread = false
        } else {
            threads += 1
            startThread = true
        }
        condition.unlock()
        if startThread {
            let thread = Thread { [self] in
                // Named from inside: a name given before `start()` did not reach the kernel here, and
                // the thread kept the name of the one that created it.
                Thread.current.name = Self.threadName
                Thread.current.threadDictionary[Self.markKey] = true
                work()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    /// True on a thread of this pool (a synchronous function, so async tests can ask too).
    public static func isCurrentThreadDedicated() -> Bool {
        // A mark in the thread's own memory, set before it takes any job. (Reading the kernel's name
        // of the thread from /proc once said "no" during a full run, with the process's descriptors
        // busy; the mark cannot fail that way.)
        Thread.current.threadDictionary[markKey] as? Bool == true
    }

    private static let markKey = "masterplan.test-dedicated"

    /// The number of threads the pool has now.
    public var threadCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return threads
    }

    private func work() {
        condition.lock()
        while true {
            if !jobs.isEmpty {
                let job = jobs.removeFirst()
                condition.unlock()
                job.runSynchronously(on: asUnownedTaskExecutor())
                condition.lock()
                continue
            }
            idle += 1
            var deadline = Date().addingTimeInterval(30)
            while handedOver == 0 {
                if !condition.wait(until: deadline) && handedOver == 0 {
                    // Idle for 30 s and handed nothing: end this thread.
                    idle -= 1
                    threads -= 1
                    condition.unlock()
                    return
                }
                deadline = Date().addingTimeInterval(30)
            }
            handedOver -= 1
        }
    }
}

/// A counting semaphore for async code: `acquire` suspends (holding no thread) until a turn is free.
final class AsyncTurns: Sendable {
    private struct State {
        var free: Int
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    private let state: Mutex<State>

    init(limit: Int) { state = Mutex(State(free: limit)) }

    func acquire() async {
        await withCheckedContinuation { continuation in
            let granted = state.withLock { state -> Bool in
                if state.free > 0 {
                    state.free -= 1
                    return true
                }
                state.waiting.append(continuation)
                return false
            }
            if granted { continuation.resume() }
        }
    }

    func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiting.isEmpty {
                state.free += 1
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.resume()
    }
}
