import Foundation
import Synchronization

/// A fixed set of threads for blocking work the executor must not do on Swift concurrency's
/// cooperative pool: validators and tests in the sandbox, git, file writes.
///
/// Its size is the executor's CPU limit (by default the number of cores), separate from the number
/// of LLM calls in flight: a hundred atoms may wait for their model while two validate.
public final class BlockingPool: Sendable {
    private let queue = JobQueue()

    public init(threads: Int) {
        precondition(threads >= 1, "a BlockingPool needs at least one thread")
        for _ in 0..<threads {
            let queue = self.queue
            Thread { while let work = queue.next() { work() } }.start()
        }
    }

    deinit { queue.close() }

    /// Runs `body` on one of the pool's threads and returns its result.
    public func run<T: Sendable, E: Error>(_ body: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
        let result: Result<T, E> = await withCheckedContinuation { continuation in
            let accepted = queue.add {
                do throws(E) { continuation.resume(returning: .success(try body())) } catch { continuation.resume(returning: .failure(error)) }
            }
            if !accepted {
                // The pool is closed (the executor is shutting down): run here rather than never.
                do throws(E) { continuation.resume(returning: .success(try body())) } catch { continuation.resume(returning: .failure(error)) }
            }
        }
        return try result.get()
    }

    /// Work waiting for a thread, first in first out.
    final class JobQueue: @unchecked Sendable {
        typealias Work = @Sendable () -> Void
        // Every access to `items`, `head` and `closed` holds `condition`'s lock.
        private var items: [Work] = []
        private var head = 0
        private var closed = false
        private let condition = NSCondition()

        func add(_ work: @escaping Work) -> Bool {
            condition.lock()
            defer { condition.unlock() }
            guard !closed else { return false }
            items.append(work)
            condition.signal()
            return true
        }

        func next() -> Work? {
            condition.lock()
            defer { condition.unlock() }
            while head == items.count && !closed { condition.wait() }
            guard head < items.count else { return nil }
            let work = items[head]
            head += 1
            if head > 1024 && head * 2 > items.count {
                items.removeFirst(head)
                head = 0
            }
            return work
        }

        func close() {
            condition.lock()
            closed = true
            condition.broadcast()
            condition.unlock()
        }
    }
}
