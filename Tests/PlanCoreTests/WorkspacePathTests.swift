import PropertyBased
import Testing
@testable import PlanCore

@Suite("Workspace paths")
struct WorkspacePathTests {
    static let accepted = [
        "README.md", "app/main.py", "src/api/v1/routes.ts", ".gitignore", ".github/workflows/ci.yml", "a-b_c.d/e.f.g",
        "docs/ünïcode.md", "my file.txt", "console.py", "com10.txt", "auxiliary/x.py", ".gitattributes", "x/.env",
        "tests/test_con_nection.py", "CON_TEXT.md",
    ]

    @Test("ordinary relative paths are accepted", arguments: accepted)
    func acceptedPaths(_ path: String) {
        #expect(WorkspacePath.violation(of: path) == nil)
    }

    static let refused: [(path: String, violation: WorkspacePath.Violation)] = [
        ("", .empty),
        ("../x", .parentReference(path: "../x")),
        ("a/../../etc/passwd", .parentReference(path: "a/../../etc/passwd")),
        ("..", .parentReference(path: "..")),
        ("/etc/passwd", .absolute(path: "/etc/passwd")),
        ("//server/share", .absolute(path: "//server/share")),
        ("~/x", .homeOrDrive(path: "~/x")),
        ("C:/x", .homeOrDrive(path: "C:/x")),
        ("c:x", .homeOrDrive(path: "c:x")),
        ("a\\b", .backslash(path: "a\\b")),
        ("./a", .notNormalised(path: "./a", normalised: "a")),
        ("a//b", .notNormalised(path: "a//b", normalised: "a/b")),
        ("a/./b/", .notNormalised(path: "a/./b/", normalised: "a/b")),
        (" a/b ", .notNormalised(path: " a/b ", normalised: "a/b")),
        ("./", .empty),
        (".git", .versionControl(path: ".git", folder: ".git")),
        (".git/config", .versionControl(path: ".git/config", folder: ".git")),
        ("sub/.Git/HEAD", .versionControl(path: "sub/.Git/HEAD", folder: ".Git")),
        (".hg/hgrc", .versionControl(path: ".hg/hgrc", folder: ".hg")),
        (".svn/entries", .versionControl(path: ".svn/entries", folder: ".svn")),
        ("nul", .deviceName(path: "nul", component: "nul")),
        ("src/CON.txt", .deviceName(path: "src/CON.txt", component: "CON.txt")),
        ("lpt1/x", .deviceName(path: "lpt1/x", component: "lpt1")),
        ("a\u{0}b", .hiddenCharacter(path: "a\u{0}b", scalar: 0)),
        ("a\tb", .hiddenCharacter(path: "a\tb", scalar: 9)),
        ("a\u{7F}", .hiddenCharacter(path: "a\u{7F}", scalar: 0x7F)),
        ("a\u{85}", .hiddenCharacter(path: "a\u{85}", scalar: 0x85)),
        ("a\u{200B}b", .hiddenCharacter(path: "a\u{200B}b", scalar: 0x200B)),
        ("\u{FEFF}a", .hiddenCharacter(path: "\u{FEFF}a", scalar: 0xFEFF)),
        (String(repeating: "a", count: 241), .tooLong(path: String(repeating: "a", count: 241), length: 241, limit: 240)),
        (Array(repeating: "d", count: 17).joined(separator: "/"),
         .tooDeep(path: Array(repeating: "d", count: 17).joined(separator: "/"), depth: 17, limit: 16)),
    ]

    @Test("hostile or sloppy paths are refused with the rule they break", arguments: refused)
    func refusedPaths(_ sample: (path: String, violation: WorkspacePath.Violation)) {
        #expect(WorkspacePath.violation(of: sample.path) == sample.violation)
    }

    @Test("a component longer than 255 bytes is refused even when the limit on the whole path allows it")
    func longComponent() {
        var limits = PlanLimits.default
        limits.maxPathLength = 1_000
        let path = "a/" + String(repeating: "b", count: 256)
        #expect(WorkspacePath.violation(of: path, limits: limits) == .componentTooLong(path: path))
    }

    /// Characters that make the shortcut and the full rules disagree if either is wrong.
    static let alphabet: [Character] = ["a", "b", "C", "o", "n", "u", "l", "x", "1", ".", "/", "-", "_", " ", "~", ":", "\\", "g", "i", "t", "h", "\t", "é"]

    @Test("the fast path never accepts what the full rules refuse")
    func fastPathAgrees() async {
        let characters = Gen.int(in: 0..<Self.alphabet.count).array(of: 0...14)
        await propertyCheck(count: 2_000, input: characters) { indices in
            let path = String(indices.map { Self.alphabet[$0] })
            if WorkspacePath.isPlainlySafe(path, limits: .default) {
                #expect(WorkspacePath.violation(of: path, limits: .default) == nil, "\(path.debugDescription)")
            }
            #expect(WorkspacePath.violation(of: path) == WorkspacePath.violationByRules(of: path, limits: .default))
        }
    }

