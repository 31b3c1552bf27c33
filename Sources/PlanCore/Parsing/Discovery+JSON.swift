import JSON

extension Discovery {
    /// Reads a discovery from its JSON form, strictly (see `MasterPlan.init(json:)`); throws every schema problem at once.
    public init(json: JSONValue) throws(PlanProblems) {
        var reader = SchemaReader()
        let discovery = Self.read(RawJSON(json), at: .root, with: &reader)
        guard reader.problems.isEmpty, let discovery else { throw PlanProblems(reader.problems) }
        self = discovery
    }

    /// The discovery in its JSON form, the inverse of `init(json:)`.
    public var jsonValue: JSONValue {
        .object([
            "domain": .string(domain),
            "bounded_contexts": .array(boundedContexts.map {
                .object(["name": .string($0.name), "description": .string($0.description),
                         "responsibilities": JSONValue($0.responsibilities)])
            }),
            "aggregates": .array(aggregates.map {
                .object(["name": .string($0.name), "bounded_context": .string($0.boundedContext),
                         "root_entity": .string($0.rootEntity), "entities": JSONValue($0.entities),
                         "invariants": JSONValue($0.invariants)])
            }),
            "value_objects": .array(valueObjects.map {
                .object(["name": .string($0.name), "bounded_context": .string($0.boundedContext),
                         "attributes": JSONValue($0.attributes)])
            }),
            "domain_events": .array(domainEvents.map {
                .object(["name": .string($0.name), "aggregate": .string($0.aggregate), "description": .string($0.description)])
            }),
            "services": .array(services.map {
                .object(["name": .string($0.name), "bounded_context": .string($0.boundedContext),
                         "description": .string($0.description), "operations": JSONValue($0.operations)])
            }),
            "assumptions": JSONValue(assumptions),
            "clarifications": .array(clarifications.map {
                .object(["question": .string($0.question), "assumed_answer": .string($0.assumedAnswer)])
            }),
            "risks": .array(risks.map {
                .object(["description": .string($0.description), "severity": .string($0.severity.rawValue),
                         "mitigation": .string($0.mitigation)])
            }),
        ])
    }

    static func read(_ value: RawJSON, at path: JSONPath, with reader: inout SchemaReader) -> Discovery? {
        guard let object = reader.object(value, at: path, PlanFields.discovery) else { return nil }
        let domain = reader.string(object, "domain", at: path)
        let contexts = reader.objects(object, "bounded_contexts", at: path, of: "bounded context objects") { (r: inout SchemaReader, v: RawJSON, p: JSONPath) -> BoundedContext? in
            guard let o = r.object(v, at: p, PlanFields.boundedContext) else { return nil }
            return BoundedContext(name: r.string(o, "name", at: p) ?? "", description: r.string(o, "description", at: p) ?? "",
                                  responsibilities: r.strings(o, "responsibilities", at: p) ?? [])
        }
        let aggregates = reader.objects(object, "aggregates", at: path, of: "aggregate objects") { (r: inout SchemaReader, v: RawJSON, p: JSONPath) -> Aggregate? in
            guard let o = r.object(v, at: p, PlanFields.aggregate) else { return nil }
            return Aggregate(name: r.string(o, "name", at: p) ?? "", boundedContext: r.string(o, "bounded_context", at: p) ?? "",
                             rootEntity: r.string(o, "root_entity", at: p) ?? "", entities: r.strings(o, "entities", at: p) ?? [],
                             invariants: r.strings(o, "invariants", at: p) ?? [])
        }
        let valueObjects = reader.objects(object, "value_objects", at: path, of: "value object objects") { (r: inout SchemaReader, v: RawJSON, p: JSONPath) -> ValueObject? in
            guard let o = r.object(v, at: p, PlanFields.valueObject) else { return nil }
            return ValueObject(name: r.string(o, "name", at: p) ?? "", boundedContext: r.string(o, "bounded_context", at: p) ?? "",
                               attributes: r.strings(o, "attributes", at: p) ?? [])
        }
        let events = reader.objects(object, "domain_events", at: path, of: "domain event objects") { (r: inout SchemaReader, v: RawJSON, p: JSONPath) -> DomainEvent? in
            guard let o = r.object(v, at: p, PlanFields.domainEvent) else { return nil }
            return DomainEvent(name: r.string(o, "name", at: p) ?? "", aggregate: r.string(o, "aggregate", at: p) ?? "",
                               description: r.string(o, "description", at: p) ?? "")
        }
        let services = reader.objects(object, "services", at: path, of: "service objects") { (r: inout SchemaReader, v: RawJSON, p: JSONPath) -> Service? in
            guard let o = r.object(v, at: p, PlanFields.service) else { return nil }
            return Service(name: r.string(o, "name", at: p) ?? "", boundedContext: r.string(o, "bounded_context", at: p) ?? "",
                           description: r.string(o, "description", at: p) ?? "", operations: r.strings(o, "operations", at: p) ?? [])
        }
        let assumptions = reader.strings(object, "assumptions", at: path)
        let clarifications = reader.objects(object, "clarifications", at: path, of: "clarification objects") { (r: inout SchemaReader, v: RawJSON, p: JSONPath) -> Clarification? in
            guard let o = r.object(v, at: p, PlanFields.clarification) else { return nil }
            return Clarification(question: r.string(o, "question", at: p) ?? "", assumedAnswer: r.string(o, "assumed_answer", at: p) ?? "")
        }
        let risks = reader.objects(object, "risks", at: path, of: "risk objects") { (r: inout SchemaReader, v: RawJSON, p: JSONPath) -> Risk? in
            guard let o = r.object(v, at: p, PlanFields.risk) else { return nil }
            return Risk(description: r.string(o, "description", at: p) ?? "",
                        severity: r.enumeration(Risk.Severity.self, o, "severity", at: p) ?? .medium,
                        mitigation: r.string(o, "mitigation", at: p) ?? "")
        }
        return Discovery(domain: domain ?? "", boundedContexts: contexts ?? [], aggregates: aggregates ?? [],
                         valueObjects: valueObjects ?? [], domainEvents: events ?? [], services: services ?? [],
                         assumptions: assumptions ?? [], clarifications: clarifications ?? [], risks: risks ?? [])
    }
}
