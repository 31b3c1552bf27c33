import ArgumentParser

/// `masterplan bench …`: speed figures for the parts that have targets; prints numbers, asserts nothing.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the speed of MasterPlan's parts and print the figures.",
        subcommands: [BenchPlanCoreCommand.self, BenchJSONCommand.self, BenchAPICommand.self, BenchExecutorCommand.self, BenchCacheCommand.self]
    )
}
