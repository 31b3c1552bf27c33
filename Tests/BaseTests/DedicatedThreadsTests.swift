import Foundation
import Testing
import TestSupport

/// The trait that keeps blocking tests off Swift's cooperative pool (`DedicatedThreadsTrait`).
///
/// Regression: with two cores the pool has two threads; two end-to-end tests blocking on them
/// starved every in-process model server of the run, and generation tests failed with "the
/// provider stopped answering" (a red CI run).
@Suite(.dedicatedThreads) struct DedicatedThreadsTests {
    @Test func aSynchronousTestBodyRunsOnADedicatedThread() {
        #expect(DedicatedThreadsExecutor.isCurrentThreadDedicated())
    }

    @Test func anAsynchronousTestAndItsChildTasksRunOnDedicatedThreads() async {
        try? await Task.sleep(for: .milliseconds(1))
        #expect(DedicatedThreadsExecutor.isCurrentThreadDedicated())
        let names = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<4 { group.addTask { DedicatedThreadsExecutor.isCurrentThreadDedicated() } }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(names == Array(repeating: true, count: 4))
    }

    /// Four child tasks that each block their thread until all four have started: on a pool that
    /// queued a job behind a blocked one (as the cooperative pool does once its threads are taken)
    /// they could never all start, and the waits time out.
    @Test func blockedJobsNeverDelayEachOther() async {
        let started = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let count = 4
        let results = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<count {
                group.addTask {
                    started.signal()
                    return release.wait(timeout: .now() + 20) == .success
                }
            }
            group.addTask {
                for _ in 0..<count where started.wait(timeout: .now() + 20) != .success { return false }
                for _ in 0..<count { release.signal() }
                return true
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results == Array(repeating: true, count: count + 1))
    }
}

/// The trait given twice (on a suite and on its test) takes one turn: with a turn per scope, tests
/// holding the outer turn would wait for inner ones, and once every turn was held nothing ran again
/// (a whole `make test` hung this way when a suite carried the trait twice).
@Suite(.dedicatedThreads) struct DedicatedThreadsNestingTests {
    @Test(.dedicatedThreads, arguments: 0..<(DedicatedThreadsTrait.limit * 3))
    func nestedScopesTakeOneTurn(_ index: Int) {
        #expect(DedicatedThreadsExecutor.isCurrentThreadDedicated())
    }
}
