import JSON

/// The verdict of one validator on one file: stored per attempt (`atom_attempts.validation`) and fed
/// back to the LLM when it failed.
public struct ValidatorResult: Sendable, Hashable {
    /// Which check: "python-syntax", "pyflakes", "node-check", "json-parse", "yaml-parse", "toml-parse",
    /// "bash-syntax", "size", "complexity", "tamper-check".
    public var name: String
    public var passed: Bool
    /// The first lines of the tool's output, with file, line and column; "ok" when there was nothing to say.
    public var message: String

    public init(name: String, passed: Bool, message: String) {
        self.name = name
        self.passed = passed
        self.message = message
    }

    /// `{"name": …, "passed": …, "message": …}`.
    public var jsonValue: JSONValue {
        .object(["name": .string(name), "passed": .bool(passed), "message": .string(message)])
    }

    /// The results as the JSON array stored in `atom_attempts.validation`.
    public static func jsonArray(_ results: [ValidatorResult]) -> JSONValue {
        .array(results.map(\.jsonValue))
    }

    /// Reads back a result stored by `jsonValue`; nil when a member is missing.
    public init?(json: JSONValue) {
        guard let name = json["name"]?.stringValue, let passed = json["passed"]?.boolValue,
              let message = json["message"]?.stringValue else { return nil }
        self.init(name: name, passed: passed, message: message)
    }

    /// The first `lines` lines of `output`, at most `characters` long: enough to show where and why.
    static func excerpt(_ output: String, lines: Int = 20, characters: Int = 2_000) -> String {
        var kept = output.split(separator: "\n", omittingEmptySubsequences: false).prefix(lines).joined(separator: "\n")
        while kept.hasSuffix("\n") { kept.removeLast() }
        if kept.count > characters { kept = String(kept.prefix(characters)) + "…" }
        return kept
    }
}
