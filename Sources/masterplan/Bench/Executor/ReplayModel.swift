import Foundation
import LLM
import Store

/// The replay server answering the plan's atoms and the LLM client the executor talks to it with.
struct ReplayModel: Sendable {
    let server: ReplayServer
    let serving: Task<Void, any Error>
    let client: LLMClient

    static func start(entries: [CassetteEntry], delay: Duration, conninfo: String,
                      promptCache: PromptCacheSimulator? = nil) async throws -> ReplayModel {
        let server = try await ReplayServer.bind(cassette: Cassette(entries: entries), host: "127.0.0.1", port: 0,
                                                 defaultDelay: delay > .zero ? delay : nil, promptCache: promptCache)
        let serving = Task { try await server.serve() }
        let configuration = LLMConfiguration(provider: .openAICompatible, model: "gpt-4.1-mini", baseURL: server.baseURL,
                                             timeouts: LLMTimeouts(connect: .seconds(10), idle: .seconds(60), total: .seconds(300)))
        let client = try LLMClient(configuration: configuration, callLog: PostgresLLMCallLog(conninfo: conninfo), diagnostics: .silent)
        return ReplayModel(server: server, serving: serving, client: client)
    }

    func stop() async throws {
        try await client.shutdown()
        await server.close()
        try await serving.value
    }
}
