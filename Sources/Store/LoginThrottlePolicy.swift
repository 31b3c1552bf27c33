/// When a login may check its password: failed attempts are counted per account and per client
/// address in a sliding window, and once a key has failed `limit` times its next attempt must wait
/// `backoffSeconds` after its latest failure, doubling with every further failure up to
/// `maxBackoffSeconds`. A pure value: `LoginThrottleStore` reads the counts and does what it says.
public struct LoginThrottlePolicy: Sendable, Equatable {
    /// Failures of one account (by email, known or not) in the window before the backoff starts.
    public var accountFailures: Int
    /// Failures from one client address (an IPv6 /64) in the window before the backoff starts.
    public var addressFailures: Int
    /// How far back failures count, in seconds.
    public var windowSeconds: Int
    /// The first wait, in seconds; each further failure doubles it.
    public var backoffSeconds: Int
    /// The longest wait, in seconds (at most `windowSeconds`, or failures would leave the window
    /// while their wait still runs).
    public var maxBackoffSeconds: Int

    public init(accountFailures: Int = 5, addressFailures: Int = 20, windowSeconds: Int = 3600,
                backoffSeconds: Int = 30, maxBackoffSeconds: Int = 900) {
        self.accountFailures = accountFailures
        self.addressFailures = addressFailures
        self.windowSeconds = windowSeconds
        self.backoffSeconds = backoffSeconds
        self.maxBackoffSeconds = maxBackoffSeconds
    }

    /// How long after its latest failure a key that failed `failures` times is closed: 0 below
    /// `limit`, then `backoffSeconds`, doubled for each failure beyond the limit, at most
    /// `maxBackoffSeconds`.
    public func lockSeconds(failures: Int, limit: Int) -> Int {
        guard failures >= limit else { return 0 }
        let doublings = failures - limit
        // 2^40 seconds is beyond any cap; stopping there keeps the shift from overflowing.
        guard doublings < 40 else { return maxBackoffSeconds }
        return min(backoffSeconds << doublings, maxBackoffSeconds)
    }

    /// Whole seconds until `key` lets an attempt through (0: now).
    public func waitSeconds(_ key: LoginFailures, limit: Int) -> Int {
        let lock = lockSeconds(failures: key.count, limit: limit)
        guard lock > 0, let since = key.secondsSinceLatest else { return 0 }
        let remaining = Double(lock) - since
        return remaining > 0 ? Int(remaining.rounded(.up)) : 0
    }

    /// Whether an attempt on `account` from `address` may check its password now; when either key
    /// is closed, the longer of the two waits.
    public func decide(account: LoginFailures, address: LoginFailures) -> LoginThrottleDecision {
        let wait = max(waitSeconds(account, limit: accountFailures), waitSeconds(address, limit: addressFailures))
        return wait > 0 ? .refused(retryAfterSeconds: wait) : .allowed
    }
}

/// The failures of one key (an account or an address) inside the window.
public struct LoginFailures: Sendable, Equatable {
    /// Failed (or still running) attempts inside the window.
    public var count: Int
    /// Seconds since the latest of them; nil when there is none.
    public var secondsSinceLatest: Double?

    public init(count: Int, secondsSinceLatest: Double?) {
        self.count = count
        self.secondsSinceLatest = secondsSinceLatest
    }

    public static let none = LoginFailures(count: 0, secondsSinceLatest: nil)
}

/// What `LoginThrottlePolicy.decide` says about one attempt.
public enum LoginThrottleDecision: Sendable, Equatable {
    case allowed
    /// Not before this many seconds (the `Retry-After` of the 429).
    case refused(retryAfterSeconds: Int)
}
