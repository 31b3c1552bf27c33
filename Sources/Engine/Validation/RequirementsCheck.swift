import Foundation

/// The rule for a Python dependency manifest (`requirements.txt`, `requirements-*.txt`) that a model
/// writes: every line names a package of the index, with optional extras, version specifiers and an
/// environment marker — nothing else.
///
/// pip reads much more from such a file: options (`-e`, `-r`, `--index-url`, `--find-links`,
/// `--trusted-host`), local paths and archives, URLs and VCS references. Each of those makes the
/// dependency-install step fetch or build code the model chose outside the index, with the network on
/// (a local folder's own build script ran there, reaching services on loopback). Such lines fail
/// validation with the reason, and the install step passes pip only lines that keep this rule.
public enum RequirementsCheck {
    /// Whether `path` is a dependency manifest this rule applies to.
    public static func applies(to path: String) -> Bool {
        let name = (path.split(separator: "/").last.map(String.init) ?? path).lowercased()
        return name.hasSuffix(".txt") && (name == "requirements.txt" || name.hasPrefix("requirements-") || name.hasPrefix("requirements_"))
    }

    /// One refused line: its number (from 1), the text and why.
    public struct Refusal: Sendable, Hashable, CustomStringConvertible {
        public var line: Int
        public var text: String
        public var reason: String
        public var description: String { "line \(line): \"\(text)\" — \(reason)" }
    }

    /// The requirement lines (comments and blank lines dropped, each trimmed) and the refused ones.
    public static func check(_ content: String) -> (requirements: [String], refused: [Refusal]) {
        var requirements: [String] = []
        var refused: [Refusal] = []
        for (index, raw) in content.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            // A comment starts at "#" at the line's start or after whitespace (pip's rule).
            var text = Substring(raw)
            if let hash = text.indices.first(where: { text[$0] == "#" && ($0 == text.startIndex || text[text.index(before: $0)].isWhitespace) }) {
                text = text[..<hash]
            }
            let line = text.trimmingCharacters(in: CharacterSet(charactersIn: " \t\r"))
            guard !line.isEmpty else { continue }
            if let reason = problem(with: line) {
                refused.append(Refusal(line: index + 1, text: String(line.prefix(200)), reason: reason))
            } else {
                requirements.append(line)
            }
        }
        return (requirements, refused)
    }

    /// Why `line` is not a plain requirement, or nil when it is one.
    static func problem(with line: String) -> String? {
        if line.hasPrefix("-") {
            return "pip options (such as -e, -r, --index-url or --find-links) are not allowed; list package names from the index"
        }
        if line.contains("://") || line.hasPrefix("file:") || line.contains("git+") || line.contains("hg+") || line.contains("svn+")
            || line.contains("bzr+") {
            return "URLs and version-control references are not allowed; name the package as it is published on the index"
        }
        // The requirement itself ends where an environment marker starts.
        let requirement = line.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? line
        if requirement.contains("@") {
            return "direct references (name @ location) are not allowed; name the package and a version from the index"
        }
        if requirement.hasPrefix(".") || requirement.hasPrefix("/") || requirement.hasPrefix("~") || requirement.contains("/")
            || requirement.contains("\\") {
            return "local paths are not allowed: their own build code would run while dependencies are installed; name a package from the index"
        }
        let lowered = requirement.lowercased().trimmingCharacters(in: .whitespaces)
        if [".whl", ".zip", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar", ".egg"].contains(where: { lowered.hasSuffix($0) }) {
            return "archive files are not allowed: they are installed from where they lie; name a package from the index"
        }
        let scalars = Array(requirement.unicodeScalars)
        var position = 0
        func skipSpaces() { while position < scalars.count, scalars[position] == " " || scalars[position] == "\t" { position += 1 } }
        func isNameCharacter(_ c: Unicode.Scalar) -> Bool {
            c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "." || c == "_" || c == "-")
        }
        // The name: letters and digits, with . _ - inside.
        let nameStart = position
        while position < scalars.count, isNameCharacter(scalars[position]) { position += 1 }
        guard position > nameStart, scalars[nameStart].properties.isAlphabetic || ("0"..."9").contains(scalars[nameStart]) else {
            return "a requirement starts with a package name (letters, digits, '.', '_', '-')"
        }
        skipSpaces()
        // Extras: [a, b].
        if position < scalars.count, scalars[position] == "[" {
            guard let close = scalars[position...].firstIndex(of: "]"),
                  scalars[(position + 1)..<close].allSatisfy({ isNameCharacter($0) || $0 == "," || $0 == " " }) else {
                return "extras are written [name, name] after the package name"
            }
            position = close + 1
            skipSpaces()
        }
        // Version specifiers: op version (, op version)*.
        let operators = ["===", "==", "~=", "!=", "<=", ">=", "<", ">"]
        var first = true
        while position < scalars.count {
            if !first {
                guard scalars[position] == "," else { return "version specifiers are separated by commas, as in >=1.0,<2" }
                position += 1
                skipSpaces()
            }
            first = false
            let rest = String(String.UnicodeScalarView(scalars[position...]))
            guard let op = operators.first(where: { rest.hasPrefix($0) }) else {
                return "after the package name come version specifiers such as ==1.2 or >=1.0,<2"
            }
            position += op.unicodeScalars.count
            skipSpaces()
            let versionStart = position
            while position < scalars.count, isNameCharacter(scalars[position]) || scalars[position] == "*" || scalars[position] == "+"
                    || scalars[position] == "!" {
                position += 1
            }
            guard position > versionStart else { return "a version specifier needs a version, as in ==1.2" }
            skipSpaces()
        }
        return nil
    }
}
