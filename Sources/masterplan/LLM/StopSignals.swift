import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Calls a handler once on SIGINT or SIGTERM (dispatch signal sources, so no code runs in a C signal handler).
final class StopSignals: @unchecked Sendable {
    // @unchecked Sendable: `sources` is a `let` set once in init; dispatch sources may be cancelled
    // from any thread.
    private let sources: [any DispatchSourceSignal]

    init(_ handler: @escaping @Sendable () -> Void) {
        let queue = DispatchQueue(label: "masterplan.replay-llm.signals")
        sources = [SIGINT, SIGTERM].map { number in
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler(handler: handler)
            source.resume()
            return source
        }
    }

    func cancel() {
        for source in sources { source.cancel() }
    }
}
