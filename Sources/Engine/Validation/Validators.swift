import PlanCore

/// Checks one generated file: syntax by file type inside the sandbox (Python `compile` and pyflakes,
/// `node --check` and import resolution, JSON/YAML/TOML parsers, `bash -n`), plus size and complexity
/// limits for every file,
/// and last the tamper check (`TamperCheck`: nothing that reaches into the test runner, the interpreter's
/// start-up or the process).
///
/// The tools only read the file: the workspace is mounted read-only, Python runs isolated (`-I`: no
/// workspace module can shadow `json` or `yaml`) and compiles in memory without writing `.pyc` files.
/// A tool that is missing makes its check fail with a message naming the Debian package; nothing is
/// skipped silently. Blocking: call from the executor's CPU-bound threads.
public struct Validators: Sendable {
    public let sandbox: Sandbox
    public let interpreters: Interpreters
    public var limits: SandboxLimits
    public var codeLimits: CodeLimits
    /// V8 reserves a large range of address space at start-up and aborts below about 1 GiB of
    /// `RLIMIT_AS`, whatever the script; `node --check` runs with at least this much.
    public var nodeMemoryBytes: Int
    /// The workspace-relative paths the plan writes (its tasks' files and its tests): a JavaScript import
    /// of one that is not written yet (a later atom, or one running beside this one) still resolves.
    public var plannedFiles: Set<String> = []
    /// The plan's stack, when known: a Go project gets no file the go tool would compile besides Go.
    public var stack: StackKind?

    public init(sandbox: Sandbox, interpreters: Interpreters = .locate(), limits: SandboxLimits = .validator,
                codeLimits: CodeLimits = .default, nodeMemoryBytes: Int = NodeStack.minimumMemoryBytes) {
        self.sandbox = sandbox
        self.interpreters = interpreters
        self.limits = limits
        self.codeLimits = codeLimits
        self.nodeMemoryBytes = nodeMemoryBytes
    }

    /// Validates the file at the relative `path` of `workspace` (written there already): every check
    /// for its kind, in a fixed order.
    public func validate(_ path: String, in workspace: Workspace) -> [ValidatorResult] {
        let content: String
        do {
            content = try workspace.read(path)
        } catch {
            return [ValidatorResult(name: "readable", passed: false, message: error.description)]
        }
        let kind = FileKind(path: path, content: content)
        var results = CodeShape.check(content, kind: kind, limits: codeLimits)
        let box = SandboxWorkspace.readOnly(workspace.root)
        // A file named "-x.py" must reach the tools as a file, not as an option.
        let argument = path.hasPrefix("-") ? "./" + path : path
        switch kind {
        case .python:
            results.append(pythonSyntax(argument, box))
            results.append(pyflakes(argument, box))
        case .javascript:
            results.append(nodeCheck(argument, box))
            let findings = JavaScriptChecks.importFindings(path: path, content: content) { relative in
                plannedFiles.contains(relative) || workspace.fileExists(relative)
            }
            results.append(ValidatorResult(name: JavaScriptChecks.importsName, passed: findings.isEmpty,
                                           message: findings.isEmpty ? "ok" : findings.prefix(10).joined(separator: "\n")))
        case .go:
            results.append(gofmt(argument, box))
            results.append(goBuild(path, in: workspace, box))
        case .json, .yaml, .toml:
            results.append(dataParse(argument, kind: kind, box))
        case .shell:
            results.append(bashSyntax(argument, box))
        case .text, .other:
            break
        }
        if RequirementsCheck.applies(to: path) {
            let refused = RequirementsCheck.check(content).refused
            results.append(ValidatorResult(name: "requirements", passed: refused.isEmpty,
                                           message: refused.isEmpty ? "ok" : "\(path): " + refused.prefix(10).map(\.description).joined(separator: "\n")))
        }
        results.append(tamperCheck(path, argument: argument, content: content, kind: kind, in: workspace, box))
        return results
    }

    // MARK: the checks

    func pythonSyntax(_ path: String, _ box: SandboxWorkspace) -> ValidatorResult {
        runPython("python-syntax", ["-I", "-c", Self.pythonSyntaxScript, path], box)
    }

