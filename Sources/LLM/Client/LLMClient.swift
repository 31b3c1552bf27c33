import AsyncHTTPClient
import Base
import Foundation
import JSON
import NIOCore
import NIOHTTP1

/// The executor's only way to a model: one request in, a stream of text deltas out, ending in a
/// result with tokens, cost and latency; every call (success or failure) leaves one `llm_calls` row
/// when a call log is given, and one cassette line when recording.
///
/// Provider failures (rate-limit 429s, 5xx, connection errors, timeouts) are retried inside the call
/// with the configured backoff, honouring `retry-after` and `x-should-retry` (`RetryPolicy.verdict`);
/// other 4xx, a spent quota and a request too large for the context window fail at once with the
/// provider's message. An answer that stops before the provider said it was complete is an error,
/// never a short answer; a structured answer that is not one document following the request's schema
/// is an error too (`.invalidAnswer`, carrying the answer). A provider that reports no usage gets its
/// tokens estimated from the text, marked as estimated.
///
/// The client owns an HTTP connection pool: call `shutdown()` when done with it.
public final class LLMClient: Sendable {
    public let configuration: LLMConfiguration
    public let prices: LLMPriceTable
    private let http: HTTPClient
    private let wire: any ProviderWire
    private let memory = WireMemory()
    private let callLog: (any LLMCallLog)?
    private let recorder: CassetteRecorder?
    private let diagnostics: Logger

