import ArgumentParser

/// The one executable: every process and operator tool of MasterPlan is a subcommand.
@main
struct MasterplanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "masterplan",
        abstract: "Turns a plain-language request into a reviewed plan, then executes it with an LLM.",
        subcommands: [
            MigrateCommand.self, PlanCommand.self, BenchCommand.self, ReplayLLMCommand.self, LLMCommand.self,
            ServeCommand.self, ExecutorCommand.self, UserCommand.self, UpCommand.self, SandboxCommand.self,
        ]
    )
}
