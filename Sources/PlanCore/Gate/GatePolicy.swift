/// The thresholds of Gate S, as whole percentages so that the comparison is exact (19 of 20 is 95 %, no rounding).
public struct GatePolicy: Sendable, Hashable {
    /// Share of due MUST tests that must pass; 100 by design.
    public var mustPassPercent: Int
    /// Share of due SHOULD tests that must pass.
    public var shouldPassPercent: Int

    public init(mustPassPercent: Int = 100, shouldPassPercent: Int = 95) {
        precondition((0...100).contains(mustPassPercent) && (0...100).contains(shouldPassPercent), "percentages are 0...100")
        self.mustPassPercent = mustPassPercent
        self.shouldPassPercent = shouldPassPercent
    }

    public static let `default` = GatePolicy()
}
