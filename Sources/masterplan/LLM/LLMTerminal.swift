import Foundation
import Synchronization

/// Terminal and concurrency helpers of the `llm` and `replay-llm` commands.
enum LLMTerminal {
    /// Runs async work from a synchronous command (the root command is synchronous) and waits for it.
    /// The work runs on Swift's concurrency pool while the calling thread blocks on a semaphore.
    static func blockingAsync<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
        let box = Mutex<T?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            let value = await body()
            box.withLock { $0 = value }
            done.signal()
        }
        done.wait()
        return box.withLock { $0! }
    }

    /// Writes to standard output at once (no buffering, so streamed pieces appear as they arrive).
    static func standardOutput(_ text: String) {
        guard !text.isEmpty else { return }
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    /// Writes one line to standard error.
    static func standardError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
