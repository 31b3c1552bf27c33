import Foundation
import Testing
import TestSupport

/// The command line is an interface sysadmins script against: every command keeps its options, their
/// order and their defaults, whichever file or option group declares them.
@Suite(.dedicatedThreads) struct CommandLineInterfaceTests {
    /// One command and what its `--help` lists: subcommands, arguments (`<name>`) and options, each
    /// option with `=DEFAULT` when the help shows a default.
    struct Listing: Sendable, CustomTestStringConvertible {
        var command: [String]
        var entries: [String]

        var testDescription: String { (["masterplan"] + command).joined(separator: " ") }
    }

    static let listings: [Listing] = [
        Listing(command: [], entries: ["--help", "migrate", "plan", "bench", "replay-llm", "llm", "serve", "executor", "user", "up", "sandbox"]),
        Listing(command: ["migrate"], entries: ["--database-url", "--migrations", "--check", "--help"]),
        Listing(command: ["plan"], entries: ["--help", "validate"]),
        Listing(command: ["plan", "validate"], entries: ["<file>", "--max-tasks=2000", "--concurrency=4", "--input-price=3.0",
                                                         "--output-price=15.0", "--cached-price=0.3", "--help"]),
        Listing(command: ["bench"], entries: ["--help", "plancore", "json", "api", "executor", "cache"]),
        Listing(command: ["bench", "plancore"], entries: ["--tasks=1000", "--subtasks-per-task=5", "--repetitions=15", "--seed=42",
                                                          "--compact", "--help"]),
        Listing(command: ["bench", "json"], entries: ["--tasks=1000", "--repetitions=15", "--help"]),
        Listing(command: ["bench", "api"], entries: ["--tasks=120", "--workers=4", "--connections=16", "--seconds=5.0", "--streams=1000",
                                                     "--events=200", "--nginx-workers", "--database-url", "--nginx-dir", "--serve-binary",
                                                     "--help"]),
        Listing(command: ["bench", "executor"], entries: ["--atoms=800", "--delay-ms=50", "--concurrency=100", "--overhead-concurrency=1,100",
                                                          "--cpu-slots", "--jobs=4", "--file-characters=1000", "--chunk-characters",
                                                          "--workspace-sync/--no-workspace-sync=--no-workspace-sync", "--seed=42", "--timeout=600.0", "--profile",
                                                          "--database-url", "--keep-folder", "--help"]),
        Listing(command: ["bench", "cache"], entries: ["--tasks=120", "--seed=42", "--timeout=900.0", "--database-url", "--keep-folder",
                                                       "--help"]),
        Listing(command: ["replay-llm"], entries: ["--cassette", "--listen=127.0.0.1:8089", "--delay-ms", "--simulate-prompt-cache", "--help"]),
        Listing(command: ["llm"], entries: ["--help", "ask"]),
        Listing(command: ["llm", "ask"], entries: ["<prompt>", "--system=You are a helpful assistant. Answer briefly.", "--max-tokens=1024",
                                                   "--temperature=0.2", "--purpose=chat", "--key=llm-ask", "--json-schema", "--database-url",
                                                   "--help"]),
        Listing(command: ["serve"], entries: ["--help", "api", "events"]),
        Listing(command: ["serve", "api"], entries: ["--socket", "--workers=4", "--max-requests=1000", "--graceful-timeout=30",
                                                     "--token-lifetime=3600", "--database-url", "--migrations", "--help"]),
        Listing(command: ["serve", "events"], entries: ["--socket", "--heartbeat=15", "--retry=3000", "--replay-connections=4",
                                                        "--max-streams=10000", "--database-url", "--help"]),
        Listing(command: ["executor"], entries: ["--database-url", "--data-dir", "--concurrency", "--cpu-slots", "--jobs=4", "--lease=30",
                                                 "--poll=2", "--repair-rounds=2", "--help"]),
        Listing(command: ["user"], entries: ["--help", "add", "list", "passwd", "disable", "enable"]),
        Listing(command: ["user", "add"], entries: ["<email>", "--role=member", "--name", "--password-stdin", "--database-url", "--help"]),
        Listing(command: ["user", "list"], entries: ["--database-url", "--help"]),
        Listing(command: ["user", "passwd"], entries: ["<email>", "--password-stdin", "--database-url", "--help"]),
        Listing(command: ["user", "disable"], entries: ["<email>", "--database-url", "--help"]),
        Listing(command: ["user", "enable"], entries: ["<email>", "--database-url", "--help"]),
        Listing(command: ["up"], entries: ["--port=8080", "--data-dir", "--workers=2", "--admin-email=admin@localhost", "--demo-cassette",
                                           "--ready-timeout=120", "--no-nginx", "--help"]),
        Listing(command: ["sandbox"], entries: ["--help", "check"]),
        Listing(command: ["sandbox", "check"], entries: ["--data-dir", "--skip-port", "--help"]),
    ]