    @Test("reserved names hide behind any case and extension", arguments: ["con", "CON", "Con.py", "aux.tar.gz", "com1", "LPT9.log", ".GIT", ".Svn"])
    func reservedNames(_ name: String) {
        #expect(WorkspacePath.violation(of: "src/\(name)") != nil)
        #expect(!WorkspacePath.isPlainlySafe("src/\(name)", limits: .default))
    }

    static let runnerFiles: [(path: String, kind: WorkspacePath.RunnerFile)] = [
        ("conftest.py", .conftest),
        ("tests/conftest.py", .conftest),
        ("tests/unit/ConfTest.PY", .conftest),
        ("pytest.ini", .runnerConfiguration),
        ("sub/.pytest.ini", .runnerConfiguration),
        ("pytest.toml", .runnerConfiguration),
        ("TOX.ini", .runnerConfiguration),
        ("sitecustomize.py", .startupModule(name: "sitecustomize")),
        ("src/usercustomize.py", .startupModule(name: "usercustomize")),
        ("sitecustomize/__init__.py", .startupModule(name: "sitecustomize")),
        ("easy-install.pth", .startupHook),
        ("lib/Evil.PTH", .startupHook),
        ("python311._pth", .startupHook),
        ("pytest.py", .runnerModule(name: "pytest")),
        ("py.py", .runnerModule(name: "py")),
        ("tests/PyTest.py", .runnerModule(name: "pytest")),
        ("_pytest/runner.py", .runnerModule(name: "_pytest")),
        ("pluggy/__init__.py", .runnerModule(name: "pluggy")),
        ("src/pytest/__init__.py", .runnerModule(name: "pytest")),
        ("pytest.cpython-311-x86_64-linux-gnu.so", .runnerModule(name: "pytest")),
        (".pytest_cache/v/cache/lastfailed", .runnerCache),
        (".masterplan/site-packages/pytest_plugin.py", .engineFolder), (".masterplan/requirements.sha256", .engineFolder),
        ("evil-1.0.dist-info/entry_points.txt", .packageMetadata),
        ("site/evil.egg-info", .packageMetadata),
    ]

    @Test("files the test runner or the interpreter act on by name are refused for a project", arguments: runnerFiles)
    func runnerFilesAreRefused(_ sample: (path: String, kind: WorkspacePath.RunnerFile)) {
        #expect(WorkspacePath.runnerFile(sample.path) == sample.kind)
        #expect(WorkspacePath.projectFileViolation(of: sample.path) == .runnerFile(path: sample.path, kind: sample.kind))
        // The workspace's own rule still lets the engine read and check such a file if one reaches the disk.
        #expect(WorkspacePath.violation(of: sample.path) == nil)
    }

    @Test("ordinary project files, frozen test files included, are not runner files", arguments: [
        "tests/test_x.py", "tests/test_pytest_usage.py", "tests/__init__.py", "app/pytest_helpers.py", "app/configtest.py",
        "app/py.typed", "py.typed", "docs/pytest/usage.md", "py/README.md", "pyproject.toml", "setup.cfg",
        "requirements.txt", "app/conftest_notes.md", "app/pathlib_utils.py", "app/site.py", "scripts/tox.sh",
    ])
    func ordinaryFilesAreNotRunnerFiles(_ path: String) {
        #expect(WorkspacePath.runnerFile(path) == nil)
        #expect(WorkspacePath.projectFileViolation(of: path) == nil)
    }

    @Test("the path rules come before the runner names")
    func pathRulesFirst() {
        #expect(WorkspacePath.projectFileViolation(of: "../conftest.py") == .parentReference(path: "../conftest.py"))
        #expect(WorkspacePath.projectFileViolation(of: ".git/conftest.py") == .versionControl(path: ".git/conftest.py", folder: ".git"))
    }

    @Test("messages quote the path and say what to do")
    func messages() {
        #expect(WorkspacePath.Violation.parentReference(path: "../../etc/passwd").description
                == "\"../../etc/passwd\" uses \"..\" to leave its folder; paths must stay inside the project")
        #expect(WorkspacePath.Violation.notNormalised(path: "./a", normalised: "a").description == "\"./a\" is not normalised; write \"a\"")
        #expect(WorkspacePath.Violation.hiddenCharacter(path: "a\u{7}", scalar: 7).description
                == "\"a\\u{7}\" contains the control or invisible character U+7; use printable characters only")
        #expect(WorkspacePath.Violation.runnerFile(path: "tests/conftest.py", kind: .conftest).description
                == "\"tests/conftest.py\" would configure the test runner; acceptance tests run with the engine's own setup — name the file differently")
        #expect(WorkspacePath.Violation.runnerFile(path: "sitecustomize.py", kind: .startupModule(name: "sitecustomize")).description
                == "\"sitecustomize.py\" would run when the Python interpreter starts, in every process and before any test — name the module differently")
        #expect(WorkspacePath.Violation.runnerFile(path: "pluggy/x.py", kind: .runnerModule(name: "pluggy")).description
                == "\"pluggy/x.py\" would be imported instead of the test runner's own module pluggy — name the module differently")
    }
}
