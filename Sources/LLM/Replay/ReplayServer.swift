import Foundation
import JSON
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// `masterplan replay-llm`: an OpenAI-compatible HTTP/1.1 server on loopback that answers from a
/// cassette, so tests and the offline demo go through the same client code as a real model.
///
/// Routes: `POST /v1/chat/completions` (streamed as `chat.completion.chunk` events ending with `data:
/// [DONE]`, with a usage chunk when `stream_options.include_usage` is set, or one `chat.completion`
/// object when `stream` is false) and `GET /v1/models`; the same paths without `/v1` work too. A
/// request names its cassette entry with the `X-MasterPlan-Purpose` and `X-MasterPlan-Key` headers
/// (which `LLMClient` sends), or with `metadata.masterplan_purpose` / `metadata.masterplan_key` in the body.
///
/// With a `PromptCacheSimulator` the usage an answer reports is computed from the request as a provider
/// would: every prompt token as input, the prefix found in the simulated cache as cached tokens, and
/// the entry's output tokens.
public final class ReplayServer: Sendable {
    /// The address the server listens on (the real port when 0 was asked for).
    public let host: String
    public let port: Int
    private let serverChannel: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>
    private let matcher: Mutex<CassetteMatcher>
    private let models: [String]
    private let defaultDelay: Duration?
    private let log: @Sendable (String) -> Void
    private let connections = Mutex<[ObjectIdentifier: any Channel]>([:])
    private let counter = Atomic<Int>(0)
    private let promptCache: PromptCacheSimulator?
    /// The same rules over each prompt's instructions alone (tools, schema, system message): what a
    /// layout that repeats only its instructions from call to call could read from the cache.
    private let instructionCache: PromptCacheSimulator?
    private let started = ContinuousClock.now
    private let cacheTotals = Mutex<[String: PromptCacheSimulator.Totals]>([:])

    /// A response header marking every answer as scripted, so clients can label it.
    public static let scriptedHeader = "x-masterplan-scripted"

