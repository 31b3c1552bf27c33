/// Estimates the cost and duration of executing a plan from a price table and per-complexity token and
/// latency figures, before anything runs.
///
/// Cost: every atom is expected to take `expectedAttempts` attempts of its complexity's tokens.
/// Duration: each wave is scheduled as the executor runs it — atoms in wave order, each started on the
/// first free slot of `concurrency`, each taking its complexity's latency × `expectedAttempts` — and the
/// waves add up (the wave barrier). Not included: acceptance-test runs, dependency installs, repair
/// rounds and review suggestions, which depend on what happens.
public enum PlanEstimator {
    public static func estimate(_ execution: ExecutionPlan, policy: EstimatePolicy = .default) -> PlanEstimate {
        var input = 0.0, output = 0.0, cached = 0.0
        for atom in execution.atoms {
            let tokens = policy.tokensPerAttempt[atom.complexity]!
            input += Double(tokens.input)
            output += Double(tokens.output)
            cached += Double(tokens.cachedInput)
        }
        let inputTokens = Int((input * policy.expectedAttempts).rounded(.up))
        let outputTokens = Int((output * policy.expectedAttempts).rounded(.up))
        let cachedTokens = Int((cached * policy.expectedAttempts).rounded(.up))
        let calls = Int((Double(execution.atoms.count) * policy.expectedAttempts).rounded(.up))

        var total = Duration.zero
        for wave in execution.waves {
            // The slots keyed by when they next fall free, in milliseconds since the wave began.
            var slots = MinHeap(capacity: policy.concurrency)
            for slot in 0..<policy.concurrency { slots.push(slot, key: 0) }
            var ends = [Int](repeating: 0, count: policy.concurrency)
            var waveEnd = 0
            for atom in wave.atoms {
                let slot = slots.pop()!
                let latency = milliseconds(policy.latencyPerAttempt[execution.atoms[atom].complexity]!)
                ends[slot] += Int((Double(latency) * policy.expectedAttempts).rounded(.up))
                waveEnd = max(waveEnd, ends[slot])
                slots.push(slot, key: ends[slot])
            }
            total += .milliseconds(waveEnd)
        }
        return PlanEstimate(atoms: execution.atoms.count, waves: execution.waves.count, calls: calls,
                            inputTokens: inputTokens, outputTokens: outputTokens, cachedInputTokens: cachedTokens,
                            costUSD: policy.prices.cost(input: inputTokens, output: outputTokens, cachedInput: cachedTokens),
                            duration: total)
    }

    private static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}
