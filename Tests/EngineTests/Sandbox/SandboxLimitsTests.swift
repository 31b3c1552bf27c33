import Engine
import Testing

@Suite struct SandboxLimitsTests {
    @Test func neitherValidatorsNorTestsGetTheNetwork() {
        #expect(!SandboxLimits.validator.network)
        #expect(!SandboxLimits.acceptanceTest.network)
        #expect(SandboxLimits.validator.timeout < SandboxLimits.acceptanceTest.timeout)
    }
}
