import ArgumentParser

/// `masterplan sandbox`: tools for the box generated code runs in.
struct SandboxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Check the box generated code runs in.",
        subcommands: [SandboxCheckCommand.self]
    )
}
