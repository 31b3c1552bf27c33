import Foundation
import Store
import Synchronization

/// A fixed set of threads for blocking work the executor must not do on Swift concurrency's
/// cooperative pool: validators and tests in the sandbox, git, file writes.
///
/// Its size is the executor's CPU limit (by default the number of cores), separate from the number
/// of LLM calls in flight: a hundred atoms may wait for their model while two validate.
public final class BlockingPool: Sendable {
    private let queue = WorkQueue<@Sendable () -> Void>()

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
}
