/// Splits a SQL file into its statements, each with the line it starts on, so that an error in a
/// migration can be pinned to a line even when the server reports no position.
///
/// Understands what can hide a `;`: single-quoted strings (with `''` and, in `E'…'`, backslash
/// escapes), double-quoted identifiers, `--` and nested `/* */` comments, and dollar quoting
/// (`$$ … $$`, `$tag$ … $tag$`).
enum SQLScript {
    struct Statement: Equatable {
        var sql: String
        /// 1-based line of the statement's first non-blank character.
        var line: Int
    }

    static func statements(in text: String) -> [Statement] {
        let s = Array(text.unicodeScalars)
        var result: [Statement] = []
        var start = 0  // index of the statement's first code character
        var line = 1
        var startLine: Int? = nil
        var i = 0

        func flush(upTo end: Int) {
            guard startLine != nil else { return }
            let body = String(String.UnicodeScalarView(s[start..<end]))
            if containsCode(body), let startLine { result.append(Statement(sql: body, line: startLine)) }
            startLine = nil
        }

        while i < s.count {
            let c = s[i]
            let next: Unicode.Scalar? = i + 1 < s.count ? s[i + 1] : nil
            if c == "\n" { line += 1; i += 1; continue }
            if c == " " || c == "\t" || c == "\r" { i += 1; continue }
            if c == "-" && next == "-" {
                while i < s.count && s[i] != "\n" { i += 1 }
                continue
            }
            if c == "/" && next == "*" {
                var depth = 1
                i += 2
                while i < s.count && depth > 0 {
                    if s[i] == "\n" { line += 1 }
                    if s[i] == "/" && i + 1 < s.count && s[i + 1] == "*" { depth += 1; i += 2; continue }
                    if s[i] == "*" && i + 1 < s.count && s[i + 1] == "/" { depth -= 1; i += 2; continue }
                    i += 1
                }
                continue
            }
            if startLine == nil {
                startLine = line
                start = i
            }
            if c == ";" {
                flush(upTo: i + 1)
                i += 1
                continue
            }
            if c == "'" {
                let backslashEscapes = i > 0 && (s[i - 1] == "E" || s[i - 1] == "e")
                i += 1
                while i < s.count {
                    if s[i] == "\n" { line += 1 }
                    if backslashEscapes && s[i] == "\\" { i += 2; continue }
                    if s[i] == "'" {
                        if i + 1 < s.count && s[i + 1] == "'" { i += 2; continue }
                        break
                    }
                    i += 1
                }
                i += 1
                continue
            }
            if c == "\"" {
                i += 1
                while i < s.count && s[i] != "\"" {
                    if s[i] == "\n" { line += 1 }
                    i += 1
                }
                i += 1
                continue
            }
            if c == "$", let tagEnd = dollarTagEnd(s, from: i) {
                let tag = Array(s[i...tagEnd])
                i = tagEnd + 1
                while i < s.count {
                    if s[i] == "$" && i + tag.count <= s.count && Array(s[i..<(i + tag.count)]) == tag {
                        i += tag.count
                        break
                    }
                    if s[i] == "\n" { line += 1 }
                    i += 1
                }
                continue
            }
            i += 1
        }
        flush(upTo: s.count)
        return result
    }

    /// If a dollar-quote opening tag (`$$` or `$name$`) starts at `i`, the index of its closing `$`.
    private static func dollarTagEnd(_ s: [Unicode.Scalar], from i: Int) -> Int? {
        // A `$` right after an identifier character is a positional parameter or part of a name.
        if i > 0, s[i - 1].properties.isAlphabetic || s[i - 1] == "_" || ("0"..."9").contains(s[i - 1]) { return nil }
        var j = i + 1
        while j < s.count {
            let c = s[j]
            if c == "$" { return j }
            let isIdent = c.properties.isAlphabetic || c == "_" || (j > i + 1 && ("0"..."9").contains(c))
            if !isIdent { return nil }
            j += 1
        }
        return nil
    }

    /// False for text that is only whitespace and comments.
    private static func containsCode(_ text: String) -> Bool {
        text.unicodeScalars.contains { !($0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" || $0 == ";") }
    }
}
