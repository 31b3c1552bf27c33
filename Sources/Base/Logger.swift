/// Where a component's structured log lines go: standard error in a daemon (`Log`'s format), a list
/// in a test that checks what was logged.
public struct Logger: Sendable {
    /// Receives each finished line, without its line break.
    public var write: @Sendable (String) -> Void

    public init(write: @escaping @Sendable (String) -> Void) {
        self.write = write
    }

    /// Lines to standard error, as `Log` writes them.
    public static let standardError = Logger { Log.write(line: $0) }

    /// Discards everything.
    public static let silent = Logger { _ in }

    public func debug(_ message: String, _ fields: KeyValuePairs<String, String> = [:]) {
        write(Log.line(.debug, message, fields))
    }

    public func info(_ message: String, _ fields: KeyValuePairs<String, String> = [:]) {
        write(Log.line(.info, message, fields))
    }

    public func warning(_ message: String, _ fields: KeyValuePairs<String, String> = [:]) {
        write(Log.line(.warning, message, fields))
    }

    public func error(_ message: String, _ fields: KeyValuePairs<String, String> = [:]) {
        write(Log.line(.error, message, fields))
    }
}
