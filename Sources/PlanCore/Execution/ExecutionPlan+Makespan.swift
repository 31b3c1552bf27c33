extension ExecutionPlan {
    /// The least time the waves can take when at most `concurrency` atoms run at once, every atom takes
    /// at least `latency`, and each wave starts only after the previous one has finished (the wave
    /// barrier, where the executor commits and runs Gate S).
    ///
    /// It is Σ over waves w of ⌈|w| / concurrency⌉ × latency. Inside one wave no more than
    /// `concurrency` atoms overlap, so the wave needs at least ⌈|w| / concurrency⌉ rounds of `latency`;
    /// waves do not overlap, so their times add up. When every atom takes exactly `latency` the greedy
    /// schedule achieves the bound, so it is also the exact duration of that idealised run. It leaves out
    /// the time spent at each barrier (commit, dependency install, tests), retries, and provider back-off,
    /// all of which only add to it.
    public func waveBarrierMakespan(concurrency: Int, latency: Duration) -> Duration {
        precondition(concurrency > 0, "concurrency must be at least 1")
        let rounds = waves.reduce(0) { $0 + ($1.atoms.count + concurrency - 1) / concurrency }
        return latency * rounds
    }

    /// The least time any schedule that respects the dependencies alone could take (no wave barriers):
    /// max(critical path, ⌈atoms / concurrency⌉) × latency. The gap to `waveBarrierMakespan` is the cost
    /// of the barriers.
    public func dependencyMakespanLowerBound(concurrency: Int, latency: Duration) -> Duration {
        precondition(concurrency > 0, "concurrency must be at least 1")
        let rounds = max(criticalPathLength, (atoms.count + concurrency - 1) / concurrency)
        return latency * rounds
    }
}
