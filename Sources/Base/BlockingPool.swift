import Foundation

/// The one bridge from async code to blocking calls: a fixed set of threads for work that must not
/// run on Swift concurrency's cooperative pool (validators and tests in the sandbox, git, file
/// writes, libpq calls).
///
/// The executor sizes its pool by its CPU limit (by default the number of cores), separate from the
/// number of LLM calls in flight: a hundred atoms may wait for their model while two validate.
/// `AsyncDatabase` in the Postgres module runs its connections' work on a pool of its own.
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

    /// Stops the threads after the work already handed in.
    public func close() { queue.close() }

    /// Runs `body` on one of the pool's threads and returns its result; once the pool is closed (the
    /// process is shutting down) it runs `body` on the caller's thread rather than never.
    public func run<T: Sendable, E: Error>(_ body: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
        if let value = try await runIfOpen(body) { return value }
        return try body()
    }

    /// Runs `body` on one of the pool's threads and returns its result, or nil without running it
    /// when the pool is closed.
    public func runIfOpen<T: Sendable, E: Error>(_ body: @escaping @Sendable () throws(E) -> T) async throws(E) -> T? {
        let result: Result<T, E>? = await withCheckedContinuation { continuation in
            let accepted = queue.add {
                do throws(E) { continuation.resume(returning: .success(try body())) } catch { continuation.resume(returning: .failure(error)) }
            }
            if !accepted { continuation.resume(returning: nil) }
        }
        return try result?.get()
    }
}
