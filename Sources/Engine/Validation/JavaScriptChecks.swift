import Foundation

/// The checks of a generated JavaScript file that need no toolchain: every import resolves (a relative
/// path to a file of the workspace or of the plan, a Node built-in module), and nothing reaches for the
/// test runner, the process's internals or `/proc`, which honest project code never needs and a
/// cheater would use to steer the acceptance-test harness (`NodeHarness`). They read the text and never
/// run it; like Python's tamper check they narrow the attack and give the model a reason it can act
/// on, the harness's own guards do not depend on them.
public enum JavaScriptChecks {
    /// The import-resolution validator's name in `ValidatorResult`.
    public static let importsName = "imports"

    /// Node's built-in modules (Node 18 and later), without the `node:` prefix.
    static let builtins: Set<String> = [
        "assert", "assert/strict", "async_hooks", "buffer", "child_process", "cluster", "console", "constants", "crypto",
        "dgram", "diagnostics_channel", "dns", "dns/promises", "domain", "events", "fs", "fs/promises", "http", "http2",
        "https", "inspector", "module", "net", "os", "path", "path/posix", "path/win32", "perf_hooks", "process", "punycode",
        "querystring", "readline", "readline/promises", "repl", "stream", "stream/consumers", "stream/promises",
        "stream/web", "string_decoder", "sys", "timers", "timers/promises", "tls", "trace_events", "tty", "url", "util",
        "util/types", "v8", "vm", "wasi", "worker_threads", "zlib", "test",
    ]

    /// Built-in modules a generated file may not import, with the reason.
    static let refusedBuiltins: [String: String] = [
        "test": "the test runner belongs to the acceptance tests, not to the project's code",
        "inspector": "the inspector can read and change any value of the running process, the test harness's too",
        "v8": "heap snapshots and V8 flags expose and change the running process's memory",
        "trace_events": "tracing the process is not project code",
        "wasi": "the WASI interface is not needed by project code",
    ]

    /// Text that honest project code never contains, with the reason.
    static let refusedText: [(text: String, reason: String)] = [
        ("process.binding", "Node's internal bindings bypass every public API"),
        ("process._linkedBinding", "Node's internal bindings bypass every public API"),
        ("internalBinding", "Node's internal bindings bypass every public API"),
        ("process.reallyExit", "it ends the process without running its exit handlers"),
        ("process.dlopen", "it loads native code into the process"),
        ("syncBuiltinESMExports", "it rewrites what built-in modules export to every other module"),
        ("Module._load", "it replaces how every module is loaded"),
        ("_resolveFilename", "it replaces how every module is found"),
        ("prepareStackTrace", "it rewrites every error's stack, the test runner's too"),
        ("/proc/", "the process's /proc files hold its memory, environment and descriptors"),
        ("execArgv", "the process's options are the test harness's, not the project's"),
        ("--test-reporter", "the test runner's options are the harness's"),
        ("MASTERPLAN_", "MasterPlan's variables are the harness's"),
    ]

    /// What a file imports: the specifiers of `require("…")`, `import … from "…"`, `import "…"`,
    /// `import("…")` and `export … from "…"` with literal strings, outside comments.
    static func imports(in source: String) -> [String] {
        let code = withoutComments(source)
        let patterns = [
            #"\brequire\s*\(\s*(['"])([^'"\n]+)\1\s*\)"#,
            #"\bimport\s*\(\s*(['"])([^'"\n]+)\1\s*\)"#,
            #"(?:^|[;\n}])\s*import\s+(?:[\w$*{}\s,]+?\s+from\s+)?(['"])([^'"\n]+)\1"#,
            #"(?:^|[;\n}])\s*export\s+[\w$*{}\s,]+?\s+from\s+(['"])([^'"\n]+)\1"#,
        ]
        var found: [String] = []
        for pattern in patterns {
            guard let expression = try? NSRegularExpression(pattern: pattern) else { continue }
            let range = NSRange(code.startIndex..., in: code)
            for match in expression.matches(in: code, range: range) {
                if let specifier = Range(match.range(at: 2), in: code) { found.append(String(code[specifier])) }
            }
        }
        return found
    }

