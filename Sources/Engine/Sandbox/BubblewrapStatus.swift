import JSON

/// What bwrap wrote to `--json-status-fd`: one JSON document per line, first `{"child-pid": …}` once the
/// program started, then `{"exit-code": …}` when it ended.
struct BubblewrapStatus {
    var childStarted = false
    var exitCode: Int32?

    init(_ bytes: [UInt8]) {
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            guard let document = try? JSONValue.parse(Array(line)) else { continue }
            if document["child-pid"]?.intValue != nil { childStarted = true }
            if let code = document["exit-code"]?.intValue { exitCode = Int32(clamping: code) }
        }
    }
}
