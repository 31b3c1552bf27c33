import Foundation
import Glibc
import Store

/// Reads a new password: the first line of stdin when it is not a terminal (or when asked), else a
/// prompt on the terminal with echo off, asked twice.
enum PasswordInput {
    struct Refused: Error, CustomStringConvertible {
        var description: String
    }

    static let minimumLength = UserStore.minimumPasswordLength

    static func read(fromStdin: Bool) throws -> String {
        let password: String
        if fromStdin || isatty(0) == 0 {
            guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                throw Refused(description: "no password on standard input: pipe it in, e.g. printf '%s\\n' \"$PASSWORD\" | masterplan user add EMAIL")
            }
            password = line
        } else {
            password = try prompt("Password: ")
            guard try prompt("Repeat password: ") == password else { throw Refused(description: "the two passwords differ; nothing was changed") }
        }
        guard password.count >= minimumLength else {
            throw Refused(description: "the password is \(password.count) characters long; use at least \(minimumLength)")
        }
        return password
    }

    /// Asks on the terminal with echo off. Calls `tcgetattr`/`tcsetattr`.
    static func prompt(_ text: String) throws -> String {
        _ = text.withCString { write(2, $0, strlen($0)) }
        var saved = termios()
        tcgetattr(0, &saved)
        var silent = saved
        silent.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(0, TCSANOW, &silent)
        defer {
            tcsetattr(0, TCSANOW, &saved)
            _ = write(2, "\n", 1)
        }
        guard let line = readLine(strippingNewline: true) else { throw Refused(description: "no password entered") }
        return line
    }
}
