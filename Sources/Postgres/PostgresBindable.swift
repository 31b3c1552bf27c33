import Foundation
import JSON

/// A Swift value that can be sent as a statement parameter, in PostgreSQL's text format.
public protocol PostgresBindable {
    /// The parameter's text, or nil for SQL NULL.
    func postgresText() throws(PostgresError) -> String?
}

/// SQL NULL as a parameter, for places where no typed Optional is at hand.
public struct SQLNull: PostgresBindable, Sendable {
    public init() {}
    public func postgresText() -> String? { nil }
}

extension Optional: PostgresBindable where Wrapped: PostgresBindable {
    public func postgresText() throws(PostgresError) -> String? {
        switch self {
        case .none: return nil
        case .some(let value): return try value.postgresText()
        }
    }
}

extension String: PostgresBindable { public func postgresText() -> String? { self } }
extension Substring: PostgresBindable { public func postgresText() -> String? { String(self) } }
extension Int: PostgresBindable { public func postgresText() -> String? { String(self) } }
extension Int64: PostgresBindable { public func postgresText() -> String? { String(self) } }
extension Int32: PostgresBindable { public func postgresText() -> String? { String(self) } }
extension Bool: PostgresBindable { public func postgresText() -> String? { self ? "t" : "f" } }
extension UUID: PostgresBindable { public func postgresText() -> String? { uuidString.lowercased() } }

extension Double: PostgresBindable {
    public func postgresText() -> String? {
        if isNaN { return "NaN" }
        if isInfinite { return self > 0 ? "Infinity" : "-Infinity" }
        return String(self)
    }
}

extension Date: PostgresBindable {
    /// ISO 8601 in UTC with microseconds, which PostgreSQL reads for timestamptz.
    public func postgresText() -> String? { PostgresTimestamp.format(self) }
}

extension JSONValue: PostgresBindable {
    public func postgresText() throws(PostgresError) -> String? {
        do {
            return try serialized()
        } catch {
            throw PostgresError(kind: .parameter, message: "a JSON parameter cannot be written: \(error.message)")
        }
    }
}

extension Array: PostgresBindable where Element == String {
    /// A text[] literal: every element double-quoted with `"` and `\` escaped.
    public func postgresText() -> String? {
        var out = "{"
        for (i, element) in enumerated() {
            if i > 0 { out += "," }
            out += "\""
            for ch in element.unicodeScalars {
                if ch == "\"" || ch == "\\" { out += "\\" }
                out.unicodeScalars.append(ch)
            }
            out += "\""
        }
        return out + "}"
    }
}
