/// The `LLMRequest.key` of every call plan generation and chat make.
///
/// Keys are fixed words, not per-plan identifiers, so a replay cassette can be written by hand: an
/// entry `{"purpose": "masterplan", "key": "masterplan", …}` answers the plan call of any plan. The
/// replay server answers repeated calls with the same purpose and key from that key's entries in
/// file order (the last one keeps answering once they are used up), so a cassette scripts a repair
/// loop by listing one `plan_repair` entry per expected repair.
///
/// | call | purpose (`llm_calls.purpose`) | key |
/// |---|---|---|
/// | domain discovery (and its corrected answer when the first was invalid) | `discovery` | `discovery` |
/// | the plan, for a generation and for a regeneration with feedback | `masterplan` | `masterplan` |
/// | each repair of an invalid plan | `plan_repair` | `plan_repair` |
/// | the acceptance tests (and their one repair) | `acceptance_tests` | `acceptance_tests` |
/// | a chat reply | `chat` | `chat` |
public enum GenerationKeys {
    public static let discovery = "discovery"
    public static let masterplan = "masterplan"
    public static let planRepair = "plan_repair"
    public static let acceptanceTests = "acceptance_tests"
    public static let chat = "chat"
}
