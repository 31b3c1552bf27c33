import Engine
import Testing
import TestSupport

/// The tamper check through the real validators in the real sandbox: each hostile file below is a trick
/// to make acceptance tests pass without the work, and is refused with the construct and its line; honest
/// code, every generated file of the demo and of the word-count fixture included, passes.
@Suite(.dedicatedThreads) struct TamperCheckTests {
    let validators: Validators

    init() throws {
        let interpreters = Interpreters.locate()
        // Nothing is skipped: a missing tool fails here with the package to install.
        try #require(interpreters.python3 != nil, "python3 from Debian is required (make deps)")
        validators = Validators(sandbox: try Sandbox(), interpreters: interpreters)
    }

    /// Writes `files` to a fresh workspace and returns the tamper-check result of each, by path.
    private func tamperChecks(_ files: [(path: String, content: String)]) throws -> [(path: String, result: ValidatorResult)] {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try Workspace.open(at: folder.sub("workspaces/plan"))
        for file in files { try workspace.write(file.content, to: file.path) }
        let checked = try files.map { file in
            let results = validators.validate(file.path, in: workspace)
            let check = try #require(results.first { $0.name == TamperCheck.name }, "no tamper-check in \(results.map(\.name))")
            #expect(results.last?.name == TamperCheck.name, "the tamper check comes after the other checks")
            return (path: file.path, result: check)
        }
        // The check only reads: nothing new in the workspace (no __pycache__, no .pyc).
        #expect(try workspace.files() == files.map(\.path).sorted())
        return checked
    }

    private func tamperCheck(_ path: String, _ content: String) throws -> ValidatorResult {
        try tamperChecks([(path, content)])[0].result
    }

    struct Attack: Sendable, CustomTestStringConvertible {
        var trick: String
        var path: String
        var content: String
        /// What the message must say: the file and line, and the construct found.
        var expected: [String]
        var testDescription: String { trick }
    }

