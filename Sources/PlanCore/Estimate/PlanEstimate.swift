/// What executing a plan is expected to cost and take, shown before approval and used for the budget.
public struct PlanEstimate: Sendable, Hashable {
    public var atoms: Int
    public var waves: Int
    /// Expected LLM calls for the atoms: atoms × expected attempts, rounded up.
    public var calls: Int
    public var inputTokens: Int
    public var outputTokens: Int
    public var cachedInputTokens: Int
    public var costUSD: Double
    /// Expected wall-clock time of the atoms' generation, waves one after another.
    public var duration: Duration

    public init(atoms: Int, waves: Int, calls: Int, inputTokens: Int, outputTokens: Int, cachedInputTokens: Int, costUSD: Double,
                duration: Duration) {
        self.atoms = atoms
        self.waves = waves
        self.calls = calls
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cachedInputTokens = cachedInputTokens
        self.costUSD = costUSD
        self.duration = duration
    }
}
