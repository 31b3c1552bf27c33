import Crypto

/// Single-use, short-lived tickets that open one event stream: what a browser puts in the stream's
/// URL (`?ticket=`) instead of its access token, which EventSource cannot send as a header.
///
/// A ticket is 32 random bytes in base64url; only its SHA-256 is stored (`StreamTicketStore`), so a
/// copy of the table opens nothing. It lasts `lifetimeSeconds` (never beyond its access token), opens
/// at most one stream (redeeming deletes it), and the stream it opens ends when that access token
/// expires or its account's token version moves on.
public enum StreamTicket {
    /// How long an unused ticket is valid.
    public static let lifetimeSeconds = 60

    static let randomBytes = 32
    /// The length of a ticket's text (32 bytes in unpadded base64url).
    static let textLength = 43

    /// A new random ticket.
    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return Base64URL.encode((0..<randomBytes).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    /// The stored form: lowercase hex SHA-256 of the ticket's text.
    static func hash(_ ticket: String) -> String {
        SHA256.hash(data: Array(ticket.utf8)).map { byte in
            let hex = Array("0123456789abcdef".utf8)
            return String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]], as: UTF8.self)
        }.joined()
    }

    /// True when `text` could be a ticket this server issued (checked before any database work).
    static func isWellFormed(_ text: String) -> Bool {
        text.utf8.count == textLength && Base64URL.decode(text)?.count == randomBytes
    }
}
