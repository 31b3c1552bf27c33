import Foundation

/// When and how long to wait before retrying a provider failure (429, 5xx, connection errors,
/// timeouts): capped exponential backoff with jitter, never shorter than the provider's `retry-after`.
/// Retries are part of one call; they are not attempts of the caller.
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

    public init(maxRetries: Int = 6, initialDelay: Duration = .seconds(1), maxDelay: Duration = .seconds(60),
                multiplier: Double = 2, jitter: Double = 0.25, maxRetryAfter: Duration = .seconds(300),
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
        let initial = initialDelay.seconds
        let cap = maxDelay.seconds
        let base = min(cap, initial * pow(multiplier, Double(max(0, retry))))
        let drawn = base * (1 - jitter * Double.random(in: 0..<1, using: &generator))
        var wait = drawn
        if let retryAfter { wait = max(wait, retryAfter.seconds) }
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

    /// IMF-fixdate, RFC 850 and asctime (RFC 9110 §5.6.7).
    private static let httpDateFormats = ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz",
                                          "EEE MMM d HH:mm:ss yyyy"]
}

extension Duration {
    /// The duration in seconds, as a Double.
    var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) / 1e18
    }
}
