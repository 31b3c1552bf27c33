import Base
import Foundation
import Synchronization

/// Diagnostics held back and written to standard error on `flush()`.
final class HeldReports: Sendable {
    private let lines = Mutex<[String]>([])

    var diagnostics: Logger {
        Logger { [self] line in self.lines.withLock { $0.append(line) } }
    }

    func flush() {
        for line in lines.withLock({ held in defer { held.removeAll() }; return held }) { LLMTerminal.standardError(line) }
    }
}
