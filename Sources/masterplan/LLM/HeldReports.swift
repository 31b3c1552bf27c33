import Foundation
import LLM
import Synchronization

/// Diagnostics held back and written to standard error on `flush()`.
final class HeldReports: Sendable {
    private let lines = Mutex<[String]>([])

    var diagnostics: LLMDiagnostics {
        LLMDiagnostics { [self] level, message, fields in
            self.lines.withLock { $0.append(LLMDiagnostics.logfmt(level, message, fields)) }
        }
    }

    func flush() {
        for line in lines.withLock({ held in defer { held.removeAll() }; return held }) { LLMTerminal.standardError(line) }
    }
}
