import Foundation
@testable import LLM
import Testing
import TestSupport

@Suite(.dedicatedThreads) struct RetryPolicyTests {
    /// A generator that always returns the same value, for exact jitter.
    struct Fixed: RandomNumberGenerator {
        var value: UInt64
        mutating func next() -> UInt64 { value }
    }

    @Test func backoffGrowsAndIsCapped() {
        let policy = RetryPolicy(initialDelay: .seconds(1), maxDelay: .seconds(10), multiplier: 2, jitter: 0)
        var generator = Fixed(value: 0)
        let waits = (0..<6).map { policy.delay(beforeRetry: $0, retryAfter: nil, using: &generator) }
        #expect(waits == [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(10), .seconds(10)])
    }

    @Test func jitterTakesAtMostItsShareOff() {
        let policy = RetryPolicy(initialDelay: .seconds(4), maxDelay: .seconds(60), jitter: 0.25)
        var low = Fixed(value: 0)
        var high = Fixed(value: .max)
        #expect(policy.delay(beforeRetry: 0, retryAfter: nil, using: &low) == .seconds(4))
        let shortest = policy.delay(beforeRetry: 0, retryAfter: nil, using: &high)
        #expect(shortest >= .seconds(3) && shortest < .milliseconds(3010))
        for _ in 0..<200 {
            let wait = policy.delay(beforeRetry: 0, retryAfter: nil)
            #expect(wait >= .seconds(3) && wait <= .seconds(4))
        }
    }

    @Test func retryAfterIsAFloorNotACeiling() {
        let policy = RetryPolicy(initialDelay: .seconds(1), maxDelay: .seconds(60), jitter: 0)
        var generator = Fixed(value: 0)
        #expect(policy.delay(beforeRetry: 0, retryAfter: .seconds(20), using: &generator) == .seconds(20))
        #expect(policy.delay(beforeRetry: 5, retryAfter: .seconds(2), using: &generator) == .seconds(32))
    }

    @Test func parsesRetryAfterSecondsAndDates() throws {
        let now = Date(timeIntervalSince1970: 1_445_412_470) // Wed, 21 Oct 2015 07:27:50 GMT
        #expect(RetryPolicy.parseRetryAfter("120", now: now) == .seconds(120))
        #expect(RetryPolicy.parseRetryAfter(" 1.5 ", now: now) == .milliseconds(1500))
        #expect(RetryPolicy.parseRetryAfter("0", now: now) == .zero)
        #expect(RetryPolicy.parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", now: now) == .seconds(10))
        #expect(RetryPolicy.parseRetryAfter("Wednesday, 21-Oct-15 07:28:00 GMT", now: now) == .seconds(10))
        #expect(RetryPolicy.parseRetryAfter("Wed Oct 21 07:28:00 2015", now: now) == .seconds(10))
        #expect(RetryPolicy.parseRetryAfter("Wed, 21 Oct 2015 07:00:00 GMT", now: now) == .zero)
        #expect(RetryPolicy.parseRetryAfter("soon", now: now) == nil)
        #expect(RetryPolicy.parseRetryAfter("", now: now) == nil)
    }
}
