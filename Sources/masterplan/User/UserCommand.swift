import ArgumentParser

/// `masterplan user add|list|passwd|disable|enable`: accounts, for sysadmins. Passwords come from standard input
/// (`--password-stdin`, or whenever stdin is not a terminal) or a prompt with echo off — never from
/// the command line, where `ps` and shell history would show them (`PasswordInput`).
struct UserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Add users, list them, set a password, disable or enable them.",
        subcommands: [UserAddCommand.self, UserListCommand.self, UserPasswdCommand.self, UserDisableCommand.self, UserEnableCommand.self]
    )
}