    static let attacks: [Attack] = [
        Attack(trick: "patching the runner's internals", path: "app/plugin.py",
               content: "import _pytest.runner\n\n_pytest.runner.pytest_runtest_makereport = None\n",
               expected: ["app/plugin.py:1: import of _pytest.runner", "app/plugin.py:3: assignment to _pytest.runner.pytest_runtest_makereport",
                          "remove the import"]),
        Attack(trick: "skipping the test module from project code", path: "app/__init__.py",
               content: "import pytest\n\npytest.skip(\"later\", allow_module_level=True)\n",
               expected: ["app/__init__.py:1: import of pytest", "project code must not depend on the test runner"]),
        Attack(trick: "os._exit(0) at import", path: "app/__init__.py", content: "import os\n\nos._exit(0)\n",
               expected: ["app/__init__.py:3: use of os._exit", "the test runner cannot report the tests' results"]),
        Attack(trick: "sys.exit(0) at import", path: "app/config.py", content: "import sys\n\nSETTINGS = {}\nsys.exit(0)\n",
               expected: ["app/config.py:4: sys.exit() at import time", "if __name__ == \"__main__\":"]),
        Attack(trick: "raise SystemExit at import", path: "app/boot.py", content: "VERSION = 1\nraise SystemExit(0)\n",
               expected: ["app/boot.py:2: raise SystemExit at import time"]),
        Attack(trick: "replacing AssertionError in the builtins", path: "app/util.py",
               content: "import builtins\n\n\nclass Never(Exception):\n    pass\n\n\nbuiltins.AssertionError = Never\n",
               expected: ["app/util.py:1: import of builtins", "app/util.py:8: assignment to builtins.AssertionError"]),
        Attack(trick: "an object equal to everything", path: "app/models.py",
               content: "class Result:\n    def __eq__(self, other):\n        return True\n\n    def __ne__(self, other):\n        return False\n",
               expected: ["app/models.py:2: __eq__ that always returns True", "app/models.py:5: __ne__ that always returns False",
                          "return NotImplemented for other types"]),
        Attack(trick: "reaching the test module through sys.modules", path: "app/hooks.py",
               content: "import sys\n\n\ndef quiet():\n    module = sys.modules[\"tests.test_x\"]\n    module.test_a = lambda: None\n",
               expected: ["app/hooks.py:5: use of sys.modules", "use ordinary import statements"]),
        Attack(trick: "walking every object with gc", path: "app/cleanup.py",
               content: "import gc\n\nfor obj in gc.get_objects():\n    pass\n",
               expected: ["app/cleanup.py:1: import of gc"]),
        Attack(trick: "reading the caller's frame", path: "app/debug.py",
               content: "import sys\n\n\ndef caller_values():\n    return sys._getframe(1).f_locals\n",
               expected: ["app/debug.py:5: use of sys._getframe", "app/debug.py:5: use of .f_locals"]),
        Attack(trick: "inspect.stack", path: "app/who.py",
               content: "import inspect\n\n\ndef caller():\n    return inspect.stack()[1]\n",
               expected: ["app/who.py:5: use of inspect.stack"]),
        Attack(trick: "a tracing hook", path: "app/trace.py", content: "import threading\n\nthreading.settrace(print)\n",
               expected: ["app/trace.py:3: use of threading.settrace"]),
        Attack(trick: "exec of built code", path: "app/loader.py", content: "SOURCE = \"print('hi')\"\nexec(SOURCE)\n",
               expected: ["app/loader.py:2: use of exec()", "write the code itself"]),
        Attack(trick: "__import__(\"os\")._exit(0)", path: "app/main.py", content: "__import__(\"os\")._exit(0)\n",
               expected: ["app/main.py:1: use of __import__()", "app/main.py:1: use of os._exit"]),
        Attack(trick: "ctypes", path: "app/native.py", content: "import ctypes\n\nctypes.pythonapi.Py_Exit(0)\n",
               expected: ["app/native.py:1: import of ctypes"]),
        Attack(trick: "a signal handler", path: "app/worker.py", content: "import signal\n\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\n",
               expected: ["app/worker.py:3: use of signal.signal", "KeyboardInterrupt"]),
        Attack(trick: "killing the runner", path: "app/stop.py", content: "import os as system\n\nsystem.kill(system.getppid(), 9)\n",
               expected: ["app/stop.py:3: use of os.kill", "app/stop.py:3: use of os.getppid"]),
        Attack(trick: "a module through another module", path: "app/state.py", content: "import os\n\nos.sys.modules.clear()\n",
               expected: ["app/state.py:3: use of sys.modules"]),
        Attack(trick: "getattr on sys with a computed name", path: "app/lookup.py",
               content: "import sys\n\nNAME = \"_get\" + \"frame\"\nframe = getattr(sys, NAME)\nother = getattr(sys, \"_get\" + \"frame\")\n",
               expected: ["app/lookup.py:4: getattr() on the module sys with a computed name", "app/lookup.py:5: use of sys._getframe"]),
        Attack(trick: "a function's globals and builtins", path: "app/patch.py",
               content: "def patch(function):\n    function.__globals__[\"__builtins__\"][\"len\"] = lambda x: 0\n",
               expected: ["app/patch.py:2: use of .__globals__", "app/patch.py:2: the subscript ['__builtins__']"]),
        Attack(trick: "loading a module by computed name", path: "app/plugins.py",
               content: "import importlib\n\n\ndef load(name):\n    return importlib.import_module(name)\n",
               expected: ["app/plugins.py:5: importlib.import_module() with a computed name"]),
        Attack(trick: "importing a package's __main__, which the exit rule exempts", path: "app/__init__.py",
               content: "from app import __main__\n", expected: ["app/__init__.py:1: import of app.__main__"]),
        Attack(trick: "a runner hook in project code", path: "app/plugin.py",
               content: "def pytest_runtest_makereport(item, call):\n    pass\n",
               expected: ["app/plugin.py:1: the test-runner hook pytest_runtest_makereport()"]),
        Attack(trick: "conftest.py", path: "tests/conftest.py", content: "def helper():\n    return 1\n",
               expected: ["tests/conftest.py: the file would configure the test runner", "put the code in a normal module"]),
        Attack(trick: "sitecustomize.py", path: "sitecustomize.py", content: "VALUE = 1\n",
               expected: ["sitecustomize.py: the file would run when the Python interpreter starts", "project code must not hook the interpreter"]),
        Attack(trick: "a .pth file", path: "x.pth", content: "import app.hooks\n",
               expected: ["x.pth: the file would run when the Python interpreter starts"]),
        Attack(trick: "pytest.ini", path: "pytest.ini", content: "[pytest]\naddopts = -p app.plugin\n",
               expected: ["pytest.ini: the file would configure the test runner", "project runner configuration is not allowed"]),
        Attack(trick: "a module named pytest", path: "app/pytest.py", content: "def raises(*errors):\n    return None\n",
               expected: ["app/pytest.py: the file would be imported instead of the test runner's own module pytest", "name the module differently"]),
        Attack(trick: "plugin entry points", path: "evil-1.0.dist-info/entry_points.txt", content: "[pytest11]\nevil = app.plugin\n",
               expected: ["evil-1.0.dist-info/entry_points.txt: the file is installed-package metadata"]),
        Attack(trick: "pyproject.toml with [tool.pytest.ini_options]", path: "pyproject.toml",
               content: "[project]\nname = \"app\"\nversion = \"1.0\"\n\n[tool.pytest.ini_options]\naddopts = \"-p app.plugin\"\n",
               expected: ["pyproject.toml:5: a [tool.pytest] table", "remove the table"]),
        Attack(trick: "pyproject.toml with an escaped pytest key", path: "pyproject.toml",
               content: "[project]\nname = \"app\"\n\n[tool]\n\"\\u0070ytest\" = {ini_options = {addopts = \"-q\"}}\n",
               expected: ["pyproject.toml:4: a [tool.pytest] table"]),
        Attack(trick: "setup.cfg with [tool:pytest]", path: "setup.cfg",
               content: "[metadata]\nname = app\n\n[tool:pytest]\naddopts = -p app.plugin\n",
               expected: ["setup.cfg:4: a [tool:pytest] section", "remove the section"]),
    ]

