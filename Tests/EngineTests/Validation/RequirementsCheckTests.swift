import Engine
import Testing
import TestSupport

/// What a model may write in requirements.txt: package names from the index, with extras, version
/// specifiers and markers; nothing that makes pip fetch or build code from elsewhere.
@Suite(.dedicatedThreads) struct RequirementsCheckTests {
    @Test(arguments: ["fastapi", "PyJWT==2.6.0", "uvicorn[standard]>=0.20,<1", "httpx ~= 0.24", "pydantic!=2.0.0",
                      "tomli-w===1.0.0", "backports.zoneinfo; python_version < \"3.9\"", "zope.interface>=5.*",
                      "requests  # comment", "Django>=4.2.1,!=4.2.3"])
    func plainRequirementsPass(line: String) {
        let (requirements, refused) = RequirementsCheck.check(line + "\n")
        #expect(refused.isEmpty, "\(refused)")
        #expect(requirements.count == 1)
    }

    @Test(arguments: [
        ("./evil_pkg", "local paths"), ("/srv/pkg", "local paths"), ("../x", "local paths"), ("pkg/sub", "local paths"),
        ("-e .", "pip options"), ("-r other.txt", "pip options"), ("--index-url https://evil.example/simple", "pip options"),
        ("--find-links /tmp", "pip options"), ("--trusted-host evil", "pip options"),
        ("https://evil.example/x.tar.gz", "URLs"), ("git+https://github.com/x/y.git", "URLs"), ("file:///tmp/x", "URLs"),
        ("x @ https://evil.example/x.whl", "URLs"), ("x @ file:relative", "direct references"), ("x.whl", "archive files"), ("pkg-1.0.tar.gz", "archive files"),
        ("fastapi 1.0", "version specifiers"), ("==1.0", "package name"),
    ])
    func anythingElseIsRefusedWithItsReason(line: String, reason: String) {
        let (requirements, refused) = RequirementsCheck.check("fastapi\n# a comment\n\n" + line + "\n")
        #expect(requirements == ["fastapi"])
        #expect(refused.map(\.line) == [4])
        #expect(refused.first?.reason.contains(reason) == true, "\(refused)")
    }

    @Test func onlyDependencyManifestsAreChecked() {
        #expect(RequirementsCheck.applies(to: "requirements.txt"))
        #expect(RequirementsCheck.applies(to: "app/requirements-dev.txt"))
        #expect(!RequirementsCheck.applies(to: "notes.txt"))
        #expect(!RequirementsCheck.applies(to: "requirements.md"))
    }
}
