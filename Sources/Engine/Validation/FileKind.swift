/// What a generated file is, which decides the validators it gets.
public enum FileKind: String, Sendable, Hashable, CaseIterable {
    case python
    case javascript
    case go
    case json
    case yaml
    case toml
    case shell
    /// Markdown, reStructuredText, plain text: size only.
    case text
    /// Anything else: size and line limits only.
    case other

    /// The kind from the file name's extension, or for a file without one, from its `#!` line.
    public init(path: String, content: String = "") {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        let lowered = name.lowercased()
        let extensionPart = lowered.split(separator: ".", omittingEmptySubsequences: false).count > 1
            ? String(lowered.split(separator: ".", omittingEmptySubsequences: false).last!) : ""
        switch extensionPart {
        case "py", "pyi": self = .python
        case "js", "mjs", "cjs": self = .javascript
        case "go": self = .go
        case "json": self = .json
        case "yaml", "yml": self = .yaml
        case "toml": self = .toml
        case "sh", "bash": self = .shell
        case "md", "markdown", "rst", "txt": self = .text
        case "":
            self = FileKind(shebangOf: content) ?? (lowered == "dockerfile" || lowered == "makefile" ? .other : .text)
        default: self = .other
        }
    }

    /// The kind named by a `#!` first line (`#!/bin/sh`, `#!/usr/bin/env python3`), if any.
    init?(shebangOf content: String) {
        guard content.hasPrefix("#!"), let firstLine = content.split(separator: "\n", maxSplits: 1).first else { return nil }
        let words = firstLine.dropFirst(2).split(separator: " ")
        guard var program = words.first.map({ String($0.split(separator: "/").last ?? $0) }) else { return nil }
        if program == "env", words.count > 1 { program = String(words[1]) }
        if program.hasPrefix("python") { self = .python }
        else if program == "sh" || program == "bash" || program == "dash" { self = .shell }
        else if program == "node" || program == "nodejs" { self = .javascript }
        else { return nil }
    }

    /// Whether the kind is program source, which gets the complexity check.
    public var isCode: Bool {
        switch self {
        case .python, .javascript, .go, .shell: return true
        case .json, .yaml, .toml, .text, .other: return false
        }
    }
}