    @Test("a hostile file is refused with the construct and its line", arguments: attacks)
    func hostileFileIsRefused(_ attack: Attack) throws {
        let check = try tamperCheck(attack.path, attack.content)
        #expect(!check.passed)
        for fragment in attack.expected {
            #expect(check.message.contains(fragment), "\(check.message)")
        }
    }

    @Test("every generated file of the demo and of the word-count fixture passes", arguments: ["demo", "word count"])
    func fixturesPass(_ fixture: String) throws {
        let files = fixture == "demo" ? DemoScript.files.map { (path: $0.path, content: $0.content) } : WordCountFixture.files
        #expect(files.contains { $0.path.hasSuffix(".py") })
        for checked in try tamperChecks(files) {
            #expect(checked.result.passed, "\(checked.path): \(checked.result.message)")
        }
    }

    static let honest: [(path: String, content: String)] = [
        ("app/cli.py", """
            import argparse
            import logging
            import sys

            logger = logging.getLogger(__name__)


            def main(argv=None):
                parser = argparse.ArgumentParser(description="Greets someone.")
                parser.add_argument("name")
                args = parser.parse_args(argv)
                if getattr(sys, "frozen", False):
                    logger.info("running frozen")
                print(f"hello {args.name}")
                return 0


            if __name__ == "__main__":
                sys.exit(main())

            """),
        ("app/point.py", """
            from dataclasses import dataclass


            @dataclass(frozen=True)
            class Point:
                x: int
                y: int

                def __eq__(self, other):
                    if not isinstance(other, Point):
                        return NotImplemented
                    return (self.x, self.y) == (other.x, other.y)

                def __ne__(self, other):
                    result = self.__eq__(other)
                    return result if result is NotImplemented else not result


            def field(obj, name, default=None):
                return getattr(obj, name, default)

            """),
        ("app/api.py", """
            import importlib
            import inspect
            import os
            import re
            import subprocess
            import threading
            from importlib import metadata

            from fastapi import FastAPI

            app = FastAPI(title="Example")
            _lock = threading.Lock()
            WORD = re.compile(r"[a-z]+")
            json = importlib.import_module("json")


            def version():
                return metadata.version("fastapi")


            def arity(function):
                return len(inspect.signature(function).parameters) if inspect.isfunction(function) else 0


            def build(source, compile=True):
                return WORD.findall(source) if compile else source


            @app.get("/health")
            def health():
                with _lock:
                    revision = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                                              env={**os.environ, "LC_ALL": "C"})
                return {"status": "ok", "revision": revision.stdout.strip()}

            """),
        ("app/maths.py", """
            def add(a, b):
                \"\"\"
                >>> add(1, 2)
                3
                \"\"\"
                return a + b


            if __name__ == "__main__":
                import doctest
                doctest.testmod()

            """),
        ("pyproject.toml", "[project]\nname = \"app\"\nversion = \"1.0\"\n\n[tool.black]\nline-length = 100\n"),
        ("setup.cfg", "[metadata]\nname = app\n\n[flake8]\nmax-line-length = 100\n"),
        ("app/py.typed", ""),
    ]

