import Foundation
import Synchronization

/// Runs blocking work (initdb, a child process, a socket read) on a thread of its own, so it never
/// holds one of the few threads of Swift's cooperative pool that the clients and servers under test
/// need (on a 2-core machine the pool has 2 threads). For a single call in a suite that otherwise
/// never blocks; a suite whose tests block runs wholly off the pool (`DedicatedThreadsTrait`).
public func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            continuation.resume(with: Result { try body() })
        }
        thread.stackSize = 8 << 20
        thread.start()
    }
}
