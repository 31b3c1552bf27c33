import PlanCore

/// The `tamper-check` validator's rules: a generated file must not reach into the test runner, the
/// interpreter's start-up or the process, which honest project code never needs.
///
/// Generated files are written by an adversary that wants the gate to pass without doing the work. The
/// acceptance-test harness already runs with the engine's own runner setup, ignoring the project's
/// runner configuration, conftest.py files and plugins; the name rules here stop those tricks earlier,
/// at the file that tries them, with a reason the model can act on. The content rules stop what a
/// harness sharing the process with project code cannot fully prevent: patching the runner or the
/// builtins, reading the tests' frames, exiting before the tests report, and objects that compare equal
/// to anything. They read the file and never run it; static analysis of Python can be evaded by
/// obfuscation, so these rules narrow the attack and give a clear refusal, they do not replace the
/// harness's isolation.
public enum TamperCheck {
    /// The validator's name in `ValidatorResult`.
    public static let name = "tamper-check"

    /// The findings of the name rules, each one sentence naming the file and what to do; pure Swift, no
    /// sandbox. The rules are `WorkspacePath.runnerFile` (conftest.py, sitecustomize.py, `.pth` files,
    /// pytest.ini, modules named like the runner's, …), which the plan validator applies to plans too,
    /// and a `[tool:pytest]` section in setup.cfg (the `[tool.pytest]` table of pyproject.toml needs a
    /// TOML parser and is found by `script`).
    public static func nameFindings(path: String, content: String) -> [String] {
        var findings: [String] = []
        if let kind = WorkspacePath.runnerFile(path) {
            findings.append("\(path): the file \(kind.consequence) — \(remedy(for: kind))")
        }
        if fileName(of: path) == "setup.cfg" {
            for (index, line) in content.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let words = line.filter { !$0.isWhitespace }.lowercased()
                for section in ["[tool:pytest]", "[pytest]"] where words.hasPrefix(section) {
                    findings.append("\(path):\(index + 1): a \(section) section configures the test runner, and acceptance tests run with the engine's own runner setup — remove the section")
                }
            }
        }
        return findings
    }

    /// What a generated file of this kind should be instead.
    static func remedy(for kind: WorkspacePath.RunnerFile) -> String {
        switch kind {
        case .conftest:
            return "project runner configuration is not allowed; put the code in a normal module"
        case .runnerConfiguration:
            return "project runner configuration is not allowed; the project must not contain this file"
        case .startupHook:
            return "project code must not hook the interpreter; import modules where they are needed"
        case .startupModule:
            return "project code must not hook the interpreter; put the code in a normal module"
        case .runnerModule:
            return "name the module differently"
        case .runnerCache:
            return "generated files must not be written there"
        case .packageMetadata:
            return "list dependencies in the dependency manifest (requirements.txt) instead"
        case .engineFolder:
            return "generated files must not be written there; list dependencies in requirements.txt"
        case .nodeModules:
            return "generated files must not be written there; use Node's standard library"
        }
    }

    /// The mode `script` reads the file in: "python" for Python source, "pyproject" for pyproject.toml,
    /// nil when only the name rules apply.
    static func scriptMode(path: String, kind: FileKind) -> String? {
        if kind == .python { return "python" }
        return fileName(of: path) == "pyproject.toml" ? "pyproject" : nil
    }

    static func fileName(of path: String) -> String {
        (path.split(separator: "/").last.map(String.init) ?? path).lowercased()
    }

    /// Run as `python3 -I -c script MODE FILE SHOWN` in the sandbox, with the workspace read-only, like
    /// the other validators: parses the file (ast or tomllib, never importing or running it) and prints
    /// `SHOWN:LINE: what — why; what to do` for each finding, exiting 1; or prints nothing and exits 0,
    /// also for a syntax error, which python-syntax and toml-parse report.
    static let script = #"""
    # The tamper check of one generated file. Arguments: MODE PATH SHOWN, where MODE is "python" or
    # "pyproject" and SHOWN is the path to print. Prints "SHOWN:LINE: what — why; what to do" for each
    # finding (at most 10) and exits 1, or prints nothing and exits 0. It only reads the file: Python is
    # parsed with ast and TOML with tomllib; nothing in the file is imported or run.
    import ast
    import sys

    mode, path, shown = sys.argv[1], sys.argv[2], sys.argv[3]
    sys.stdout.reconfigure(encoding="utf-8", errors="replace")
    with open(path, "rb") as f:
        source = f.read()
    findings = {}


    def report(line, what, why):
        findings.setdefault((line, what), f"{shown}:{line}: {what} — {why}")


    def finish():
        ordered = [findings[key] for key in sorted(findings)]
        for finding in ordered[:10]:
            print(finding)
        if len(ordered) > 10:
            print(f"… and {len(ordered) - 10} more")
        sys.exit(1 if ordered else 0)


    if mode == "pyproject":
        import tomllib
        try:
            text = source.decode("utf-8")
            tool = tomllib.loads(text).get("tool")
        except (UnicodeDecodeError, tomllib.TOMLDecodeError):
            sys.exit(0)  # toml-parse reports it
        # Exactly what pytest reads: any table under tool.pytest, however the keys are quoted or escaped.
        if isinstance(tool, dict) and "pytest" in tool:
            # tomllib gives no lines: point at the first line that names pytest (or else the tool table)
            # outside a comment.
            code = [line.split("#")[0] for line in text.splitlines()]
            line = next((n for n, words in enumerate(code, 1) if "pytest" in words),
                        next((n for n, words in enumerate(code, 1) if words.lstrip(" [").startswith("tool")), 1))
            report(line, "a [tool.pytest] table", "it configures the test runner, and acceptance tests run with "
                   "the engine's own runner setup; remove the table")
        finish()

    # Modules whose import alone is refused (a dotted name also refuses its submodules), with why.
    RUNNER = "project code must not depend on the test runner or reach into it; remove the import"
    SOURCE_ONLY = "it loads code by a computed name or path; use import statements"
    INTERNALS_MODULE = "it exposes the interpreter's internals; remove the import"
    FORBIDDEN_MODULES = {
        "pytest": RUNNER, "_pytest": RUNNER, "pluggy": RUNNER, "py": RUNNER, "unittest": RUNNER, "doctest": RUNNER,
        "ctypes": "it writes the interpreter's memory directly; remove the import",
        "_ctypes": "it writes the interpreter's memory directly; remove the import",
        "gc": "it reaches every live object, the tests' own functions included; remove the import",
        "builtins": "it changes names every module sees, such as AssertionError; remove the import",
        "__builtin__": "it changes names every module sees, such as AssertionError; remove the import",
        "atexit": "it runs code as the process ends, after the tests, where it can change the outcome; "
                  "remove the import",
        "faulthandler": "it hooks the interpreter's crash and signal handling; remove the import",
        "__main__": "it is the test runner's own start-up module; remove the import",
        "imp": SOURCE_ONLY, "runpy": SOURCE_ONLY, "zipimport": SOURCE_ONLY, "importlib.machinery": SOURCE_ONLY,
        "importlib.abc": "it builds import hooks that decide what an import loads; use import statements",
        "importlib._bootstrap": INTERNALS_MODULE, "importlib._bootstrap_external": INTERNALS_MODULE,
        "_testcapi": INTERNALS_MODULE, "_testinternalcapi": INTERNALS_MODULE,
    }

    # Names reached through a module (after following the file's imports), with why and what to do.
    IMPORT_HOOK = "it decides which code an import loads; use ordinary import statements"
    TRACE = "a tracing hook sees and changes every frame as it runs, the tests' included; remove it"
    FRAMES = "it reaches the frames of the calling code, the test's own variables included; pass values as arguments"
    EXIT_NOW = ("it ends the process at once, so the test runner cannot report the tests' results; "
                "raise an exception, or return an exit status from main()")
    SIGNALS = "it sends signals to processes, the test runner's included; remove it"
    HANDLERS = ("it changes how the process reacts to signals, the runner's timeouts and interrupts included; "
                "let the caller handle interruption (KeyboardInterrupt)")
    DYNAMIC_IMPORT = "it loads code by a computed name or path; import modules by their literal names"
    NEW_PROCESS = "it replaces or forks the test process; use subprocess to run a separate program"
    FORBIDDEN_NAMES = {
        "sys.modules": "it is the registry of loaded modules, the tests included; use ordinary import statements",
        "sys.meta_path": IMPORT_HOOK, "sys.path_hooks": IMPORT_HOOK, "sys.path_importer_cache": IMPORT_HOOK,
        "sys.settrace": TRACE, "sys.setprofile": TRACE, "sys.monitoring": TRACE,
        "threading.settrace": TRACE, "threading.setprofile": TRACE,
        "threading.settrace_all_threads": TRACE, "threading.setprofile_all_threads": TRACE,
        "sys._getframe": FRAMES, "sys._current_frames": FRAMES, "inspect.currentframe": FRAMES,
        "inspect.stack": FRAMES, "inspect.trace": FRAMES, "inspect.getouterframes": FRAMES,
        "inspect.getinnerframes": FRAMES, "inspect.getframeinfo": FRAMES,
        "sys.addaudithook": "an audit hook runs inside every sensitive operation of the process; remove it",
        "os._exit": EXIT_NOW, "os.abort": EXIT_NOW,
        "os.kill": SIGNALS, "os.killpg": SIGNALS, "os.pidfd_send_signal": SIGNALS,
        "signal.pthread_kill": SIGNALS, "signal.raise_signal": SIGNALS,
        "os.getppid": "it names the parent process, which is the test runner; remove it",
        "os.fork": NEW_PROCESS, "os.forkpty": NEW_PROCESS,
        "signal.signal": HANDLERS, "signal.setitimer": HANDLERS, "signal.alarm": HANDLERS,
        "signal.set_wakeup_fd": HANDLERS, "signal.siginterrupt": HANDLERS, "signal.pthread_sigmask": HANDLERS,
        "importlib.reload": DYNAMIC_IMPORT, "importlib.__import__": DYNAMIC_IMPORT,
        "importlib.util.spec_from_file_location": DYNAMIC_IMPORT, "importlib.util.module_from_spec": DYNAMIC_IMPORT,
        "importlib.util.spec_from_loader": DYNAMIC_IMPORT,
        "importlib.machinery": SOURCE_ONLY, "importlib.abc": FORBIDDEN_MODULES["importlib.abc"],
        "importlib._bootstrap": INTERNALS_MODULE, "importlib._bootstrap_external": INTERNALS_MODULE,
    }
    for name in ("execl", "execle", "execlp", "execlpe", "execv", "execve", "execvp", "execvpe"):
        FORBIDDEN_NAMES["os." + name] = NEW_PROCESS

    # Attributes of frames, functions, generators and classes that expose other code's variables, globals
    # and builtins: refused on any object, and as literal names given to getattr() or a subscript.
    INTERNALS = {"__builtins__", "__closure__", "__globals__", "__code__", "__subclasses__", "f_locals", "f_globals",
                 "f_builtins", "f_back", "f_code", "f_trace", "tb_frame", "gi_frame", "cr_frame", "ag_frame"}
    INTERNALS_WHY = "it reaches the internals of other code (frames, globals, builtins); remove it"
    # Attributes of sys so particular that they are refused on any object (a module held in a variable).
    SYS_ONLY = {"_getframe", "_current_frames", "settrace", "setprofile", "addaudithook", "meta_path", "path_hooks",
                "path_importer_cache"}

    # The runner's and the interpreter's own modules: never patched, read by computed names or star-imported.
    # Their attributes that honest programs do assign (the standard streams, the exception hook) stay allowed.
    SENSITIVE = {"sys", "os", "posix", "builtins", "__builtin__", "signal", "gc", "inspect", "importlib", "threading",
                 "_thread", "atexit", "faulthandler", "ctypes", "pytest", "_pytest", "pluggy", "unittest",
                 "doctest", "__main__"}
    ASSIGNABLE = {"sys.stdout", "sys.stderr", "sys.stdin", "sys.excepthook", "sys.tracebacklimit",
                  "sys.dont_write_bytecode"}
    PATCHES = "it patches a module the test runner relies on; leave the module as it is"
    DYNAMIC_CODE = {"exec", "eval", "compile", "__import__"}
    # Comparison methods that make an object match anything, with the constant truth that does it.
    MATCH_ANYTHING = {"__eq__": True, "__ne__": False, "__instancecheck__": True, "__subclasscheck__": True}
    MAIN_MODULE = ("it would run the package's program, exit included, inside the importing process; "
                   "import from the module that defines the code")
    MAIN_ONLY = ("importing the module would end the test run; do it in main(), called under "
                 "if __name__ == \"__main__\":")

    try:
        tree = ast.parse(source, shown)
    except (SyntaxError, ValueError):
        sys.exit(0)  # python-syntax reports it
    except (RecursionError, MemoryError):
        report(1, "code nested too deeply to check", "the tamper check cannot read it; simplify the file")
        finish()

    # The file's imports: local name -> dotted name ("np" -> "numpy", "exit" -> "sys.exit").
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                aliases[alias.asname or top] = alias.name if alias.asname else top
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                if alias.name != "*":
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    # Functions and classes the module defines at its top level, by the line that defines them first.
    defined = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.setdefault(node.name, node.lineno)
    top_level = {id(node) for node in tree.body}


    def builtin(node, name, parameters=frozenset()):
        """Whether node is the builtin `name`: the bare name, neither imported, nor defined by the module
        before this line, nor a parameter of an enclosing function."""
        return (isinstance(node, ast.Name) and node.id == name and name not in aliases and name not in parameters
                and defined.get(name, node.lineno) >= node.lineno)


    def literal(node):
        """The string a node spells out of constants (concatenation with +, f-strings), or None."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = literal(node.left), literal(node.right)
            return left + right if left is not None and right is not None else None
        if isinstance(node, ast.JoinedStr):
            parts = [literal(value) for value in node.values]
            return "".join(parts) if None not in parts else None
        return None


    def qualified(node):
        """The dotted name an expression refers to through the file's imports ("sys._getframe"), or None."""
        if isinstance(node, ast.Name):
            return aliases.get(node.id)
        if isinstance(node, ast.Attribute):
            base = qualified(node.value)
            if base is None:
                return None
            # A module that another re-exports (os.sys, logging.os) is that module; signal.signal is not.
            if node.attr in SENSITIVE and node.attr != base.rsplit(".", 1)[-1]:
                return node.attr
            return f"{base}.{node.attr}"
        if isinstance(node, ast.Call) and node.args:
            name = literal(node.args[0])
            if name and (qualified(node.func) == "importlib.import_module" or builtin(node.func, "__import__")):
                return name
        return None


    def forbidden_module(name):
        """Why importing the dotted module `name` is refused, or None."""
        parts = name.split(".")
        for end in range(len(parts), 0, -1):
            if ".".join(parts[:end]) in FORBIDDEN_MODULES:
                return FORBIDDEN_MODULES[".".join(parts[:end])]
        return None


    def check_name(line, name):
        """Reports a dotted name that reaches something refused; whether it did."""
        parts = name.split(".")
        for end in range(2, len(parts) + 1):
            key = ".".join(parts[:end])
            if key in FORBIDDEN_NAMES:
                report(line, f"use of {key}", FORBIDDEN_NAMES[key])
                return True
        return False


    def sensitive(name):
        return name is not None and name.split(".")[0] in SENSITIVE


    def is_main_guard(test):
        """`__name__ == "__main__"`, either way round."""
        if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
            return False
        sides = [test.left, test.comparators[0]]
        return (any(isinstance(side, ast.Name) and side.id == "__name__" for side in sides)
                and any(literal(side) == "__main__" for side in sides))


    def constant_returns(function):
        """The values of the function's returns (not counting nested functions) when every one returns a
        constant; None when one does not, or there is none."""
        values, pending = [], list(function.body)
        while pending:
            node = pending.pop()
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                continue
            if isinstance(node, ast.Return):
                if not isinstance(node.value, ast.Constant):
                    return None
                values.append(node.value.value)
            pending.extend(ast.iter_child_nodes(node))
        return values or None


    def check_class(node):
        for item in node.body:
            method, values = None, None
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name in MATCH_ANYTHING:
                method, values = item.name, constant_returns(item)
            elif (isinstance(item, ast.Assign) and len(item.targets) == 1 and isinstance(item.targets[0], ast.Name)
                  and item.targets[0].id in MATCH_ANYTHING and isinstance(item.value, ast.Lambda)
                  and isinstance(item.value.body, ast.Constant)):
                method, values = item.targets[0].id, [item.value.body.value]
            if values is not None and all(bool(value) == MATCH_ANYTHING[method] for value in values):
                report(item.lineno, f"{method} that always returns {values[0]!r}",
                       "an object that matches everything makes any comparison in a test pass; compare the "
                       "fields that matter, and return NotImplemented for other types")


    def refused_import(name, in_main):
        """Why importing the dotted module `name` is refused, or None. The runner's modules may be imported
        in the `if __name__ == "__main__":` block (the doctest idiom), which never runs in the test process."""
        if "__main__" in name.split(".")[1:]:
            return MAIN_MODULE
        reason = forbidden_module(name)
        return None if reason == RUNNER and in_main else reason


    def check_import(node, in_main):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if refused_import(alias.name, in_main):
                    report(node.lineno, f"import of {alias.name}", refused_import(alias.name, in_main))
            return
        # A relative import stays in the project; only a package's __main__ matters there.
        module = "." * node.level + (node.module or "")
        if node.level > 0:
            if "__main__" in module.split("."):
                report(node.lineno, f"import of {module}", MAIN_MODULE)
            elif any(alias.name == "__main__" for alias in node.names):
                report(node.lineno, f"import of {module}{'.' if node.module else ''}__main__", MAIN_MODULE)
            return
        if refused_import(module, in_main):
            report(node.lineno, f"import of {module}", refused_import(module, in_main))
            return
        for alias in node.names:
            name = f"{module}.{alias.name}"
            if alias.name == "*":
                if sensitive(module):
                    report(node.lineno, f"from {module} import *",
                           "it brings in names this check must see; import the names you use")
            elif refused_import(name, in_main):
                report(node.lineno, f"import of {name}", refused_import(name, in_main))
            else:
                check_name(node.lineno, name)


    def check_call(node, on_import, parameters):
        func = node.func
        target = qualified(func)
        if target == "importlib.import_module":
            name = literal(node.args[0]) if node.args else None
            if name is None:
                report(node.lineno, "importlib.import_module() with a computed name", DYNAMIC_IMPORT)
            elif refused_import(name, False):
                report(node.lineno, f"import of {name}", refused_import(name, False))
        for name in ("getattr", "setattr", "delattr"):
            if not builtin(func, name, parameters) or not node.args:
                continue
            attribute = literal(node.args[1]) if len(node.args) > 1 else None
            if attribute in INTERNALS:
                report(node.lineno, f"{name}() of {attribute}", INTERNALS_WHY)
            module = qualified(node.args[0])
            if not sensitive(module):
                continue
            if name in ("setattr", "delattr"):
                report(node.lineno, f"{name}() on the module {module}", PATCHES)
            elif attribute is None:
                report(node.lineno, f"{name}() on the module {module} with a computed name",
                       "it reaches module attributes this check cannot see; use the attribute by its name")
            else:
                check_name(node.lineno, f"{module}.{attribute}")
        if builtin(func, "vars", parameters) and node.args and sensitive(qualified(node.args[0])):
            report(node.lineno, f"vars() of the module {qualified(node.args[0])}",
                   "it reaches module attributes this check cannot see; use the attribute by its name")
        if on_import and (target == "sys.exit" or builtin(func, "exit") or builtin(func, "quit")):
            report(node.lineno, f"{target or func.id}() at import time", MAIN_ONLY)


    def check_target(target):
        """An assignment or deletion target: patching the runner's and the interpreter's modules is refused."""
        if isinstance(target, ast.Attribute):
            module = qualified(target.value)
            if sensitive(module) and f"{module}.{target.attr}" not in ASSIGNABLE:
                report(target.lineno, f"assignment to {module}.{target.attr}", PATCHES)
        elif isinstance(target, (ast.Tuple, ast.List, ast.Starred)):
            for element in (target.elts if not isinstance(target, ast.Starred) else [target.value]):
                check_target(element)


    def check(node, on_import, in_main, parameters):
        """The rules for one node. `on_import`: whether it runs when the module is imported; `in_main`: whether
        it is in the `if __name__ == "__main__":` block; `parameters`: the enclosing functions' parameters."""
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            check_import(node, in_main)
        elif isinstance(node, ast.Attribute):
            name = qualified(node)
            reported = name is not None and check_name(node.lineno, name)
            if node.attr in INTERNALS:
                report(node.lineno, f"use of .{node.attr}", INTERNALS_WHY)
            elif node.attr in SYS_ONLY and not reported:
                report(node.lineno, f"use of .{node.attr}", FORBIDDEN_NAMES["sys." + node.attr])
            elif node.attr == "__dict__" and sensitive(qualified(node.value)):
                report(node.lineno, f"{qualified(node.value)}.__dict__",
                       "it reaches module attributes this check cannot see; use the attribute by its name")
        elif isinstance(node, ast.Name):
            if node.id == "__builtins__":
                report(node.lineno, "use of __builtins__", INTERNALS_WHY)
            elif node.id in DYNAMIC_CODE and builtin(node, node.id, parameters):
                if node.id == "__import__":
                    why = "it imports by a computed name this check cannot see; use an import statement"
                else:
                    why = "it runs code made at run time, which no check can see; write the code itself"
                report(node.lineno, f"use of {node.id}()", why)
            elif node.id in aliases and isinstance(node.ctx, ast.Load):
                check_name(node.lineno, aliases[node.id])
        elif isinstance(node, ast.Subscript):
            key = literal(node.slice)
            if key in INTERNALS:
                report(node.lineno, f"the subscript [{key!r}]", INTERNALS_WHY)
        elif isinstance(node, ast.Call):
            check_call(node, on_import, parameters)
        elif isinstance(node, ast.Raise) and on_import and node.exc is not None:
            exception = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if builtin(exception, "SystemExit", parameters):
                report(node.lineno, "raise SystemExit at import time", MAIN_ONLY)
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            for target in targets:
                check_target(target)
                if isinstance(target, ast.Name) and target.id == "pytest_plugins" and id(node) in top_level:
                    report(node.lineno, "pytest_plugins", "it makes the test runner load plugins; remove it")
        elif isinstance(node, ast.ClassDef):
            check_class(node)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and id(node) in top_level \
                and (node.name.startswith("pytest_") or node.name == "load_tests"):
            report(node.lineno, f"the test-runner hook {node.name}()", "the runner calls it to change how tests "
                   "are collected or run; name the function differently")


    # Walk the tree without recursion (a hostile file may nest deeply). Statements of the module and of
    # class bodies run when the module is imported; function bodies only when called; the body of
    # `if __name__ == "__main__":`, and all of a __main__.py, only when run as a program.
    is_main_file = shown.rsplit("/", 1)[-1].lower() == "__main__.py"
    pending = [(tree, not is_main_file, False, frozenset())]
    try:
        while pending:
            node, on_import, in_main, parameters = pending.pop()
            check(node, on_import, in_main, parameters)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                # Decorators, defaults and annotations run where the function is defined; the body sees
                # the parameters, which may shadow builtins (a parameter named compile).
                outer = [node.args] + getattr(node, "decorator_list", [])
                if getattr(node, "returns", None):
                    outer.append(node.returns)
                inner = parameters | {arg.arg for arg in ast.walk(node.args) if isinstance(arg, ast.arg)}
                pending.extend((child, on_import, in_main, parameters) for child in outer)
                body = node.body if isinstance(node.body, list) else [node.body]
                pending.extend((child, False, in_main, inner) for child in body)
            elif isinstance(node, ast.If) and is_main_guard(node.test):
                pending.append((node.test, on_import, in_main, parameters))
                pending.extend((child, False, True, parameters) for child in node.body)
                pending.extend((child, on_import, in_main, parameters) for child in node.orelse)
            else:
                pending.extend((child, on_import, in_main, parameters) for child in ast.iter_child_nodes(node))
    except RecursionError:
        report(1, "code nested too deeply to check", "the tamper check cannot read it; simplify the file")
    finish()
    """#
}