    @Test("honest code passes: a CLI under a main guard, a real __eq__, getattr with a default, logging, FastAPI")
    func honestCodePasses() throws {
        for checked in try tamperChecks(Self.honest) {
            #expect(checked.result.passed, "\(checked.path): \(checked.result.message)")
        }
    }

    @Test("a syntax error is left to python-syntax")
    func syntaxErrorsAreNotTampering() throws {
        let check = try tamperCheck("app/broken.py", "import os\ndef broken(:\n    os._exit(0)\n")
        #expect(check.passed, "\(check.message)")
    }

    @Test("every finding is in one message, at most ten of them")
    func findingsAreListedTogether() throws {
        let content = (1...12).map { "import gc as g\($0)" }.joined(separator: "\n") + "\n"
        let check = try tamperCheck("app/many.py", content)
        #expect(!check.passed)
        let lines = check.message.split(separator: "\n")
        #expect(lines.count == 11, "\(check.message)")
        #expect(lines.first == "app/many.py:1: import of gc — it reaches every live object, the tests' own functions included; remove the import")
        #expect(lines.last == "… and 2 more")
    }

    @Test("a file named like a runner file is refused whatever its content, with the name rule and the content rules together")
    func nameAndContentFindingsCombine() throws {
        let check = try tamperCheck("tests/conftest.py", "import pytest\n")
        #expect(!check.passed)
        #expect(check.message.contains("tests/conftest.py: the file would configure the test runner"), "\(check.message)")
        #expect(check.message.contains("tests/conftest.py:1: import of pytest"), "\(check.message)")
    }

    @Test("the name rules need no sandbox", arguments: [
        ("TOX.INI", true), ("setup.cfg", false), ("app/sitecustomize.py", true), ("app/site_settings.py", false),
        ("tests/test_config.py", false), ("lib/x.PTH", true), ("pluggy/hooks.py", true), ("docs/pytest/usage.md", false),
    ])
    func nameRules(_ sample: (path: String, refused: Bool)) {
        #expect(TamperCheck.nameFindings(path: sample.path, content: "x = 1\n").isEmpty == !sample.refused)
    }
}
