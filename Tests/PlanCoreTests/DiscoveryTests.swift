import JSON
import Testing
@testable import PlanCore

@Suite("Discovery documents")
struct DiscoveryTests {
    static let text = """
    Here is the discovery:
    ```json
    {"domain": "Todo lists with accounts",
     "bounded_contexts": [{"name": "Identity", "description": "Users and login.", "responsibilities": ["register", "log in"]},
                          {"name": "Tasks", "description": "Todo items.", "responsibilities": ["create", "complete"]}],
     "aggregates": [{"name": "User", "bounded_context": "Identity", "root_entity": "User", "entities": ["Credential"],
                     "invariants": ["email is unique"]}],
     "value_objects": [{"name": "EmailAddress", "bounded_context": "Identity", "attributes": ["address"]}],
     "domain_events": [{"name": "UserRegistered", "aggregate": "User", "description": "A new account exists."}],
     "services": [{"name": "TokenIssuer", "bounded_context": "Identity", "description": "Issues JWTs.", "operations": ["issue"]}],
     "assumptions": ["One user per email address."],
     "clarifications": [{"question": "Do todos have due dates?", "assumed_answer": "No."}],
     "risks": [{"description": "Token theft.", "severity": "high", "mitigation": "Short-lived tokens."}]}
    ```
    """

    @Test("a discovery answer parses and survives its JSON form")
    func parse() throws {
        let discovery = try PlanParser().parseDiscovery(Self.text)
        #expect(discovery.domain == "Todo lists with accounts")
        #expect(discovery.boundedContexts.map(\.name) == ["Identity", "Tasks"])
        #expect(discovery.aggregates.first?.invariants == ["email is unique"])
        #expect(discovery.risks.first?.severity == .high)
        #expect(discovery.clarifications == [Discovery.Clarification(question: "Do todos have due dates?", assumedAnswer: "No.")])
        #expect(try Discovery(json: discovery.jsonValue) == discovery)
    }

    @Test("references to unknown contexts and aggregates, and repeated names, are reported with paths")
    func semanticProblems() throws {
        let json = try PlanParser().jsonObject(in: Self.text)
        let broken = json.setting(JSONPath(parsing: "aggregates[0].bounded_context").components[...], to: "Billing")
            .setting(JSONPath(parsing: "domain_events[0].aggregate").components[...], to: "Order")
            .setting(JSONPath(parsing: "bounded_contexts[1].name").components[...], to: "Identity")
        let error = try #require(throws: PlanProblems.self) { try PlanParser().parseDiscovery(broken.jsonText) }
        #expect(error.problems.map(\.description) == [
            "bounded_contexts[1].name: the name \"Identity\" is already used by bounded_contexts[0]",
            "aggregates[0].bounded_context: bounded context \"Billing\" is not one of the discovery's bounded contexts",
            "domain_events[0].aggregate: aggregate \"Order\" is not one of the discovery's aggregates",
        ])
    }

    @Test("the discovery schema is strict like the plan's")
    func schemaProblems() throws {
        let error = try #require(throws: PlanProblems.self) {
            try PlanParser().parseDiscovery(#"{"domain": "x", "bounded_contexts": [], "aggregates": [], "value_objects": [], "domain_events": [], "services": [], "assumptions": [], "clarifications": [], "risks": [{"description": "d", "severity": "extreme", "mitigation": "m"}], "notes": []}"#)
        }
        #expect(error.problems.map(\.description) == [
            "notes: unknown field; a discovery object has exactly these fields: domain, bounded_contexts, aggregates, value_objects, domain_events, services, assumptions, clarifications, risks",
            "risks[0].severity: unknown value \"extreme\"; expected one of low, medium, high",
            "bounded_contexts: a discovery needs at least one bounded context",
        ])
    }
}