    func pyflakes(_ path: String, _ box: SandboxWorkspace) -> ValidatorResult {
        let name = "pyflakes"
        guard let python = interpreters.python3 else { return missing(name, "python3", package: "python3") }
        let result = sandbox.run(python, ["-I", "-m", "pyflakes", path], in: box, limits: limits)
        switch result.status {
        case .passed:
            return ValidatorResult(name: name, passed: true, message: "ok")
        case .timedOut, .error:
            return infrastructureFailure(name, result)
        case .failed:
            if result.output.contains("No module named pyflakes") {
                return missing(name, "pyflakes", package: "python3-pyflakes")
            }
            // Undefined names and friends fail the file; unused imports and variables are reported only.
            let lines = result.output.split(separator: "\n").map(String.init)
            let errors = lines.filter { line in Self.pyflakesErrors.contains { line.contains($0) } }
            if errors.isEmpty && !lines.isEmpty && result.exitCode == 1 {
                return ValidatorResult(name: name, passed: true, message: "warnings:\n" + ValidatorResult.excerpt(result.output))
            }
            return ValidatorResult(name: name, passed: false,
                                   message: ValidatorResult.excerpt((errors.isEmpty ? lines : errors).joined(separator: "\n")))
        }
    }

    /// pyflakes messages that mean the code fails when it runs.
    static let pyflakesErrors = [
        "undefined name", "referenced before assignment", "duplicate argument", "outside function",
        "outside loop", "not properly in loop", "must be last", "two starred expressions",
        "too many expressions in star-unpacking", "syntax error", "invalid syntax", "unexpected indent",
    ]

    func nodeCheck(_ path: String, _ box: SandboxWorkspace) -> ValidatorResult {
        let name = "node-check"
        guard let node = interpreters.node else { return missing(name, "node", package: "nodejs") }
        var nodeLimits = limits
        nodeLimits.memoryBytes = max(limits.memoryBytes, nodeMemoryBytes)
        var result = sandbox.run(node, ["--check", path], in: box, limits: nodeLimits)
        // Node before 20.10 reads a `.js` file as CommonJS; an ES module then fails on `import`/`export`.
        // Check it again as a module (a copy named .mjs in the box's /tmp), reporting the original path.
        if result.status == .failed, let bash = interpreters.bash,
           Self.moduleSyntaxHints.contains(where: result.output.contains) {
            let script = "cp -- \"$1\" /tmp/masterplan-check.mjs && exec \"$2\" --check /tmp/masterplan-check.mjs"
            result = sandbox.run(bash, ["-c", script, "check", path, node], in: box, limits: nodeLimits)
            result.output = result.output.replacing("/tmp/masterplan-check.mjs", with: path)
        }
        return verdict(name, result)
    }

    /// `gofmt -e -l`: a syntax error fails the file; a file gofmt would reformat passes with that said
    /// (formatting is not behaviour, and a retry for it would cost a model call).
    func gofmt(_ path: String, _ box: SandboxWorkspace) -> ValidatorResult {
        let name = "gofmt"
        guard let gofmt = interpreters.gofmt else { return missing(name, "gofmt", package: "golang-go") }
        let result = sandbox.run(gofmt, ["-e", "-l", path], in: box, limits: goLimits)
        switch result.status {
        case .passed:
            let listed = !result.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
            return ValidatorResult(name: name, passed: true, message: listed ? "ok, but gofmt would reformat it" : "ok")
        case .failed:
            return ValidatorResult(name: name, passed: false, message: ValidatorResult.excerpt(result.output))
        case .timedOut, .error:
            return infrastructureFailure(name, result)
        }
    }

