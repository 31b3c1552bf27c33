/// A reviewer's acceptance of one failing acceptance test, with the reason they wrote down.
///
/// A waiver names a test, not a wave or a content: it excuses that test wherever it fails, and a plan
/// completed on it is "accepted with waivers", never verified. An approval is not a waiver; only the
/// `waive` resolution of a review (`ReviewStatus.waived`), which requires a reason, makes one.
public struct TestWaiver: Sendable, Hashable {
    /// The waived test, as `CompletionFacts.TestResult.testID` names it.
    public var testID: String
    /// Why the failing test may be accepted, in the reviewer's words.
    public var reason: String
    /// Who waived it, as the caller names people (a user id, say); PlanCore only echoes it.
    public var waivedBy: String
    /// When, as the caller writes times (ISO 8601 text, say); PlanCore only echoes it.
    public var waivedAt: String

    public init(testID: String, reason: String, waivedBy: String, waivedAt: String) {
        self.testID = testID
        self.reason = reason
        self.waivedBy = waivedBy
        self.waivedAt = waivedAt
    }

    /// Whether the reason says anything: a reason of only whitespace is no reason, and such a waiver
    /// waives nothing.
    public var hasReason: Bool { reason.contains { !$0.isWhitespace } }
}