    @Test(arguments: listings)
    func everyCommandKeepsItsOptionsInOrderWithTheirDefaults(_ listing: Listing) throws {
        let outcome = try MasterplanBinary.run(listing.command + ["--help"])
        #expect(outcome.status == 0, "\(outcome.output)")
        #expect(Self.entries(ofHelp: outcome.output) == listing.entries, "\(outcome.output)")
    }

    /// `--database-url` is declared once for the commands that work on the database, so it says the
    /// same everywhere; the benches' and `llm ask`'s differ on purpose (a private cluster, an optional log).
    @Test func theDatabaseOptionSaysTheSameInEveryCommandThatNeedsTheDatabase() throws {
        let commands = [["migrate"], ["serve", "api"], ["serve", "events"], ["executor"],
                        ["user", "add"], ["user", "list"], ["user", "passwd"], ["user", "disable"], ["user", "enable"]]
        var texts = Set<String>()
        for command in commands {
            let help = try MasterplanBinary.run(command + ["--help"]).output
            texts.insert(try #require(Self.text(of: "--database-url", inHelp: help), "\(command): \(help)"))
        }
        #expect(texts == ["libpq conninfo or URL (default: $MASTERPLAN_DATABASE_URL)."])
    }

    /// What the help's ARGUMENTS, OPTIONS and SUBCOMMANDS sections list, in order; an entry's default
    /// (ArgumentParser's "(default: …)" at the end of its text) follows its name after `=`.
    static func entries(ofHelp help: String) -> [String] {
        sections(ofHelp: help).map { name, text in
            guard text.hasSuffix(")"), let open = text.range(of: "(default: ", options: .backwards) else { return name }
            let value = text[open.upperBound..<text.index(before: text.endIndex)]
            return value.contains("(") || value.contains(")") ? name : name + "=" + value
        }
    }

    /// The text of one entry of the help, whitespace collapsed.
    static func text(of name: String, inHelp help: String) -> String? {
        sections(ofHelp: help).first { $0.name == name }?.text
    }

    static func sections(ofHelp help: String) -> [(name: String, text: String)] {
        var entries: [(name: String, text: String)] = []
        var listing = false
        for line in help.split(separator: "\n", omittingEmptySubsequences: false) {
            if let first = line.first, first.isUppercase, let colon = line.firstIndex(of: ":") {
                listing = ["ARGUMENTS", "OPTIONS", "SUBCOMMANDS"].contains(String(line[..<colon]))
                continue
            }
            guard listing else { continue }
            if line.hasPrefix("  ") && !line.hasPrefix("   ") {
                var words = line.split(separator: " ")
                if words.first == "-h," { words.removeFirst() }
                // A closing sentence ("See 'masterplan help …'") is not an entry.
                guard let name = words.first, name.first?.isUppercase == false else { continue }
                var text = words.dropFirst()
                if let value = text.first, value.hasPrefix("<"), name.hasPrefix("-") { text = text.dropFirst() }  // `--tasks <tasks>`
                entries.append((String(name), text.joined(separator: " ")))
            } else if line.hasPrefix("   "), !entries.isEmpty {
                let more = line.split(separator: " ").joined(separator: " ")
                entries[entries.count - 1].text += entries[entries.count - 1].text.isEmpty ? more : " " + more
            }
        }
        return entries
    }
}
