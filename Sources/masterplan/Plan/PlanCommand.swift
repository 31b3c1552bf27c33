import ArgumentParser

/// `masterplan plan …`: offline tools for plans, with no database or model needed.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Work with plan documents offline.",
        subcommands: [PlanValidateCommand.self]
    )
}
