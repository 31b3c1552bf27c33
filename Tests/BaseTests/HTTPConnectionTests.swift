import Testing
import TestSupport

/// The test HTTP client closes a socket it could not connect exactly once. It used to close it in the
/// failed init and again in deinit (which Swift runs when a class's init throws after every stored
/// property is set); the second close hit whatever had taken the number meanwhile, and a fuzzed
/// request on another thread failed with "send: Bad file descriptor". With the double close, this
/// test lost about 250 descriptors a run.
@Suite(.dedicatedThreads) struct HTTPConnectionTests {
    @Test func aFailedConnectNeverClosesAnotherThreadsDescriptor() throws {
        let refusing = try LoopbackListener.refusing()
        var refused = 0
        let tally = DescriptorWatch.tally {
            for _ in 0..<3_000 {
                do {
                    _ = try HTTPConnection(port: UInt16(refusing.port), timeoutSeconds: 1)
                } catch {
                    refused += 1
                }
            }
        }
        withExtendedLifetime(refusing) {}
        #expect(refused == 3_000)
        #expect(tally.opened > 0)
        #expect(tally.lost == 0, "descriptors closed under another thread")
    }
}
