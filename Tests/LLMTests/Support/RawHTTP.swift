import Foundation
import TestSupport

/// Sends one HTTP/1.1 request (`connection: close`) to the replay server over a fresh loopback
/// connection and returns the response as it came on the wire, read to the end of the message
/// (`HTTPConnection.readMessage`). Whether the server said `connection: close` is in the head for the
/// test to check.
enum RawHTTP {
    static func exchange(port: Int, method: String, path: String, headers: [(String, String)] = [], body: String = "") throws -> String {
        // A safety net for a hung server, not a speed check: the replay server answers on Swift
        // concurrency's threads, which the whole suite shares, so a loaded run may take a while.
        let connection = try HTTPConnection(port: UInt16(port), timeoutSeconds: 60)
        defer { connection.close() }
        let type: [(String, String)] = body.isEmpty && method != "POST" ? [] : [("content-type", "application/json")]
        try connection.send(method, path, headers: headers + type, body: Array(body.utf8))
        return try connection.readMessage()
    }
}
