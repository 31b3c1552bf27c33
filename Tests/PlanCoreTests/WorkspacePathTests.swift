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
        (String(repeating: "a", count: 241), .tooLong(path: String(repeating: "a", count: 241), bytes: 241, limit: 240)),
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
        limits.maxPathBytes = 1_000
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

    @Test("messages quote the path and say what to do")
    func messages() {
        #expect(WorkspacePath.Violation.parentReference(path: "../../etc/passwd").description
                == "\"../../etc/passwd\" uses \"..\" to leave its folder; paths must stay inside the project")
        #expect(WorkspacePath.Violation.notNormalised(path: "./a", normalised: "a").description == "\"./a\" is not normalised; write \"a\"")
        #expect(WorkspacePath.Violation.hiddenCharacter(path: "a\u{7}", scalar: 7).description
                == "\"a\\u{7}\" contains the control or invisible character U+7; use printable characters only")
    }
}
