import Crypto
import Foundation
import JSON
import PlanCore
import Synchronization

/// A provider-like prompt cache for `masterplan replay-llm --simulate-prompt-cache`: OpenAI's
/// automatic prompt caching as its documentation describes it, so a scripted model reports the input
/// and cached tokens a real provider would for the requests it actually receives.
///
/// The rules (`Rules.openAI`): a prompt's prefix is cached once the prompt has been processed; a
/// later prompt that starts with the same bytes reads the longest such prefix from the cache, counted
/// from 1,024 tokens in steps of 128 (a prompt below 1,024 tokens, or one that differs within its
/// first 1,024 tokens, reads nothing); an entry not used for five minutes is gone (OpenAI keeps them
/// "5 to 10 minutes of inactivity"; the shorter figure keeps the simulation on the safe side). Caches
/// are per model. Tokens are PlanCore's estimate from UTF-8 bytes (`TokenEstimate.tokens`), so a
/// token boundary is every `TokenEstimate.bytesPerToken` bytes.
///
/// Deterministic: the same prompts at the same times give the same figures. Thread-safe (one lock
/// around the table). Bounded: at most `Rules.capacity` cached prefixes, the least recently used
/// dropped first.
public final class PromptCacheSimulator: Sendable {
    /// How the cache behaves.
    public struct Rules: Sendable, Hashable {
        /// The shortest prefix that is cached, in tokens.
        public var minimumTokens: Int
        /// Cached prefixes grow in steps of this many tokens.
        public var incrementTokens: Int
        /// An entry unused for this long has expired.
        public var retention: Duration
        /// The most prefixes kept at once (each costs about 80 bytes).
        public var capacity: Int

        public init(minimumTokens: Int = 1_024, incrementTokens: Int = 128, retention: Duration = .seconds(300), capacity: Int = 65_536) {
            precondition(minimumTokens >= 1 && incrementTokens >= 1 && capacity >= 1, "the cache needs positive sizes")
            self.minimumTokens = minimumTokens
            self.incrementTokens = incrementTokens
            self.retention = retention
            self.capacity = capacity
        }

        /// OpenAI's documented automatic prompt caching.
        public static let openAI = Rules()
    }

    /// What one request reports: every prompt token, and those of them read from the cache.
    public struct Usage: Sendable, Hashable {
        public var promptTokens: Int
        public var cachedTokens: Int

        public init(promptTokens: Int, cachedTokens: Int) {
            self.promptTokens = promptTokens
            self.cachedTokens = cachedTokens
        }
    }

    /// Sums over many requests.
    public struct Totals: Sendable, Hashable {
        public var requests = 0
        public var promptTokens = 0
        public var cachedTokens = 0
        /// What the same requests would have read had only their instructions (tools, schema, system
        /// message) repeated from call to call, the rest of each prompt being new.
        public var instructionsOnlyCachedTokens = 0

        public init() {}

        mutating func add(_ usage: Usage, instructionsOnlyCached: Int) {
            requests += 1
            promptTokens += usage.promptTokens
            cachedTokens += usage.cachedTokens
            instructionsOnlyCachedTokens += instructionsOnlyCached
        }
    }

    private struct Entry {
        /// When it was last written or read.
        var lastUsed: Duration
        /// Order of last use, for least-recently-used eviction (ties in `lastUsed` are common).
        var sequence: UInt64
    }

    /// A prefix's SHA-256 (of the model and the prefix's bytes), as plain words.
    struct PrefixKey: Hashable, Sendable {
        var words: (UInt64, UInt64, UInt64, UInt64)

        init(_ digest: SHA256.Digest) {
            var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
            digest.withUnsafeBytes { bytes in
                func word(_ index: Int) -> UInt64 { (0..<8).reduce(0) { $0 << 8 | UInt64(bytes[index * 8 + $1]) } }
                words = (word(0), word(1), word(2), word(3))
            }
            self.words = words
        }

        static func == (a: PrefixKey, b: PrefixKey) -> Bool { a.words == b.words }

        func hash(into hasher: inout Hasher) {
            hasher.combine(words.0)
            hasher.combine(words.1)
            hasher.combine(words.2)
            hasher.combine(words.3)
        }
    }

