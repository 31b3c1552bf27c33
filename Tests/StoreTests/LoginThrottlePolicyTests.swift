import Store
import Testing
import TestSupport

/// The pure rule of the login throttle: free failures up to the limit, then a doubling wait from the
/// latest failure, capped.
@Suite(.dedicatedThreads) struct LoginThrottlePolicyTests {
    let policy = LoginThrottlePolicy()  // 5 per account, 20 per address, 3600 s window, 30 s doubling to 900 s

    @Test(arguments: [(0, 0), (4, 0), (5, 30), (6, 60), (7, 120), (8, 240), (9, 480), (10, 900), (11, 900), (44, 900),
                      (45, 900), (1_000_000, 900), (Int.max, 900)])
    func theLockDoublesFromTheLimitUpToTheCap(failures: Int, seconds: Int) {
        #expect(policy.lockSeconds(failures: failures, limit: policy.accountFailures) == seconds)
    }

    @Test(arguments: [
        (LoginFailures(count: 4, secondsSinceLatest: 0), 0),
        (LoginFailures(count: 5, secondsSinceLatest: nil), 0),
        (LoginFailures(count: 5, secondsSinceLatest: 0), 30),
        (LoginFailures(count: 5, secondsSinceLatest: 0.2), 30),
        (LoginFailures(count: 5, secondsSinceLatest: 29.01), 1),
        (LoginFailures(count: 5, secondsSinceLatest: 30), 0),
        (LoginFailures(count: 5, secondsSinceLatest: 3000), 0),
        (LoginFailures(count: 7, secondsSinceLatest: 100.5), 20),
        // A clock step between two workers' transactions: never negative, never shorter than the lock.
        (LoginFailures(count: 5, secondsSinceLatest: -2), 32),
    ])
    func theWaitRunsFromTheLatestFailureInWholeSecondsRoundedUp(key: LoginFailures, seconds: Int) {
        #expect(policy.waitSeconds(key, limit: 5) == seconds)
    }

    @Test func eitherKeyCanRefuseAndTheLongerWaitIsAnswered() {
        let quiet = LoginFailures.none
        let lockedAccount = LoginFailures(count: 6, secondsSinceLatest: 10)  // 60 s lock, 50 left
        let busyAddress = LoginFailures(count: 19, secondsSinceLatest: 0)    // below 20
        let lockedAddress = LoginFailures(count: 21, secondsSinceLatest: 1)  // 60 s lock, 59 left
        #expect(policy.decide(account: quiet, address: quiet) == .allowed)
        #expect(policy.decide(account: LoginFailures(count: 4, secondsSinceLatest: 0), address: busyAddress) == .allowed)
        #expect(policy.decide(account: lockedAccount, address: quiet) == .refused(retryAfterSeconds: 50))
        #expect(policy.decide(account: quiet, address: lockedAddress) == .refused(retryAfterSeconds: 59))
        #expect(policy.decide(account: lockedAccount, address: lockedAddress) == .refused(retryAfterSeconds: 59))
    }

    @Test func eachFailureBeyondTheLimitDoublesTheWaitThatFollowsIt() {
        // Failures answered one right after the other's wait: 30, 60, 120, … until the 900 s cap.
        var waits: [Int] = []
        for failures in 5...11 {
            waits.append(policy.waitSeconds(LoginFailures(count: failures, secondsSinceLatest: 0), limit: 5))
        }
        #expect(waits == [30, 60, 120, 240, 480, 900, 900])
    }
}
