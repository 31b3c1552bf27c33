import Glibc

/// What `masterplan up` tells the person at the terminal: whole lines on standard output, written at
/// once (no buffering, so a log file or a test reading the output sees each line as it happens).
enum UpConsole {
    static func say(_ line: String) {
        write(line + "\n", to: 1)
    }

    /// A line on standard error (failures).
    static func fail(_ line: String) {
        write(line + "\n", to: 2)
    }

    private static func write(_ text: String, to fd: Int32) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += written
        }
    }
}
