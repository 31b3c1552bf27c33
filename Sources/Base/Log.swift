import Glibc

/// The daemons' structured log: lines on standard error (fd 2; the `stderr` global is not
/// concurrency-safe) such as `level=warning msg="worker died" pid=123 status="signal 9"`. A short
/// constant message plus fields named the same everywhere (`plan.id`, `job.id`, `request.id`,
/// `duration_ms`, `error`), one `write` per line so lines from several processes and threads do not
/// interleave. `masterplan up` sends each daemon's standard error to its own file (README,
/// "Operations").
public enum Log {
    public enum Level: String, Sendable {
        case debug, info, warning, error
    }

    public static func debug(_ message: String, _ fields: KeyValuePairs<String, String> = [:]) {
        write(.debug, message, fields)
    }

    public static func info(_ message: String, _ fields: KeyValuePairs<String, String> = [:]) {
        write(.info, message, fields)
    }

    public static func warning(_ message: String, _ fields: KeyValuePairs<String, String> = [:]) {
        write(.warning, message, fields)
    }

    public static func error(_ message: String, _ fields: KeyValuePairs<String, String> = [:]) {
        write(.error, message, fields)
    }

    public static func write(_ level: Level, _ message: String, _ fields: KeyValuePairs<String, String>) {
        write(line: line(level, message, fields))
    }

    /// Writes one finished line (see `line(_:_:_:)`) and its line break to standard error.
    public static func write(line: String) {
        var bytes = Array((line + "\n").utf8)
        bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(2, buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 { if errno == EINTR { continue }; return }
                offset += written
            }
        }
    }

    /// One line without its line break: `level=… msg=… key=value …`.
    public static func line(_ level: Level, _ message: String, _ fields: KeyValuePairs<String, String>) -> String {
        var line = "level=\(level.rawValue) msg=\(quoted(message))"
        for (key, value) in fields { line += " \(key)=\(quoted(value))" }
        return line
    }

    /// Bare when the value is a simple word, else double-quoted with `"` and `\` escaped and line
    /// breaks shown as `\n`.
    static func quoted(_ value: String) -> String {
        let simple = !value.isEmpty && value.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2E || byte == 0x5F || byte == 0x2D || byte == 0x2F || byte == 0x3A
        }
        if simple { return value }
        var out = "\""
        for character in value.unicodeScalars {
            switch character {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default: out.unicodeScalars.append(character)
            }
        }
        return out + "\""
    }
}
