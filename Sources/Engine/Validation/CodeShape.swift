/// The language-independent checks, done in the executor without a sandbox: they only count.
///
/// Size: bytes and lines. Complexity, for code only: the longest line and the deepest nesting —
/// indentation levels for Python and shell (continuation lines inside brackets, after a backslash or
/// inside a triple-quoted string do not count), `{` blocks for JavaScript (outside strings and
/// comments). A heuristic that catches runaway output (one 5,000-character line, 15 nested `if`s),
/// not a style guide.
public enum CodeShape {
    /// The "size" result, and for code the "complexity" result.
    public static func check(_ content: String, kind: FileKind, limits: CodeLimits = .default) -> [ValidatorResult] {
        var results = [size(content, limits: limits)]
        if kind.isCode { results.append(complexity(content, kind: kind, limits: limits)) }
        return results
    }

    static func size(_ content: String, limits: CodeLimits) -> ValidatorResult {
        let bytes = content.utf8.count
        let lines = lineCount(content)
        var problems: [String] = []
        if bytes > limits.maxBytes { problems.append("\(bytes) bytes, more than the limit of \(limits.maxBytes)") }
        if lines > limits.maxLines { problems.append("\(lines) lines, more than the limit of \(limits.maxLines)") }
        return ValidatorResult(name: "size", passed: problems.isEmpty,
                               message: problems.isEmpty ? "ok (\(lines) lines, \(bytes) bytes)" : "the file has " + problems.joined(separator: " and "))
    }

    static func complexity(_ content: String, kind: FileKind, limits: CodeLimits) -> ValidatorResult {
        let lines = content.split(separator: "\n", omittingEmptySubsequences: false)
        var problems: [String] = []
        for (index, line) in lines.enumerated() where line.unicodeScalars.count > limits.maxLineLength {
            problems.append("line \(index + 1) is \(line.unicodeScalars.count) characters long (limit \(limits.maxLineLength))")
            if problems.count == 3 { break }
        }
        let depths = kind == .javascript || kind == .go ? braceDepths(lines) : indentationDepths(lines, pythonStrings: kind == .python)
        if let deepest = depths.max(by: { $0.depth < $1.depth }), deepest.depth > limits.maxNesting {
            problems.append("line \(deepest.line) is nested \(deepest.depth) levels deep (limit \(limits.maxNesting)); split it into functions")
        }
        let maxDepth = depths.map(\.depth).max() ?? 0
        return ValidatorResult(name: "complexity", passed: problems.isEmpty,
                               message: problems.isEmpty ? "ok (nesting \(maxDepth))" : problems.joined(separator: "\n"))
    }

    static func lineCount(_ content: String) -> Int {
        guard !content.isEmpty else { return 0 }
        let newlines = content.utf8.reduce(0) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
        return content.utf8.last == UInt8(ascii: "\n") ? newlines : newlines + 1
    }

    /// The block depth of each logical line that starts a statement, from an indentation stack as
    /// Python's tokenizer keeps it (so any indentation unit works).
    static func indentationDepths(_ lines: [Substring], pythonStrings: Bool) -> [(line: Int, depth: Int)] {
        var stack = [0]
        var result: [(line: Int, depth: Int)] = []
        var scanner = SourceScanner(style: pythonStrings ? .python : .shell)
        for (index, line) in lines.enumerated() {
            let continuation = scanner.isInsideContinuation
            scanner.scan(line)
            guard !continuation else { continue }
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            var column = 0
            for character in line.prefix(while: { $0 == " " || $0 == "\t" }) {
                column = character == "\t" ? (column / 8 + 1) * 8 : column + 1
            }
            if column > stack.last! {
                stack.append(column)
            } else {
                while stack.count > 1 && column < stack.last! { stack.removeLast() }
            }
            result.append((index + 1, stack.count - 1))
        }
        return result
    }

    /// The `{` depth reached on each line of JavaScript.
    static func braceDepths(_ lines: [Substring]) -> [(line: Int, depth: Int)] {
        var scanner = SourceScanner(style: .javascript)
        var result: [(line: Int, depth: Int)] = []
        for (index, line) in lines.enumerated() {
            let deepest = scanner.scan(line)
            result.append((index + 1, deepest))
        }
        return result
    }
}

/// Just enough of a lexer to tell code from strings and comments, line by line.
struct SourceScanner {
    enum Style { case python, shell, javascript }

    let style: Style
    /// Open `(`, `[`, `{` (for JavaScript only `{` counts as depth).
    private var brackets = 0
    private var braces = 0
    /// The open string's delimiter (`"`, `'`, `` ` ``, `"""`, `'''`).
    private var openString: String?
    private var inBlockComment = false
    private var backslashContinuation = false

    init(style: Style) {
        self.style = style
    }

    /// Whether the next line continues a statement (open bracket, open multi-line string, trailing backslash).
    var isInsideContinuation: Bool { brackets > 0 || openString != nil || backslashContinuation }

    /// Scans one line and returns the deepest `{` depth reached on it.
    @discardableResult
    mutating func scan(_ line: Substring) -> Int {
        let characters = Array(line)
        var deepest = braces
        var i = 0
        backslashContinuation = false
        while i < characters.count {
            let c = characters[i]
            if inBlockComment {
                if c == "*" && i + 1 < characters.count && characters[i + 1] == "/" { inBlockComment = false; i += 1 }
                i += 1
                continue
            }
            if let delimiter = openString {
                if c == "\\" { i += 2; continue }
                if matches(characters, at: i, delimiter) {
                    openString = nil
                    i += delimiter.count
                    continue
                }
                i += 1
                continue
            }
            switch c {
            case "#" where style != .javascript:
                i = characters.count
                continue
            case "/" where style == .javascript && i + 1 < characters.count && characters[i + 1] == "/":
                i = characters.count
                continue
            case "/" where style == .javascript && i + 1 < characters.count && characters[i + 1] == "*":
                inBlockComment = true
                i += 2
                continue
            case "\"", "'", "`":
                if style == .python && i + 2 < characters.count && characters[i + 1] == c && characters[i + 2] == c {
                    openString = String(repeating: c, count: 3)
                    i += 3
                    continue
                }
                if c == "`" && style != .javascript { break }
                openString = String(c)
            case "(", "[":
                brackets += 1
            case ")", "]":
                brackets = max(0, brackets - 1)
            case "{":
                if style == .javascript { braces += 1; deepest = max(deepest, braces) } else { brackets += 1 }
            case "}":
                if style == .javascript { braces = max(0, braces - 1) } else { brackets = max(0, brackets - 1) }
            case "\\" where i == characters.count - 1:
                backslashContinuation = true
            default:
                break
            }
            i += 1
        }
        // Single-quoted strings end with the line (an unterminated one is the syntax checker's business);
        // only triple-quoted strings and JavaScript template literals span lines.
        if let delimiter = openString, delimiter.count == 1, !(style == .javascript && delimiter == "`") {
            openString = nil
        }
        // In shell, only explicit continuations join lines; braces and brackets are syntax there.
        if style == .shell { brackets = 0 }
        return deepest
    }

    private func matches(_ characters: [Character], at index: Int, _ delimiter: String) -> Bool {
        var j = index
        for d in delimiter {
            guard j < characters.count, characters[j] == d else { return false }
            j += 1
        }
        return true
    }
}
