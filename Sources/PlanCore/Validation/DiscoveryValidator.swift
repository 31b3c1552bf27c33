/// Checks a discovery's semantic rules: a domain and at least one bounded context, names present and
/// unique per list, every reference (an aggregate's bounded context, an event's aggregate) resolvable,
/// no list longer than `PlanLimits.maxListItems` and no text longer than `PlanLimits.maxTextLength`.
public struct DiscoveryValidator: Sendable {
    public var limits: PlanLimits

    public init(limits: PlanLimits = .default) { self.limits = limits }

    /// Every problem, each with its JSON path; empty when the discovery is usable.
    public func problems(in discovery: Discovery) -> [PlanProblem] {
        var report = ProblemList()
        report.text(discovery.domain, at: .root.appending("domain"), required: true, limits: limits)
        if discovery.boundedContexts.isEmpty {
            report.add(.empty, .root.appending("bounded_contexts"), "a discovery needs at least one bounded context")
        }
        let counts = [("bounded_contexts", discovery.boundedContexts.count), ("aggregates", discovery.aggregates.count),
                      ("value_objects", discovery.valueObjects.count), ("domain_events", discovery.domainEvents.count),
                      ("services", discovery.services.count), ("clarifications", discovery.clarifications.count),
                      ("risks", discovery.risks.count)]
        for (key, count) in counts where count > limits.maxListItems {
            report.add(.outOfBounds, .root.appending(key), "the list has \(count) entries, more than the limit of \(limits.maxListItems)")
        }
        report.list(discovery.assumptions, at: .root.appending("assumptions"), limits: limits)
        for (i, context) in discovery.boundedContexts.enumerated() {
            let path = JSONPath.root.appending("bounded_contexts").appending(i)
            report.text(context.description, at: path.appending("description"), required: false, limits: limits)
            report.list(context.responsibilities, at: path.appending("responsibilities"), limits: limits)
        }
        let contexts = uniqueNames(discovery.boundedContexts.map(\.name), at: "bounded_contexts", into: &report)
        let aggregates = uniqueNames(discovery.aggregates.map(\.name), at: "aggregates", into: &report)
        _ = uniqueNames(discovery.valueObjects.map(\.name), at: "value_objects", into: &report)
        _ = uniqueNames(discovery.domainEvents.map(\.name), at: "domain_events", into: &report)
        _ = uniqueNames(discovery.services.map(\.name), at: "services", into: &report)

        func reference(_ name: String, in known: Set<String>, noun: String, at path: JSONPath) {
            if !known.contains(name) {
                report.add(.unknownReference, path, "\(noun) \(name.quotedForMessage()) is not one of the discovery's \(noun)s")
            }
        }
        for (i, aggregate) in discovery.aggregates.enumerated() {
            let path = JSONPath.root.appending("aggregates").appending(i)
            reference(aggregate.boundedContext, in: contexts, noun: "bounded context", at: path.appending("bounded_context"))
            report.text(aggregate.rootEntity, at: path.appending("root_entity"), required: true, limits: limits)
            report.list(aggregate.entities, at: path.appending("entities"), limits: limits)
            report.list(aggregate.invariants, at: path.appending("invariants"), limits: limits)
        }
        for (i, valueObject) in discovery.valueObjects.enumerated() {
            let path = JSONPath.root.appending("value_objects").appending(i)
            reference(valueObject.boundedContext, in: contexts, noun: "bounded context", at: path.appending("bounded_context"))
            report.list(valueObject.attributes, at: path.appending("attributes"), limits: limits)
        }
        for (i, event) in discovery.domainEvents.enumerated() {
            let path = JSONPath.root.appending("domain_events").appending(i)
            reference(event.aggregate, in: aggregates, noun: "aggregate", at: path.appending("aggregate"))
            report.text(event.description, at: path.appending("description"), required: false, limits: limits)
        }
        for (i, service) in discovery.services.enumerated() {
            let path = JSONPath.root.appending("services").appending(i)
            reference(service.boundedContext, in: contexts, noun: "bounded context", at: path.appending("bounded_context"))
            report.text(service.description, at: path.appending("description"), required: false, limits: limits)
            report.list(service.operations, at: path.appending("operations"), limits: limits)
        }
        for (i, clarification) in discovery.clarifications.enumerated() {
            let path = JSONPath.root.appending("clarifications").appending(i)
            report.text(clarification.question, at: path.appending("question"), required: true, limits: limits)
            report.text(clarification.assumedAnswer, at: path.appending("assumed_answer"), required: false, limits: limits)
        }
        for (i, risk) in discovery.risks.enumerated() {
            let path = JSONPath.root.appending("risks").appending(i)
            report.text(risk.description, at: path.appending("description"), required: true, limits: limits)
            report.text(risk.mitigation, at: path.appending("mitigation"), required: false, limits: limits)
        }
        return report.problems
    }

    /// Reports empty and repeated names; returns the set of names for reference checks.
    private func uniqueNames(_ names: [String], at key: String, into report: inout ProblemList) -> Set<String> {
        var seen: [String: Int] = [:]
        for (i, name) in names.enumerated() {
            let path = JSONPath.root.appending(key).appending(i).appending("name")
            report.text(name, at: path, required: true, limits: limits)
            if let first = seen[name], !name.isEmpty {
                report.add(.duplicate, path, "the name \(name.quotedForMessage()) is already used by \(key)[\(first)]")
            } else {
                seen[name] = i
            }
        }
        return Set(seen.keys)
    }
}
