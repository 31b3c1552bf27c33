import Base
import Foundation
import Testing
import TestSupport

@Suite(.dedicatedThreads) struct BlockingPoolTests {
    @Test func runsWorkOnItsOwnThreadsAndReturnsResultsAndErrors() async throws {
        let pool = BlockingPool(threads: 2)
        defer { pool.close() }
        let onMain = await pool.run { Thread.isMainThread }
        #expect(!onMain)
        struct Refused: Error {}
        await #expect(throws: Refused.self) { try await pool.run { () throws(Refused) -> Int in throw Refused() } }
        let sum = try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 1...50 { group.addTask { await pool.run { i } } }
            return try await group.reduce(0, +)
        }
        #expect(sum == 1275)
    }

    @Test func aClosedPoolRunsNothingThroughRunIfOpenAndRunsInlineThroughRun() async throws {
        let pool = BlockingPool(threads: 1)
        pool.close()
        let skipped = await pool.runIfOpen { 1 }
        #expect(skipped == nil)
        let inline = await pool.run { 2 }
        #expect(inline == 2)
    }
}
