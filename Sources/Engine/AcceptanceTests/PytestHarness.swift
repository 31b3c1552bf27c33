/// The runner setup every acceptance test runs under: a Python script the engine owns, passed on the
/// command line (never a file a generated file could replace), that runs one frozen test file with
/// pytest and reports each test on descriptor 4 (`TestRunReport` reads it).
///
/// Generated code is treated as written by an adversary that wants the gate to pass without doing
/// the work, so nothing it can write steers the run:
/// - `python3 -I -S -B`: no `PYTHON*` variables, no user site, no script folder on `sys.path`, and no
///   `site` module, so no `.pth` file, `sitecustomize` or `usercustomize` runs;
/// - the test ids are read from the frozen file's source and reported before any workspace code runs;
/// - pytest is imported from the system's site folders before the installed dependencies and the
///   workspace are put on `sys.path` (after them), so neither can shadow it;
/// - pytest runs with an empty configuration file (`-c /dev/null`, no `addopts`), `--noconftest`, no
///   plugin auto-loading (entry points of installed packages), no `PYTEST_*` variables, and append
///   import mode; a plugin registered later from outside the system folders is tampering;
/// - while the tests run, the runner's modules, their classes and the builtins are compared against a
///   snapshot after every test, and an audit hook (which cannot be removed) refuses `gc` object
///   walks, tracing hooks, `ctypes` and reading the process's environment or descriptors (where the
///   nonce and the report descriptor could be found);
/// - every report line carries a nonce the harness read from a pipe (`Sandbox.secretDescriptor`) and
///   closed before any workspace code ran — never the environment, which `/proc/PID/environ` shows to
///   every process of the box — and the harness then makes itself non-dumpable, so no process it starts
///   can read its memory or descriptors through `/proc`; lines without the nonce are ignored, and an id
///   reported twice is not a pass.
///
/// The process's exit status is ignored: a run that exits early has no `end` record and fails.
/// In-process code can still, with enough effort, reach the harness's memory; the tamper check among
/// the validators (which refuses generated files that import the runner, walk frames or exit at import)
/// closes that door before any test runs.
public enum PytestHarness {
    /// The interpreter options that come before `-c`.
    public static let interpreterOptions = ["-I", "-S", "-B"]

    /// Arguments after the interpreter: run `testFile` (relative to `root`) with the dependencies in
    /// `dependencies` (an absolute folder, or nil) importable after the system's packages.
    public static func arguments(testFile: String, root: String, dependencies: String?) -> [String] {
        interpreterOptions + ["-c", script, testFile, root, dependencies ?? ""]
    }

    /// The variables the harness reads (and removes from its environment before any workspace code runs).
    /// The nonce itself is not among them: it comes on `Sandbox.secretDescriptor` (`run`'s `secret`).
    public static let environment = ["MASTERPLAN_REPORT_FD": "4", "MASTERPLAN_SECRET_FD": String(Sandbox.secretDescriptor)]

    /// The harness itself. Kept in one piece so it can be read top to bottom: 1. expected ids,
    /// 2. the runner, 3. the guards, then the reporter plugin and the run.
    static let script = #"""
        import os, sys

