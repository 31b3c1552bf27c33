import Engine
import Testing
import TestSupport

@Suite(.dedicatedThreads) struct PytestHarnessTests {
    @Test func theHarnessRunsTheOneFileIsolatedWithoutStartUpFiles() {
        let arguments = PytestHarness.arguments(testFile: "tests/test_a.py", root: "/w/plan", dependencies: nil)
        #expect(Array(arguments.prefix(4)) == ["-I", "-S", "-B", "-c"])
        #expect(Array(arguments.suffix(3)) == ["tests/test_a.py", "/w/plan", ""])
        #expect(AcceptanceTestRunner.makeNonce().count == 32)
        #expect(AcceptanceTestRunner.makeNonce() != AcceptanceTestRunner.makeNonce())
    }
}