    /// `go build` and `go vet` of the package the file is in (its folder's non-test files), once every
    /// Go file the plan puts in that folder is written; before that the package cannot compile, and the
    /// result says what it waits for.
    func goBuild(_ path: String, in workspace: Workspace, _ box: SandboxWorkspace) -> ValidatorResult {
        let name = "go-build"
        guard let go = interpreters.go else { return missing(name, "go", package: "golang-go") }
        let folder = path.split(separator: "/").dropLast().joined(separator: "/")
        let waiting = plannedFiles.filter { planned in
            planned.hasSuffix(".go") && !planned.hasSuffix("_test.go")
                && planned.split(separator: "/").dropLast().joined(separator: "/") == folder && !workspace.fileExists(planned)
        }.sorted()
        if !waiting.isEmpty {
            return ValidatorResult(name: name, passed: true,
                                   message: "not built yet: the package also needs \(waiting.prefix(5).joined(separator: ", ")); the acceptance tests build it")
        }
        if !workspace.fileExists("go.mod") {
            return ValidatorResult(name: name, passed: false, message: "go.mod is missing at the project's root; a Go project is a module")
        }
        let result = sandbox.run("/bin/sh", ["-c", Self.goBuildScript, "sh", folder.isEmpty ? "." : folder, go], in: box, limits: goLimits,
                                 environment: GoStack.environment)
        return verdict(name, result)
    }

    /// Builds and vets the non-test Go files of folder `$1` with `$2` (go); test files are the plan's
    /// acceptance tests, which may use what later tasks write.
    static let goBuildScript = """
        folder="$1"; go="$2"
        cd "$folder" || exit 1
        set --
        for file in *.go; do
            case "$file" in *_test.go) ;; *) set -- "$@" "$file" ;; esac
        done
        [ "$#" -gt 0 ] || exit 0
        "$go" build -o /dev/null "$@" && "$go" vet "$@"
        """

    /// The Go tools' limits: the runtime reserves address space early, and the build cache lives in /tmp.
    var goLimits: SandboxLimits {
        var goLimits = limits
        goLimits.memoryBytes = max(limits.memoryBytes, GoStack.minimumMemoryBytes)
        goLimits.tmpBytes = max(limits.tmpBytes, 128 << 20)
        goLimits.timeout = max(limits.timeout, .seconds(60))
        return goLimits
    }

    static let moduleSyntaxHints = ["Cannot use import statement outside a module", "Unexpected token 'export'",
                                    "await is only valid in async functions and the top level bodies of modules"]

    func dataParse(_ path: String, kind: FileKind, _ box: SandboxWorkspace) -> ValidatorResult {
        runPython("\(kind.rawValue)-parse", ["-I", "-c", Self.dataParseScript, kind.rawValue, path], box)
    }

    /// The name rules for every file, and for Python and pyproject.toml the content script in the sandbox;
    /// all findings in one result.
    func tamperCheck(_ path: String, argument: String, content: String, kind: FileKind, in workspace: Workspace,
                     _ box: SandboxWorkspace) -> ValidatorResult {
        let name = TamperCheck.name
        var findings = TamperCheck.nameFindings(path: path, content: content)
        if kind == .javascript { findings += JavaScriptChecks.tamperFindings(path: path, content: content) }
        if kind == .go { findings += GoChecks.tamperFindings(path: path, content: content) }
        if stack == .go || workspace.fileExists("go.mod"), let finding = GoChecks.compiledFileFinding(path: path) { findings.append(finding) }
        // The checks that read the file with the language's own parser, in the sandbox: exit 1 with the
        // findings; anything else (a crash of the checker) fails closed with its output.
        var parsers: [(what: String, executable: String, arguments: [String], limits: SandboxLimits, environment: [String: String])] = []
        if kind == .go {
            guard let go = interpreters.go else { return missing(name, "go", package: "golang-go") }
            parsers.append(("declaration check", "/bin/sh", ["-c", GoChecks.declarationScript, "sh", GoChecks.declarationChecker, go, argument, path],
                            goLimits, GoStack.environment))
        }
        if let mode = TamperCheck.scriptMode(path: path, kind: kind) {
            guard let python = interpreters.python3 else { return missing(name, "python3", package: "python3") }
            parsers.append(("tamper check", python, ["-I", "-c", TamperCheck.script, mode, argument, path], limits, [:]))
        }
        for parser in parsers {
            let result = sandbox.run(parser.executable, parser.arguments, in: box, limits: parser.limits, environment: parser.environment)
            switch result.status {
            case .passed:
                break
            case .failed:
                let text = ValidatorResult.excerpt(result.output)
                findings.append(text.isEmpty ? "the \(parser.what) failed with exit status \(result.exitCode ?? -1)" : text)
            case .timedOut, .error:
                return infrastructureFailure(name, result)
            }
        }
        return ValidatorResult(name: name, passed: findings.isEmpty, message: findings.isEmpty ? "ok" : findings.joined(separator: "\n"))
    }