        def main():
            # Bound now, before any code of the workspace runs: later patches of os, json or the builtins
            # cannot change how results are written.
            environ = os.environ
            fd = int(environ.pop("MASTERPLAN_REPORT_FD"))
            secret = int(environ.pop("MASTERPLAN_SECRET_FD"))
            nonce = b""
            while True:
                chunk = os.read(secret, 256)
                if not chunk:
                    break
                nonce += chunk
            os.close(secret)
            nonce = nonce.decode("ascii")
            # Non-dumpable: /proc/PID/mem, environ and fd of this process become unreadable to the processes
            # a test starts (PR_SET_DUMPABLE is 4). A run that cannot do it reports nothing and fails.
            import ctypes
            if ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0) != 0:
                os.write(2, b"masterplan harness: prctl(PR_SET_DUMPABLE) failed\n")
                os._exit(3)
            _write, _exit, _str, _isinstance, _getattr = os.write, os._exit, str, isinstance, getattr
            from json.encoder import encode_basestring_ascii as _quote

            def encode(value):
                if value is None or value is True or value is False:
                    return {None: "null", True: "true", False: "false"}[value]
                if _isinstance(value, (int, float)):
                    return _str(value)
                if _isinstance(value, _str):
                    return _quote(value)
                if _isinstance(value, (list, tuple)):
                    return "[" + ",".join([encode(item) for item in value]) + "]"
                return "{" + ",".join([_quote(key) + ":" + encode(item) for key, item in value.items()]) + "}"

            sequence = [0]

            def emit(kind, **fields):
                # Numbered: a line the code spoils on the shared descriptor shows as a gap (TestRunReport).
                fields["seq"] = sequence[0]
                sequence[0] += 1
                fields["kind"] = kind
                fields["nonce"] = nonce
                data = (encode(fields) + "\n").encode("utf-8", "replace")
                while data:
                    data = data[_write(fd, data):]

            test_file, root, dependencies = sys.argv[1], sys.argv[2], sys.argv[3]
            path = os.path.join(root, test_file)

            # 1. The test ids, read from the frozen source alone, before anything of the workspace runs.
            import ast
            try:
                with open(path, "rb") as handle:
                    frozen = handle.read()
                tree = ast.parse(frozen, filename=test_file)
            except (OSError, SyntaxError, ValueError) as error:
                emit("expected", ids=[], error=_str(error))
                _exit(0)
            ids = []
            for node in tree.body:
                if _isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
                    ids.append(test_file + "::" + node.name)
                elif _isinstance(node, ast.ClassDef):
                    is_case = any(ast.unparse(base).split(".")[-1].endswith("TestCase") for base in node.bases)
                    has_init = any(_isinstance(item, ast.FunctionDef) and item.name == "__init__" for item in node.body)
                    if is_case or (node.name.startswith("Test") and not has_init):
                        for item in node.body:
                            if _isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name.startswith("test"):
                                ids.append(test_file + "::" + node.name + "::" + item.name)
            emit("expected", ids=ids)

            # 2. The runner, from the system's site folders only (their .pth files are not run), imported
            # before the dependencies and the workspace are on the path, so neither can shadow it.
            import site
            system = [folder for folder in site.getsitepackages() if os.path.isdir(folder)]
            sys.path.extend(system)
            for name in list(environ):
                if name.startswith("PYTEST_"):
                    del environ[name]
            environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
            import pytest
            trusted = tuple(os.path.realpath(folder) + os.sep for folder in [os.path.dirname(os.__file__)] + system)
            if dependencies:
                sys.path.append(dependencies)
            sys.path.append(root)

            tampered = []

            def tamper(what):
                if what not in tampered:
                    tampered.append(what)
                    emit("tamper", reason=what)

            # 3. Guards while the workspace's code runs. The runner's modules, their classes and the builtins
            # are snapshotted once pytest is configured; a binding replaced afterwards means the code patched
            # the runner. An audit hook (which cannot be removed) refuses what honest code never needs.
            guarded = []
            # Bindings pytest itself changes during a run.
            mutable = {"_pytest.assertion.util": ("_reprcompare", "_assertion_pass", "_config")}

            def snapshot():
                for name, module in list(sys.modules.items()):
                    if module is None or not (name in ("builtins", "pytest", "pluggy", "unittest", "_pytest")
                                              or name.startswith(("_pytest.", "pluggy.", "unittest."))):
                        continue
                    guarded.append((name, vars(module), dict(vars(module))))
                    for value in list(vars(module).values()):
                        if _isinstance(value, type) and _getattr(value, "__module__", None) == name:
                            guarded.append((name + "." + value.__qualname__, value.__dict__, dict(value.__dict__)))

            def check_guarded():
                try:
                    with open(path, "rb") as handle:
                        unchanged = handle.read() == frozen
                except OSError:
                    unchanged = False
                if not unchanged:
                    tamper("the test file was changed while the tests ran")
                for name, current, saved in guarded:
                    allowed = mutable.get(name, ())
                    for key, value in saved.items():
                        if key not in allowed and current.get(key, current) is not value:
                            tamper("%s.%s was replaced while the tests ran" % (name, key))
                    if len(current) != len(saved):
                        for key in list(current):
                            # pytest marks classes it has warned about with _pytest_… flags.
                            if key not in saved and key not in allowed and not key.startswith("_pytest_"):
                                tamper("%s.%s was added while the tests ran" % (name, key))

            # Frames: from a frame, f_back and f_locals lead to this harness's own (emit, the report, pytest's
            # session and plugins). Workspace code may not get one: sys._getframe and the attributes that hand
            # one out (tb_frame, gi_frame, cr_frame, ag_frame) are refused when the code asking is the
            # workspace's, directly or through the modules that hand frames back to their caller (inspect,
            # traceback, logging.currentframe, asyncio's task stacks, pytest's traceback wrappers). Other users
            # (logging's own caller lookup, namedtuple, typing, installed packages such as pydantic) keep theirs.
            untrusted = (os.path.realpath(root) + os.sep,)
            library = os.path.dirname(os.__file__) + os.sep
            # Standard-library modules that use frames only to look around themselves and never hand one back;
            # every other module of the standard library counts as handing frames to its caller.
            keepers = tuple(library + name for name in ("collections" + os.sep, "typing.py", "enum.py", "warnings.py",
                                                        "dataclasses.py", "abc.py", "functools.py", "unittest" + os.sep))
            harness_codes = set()
            pending = [main.__code__]
            while pending:
                code = pending.pop()
                harness_codes.add(code)
                pending.extend(item for item in code.co_consts if _isinstance(item, type(main.__code__)))
            kinds = {}
            auditing = [False]

            def kind_of(code):
                if code in harness_codes:
                    return "harness"
                kind = kinds.get(code.co_filename)
                if kind is None:
                    name = code.co_filename
                    real = os.path.realpath(name) if os.path.isabs(name) else ""
                    if name.startswith("<frozen "):
                        kind = "other"
                    elif not real or real.startswith(untrusted):
                        kind = "workspace"
                    elif real == library + "logging" + os.sep + "__init__.py":
                        kind = "logging"
                    elif real.startswith(keepers):
                        kind = "other"
                    elif real.startswith(library) or os.sep + "_pytest" + os.sep in real or os.sep + "pluggy" + os.sep in real:
                        kind = "relay"
                    else:
                        kind = "other"
                    kinds[code.co_filename] = kind
                return kind

            def asked_by_workspace(depth=2):
                frame = sys._getframe(depth)
                first = True
                while frame is not None:
                    kind = kind_of(frame.f_code)
                    if kind == "workspace":
                        return True
                    # logging.currentframe (a lambda) hands its caller's frame back; logging's own lookups keep it.
                    relays_here = kind == "relay" or (kind == "logging" and first and frame.f_code.co_name == "<lambda>")
                    if not relays_here:
                        return False
                    first = False
                    frame = frame.f_back
                return False

            frame_sources = ("tb_frame", "gi_frame", "cr_frame", "ag_frame")

            def forged(source, filename):
                # Code is known by the file it says it comes from; code compiled under the name of a file outside
                # the workspace must be that file's own source (import compiles exactly that; an AST compiled
                # under such a name must come from code outside the workspace), and no code is compiled under
                # the name of a frozen module.
                if not _isinstance(filename, (str, bytes)):
                    return False
                name = filename if _isinstance(filename, _str) else filename.decode("utf-8", "replace")
                if name.startswith("<frozen "):
                    return True
                if not os.path.isabs(name) or os.path.realpath(name).startswith(untrusted):
                    return False
                try:
                    with open(name, "rb") as handle:
                        actual = handle.read()
                except OSError:
                    return True
                if _isinstance(source, _str):
                    source = source.encode("utf-8")
                if not _isinstance(source, (bytes, bytearray)):
                    return asked_by_workspace(3)
                return bytes(source) != actual

            def audit(event, args):
                if auditing[0]:
                    return
                if event in ("compile", "code.__new__", "marshal.loads", "marshal.load"):
                    auditing[0] = True
                    try:
                        # Unmarshalled code can carry any file name as well.
                        refused = forged(args[0], args[1]) if event == "compile" else asked_by_workspace()
                    finally:
                        auditing[0] = False
                    if refused:
                        what = ("compiled code under the name " + repr(args[1]) if event == "compile"
                                else "made a code object" if event == "code.__new__" else "unmarshalled code")
                        tamper("the code " + what)
                        raise RuntimeError("refused by the acceptance-test harness: " + what)
                    return
                if event in ("sys._getframe", "sys._current_frames") or (event == "object.__getattr__" and args[1] in frame_sources):
                    auditing[0] = True
                    try:
                        refused = asked_by_workspace()
                    finally:
                        auditing[0] = False
                    if refused:
                        what = event if event != "object.__getattr__" else "." + args[1]
                        tamper("the code asked for a frame (" + what + ")")
                        raise RuntimeError("refused by the acceptance-test harness: " + what)
                    return
                if event in ("gc.get_objects", "gc.get_referrers", "gc.get_referents", "sys.settrace", "sys.setprofile"):
                    tamper("the code called " + event)
                    raise RuntimeError("refused by the acceptance-test harness: " + event)
                if event.startswith("ctypes."):
                    tamper("the code used ctypes (" + event + ")")
                    raise RuntimeError("refused by the acceptance-test harness: " + event)
                if event == "open" and _isinstance(args[0], (str, bytes)):
                    target = args[0] if _isinstance(args[0], _str) else args[0].decode("utf-8", "replace")
                    if target.startswith(("/proc/", "/dev/fd/")) and (target.endswith(("/environ", "/mem")) or "/fd/" in target):
                        tamper("the code opened " + target)
                        raise RuntimeError("refused by the acceptance-test harness: open " + target)

            class Verbosity:
                # What the assertion rewriter asks of the configuration (_pytest.assertion.rewrite uses only this).
                def getoption(self, name, default=None, skip=False):
                    return 0

            verbosity = Verbosity()

            def hide_config():
                # The assertion plugin puts the session's configuration in _pytest.assertion.util._config for each
                # test; a stand-in answers what the rewriter asks, and the configuration stays out of reach.
                util = sys.modules.get("_pytest.assertion.util")
                if util is not None:
                    util._config = verbosity

            class Reporter:
                def __init__(self):
                    self.phases = {}
                    self.watching = False

                @pytest.hookimpl(tryfirst=True)
                def pytest_collection(self, session):
                    # pytest keeps its configuration (and through it every plugin, this reporter too) in module
                    # and class globals a test's code can import; these two hold it while tests run.
                    debugging = sys.modules.get("_pytest.debugging")
                    if debugging is not None:
                        debugging.pytestPDB._pluginmanager = None
                        debugging.pytestPDB._config = None
                    snapshot()
                    sys.addaudithook(audit)
                    self.watching = True

                def pytest_plugin_registered(self, plugin, manager):
                    if not self.watching:
                        return
                    if _isinstance(plugin, type(os)):
                        source = _getattr(plugin, "__file__", None)
                    else:
                        owner = plugin.__module__ if _isinstance(plugin, type) else type(plugin).__module__
                        source = _getattr(sys.modules.get(owner), "__file__", None)
                    if not source or not os.path.realpath(source).startswith(trusted):
                        tamper("a pytest plugin from %s was registered" % (source or repr(plugin)))

                @pytest.hookimpl(tryfirst=True)
                def pytest_runtest_setup(self, item):
                    hide_config()

                @pytest.hookimpl(tryfirst=True)
                def pytest_runtest_teardown(self, item):
                    hide_config()

                @pytest.hookimpl(tryfirst=True)
                def pytest_runtest_call(self, item):
                    hide_config()
                    # The function about to run must be the frozen file's own, not one put in its place.
                    function = _getattr(item, "function", None)
                    code = _getattr(function, "__code__", None)
                    if code is None or os.path.realpath(code.co_filename) != os.path.realpath(path):
                        tamper("the test %s was replaced by code from %s" % (item.nodeid, _getattr(code, "co_filename", "elsewhere")))

                def pytest_collectreport(self, report):
                    if report.failed:
                        emit("collect_error", nodeid=report.nodeid, text=_str(report.longrepr)[-8000:])

                def pytest_runtest_logreport(self, report):
                    self.phases.setdefault(report.nodeid, []).append(report)

                def pytest_runtest_logfinish(self, nodeid, location):
                    check_guarded()
                    reports = self.phases.pop(nodeid, [])
                    outcome, text, duration = "passed", "", 0.0
                    for report in reports:
                        duration += report.duration
                        if report.failed:
                            outcome, text = ("failed" if report.when == "call" else "error"), _str(report.longrepr)
                            break
                        if report.skipped:
                            outcome, text = ("xfailed" if hasattr(report, "wasxfail") else "skipped"), _str(report.longrepr)
                            break
                        if report.when == "call" and hasattr(report, "wasxfail"):
                            outcome = "xpassed"
                    if outcome == "passed" and [report.when for report in reports] != ["setup", "call", "teardown"]:
                        outcome, text = "error", "the test did not run through setup, call and teardown"
                    emit("result", nodeid=nodeid, outcome=outcome, duration=duration, text=text[-8000:])

                @pytest.hookimpl(tryfirst=True)
                def pytest_sessionfinish(self, session, exitstatus):
                    check_guarded()
                    emit("end", exit=int(exitstatus))

            arguments = ["-c", os.devnull, "--rootdir", root, "--noconftest", "--import-mode=append",
                         "-p", "no:cacheprovider", "-p", "no:pastebin", "-p", "no:nose", "-p", "no:doctest",
                         "--color=no", "-q", "--tb=short", "-o", "addopts=", "--", path]
            try:
                pytest.main(arguments, plugins=[Reporter()])
            finally:
                try:
                    sys.stdout.flush()
                    sys.stderr.flush()
                finally:
                    _exit(0)

        main()
        """#
}