    /// The import-resolution findings of the file at `path`: `exists` answers whether a relative path of
    /// the workspace is (or will be, by the plan) a file.
    public static func importFindings(path: String, content: String, exists: (String) -> Bool) -> [String] {
        var findings: [String] = []
        let folder = path.split(separator: "/").dropLast().map(String.init)
        for specifier in Set(imports(in: content)).sorted() {
            if specifier.hasPrefix("node:") {
                if !builtins.contains(String(specifier.dropFirst(5))) {
                    findings.append("\(path): \(specifier) is not a Node.js built-in module")
                }
                continue
            }
            if specifier.hasPrefix("./") || specifier.hasPrefix("../") || specifier == "." || specifier == ".." {
                guard let target = resolve(specifier, from: folder) else {
                    findings.append("\(path): \(specifier) points outside the project")
                    continue
                }
                let candidates = [target] + ["js", "mjs", "cjs", "json"].map { target + "." + $0 }
                    + ["index.js", "index.mjs", "index.cjs"].map { (target.isEmpty ? "" : target + "/") + $0 }
                if !candidates.contains(where: exists) {
                    findings.append("\(path): \(specifier) does not resolve to a file of the project (tried \(target.isEmpty ? "." : target) with .js, .mjs, .cjs, .json and index.js)")
                }
                continue
            }
            if specifier.hasPrefix("/") || specifier.hasPrefix("file:") || specifier.contains("://") {
                findings.append("\(path): \(specifier) imports by absolute path or URL; import files of the project by relative path")
                continue
            }
            if specifier.hasPrefix("#") { continue } // package.json subpath imports, resolved within the project
            if builtins.contains(specifier), specifier != "test" { continue }
            let package = specifier.hasPrefix("@") ? specifier.split(separator: "/").prefix(2).joined(separator: "/")
                                                   : String(specifier.split(separator: "/").first ?? "")
            findings.append("\(path): \(specifier) is an npm package, and MasterPlan installs no npm packages; use Node's standard library instead of \(package)")
        }
        return findings
    }

    /// The tamper findings of a generated JavaScript file: refused built-in modules and refused text (a
    /// file in node_modules is refused for every kind by `TamperCheck.nameFindings`).
    public static func tamperFindings(path: String, content: String) -> [String] {
        var findings: [String] = []
        for specifier in Set(imports(in: content)).sorted() {
            let name = specifier.hasPrefix("node:") ? String(specifier.dropFirst(5)) : specifier
            if let reason = refusedBuiltins[name], specifier.hasPrefix("node:") || name != "test" {
                findings.append("\(path): imports \(specifier) — \(reason); remove it")
            }
        }
        let code = withoutComments(content)
        for (text, reason) in refusedText {
            if let range = code.range(of: text) {
                let line = code[..<range.lowerBound].reduce(1) { $0 + ($1 == "\n" ? 1 : 0) }
                findings.append("\(path):\(line): \(text) — \(reason); project code must not use it")
            }
        }
        return findings
    }

    /// `specifier` (relative) from the folder `components`, as a workspace-relative path ("" for the
    /// root); nil when it leaves the workspace.
    static func resolve(_ specifier: String, from components: [String]) -> String? {
        var parts = components
        for part in specifier.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." {
                guard !parts.isEmpty else { return nil }
                parts.removeLast()
            } else {
                parts.append(String(part))
            }
        }
        return parts.joined(separator: "/")
    }

    /// The source with its comments blanked (strings, template literals and line breaks kept), so that
    /// a commented-out import neither counts nor hides text after it.
    static func withoutComments(_ source: String) -> String {
        var output: [Character] = []
        let characters = Array(source)
        var index = 0
        while index < characters.count {
            let character = characters[index]
            let next = index + 1 < characters.count ? characters[index + 1] : "\0"
            if character == "/" && next == "/" {
                while index < characters.count && characters[index] != "\n" { index += 1 }
                continue
            }
            if character == "/" && next == "*" {
                index += 2
                while index < characters.count && !(characters[index] == "*" && index + 1 < characters.count && characters[index + 1] == "/") {
                    if characters[index] == "\n" { output.append("\n") }
                    index += 1
                }
                index += 2
                output.append(" ")
                continue
            }
            if character == "'" || character == "\"" || character == "`" {
                output.append(character)
                index += 1
                while index < characters.count && characters[index] != character {
                    if characters[index] == "\\" && index + 1 < characters.count {
                        output.append(characters[index])
                        index += 1
                    } else if character != "`" && characters[index] == "\n" {
                        break
                    }
                    output.append(characters[index])
                    index += 1
                }
                if index < characters.count { output.append(characters[index]) }
                index += 1
                continue
            }
            output.append(character)
            index += 1
        }
        return String(output)
    }
}
