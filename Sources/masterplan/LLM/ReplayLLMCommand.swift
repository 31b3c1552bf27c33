import ArgumentParser
import Foundation
import LLM
#if canImport(Glibc)
import Glibc
#endif

/// `masterplan replay-llm`: serves a cassette over the OpenAI-compatible API on loopback.
struct ReplayLLMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay-llm",
        abstract: "Serve a recorded or hand-written cassette as an OpenAI-compatible model on loopback (a scripted model, not a real one).",
        discussion: """
        Answers POST /v1/chat/completions (streamed, with a usage chunk when stream_options.include_usage is set) and \
        GET /v1/models, matching cassette entries by the X-MasterPlan-Purpose and X-MasterPlan-Key request headers. \
        Point MasterPlan at it with MASTERPLAN_LLM=openai-compatible:MODEL@http://HOST:PORT/v1. The first line printed is
          replay-llm: listening on http://HOST:PORT/v1 …
        with the real port (--listen 127.0.0.1:0 picks a free one). One line per request goes to standard error. \
        Runs until SIGINT or SIGTERM. The cassette format is described in README.md, "LLM replay cassettes".
        """
    )

    @Option(help: "The cassette file (JSON lines).")
    var cassette: String

    @Option(help: "Loopback address and port to listen on: 127.0.0.1:PORT, [::1]:PORT or localhost:PORT (port 0 picks a free one).")
    var listen = "127.0.0.1:8089"

    @Option(help: "Wait this many milliseconds before each answer whose entry has no delay_ms.")
    var delayMs: Int?

    @Flag(help: "Report usage as a provider with OpenAI's automatic prompt caching would: input and cached tokens computed from each request, output tokens from the entry.")
    var simulatePromptCache = false

    func validate() throws {
        _ = try Self.parseListen(listen)
        if let delayMs, delayMs < 0 { throw ValidationError("--delay-ms must not be negative") }
    }

    /// Splits HOST:PORT (IPv6 in brackets).
    static func parseListen(_ text: String) throws -> (host: String, port: Int) {
        let host: String
        let portText: String
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw ValidationError("--listen \(text): expected [::1]:PORT") }
            portText = String(rest.dropFirst())
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw ValidationError("--listen \(text): expected HOST:PORT, e.g. 127.0.0.1:8089") }
            host = String(text[..<colon])
            portText = String(text[text.index(after: colon)...])
        }
        guard let port = Int(portText), (0...65535).contains(port) else {
            throw ValidationError("--listen \(text): the port must be a number from 0 to 65535")
        }
        guard ReplayServer.isLoopback(host) else {
            throw ValidationError("--listen \(text): replay-llm listens on loopback only (127.0.0.1, another 127.x.y.z, ::1 or localhost)")
        }
        return (host, port)
    }

    func run() throws {
        let loaded: Cassette
        do {
            loaded = try Cassette.load(path: cassette)
        } catch {
            LLMTerminal.standardError("masterplan replay-llm: \(error.message)")
            throw ExitCode(2)
        }
        let (host, port) = try Self.parseListen(listen)
        let delay = delayMs.map { Duration.milliseconds($0) }
        let cassettePath = cassette
        let promptCache = simulatePromptCache ? PromptCacheSimulator(rules: .openAI) : nil
        // SIGINT and SIGTERM close the server; `serve()` then returns and the command exits 0.
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let failure = LLMTerminal.blockingAsync { () async -> String? in
            let server: ReplayServer
            do {
                server = try await ReplayServer.bind(cassette: loaded, host: host, port: port, defaultDelay: delay, promptCache: promptCache) { line in
                    LLMTerminal.standardError("replay-llm: \(line)")
                }
            } catch {
                return "\(error)"
            }
            let stop = StopSignals {
                Task { await server.close() }
            }
            LLMTerminal.standardOutput("replay-llm: listening on \(server.baseURL) (cassette \(cassettePath), \(loaded.entries.count) entries; a scripted model, not a real one"
                + (promptCache == nil ? ")\n" : "; usage from a simulated prompt cache: 1,024-token minimum, 128-token steps, 5 minutes)\n"))
            do {
                try await server.serve()
            } catch {
                await server.close()
                stop.cancel()
                return "\(error)"
            }
            stop.cancel()
            return nil
        }
        if let failure {
            LLMTerminal.standardError("masterplan replay-llm: \(failure)")
            throw ExitCode(1)
        }
        LLMTerminal.standardError("replay-llm: stopped")
    }
}
