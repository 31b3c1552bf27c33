import Base
import Foundation

/// When and how long to wait before retrying a provider failure (429, 5xx, connection errors,
/// timeouts): capped exponential backoff with jitter, never shorter than the provider's `retry-after`.
/// Retries are part of one call; they are not attempts of the caller.
///
/// The defaults are the official Anthropic and OpenAI SDKs': 2 retries, 0.5 s doubling up to 8 s, a
/// quarter of jitter, and a `retry-after` of up to 60 s honoured — so a server that refuses the
/// connection is reported in about 1.5 s, and the caller's own attempts (a job's) add their own
/// spacing on top rather than multiplying a long in-call backoff.
public struct RetryPolicy: Sendable {
    /// Retries after the first try; 0 disables retrying.
    public var maxRetries: Int
    /// The wait before the first retry, before jitter.
    public var initialDelay: Duration
    /// The longest wait computed by backoff.
    public var maxDelay: Duration
    /// Growth of the wait per retry.
    public var multiplier: Double
    /// Share of the wait that is random: a wait `d` becomes a uniform draw from `[d·(1−jitter), d]`.
    public var jitter: Double
    /// The longest `retry-after` honoured; a provider asking for more fails the call at once (it is
    /// a quota that waiting inside one call will not fix).
    public var maxRetryAfter: Duration
    /// Waits; tests replace it to record the waits instead of sleeping.
    public var sleep: @Sendable (Duration) async throws -> Void

    public init(maxRetries: Int = 2, initialDelay: Duration = .milliseconds(500), maxDelay: Duration = .seconds(8),
                multiplier: Double = 2, jitter: Double = 0.25, maxRetryAfter: Duration = .seconds(60),
                sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }) {
        precondition(maxRetries >= 0, "maxRetries must not be negative")
        precondition(multiplier >= 1, "multiplier must be at least 1")
        precondition((0...1).contains(jitter), "jitter must be between 0 and 1")
        self.maxRetries = maxRetries
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
        self.multiplier = multiplier
        self.jitter = jitter
        self.maxRetryAfter = maxRetryAfter
        self.sleep = sleep
    }

    public static let `default` = RetryPolicy()

    /// The wait before retry number `retry` (0 for the first retry), at least `retryAfter` when the
    /// provider sent one.
    public func delay(beforeRetry retry: Int, retryAfter: Duration?,
                      using generator: inout some RandomNumberGenerator) -> Duration {
        let initial = initialDelay.inSeconds
        let cap = maxDelay.inSeconds
        let base = min(cap, initial * pow(multiplier, Double(max(0, retry))))
        let drawn = base * (1 - jitter * Double.random(in: 0..<1, using: &generator))
        var wait = drawn
        if let retryAfter { wait = max(wait, retryAfter.inSeconds) }
        return .milliseconds(Int64((wait * 1000).rounded(.up)))
    }

    /// The wait before retry number `retry`, with the system's random numbers.
    public func delay(beforeRetry retry: Int, retryAfter: Duration?) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return delay(beforeRetry: retry, retryAfter: retryAfter, using: &generator)
    }

    /// Reads a `retry-after` header: delta-seconds ("120", also a decimal "1.5") or an HTTP-date
    /// ("Wed, 21 Oct 2015 07:28:00 GMT", RFC 850 or asctime forms). A date in the past means no wait.
    public static func parseRetryAfter(_ value: String, now: Date = Date()) -> Duration? {
        let text = value.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else { return nil }
        if let seconds = Double(text), seconds.isFinite {
            return seconds <= 0 ? .zero : .milliseconds(Int64((seconds * 1000).rounded(.up)))
        }
        for format in httpDateFormats {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = format
            if let date = formatter.date(from: text) {
                let seconds = date.timeIntervalSince(now)
                return seconds <= 0 ? .zero : .milliseconds(Int64((seconds * 1000).rounded(.up)))
            }
        }
        return nil
    }

    /// What to do with an HTTP error answer, as the official SDKs decide it: the server's
    /// `x-should-retry` header wins when present; otherwise 408, 409, 429 and 5xx are retried — except
    /// a 429 that is a spent quota or budget (its error names `insufficient_quota`, a billing or
    /// budget limit) or that gives no hint of a rate limit at all (no `retry-after`, no
    /// `x-ratelimit-*`, no rate-limit error type), which is what gateways answer when a spend cap is
    /// reached and waiting will not fix; and a request too large for the model's context window, which
    /// fails the same way again.
    static func verdict(for failure: ProviderFailure, shouldRetry: Bool?, retryAfter: Duration?,
                        hasRateLimitHeaders: Bool) -> RetryVerdict {
        if failure.isContextWindow { return .contextWindow }
        if failure.isSpentQuota { return .quotaExhausted }
        if let shouldRetry { return shouldRetry ? .retry : .stop }
        switch failure.status {
        case 429:
            let namesRateLimit = failure.searchableText.contains("rate_limit") || failure.searchableText.contains("rate limit")
            return retryAfter != nil || hasRateLimitHeaders || namesRateLimit ? .retry : .quotaExhausted
        case 408, 409, 500...:
            return .retry
        default:
            return .stop
        }
    }

    /// IMF-fixdate, RFC 850 and asctime (RFC 9110 §5.6.7).
    private static let httpDateFormats = ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz",
                                          "EEE MMM d HH:mm:ss yyyy"]
}

/// What `RetryPolicy.verdict` decided about an HTTP error answer.
enum RetryVerdict: Sendable, Hashable {
    /// Wait and send the request again.
    case retry
    /// Fail the call with the provider's answer.
    case stop
    /// Fail the call: the account's quota, credit or spend limit is reached (no retry will help).
    case quotaExhausted
    /// Fail the call: the request does not fit the model's context window.
    case contextWindow
}