    private struct Table {
        var entries: [PrefixKey: Entry] = [:]
        var sequence: UInt64 = 0
    }

    public let rules: Rules
    private let table = Mutex(Table())

    public init(rules: Rules = .openAI) {
        self.rules = rules
    }

    /// The cached prefixes held now (for tests of the bound).
    public var count: Int { table.withLock { $0.entries.count } }

    /// Looks the prompt up at time `now` (any monotonic clock's reading, e.g. since the server
    /// started), then caches its prefixes: returns its prompt tokens and how many of them were read
    /// from the cache.
    public func process(_ prompt: [UInt8], model: String, at now: Duration) -> Usage {
        let tokens = TokenEstimate.tokens(utf8Count: prompt.count)
        let boundaries = prefixDigests(prompt, model: model)
        return table.withLock { table in
            var cached = 0
            for (length, digest) in boundaries.reversed() {
                if let entry = table.entries[digest], now - entry.lastUsed <= rules.retention {
                    cached = length
                    break
                }
            }
            for (_, digest) in boundaries {
                table.sequence += 1
                table.entries[digest] = Entry(lastUsed: now, sequence: table.sequence)
            }
            if table.entries.count > rules.capacity { evict(&table, now: now) }
            return Usage(promptTokens: tokens, cachedTokens: cached)
        }
    }

    /// Drops expired entries, then the least recently used, down to seven eighths of the capacity (so
    /// that eviction, which sorts, runs once per many insertions, not at each one).
    private func evict(_ table: inout Table, now: Duration) {
        table.entries = table.entries.filter { now - $0.value.lastUsed <= rules.retention }
        let keep = rules.capacity - rules.capacity / 8
        guard table.entries.count > keep else { return }
        let oldest = table.entries.sorted { $0.value.sequence < $1.value.sequence }.prefix(table.entries.count - keep)
        for (digest, _) in oldest { table.entries.removeValue(forKey: digest) }
    }

    /// The digest of every cacheable prefix of the prompt — 1,024 tokens, then every 128 more that
    /// fit — with its length in tokens, shortest first; computed in one pass over the bytes.
    func prefixDigests(_ prompt: [UInt8], model: String) -> [(tokens: Int, digest: PrefixKey)] {
        var hasher = SHA256()
        // The model first: each model has its own cache.
        hasher.update(data: Array(model.utf8) + [0])
        var result: [(tokens: Int, digest: PrefixKey)] = []
        var consumed = 0
        var length = rules.minimumTokens
        while length * TokenEstimate.bytesPerToken <= prompt.count {
            let end = length * TokenEstimate.bytesPerToken
            hasher.update(data: prompt[consumed..<end])
            consumed = end
            result.append((length, PrefixKey(hasher.finalize())))
            length += rules.incrementTokens
        }
        return result
    }

    /// The text of a Chat Completions request body in the order a provider reads it, as bytes: the
    /// tools and the structured-output schema (which OpenAI puts before the system message), then
    /// every message's role and text. `instructions` is how many of the bytes come before the first
    /// message that is not a system or developer message: the part of the prompt that is the same for
    /// every call of a kind (what only the system prompt, cached alone, could save).
    public static func promptBytes(ofChatCompletion request: JSONValue) -> (bytes: [UInt8], instructions: Int) {
        var bytes: [UInt8] = []
        if let tools = request["tools"], tools != .null { bytes += (try? tools.serializedBytes()) ?? [] }
        if let format = request["response_format"], format != .null { bytes += (try? format.serializedBytes()) ?? [] }
        var instructions: Int?
        for message in request["messages"]?.arrayValue ?? [] {
            let role = message["role"]?.stringValue ?? ""
            if instructions == nil, role != "system", role != "developer" { instructions = bytes.count }
            bytes += Array(role.utf8) + [0x0A]
            switch message["content"] {
            case .string(let text)?:
                bytes += Array(text.utf8)
            case .array(let parts)?:
                for part in parts { if let text = part["text"]?.stringValue { bytes += Array(text.utf8) } }
            default:
                break
            }
            bytes.append(0x0A)
        }
        return (bytes, instructions ?? bytes.count)
    }
}