    func bashSyntax(_ path: String, _ box: SandboxWorkspace) -> ValidatorResult {
        guard let bash = interpreters.bash else { return missing("bash-syntax", "bash", package: "bash") }
        return verdict("bash-syntax", sandbox.run(bash, ["-n", path], in: box, limits: limits))
    }

    // MARK: helpers

    private func runPython(_ name: String, _ arguments: [String], _ box: SandboxWorkspace) -> ValidatorResult {
        guard let python = interpreters.python3 else { return missing(name, "python3", package: "python3") }
        return verdict(name, sandbox.run(python, arguments, in: box, limits: limits))
    }

    /// Exit 0 passes; any other exit fails with the tool's first lines.
    private func verdict(_ name: String, _ result: SandboxResult) -> ValidatorResult {
        switch result.status {
        case .passed:
            let text = ValidatorResult.excerpt(result.output)
            return ValidatorResult(name: name, passed: true, message: text.isEmpty ? "ok" : text)
        case .failed:
            let text = ValidatorResult.excerpt(result.output)
            return ValidatorResult(name: name, passed: false,
                                   message: text.isEmpty ? "failed with exit status \(result.exitCode ?? -1)" : text)
        case .timedOut, .error:
            return infrastructureFailure(name, result)
        }
    }

    private func infrastructureFailure(_ name: String, _ result: SandboxResult) -> ValidatorResult {
        let reason = result.status == .timedOut ? "timed out after \(limits.timeout)" : "could not run"
        return ValidatorResult(name: name, passed: false,
                               message: "\(reason): " + ValidatorResult.excerpt(result.output, lines: 5))
    }

    private func missing(_ name: String, _ tool: String, package: String) -> ValidatorResult {
        ValidatorResult(name: name, passed: false,
                        message: "\(tool) is not installed; install the Debian package \(package) (make deps)")
    }

    /// Compiles in memory (catches what `ast.parse` misses, such as `return` outside a function) and
    /// prints `file:line:column: message` and the offending line.
    static let pythonSyntaxScript = """
    import sys
    path = sys.argv[1]
    with open(path, "rb") as f:
        source = f.read()
    try:
        compile(source, path, "exec", dont_inherit=True)
    except SyntaxError as e:
        print(f"{path}:{e.lineno or 0}:{e.offset or 0}: {type(e).__name__}: {e.msg}")
        if e.text:
            print("    " + e.text.strip())
        sys.exit(1)
    except ValueError as e:
        print(f"{path}: {e}")
        sys.exit(1)
    """

    /// Parses JSON (`json`), YAML (`yaml.safe_load_all`, Debian python3-yaml) or TOML (`tomllib`) and prints
    /// `file:line:column: message` on failure.
    static let dataParseScript = """
    import sys
    kind, path = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if kind == "json":
        import json
        try:
            json.loads(text)
        except json.JSONDecodeError as e:
            print(f"{path}:{e.lineno}:{e.colno}: {e.msg}")
            sys.exit(1)
    elif kind == "toml":
        import tomllib
        try:
            tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            print(f"{path}: {e}")
            sys.exit(1)
    elif kind == "yaml":
        try:
            import yaml
        except ImportError:
            print("PyYAML is not installed; install the Debian package python3-yaml (make deps)")
            sys.exit(2)
        try:
            for _ in yaml.safe_load_all(text):
                pass
        except yaml.MarkedYAMLError as e:
            mark = e.problem_mark or e.context_mark
            where = f"{mark.line + 1}:{mark.column + 1}" if mark else "0:0"
            print(f"{path}:{where}: {e.problem or e}")
            sys.exit(1)
        except yaml.YAMLError as e:
            print(f"{path}: {e}")
            sys.exit(1)
    else:
        print(f"unknown kind {kind}")
        sys.exit(2)
    """
}
