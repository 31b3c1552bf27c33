import JSON
import Store

/// Server-sent event framing (the `text/event-stream` format of the HTML standard).
public enum SSEFrame {
    /// `id: N`, `event: TYPE`, one `data:` line per line of the JSON (made compact: PostgreSQL's
    /// json output has spaces around every colon), and the blank line. Called once per event.
    public static func frame(_ event: FeedEvent) -> [UInt8] {
        let json = (try? JSONValue.parse(event.json, options: JSONParseOptions(maxDepth: 256, maxBytes: Int.max)).serialized())
            ?? event.json
        var text = "id: \(event.id)\nevent: \(event.type)\n"
        for line in json.split(separator: "\n", omittingEmptySubsequences: false) {
            text += "data: \(line)\n"
        }
        text += "\n"
        return Array(text.utf8)
    }

    /// The reconnection delay hint, sent first on every stream.
    public static func retry(milliseconds: Int) -> [UInt8] { Array("retry: \(milliseconds)\n\n".utf8) }

    /// A comment line: keeps proxies and the browser from timing the stream out.
    public static let heartbeat: [UInt8] = Array(": heartbeat\n\n".utf8)
}
