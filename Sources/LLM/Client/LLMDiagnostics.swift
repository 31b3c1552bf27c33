import Foundation

/// Where the LLM layer reports what an operator should know: a short constant message plus fields
/// (logfmt), never a key or a prompt.
public struct LLMDiagnostics: Sendable {
    public enum Level: String, Sendable {
        /// Something changed that the operator may want to know (a structured-output fallback).
        case notice
        /// Something the operator must act on (an unknown cost, a ledger row that could not be written).
        case warning
    }

    /// Receives each report.
    public var report: @Sendable (Level, String, [(String, String)]) -> Void

    public init(report: @escaping @Sendable (Level, String, [(String, String)]) -> Void) {
        self.report = report
    }

    /// Writes `level=warning msg="…" key=value …` lines to standard error.
    public static let standardError = LLMDiagnostics { level, message, fields in
        FileHandle.standardError.write(Data((logfmt(level, message, fields) + "\n").utf8))
    }

    /// Discards everything.
    public static let silent = LLMDiagnostics { _, _, _ in }

    func warning(_ message: String, _ fields: [(String, String)]) { report(.warning, message, fields) }
    func notice(_ message: String, _ fields: [(String, String)]) { report(.notice, message, fields) }

    /// One logfmt line.
    public static func logfmt(_ level: Level, _ message: String, _ fields: [(String, String)]) -> String {
        func quoted(_ value: String) -> String {
            let plain = !value.isEmpty && value.allSatisfy { $0.isASCII && !$0.isWhitespace && $0 != "\"" && $0 != "=" && $0 != "\\" }
            if plain { return value }
            return "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "\n", with: "\\n") + "\""
        }
        return (["level=\(level.rawValue)", "msg=\(quoted(message))"] + fields.map { "\($0.0)=\(quoted($0.1))" })
            .joined(separator: " ")
    }
}
