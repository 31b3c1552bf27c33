import Engine
import Testing
import TestSupport

@Suite(.dedicatedThreads) struct SandboxLimitsTests {
    @Test func neitherValidatorsNorTestsGetTheNetwork() {
        #expect(!SandboxLimits.validator.network)
        #expect(!SandboxLimits.acceptanceTest.network)
        #expect(SandboxLimits.validator.timeout < SandboxLimits.acceptanceTest.timeout)
    }
}
