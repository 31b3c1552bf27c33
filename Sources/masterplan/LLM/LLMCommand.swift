import ArgumentParser

/// `masterplan llm …`: operator tools for the configured model.
struct LLMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "llm",
        abstract: "Talk to the configured model (MASTERPLAN_LLM).",
        subcommands: [LLMAskCommand.self]
    )
}