    /// The base URL clients use: `http://HOST:PORT/v1`.
    public var baseURL: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "http://\(shownHost):\(port)/v1"
    }

    /// Binds to a loopback address (127.0.0.0/8, ::1 or localhost); any other address is refused.
    /// Port 0 picks a free port. Call `serve()` to answer requests and `close()` to stop.
    /// With `promptCache`, answers report the usage a provider with that cache would (see the type's comment).
    public static func bind(cassette: Cassette, host: String = "127.0.0.1", port: Int = 0, defaultDelay: Duration? = nil,
                            promptCache: PromptCacheSimulator? = nil,
                            log: @escaping @Sendable (String) -> Void = { _ in }) async throws -> ReplayServer {
        guard isLoopback(host) else {
            throw ReplayServerError(message: "replay-llm listens on loopback only: \(host) is not 127.0.0.1, another 127.x.y.z address, ::1 or localhost")
        }
        guard (0...65535).contains(port) else { throw ReplayServerError(message: "port \(port) is not between 0 and 65535") }
        let channel: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>
        do {
            channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .bind(host: host == "localhost" ? "127.0.0.1" : host, port: port) { child in
                    child.eventLoop.makeCompletedFuture {
                        try child.pipeline.syncOperations.configureHTTPServerPipeline()
                        return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: child)
                    }
                }
        } catch {
            throw ReplayServerError(message: "cannot listen on \(host):\(port): \(error)")
        }
        let address = channel.channel.localAddress
        return ReplayServer(channel: channel, host: address?.ipAddress ?? host, port: address?.port ?? port,
                            cassette: cassette, defaultDelay: defaultDelay, promptCache: promptCache, log: log)
    }

    private init(channel: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>, host: String,
                 port: Int, cassette: Cassette, defaultDelay: Duration?, promptCache: PromptCacheSimulator?,
                 log: @escaping @Sendable (String) -> Void) {
        serverChannel = channel
        self.host = host
        self.port = port
        let matcher = CassetteMatcher(cassette)
        models = matcher.models.isEmpty ? ["replay"] : matcher.models
        self.matcher = Mutex(matcher)
        self.defaultDelay = defaultDelay
        self.promptCache = promptCache
        instructionCache = promptCache.map { PromptCacheSimulator(rules: $0.rules) }
        self.log = log
    }

    /// With a prompt cache: the answered requests' prompt and cached tokens so far, by purpose.
    public func promptCacheTotals() -> [String: PromptCacheSimulator.Totals] {
        cacheTotals.withLock { $0 }
    }

    /// True for 127.0.0.0/8, ::1 and localhost.
    public static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host == "::1" || host == "[::1]" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts.allSatisfy({ UInt8($0) != nil }) else { return false }
        return parts[0] == "127"
    }

    /// Answers requests until `close()`.
    public func serve() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            try await serverChannel.executeThenClose { inbound in
                for try await connection in inbound {
                    group.addTask { await self.handle(connection) }
                }
            }
        }
    }

    /// Stops listening and closes every open connection; `serve()` then returns.
    public func close() async {
        try? await serverChannel.channel.close()
        let open = connections.withLock { Array($0.values) }
        for channel in open { try? await channel.close() }
    }

    // MARK: - Connections

    private typealias Outbound = NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>

    /// Requests bodies above this are refused (413).
    private static let maxRequestBody = 64 << 20

    private func handle(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async {
        let id = ObjectIdentifier(connection.channel)
        connections.withLock { $0[id] = connection.channel }
        defer { _ = connections.withLock { $0.removeValue(forKey: id) } }
        try? await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            var body = ByteBuffer()
            var tooLarge = false
            for try await part in inbound {
                switch part {
                case .head(let requestHead):
                    head = requestHead
                    body.clear()
                    tooLarge = false
                case .body(var chunk):
                    if body.readableBytes + chunk.readableBytes > Self.maxRequestBody { tooLarge = true } else { body.writeBuffer(&chunk) }
                case .end:
                    guard let requestHead = head else { continue }
                    head = nil
                    let keepAlive = requestHead.isKeepAlive
                    if tooLarge {
                        try await sendError(413, "the request body is larger than \(Self.maxRequestBody) bytes", type: "invalid_request_error",
                                            keepAlive: false, outbound)
                        return
                    }
                    try await respond(to: requestHead, body: Array(body.readableBytesView), keepAlive: keepAlive, outbound)
                    if !keepAlive { return }
                }
            }
        }
    }

    private func respond(to head: HTTPRequestHead, body: [UInt8], keepAlive: Bool, _ outbound: Outbound) async throws {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        switch (head.method, path) {
        case (.GET, "/v1/models"), (.GET, "/models"):
            let list: JSONValue = ["object": "list", "data": .array(models.map {
                ["id": .string($0), "object": "model", "created": 0, "owned_by": "masterplan-replay"]
            })]
            try await sendJSON(200, list, keepAlive: keepAlive, outbound)
        case (.POST, "/v1/chat/completions"), (.POST, "/chat/completions"):
            try await completion(head: head, body: body, keepAlive: keepAlive, outbound)
        case (_, "/v1/chat/completions"), (_, "/chat/completions"), (_, "/v1/models"), (_, "/models"):
            try await sendError(405, "\(head.method.rawValue) is not allowed on \(path)", type: "invalid_request_error",
                                keepAlive: keepAlive, outbound)
        default:
            try await sendError(404, "replay-llm serves POST /v1/chat/completions and GET /v1/models, not \(head.method.rawValue) \(path)",
                                type: "invalid_request_error", keepAlive: keepAlive, outbound)
        }
    }

    private func completion(head: HTTPRequestHead, body: [UInt8], keepAlive: Bool, _ outbound: Outbound) async throws {
        let request: JSONValue
        do {
            request = try JSONValue.parse(body)
        } catch {
            try await sendError(400, "the request body is not JSON: \(error)", type: "invalid_request_error", keepAlive: keepAlive, outbound)
            return
        }
        let metadata = request["metadata"]
        let purpose = head.headers.first(name: OpenAIWire.purposeHeader) ?? metadata?["masterplan_purpose"]?.stringValue
        let key = head.headers.first(name: OpenAIWire.keyHeader).map(OpenAIWire.headerDecoded)
            ?? metadata?["masterplan_key"]?.stringValue ?? ""
        guard let purpose, !purpose.isEmpty else {
            try await sendError(400, "replay-llm matches cassette entries by purpose and key: send the headers \(OpenAIWire.purposeHeader) and \(OpenAIWire.keyHeader) (or metadata.masterplan_purpose and metadata.masterplan_key in the body)",
                                type: "invalid_request_error", keepAlive: keepAlive, outbound)
            return
        }
        let stream = request["stream"]?.boolValue ?? false
        let includeUsage = request["stream_options"]?["include_usage"]?.boolValue ?? false
        let requestedModel = request["model"]?.stringValue ?? "replay"
        let match = matcher.withLock { $0.next(purpose: purpose, key: key) }
        let number = counter.add(1, ordering: .relaxed).newValue
        switch match {
        case .miss(let message):
            log("request \(number): purpose=\(purpose) key=\(key) → no entry (404)")
            try await sendError(404, message, type: "invalid_request_error", code: "cassette_miss", keepAlive: keepAlive, outbound)
        case .entry(let entry):
            // The prompt is read (and cached) when it arrives, as a provider does before it answers;
            // a scripted error is refused before any prompt processing.
            let promptUsage = entry.error == nil ? simulatePromptCache(request, purpose: purpose, model: requestedModel) : nil
            log("request \(number): purpose=\(purpose) key=\(key) → cassette line \(entry.line)"
                + (entry.error.map { " (scripted HTTP \($0.status))" } ?? (stream ? " (stream)" : ""))
                + (promptUsage.map { ", prompt \($0.promptTokens) tokens, \($0.cachedTokens) cached" } ?? ""))
            if let delay = entry.delay ?? defaultDelay, delay > .zero { try await Task.sleep(for: delay) }
            if let scripted = entry.error {
                var extra: [(String, String)] = []
                if let retryAfter = scripted.retryAfter { extra.append(("retry-after", retryAfter)) }
                try await sendError(scripted.status, scripted.message, type: scripted.type ?? "scripted_error",
                                    keepAlive: keepAlive, extraHeaders: extra, outbound)
                return
            }
            let answer = ReplayAnswer(id: "chatcmpl-replay-\(number)", created: Int(Date().timeIntervalSince1970),
                                      model: entry.model ?? requestedModel, entry: entry, promptUsage: promptUsage)
            if stream {
                try await sendStream(answer, includeUsage: includeUsage, keepAlive: keepAlive, outbound)
            } else {
                try await sendJSON(200, answer.completionObject, keepAlive: keepAlive, outbound)
            }
        }
    }

    /// The request's prompt through the simulated cache (nil without one), counted in the totals.
    private func simulatePromptCache(_ request: JSONValue, purpose: String, model: String) -> PromptCacheSimulator.Usage? {
        guard let promptCache, let instructionCache else { return nil }
        let now = ContinuousClock.now - started
        let prompt = PromptCacheSimulator.promptBytes(ofChatCompletion: request)
        let usage = promptCache.process(prompt.bytes, model: model, at: now)
        let instructions = instructionCache.process(Array(prompt.bytes[..<prompt.instructions]), model: model, at: now)
        cacheTotals.withLock { totals in
            totals[purpose, default: PromptCacheSimulator.Totals()].add(usage, instructionsOnlyCached: instructions.cachedTokens)
        }
        return usage
    }

    // MARK: - Writing

    private func responseHead(_ status: Int, contentType: String, length: Int?, keepAlive: Bool,
                              extra: [(String, String)] = []) -> HTTPResponseHead {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: contentType)
        if let length { headers.add(name: "content-length", value: String(length)) }
        headers.add(name: "connection", value: keepAlive ? "keep-alive" : "close")
        headers.add(name: "x-request-id", value: "replay-\(counter.load(ordering: .relaxed))")
        headers.add(name: Self.scriptedHeader, value: "true")
        for (name, value) in extra { headers.add(name: name, value: value) }
        return HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: headers)
    }

    private func sendJSON(_ status: Int, _ value: JSONValue, keepAlive: Bool, extraHeaders: [(String, String)] = [],
                          _ outbound: Outbound) async throws {
        let bytes = (try? value.serializedBytes()) ?? Array(value.jsonText.utf8)
        try await outbound.write(.head(responseHead(status, contentType: "application/json", length: bytes.count,
                                                    keepAlive: keepAlive, extra: extraHeaders)))
        try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: bytes))))
        try await outbound.write(.end(nil))
    }

    private func sendError(_ status: Int, _ message: String, type: String, code: String? = nil, keepAlive: Bool,
                           extraHeaders: [(String, String)] = [], _ outbound: Outbound) async throws {
        let body: JSONValue = ["error": ["message": .string(message), "type": .string(type), "param": nil,
                                         "code": code.map(JSONValue.string) ?? .null]]
        try await sendJSON(status, body, keepAlive: keepAlive, extraHeaders: extraHeaders, outbound)
    }

    private func sendStream(_ answer: ReplayAnswer, includeUsage: Bool, keepAlive: Bool, _ outbound: Outbound) async throws {
        var headers = [("cache-control", "no-cache")]
        headers.append(("x-accel-buffering", "no"))
        try await outbound.write(.head(responseHead(200, contentType: "text/event-stream; charset=utf-8", length: nil,
                                                    keepAlive: keepAlive, extra: headers)))
        // One write per event, as a model server flushes each token: clients see a real stream.
        for event in answer.streamEvents(includeUsage: includeUsage) {
            try await outbound.write(.body(.byteBuffer(event)))
        }
        try await outbound.write(.end(nil))
    }
}

/// A listening problem (a non-loopback address, a port in use).
public struct ReplayServerError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
