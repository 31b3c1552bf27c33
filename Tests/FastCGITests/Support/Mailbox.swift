import Dispatch
import Synchronization

/// A thread-safe queue a server thread puts results into and the test takes them from, waiting
/// with a timeout so a broken server fails the test instead of hanging it.
final class Mailbox<Value: Sendable>: Sendable {
    private let items = Mutex<[Value]>([])
    private let available = DispatchSemaphore(value: 0)

    func put(_ value: Value) {
        items.withLock { $0.append(value) }
        available.signal()
    }

    /// The oldest value, or nil after `seconds` without one.
    func take(seconds: Double = 10) -> Value? {
        guard available.wait(timeout: .now() + seconds) == .success else { return nil }
        return items.withLock { $0.removeFirst() }
    }
}
