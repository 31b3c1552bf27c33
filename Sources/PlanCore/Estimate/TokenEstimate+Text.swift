extension TokenEstimate {
    /// UTF-8 bytes of text per token, by the common rule of thumb for English prose and code. Real
    /// tokenizers differ by model; a figure from this rule is an estimate and shown as one.
    public static let bytesPerToken = 4

    /// Tokens of `byteCount` bytes of UTF-8 text (rounded up).
    public static func tokens(utf8Count byteCount: Int) -> Int {
        (max(0, byteCount) + bytesPerToken - 1) / bytesPerToken
    }

    /// Tokens of a text (its UTF-8 bytes, rounded up).
    public static func tokens(in text: String) -> Int {
        tokens(utf8Count: text.utf8.count)
    }
}
