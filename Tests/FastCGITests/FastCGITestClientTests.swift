import Testing
import TestSupport

/// The FastCGI test client closes a socket it could not connect exactly once (it closed it again in
/// deinit, as the HTTP test client did; see HTTPConnectionTests).
@Suite(.dedicatedThreads) struct FastCGITestClientTests {
    @Test func aFailedConnectNeverClosesAnotherThreadsDescriptor() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        var refused = 0
        let tally = DescriptorWatch.tally {
            for _ in 0..<3_000 {
                do {
                    _ = try FastCGITestClient(path: folder.path + "/nothing.sock", timeoutSeconds: 1)
                } catch {
                    refused += 1
                }
            }
        }
        #expect(refused == 3_000)
        #expect(tally.opened > 0)
        #expect(tally.lost == 0, "descriptors closed under another thread")
    }
}