    /// - Parameters:
    ///   - prices: the price table; the bundled one (overlaid by `configuration.pricesPath`) when nil.
    ///   - callLog: where `llm_calls` rows go; none when nil.
    public init(configuration: LLMConfiguration, prices: LLMPriceTable? = nil, callLog: (any LLMCallLog)? = nil,
                diagnostics: Logger = .standardError) throws {
        var table = try prices ?? LLMPriceTable.bundled()
        if let path = configuration.pricesPath { table = table.overlaid(with: try LLMPriceTable(contentsOf: path)) }
        self.configuration = configuration
        self.prices = table
        self.callLog = callLog
        self.recorder = configuration.recordPath.map(CassetteRecorder.init(path:))
        self.diagnostics = diagnostics
        switch configuration.provider {
        case .anthropic:
            wire = AnthropicWire(baseURL: configuration.baseURL, apiKey: configuration.apiKey, model: configuration.model)
        case .openai, .openAICompatible:
            wire = OpenAIWire(provider: configuration.provider, baseURL: configuration.baseURL, apiKey: configuration.apiKey)
        }
        var httpConfiguration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .milliseconds(max(0, configuration.timeouts.connect.wholeMilliseconds)),
                           read: .milliseconds(max(0, configuration.timeouts.idle.wholeMilliseconds))))
        httpConfiguration.decompression = .disabled
        // The library's default of 8 connections per host would cap the calls in flight at 8 whatever
        // MASTERPLAN_CONCURRENCY says (measured with `masterplan bench executor`); a model server is
        // one host, so allow as many connections as the executor may have calls.
        httpConfiguration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 1_000)
        // The library would otherwise keep retrying a refused connection until the connect timeout
        // (10 s a try, 31 s measured for a call to a port nothing listens on); the retry policy
        // retries connection failures itself, with its own short backoff.
        httpConfiguration.connectionPool.retryConnectionEstablishment = false
        http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: httpConfiguration)
    }

    /// Closes the connection pool. The client must not be used afterwards.
    public func shutdown() async throws {
        try await http.shutdown()
    }

    /// Runs a call: `.text` events as the answer streams, then one `.completed` with the result. The
    /// stream throws an `LLMError` on failure; cancelling the consuming task cancels the call (recorded
    /// as `cancelled`).
    public func stream(_ request: LLMRequest, attribution: LLMAttribution = .none)
        -> AsyncThrowingStream<LLMStreamEvent, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                await self.run(request, attribution: attribution) { event in continuation.yield(event) } finish: { error in
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { reason in
                if case .cancelled = reason { task.cancel() }
            }
        }
    }

    /// Runs a call to its end and returns the result; `onText` sees each piece as it arrives.
    public func complete(_ request: LLMRequest, attribution: LLMAttribution = .none,
                         onText: (@Sendable (String) -> Void)? = nil) async throws(LLMError) -> LLMResult {
        let box = ResultBox()
        await run(request, attribution: attribution) { event in
            switch event {
            case .text(let piece): onText?(piece)
            case .completed(let result): box.result = result
            }
        } finish: { error in
            box.error = error
        }
        if let error = box.error { throw error }
        guard let result = box.result else {
            throw LLMError(kind: .cancelled, message: "the call ended without a result", provider: configuration.provider,
                           model: configuration.model)
        }
        return result
    }

    /// Holds the outcome of `complete`; written only by the awaited `run`, before it returns.
    private final class ResultBox: @unchecked Sendable {
        // @unchecked Sendable: `run` calls its closures sequentially and returns before `complete`
        // reads the box, so there is never concurrent access.
        var result: LLMResult?
        var error: LLMError?
    }

    // MARK: - The call

    /// What one call has done so far.
    private struct Progress {
        var retries = 0
        var delivered = false
        var text = ""
        var usage = LLMUsage.unknown
        var requestID: String?
        var scripted = false
        var options: WireOptions
    }

    private func run(_ request: LLMRequest, attribution: LLMAttribution,
                     emit: @Sendable (LLMStreamEvent) -> Void, finish: @Sendable (LLMError?) -> Void) async {
        let clock = ContinuousClock()
        let started = clock.now
        let structured = request.jsonSchema != nil
        let initial = await memory.options(structured: structured) ?? wire.initialOptions(structured: structured)
        var progress = Progress(options: initial)
        do throws(LLMError) {
            let outcome = try await perform(request, progress: &progress, emit: emit,
                                            deadline: started + configuration.timeouts.total)
            let model = outcome.model ?? configuration.model
            let text = progress.text
            let usage = outcome.usage.filledByEstimate(prompt: Self.promptText(of: request), answer: text)
            let (cost, note) = costOf(usage, model: model)
            let result = LLMResult(text: text, stopReason: outcome.stopReason, usage: usage, costUSD: cost,
                                   costNote: note, latency: clock.now - started, model: model, provider: configuration.provider,
                                   providerRequestID: progress.requestID, retries: progress.retries,
                                   structuredMode: structured ? progress.options.structuredMode : nil,
                                   isScripted: progress.scripted)
            await memory.remember(progress.options, structured: structured)
            if let schema = request.jsonSchema {
                let violations = StructuredAnswerCheck.violations(of: text, against: schema)
                if !violations.isEmpty {
                    throw LLMError(kind: .invalidAnswer,
                                   message: "the structured answer does not follow its schema: " + violations.prefix(3).joined(separator: "; ")
                                       + (violations.count > 3 ? " (and \(violations.count - 3) more)" : ""),
                                   provider: configuration.provider, model: model, retries: progress.retries, usage: usage,
                                   partialAnswerDelivered: progress.delivered, answer: result, violations: violations)
                }
            }
            if let note {
                diagnostics.warning("llm cost unknown", ["model": model, "provider": configuration.provider.rawValue,
                                                         "purpose": request.purpose.rawValue, "reason": note])
            }
            await log(request, attribution: attribution, record: LLMCallRecord(
                ownerID: attribution.ownerID, planID: attribution.planID, jobID: attribution.jobID,
                conversationID: attribution.conversationID, purpose: request.purpose.rawValue,
                provider: configuration.provider.rawValue, model: model, inputTokens: result.usage.inputTokens,
                outputTokens: result.usage.outputTokens, cachedTokens: result.usage.cachedInputTokens, costUSD: cost,
                usageEstimated: result.usage.isEstimated, latencyMilliseconds: result.latencyMilliseconds, status: .ok,
                providerRequestID: progress.requestID))
            if let recorder {
                do {
                    try recorder.record(request, result: result)
                } catch {
                    diagnostics.warning("llm cassette not written", ["path": recorder.path, "error": "\(error)"])
                }
            }
            emit(.completed(result))
            finish(nil)
        } catch {
            let latency = clock.now - started
            let model = error.answer?.model ?? configuration.model
            let cost = error.answer?.costUSD ?? (prices.price(for: model) ?? prices.price(for: configuration.model))?.cost(of: error.usage)
            await log(request, attribution: attribution, record: LLMCallRecord(
                ownerID: attribution.ownerID, planID: attribution.planID, jobID: attribution.jobID,
                conversationID: attribution.conversationID, purpose: request.purpose.rawValue,
                provider: configuration.provider.rawValue, model: model, inputTokens: error.usage.inputTokens,
                outputTokens: error.usage.outputTokens, cachedTokens: error.usage.cachedInputTokens,
                costUSD: cost, usageEstimated: error.usage.isEstimated, latencyMilliseconds: Int(max(0, latency.wholeMilliseconds)),
                status: error.callStatus, error: error.description, providerRequestID: progress.requestID))
            if let answer = error.answer, let recorder {
                do {
                    try recorder.record(request, result: answer)
                } catch {
                    diagnostics.warning("llm cassette not written", ["path": recorder.path, "error": "\(error)"])
                }
            }
            finish(error)
        }
    }

    /// Everything a call sends the model as text, for estimating its input tokens when the provider
    /// reports none: system, shared context, messages, and the schema.
    static func promptText(of request: LLMRequest) -> String {
        var text = request.system + request.sharedContext
        for message in request.messages { text += message.content }
        if let schema = request.jsonSchema { text += schema.jsonText }
        return text
    }

    private func costOf(_ usage: LLMUsage, model: String) -> (Double?, String?) {
        guard let price = prices.price(for: model) ?? prices.price(for: configuration.model) else {
            return (nil, "model \(model) is not in the price table")
        }
        guard let cost = price.cost(of: usage) else {
            return (nil, "the provider reported no token counts")
        }
        return (cost, nil)
    }

    private func log(_ request: LLMRequest, attribution: LLMAttribution, record: LLMCallRecord) async {
        guard let callLog else { return }
        do {
            let inserted = try await callLog.record(record)
            // Unknown token counts are normal for some servers; an unknown price is for the operator
            // to fix (MASTERPLAN_LLM_PRICES), so only that one warns.
            if inserted.unknownColumns.contains("cost_usd") {
                diagnostics.warning("llm_calls row has no cost: the model is not in the price table", [
                    "id": inserted.id.uuidString.lowercased(), "columns": inserted.unknownColumns.joined(separator: ","),
                    "model": record.model, "purpose": record.purpose])
            }
        } catch {
            diagnostics.warning("llm_calls row not written", ["purpose": request.purpose.rawValue, "model": record.model,
                                                              "error": "\(error)"])
        }
    }

    /// Tries, adjusts and retries until the call succeeds or fails for good.
    private func perform(_ request: LLMRequest, progress: inout Progress, emit: @Sendable (LLMStreamEvent) -> Void,
                         deadline: ContinuousClock.Instant) async throws(LLMError) -> WireOutcome {
        var tried: Set<WireOptions> = [progress.options]
        let policy = configuration.retry
        while true {
            if Task.isCancelled { throw failure(.cancelled, "the call was cancelled", progress) }
            let failureOfAttempt: AttemptFailure
            do {
                return try await attempt(request, progress: &progress, emit: emit, deadline: deadline)
            } catch {
                failureOfAttempt = error
            }
            var retryAfter: Duration?
            switch failureOfAttempt {
            case .cancelled:
                throw failure(.cancelled, "the call was cancelled", progress)
            case .encoding(let message):
                throw failure(.malformedStream, message, progress)
            case .status(let providerFailure, let after, let hints):
                if !progress.delivered, let adjusted = wire.adjustedOptions(after: providerFailure, current: progress.options),
                   !tried.contains(adjusted) {
                    diagnostics.info("llm request adjusted after refusal", [
                        "provider": configuration.provider.rawValue, "model": configuration.model,
                        "status": String(providerFailure.status),
                        "from": Self.describe(progress.options), "to": Self.describe(adjusted),
                        "provider_message": excerpt(providerFailure.message ?? "", limit: 300)])
                    // Remembered at once: the next call starts with the form this server accepts, even if
                    // this one fails for another reason.
                    await memory.remember(adjusted, structured: request.jsonSchema != nil)
                    progress.options = adjusted
                    tried.insert(adjusted)
                    continue
                }
                let status = providerFailure.status
                let kind: LLMError.Kind = status == 429 ? .rateLimited : .http(status: status)
                let summary = "HTTP \(status)\(providerFailure.type.map { " \($0)" } ?? "")"
                switch RetryPolicy.verdict(for: providerFailure, shouldRetry: hints.shouldRetry, retryAfter: after,
                                           hasRateLimitHeaders: hints.rateLimitHeaders) {
                case .contextWindow:
                    throw failure(.contextWindow, "\(summary): the request does not fit the model's context window", progress,
                                  providerMessage: providerFailure.message, providerType: providerFailure.type)
                case .quotaExhausted:
                    throw failure(.quotaExhausted, "\(summary): the account's quota or spend limit is reached (not retried: waiting will not fix it)",
                                  progress, providerMessage: providerFailure.message, providerType: providerFailure.type)
                case .stop:
                    throw failure(kind, summary, progress,
                                  providerMessage: providerFailure.message, providerType: providerFailure.type)
                case .retry:
                    guard progress.retries < policy.maxRetries else {
                        throw failure(kind, summary, progress,
                                      providerMessage: providerFailure.message, providerType: providerFailure.type)
                    }
                }
                if let after, after > policy.maxRetryAfter {
                    throw failure(kind, "HTTP \(status): the provider asks to wait \(after.wholeMilliseconds / 1000) s before retrying, more than the \(policy.maxRetryAfter.wholeMilliseconds / 1000) s this client waits",
                                  progress, providerMessage: providerFailure.message, providerType: providerFailure.type)
                }
                retryAfter = after
            case .transport(let kind, let message):
                if progress.delivered {
                    throw failure(.streamCutOff, "the answer stopped midway: \(message)", progress)
                }
                guard progress.retries < policy.maxRetries else {
                    throw failure(kind == .timeout ? .timeout : .connection, message, progress)
                }
            case .wire(let wireFailure):
                switch wireFailure {
                case .malformed(let message):
                    throw failure(.malformedStream, "malformed answer stream: \(message)", progress)
                case .truncated(let message):
                    throw failure(.truncatedJSON, message, progress)
                case .contextWindow(let message):
                    throw failure(.contextWindow, message, progress)
                case .refused(let message):
                    throw failure(.refused, message, progress)
                case .provider(let type, let message, let retryable):
                    guard retryable, !progress.delivered, progress.retries < policy.maxRetries else {
                        throw failure(.providerStreamError, "the provider reported an error in the stream", progress,
                                      providerMessage: message, providerType: type)
                    }
                case .cutOff(let message):
                    guard !progress.delivered, progress.retries < policy.maxRetries else {
                        throw failure(.streamCutOff, message, progress)
                    }
                }
            }
            let wait = policy.delay(beforeRetry: progress.retries, retryAfter: retryAfter)
            if ContinuousClock.now + wait > deadline {
                throw failure(.timeout, "the call's time limit of \(configuration.timeouts.total.wholeMilliseconds / 1000) s would pass before the next retry",
                              progress)
            }
            do {
                try await policy.sleep(wait)
            } catch {
                throw failure(.cancelled, "the call was cancelled while waiting to retry", progress)
            }
            progress.retries += 1
        }
    }

    private func failure(_ kind: LLMError.Kind, _ message: String, _ progress: Progress, providerMessage: String? = nil,
                         providerType: String? = nil) -> LLMError {
        LLMError(kind: kind, message: message, providerMessage: providerMessage, providerErrorType: providerType,
                 provider: configuration.provider, model: configuration.model, retries: progress.retries,
                 usage: progress.usage, partialAnswerDelivered: progress.delivered)
    }

    private static func describe(_ options: WireOptions) -> String {
        var parts: [String] = []
        if let mode = options.structuredMode { parts.append("structured=\(mode.rawValue)") }
        if !options.sendTemperature { parts.append("no-temperature") }
        parts.append(options.maxTokensField == .maxTokens ? "max_tokens" : "max_completion_tokens")
        if !options.sendStreamOptions { parts.append("no-stream_options") }
        if !options.contentBlocks { parts.append("plain-strings") }
        if options.reducedSchema { parts.append("reduced-schema") }
        return parts.joined(separator: ",")
    }

    // MARK: - One HTTP exchange

    private enum TransportKind { case connection, timeout }

    /// What an error answer's headers say about retrying it.
    private struct RetryHints {
        /// `x-should-retry: true|false`, the server's own verdict (Anthropic and OpenAI send it).
        var shouldRetry: Bool?
        /// Any `x-ratelimit-*` or `anthropic-ratelimit-*` header: the 429 is a rate limit that lifts.
        var rateLimitHeaders: Bool

        init(_ headers: HTTPHeaders) {
            switch headers.first(name: "x-should-retry")?.trimmingCharacters(in: .whitespaces).lowercased() {
            case "true": shouldRetry = true
            case "false": shouldRetry = false
            default: shouldRetry = nil
            }
            rateLimitHeaders = headers.contains { header in
                let name = header.name.lowercased()
                return name.hasPrefix("x-ratelimit-") || name.hasPrefix("anthropic-ratelimit-")
            }
        }
    }

    private enum AttemptFailure: Error {
        case status(ProviderFailure, retryAfter: Duration?, hints: RetryHints)
        case transport(TransportKind, String)
        case wire(WireFailure)
        case encoding(String)
        case cancelled
    }

    /// Largest error body read (the message is near its start).
    private static let maxErrorBody = 1 << 20
    /// Largest non-streamed answer accepted.
    private static let maxWholeAnswer = 256 << 20

    private func attempt(_ request: LLMRequest, progress: inout Progress, emit: @Sendable (LLMStreamEvent) -> Void,
                         deadline: ContinuousClock.Instant) async throws(AttemptFailure) -> WireOutcome {
        let wireRequest: WireRequest
        do {
            wireRequest = try wire.makeRequest(request, model: configuration.model, options: progress.options)
        } catch {
            throw .encoding(error.message)
        }
        var httpRequest = HTTPClientRequest(url: wireRequest.url)
        httpRequest.method = .POST
        for header in wireRequest.headers { httpRequest.headers.add(name: header.name, value: header.value) }
        httpRequest.headers.add(name: "user-agent", value: "masterplan")
        httpRequest.body = .bytes(ByteBuffer(bytes: wireRequest.body))
        let remaining = deadline - ContinuousClock.now
        guard remaining > .zero else { throw .transport(.timeout, "the call's time limit passed") }
        let response: HTTPClientResponse
        do {
            response = try await http.execute(httpRequest, timeout: .milliseconds(max(0, remaining.wholeMilliseconds)))
        } catch {
            throw Self.transportFailure(error)
        }
        progress.requestID = response.headers.first(name: wire.requestIDHeader) ?? progress.requestID
        progress.scripted = response.headers.first(name: ReplayServer.scriptedHeader) == "true"
        let status = Int(response.status.code)
        guard (200..<300).contains(status) else {
            var body: [UInt8] = []
            if let buffer = try? await response.body.collect(upTo: Self.maxErrorBody) { body = Array(buffer.readableBytesView) }
            throw .status(ProviderFailure.parse(status: status, body: body), retryAfter: Self.retryAfter(response.headers),
                          hints: RetryHints(response.headers))
        }
        var decoder = wire.makeDecoder(for: request, options: progress.options)
        let contentType = response.headers.first(name: "content-type")?.lowercased() ?? ""
        func deliver(_ pieces: [String]) {
            for piece in pieces where !piece.isEmpty {
                progress.text += piece
                progress.delivered = true
                emit(.text(piece))
            }
        }
        if contentType.hasPrefix("application/json") {
            // The server ignored `stream: true` and answered in one piece.
            let buffer: ByteBuffer
            do {
                buffer = try await response.body.collect(upTo: Self.maxWholeAnswer)
            } catch {
                throw Self.transportFailure(error)
            }
            do {
                deliver(try decoder.consumeWholeAnswer(Array(buffer.readableBytesView)))
            } catch {
                throw .wire(error)
            }
        } else {
            var events = ServerSentEventDecoder()
            var iterator = response.body.makeAsyncIterator()
            reading: while true {
                let buffer: ByteBuffer?
                do {
                    buffer = try await iterator.next()
                } catch {
                    progress.usage = decoder.usage
                    throw Self.transportFailure(error)
                }
                guard let buffer else { break }
                let completed: [ServerSentEvent]
                do {
                    completed = try events.feed(buffer.readableBytesView)
                } catch {
                    throw .wire(.malformed("a line of the stream is longer than \(events.maxLineBytes) bytes"))
                }
                for event in completed {
                    do {
                        deliver(try decoder.consume(event))
                    } catch {
                        progress.usage = decoder.usage
                        throw .wire(error)
                    }
                    if decoder.isFinished { break reading }
                }
            }
        }
        progress.usage = decoder.usage
        let outcome: WireOutcome
        do {
            outcome = try decoder.outcome()
        } catch {
            throw .wire(error)
        }
        if let trailing = outcome.trailingText { deliver([trailing]) }
        return outcome
    }

    /// `retry-after-ms` (OpenAI) or `retry-after` (seconds or HTTP date).
    private static func retryAfter(_ headers: HTTPHeaders) -> Duration? {
        if let milliseconds = headers.first(name: "retry-after-ms").flatMap({ Double($0.trimmingCharacters(in: .whitespaces)) }),
           milliseconds.isFinite, milliseconds >= 0 {
            return .milliseconds(Int64(milliseconds.rounded(.up)))
        }
        return headers.first(name: "retry-after").flatMap { RetryPolicy.parseRetryAfter($0) }
    }

    private static func transportFailure(_ error: any Error) -> AttemptFailure {
        if error is CancellationError { return .cancelled }
        if let client = error as? HTTPClientError {
            switch client {
            case .cancelled: return .cancelled
            case .readTimeout: return .transport(.timeout, "no data arrived within the idle timeout")
            case .connectTimeout, .tlsHandshakeTimeout: return .transport(.timeout, "connecting timed out")
            case .deadlineExceeded: return .transport(.timeout, "the call's time limit passed")
            case .remoteConnectionClosed: return .transport(.connection, "the server closed the connection")
            default: return .transport(.connection, "HTTP client error: \(client)")
            }
        }
        if Task.isCancelled { return .cancelled }
        return .transport(.connection, "connection failed: \(error)")
    }
}
