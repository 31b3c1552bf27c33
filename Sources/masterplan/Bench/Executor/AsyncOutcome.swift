import Dispatch
import Foundation
import Synchronization

/// The outcome of async work started from synchronous code, for that code to wait on.
final class AsyncOutcome<T: Sendable>: Sendable {
    private let value = Mutex<Result<T, any Error>?>(nil)
    private let done = DispatchSemaphore(value: 0)

    func start(_ body: @escaping @Sendable () async throws -> T) {
        Task.detached { [self] in
            let outcome: Result<T, any Error>
            do { outcome = .success(try await body()) } catch { outcome = .failure(error) }
            value.withLock { $0 = outcome }
            done.signal()
        }
    }

    func wait() -> Result<T, any Error> {
        done.wait()
        return value.withLock { $0! }
    }
}
