/// The domain analysis that precedes a plan: what the request is about, in domain-driven-design terms.
///
/// The planner receives it as context; the review UI shows it. Every list may be empty except
/// `boundedContexts`, but every field must be present in the LLM's answer.
public struct Discovery: Sendable, Hashable {
    /// A part of the domain with its own language and model, e.g. "Identity" or "Billing".
    public struct BoundedContext: Sendable, Hashable {
        public var name: String
        public var description: String
        public var responsibilities: [String]
        public init(name: String, description: String, responsibilities: [String] = []) {
            self.name = name
            self.description = description
            self.responsibilities = responsibilities
        }
    }

    /// A cluster of entities changed together through one root, inside one bounded context.
    public struct Aggregate: Sendable, Hashable {
        public var name: String
        /// The name of a bounded context of this discovery.
        public var boundedContext: String
        public var rootEntity: String
        public var entities: [String]
        public var invariants: [String]
        public init(name: String, boundedContext: String, rootEntity: String, entities: [String] = [],
                    invariants: [String] = []) {
            self.name = name
            self.boundedContext = boundedContext
            self.rootEntity = rootEntity
            self.entities = entities
            self.invariants = invariants
        }
    }

    /// An immutable value identified by its attributes, e.g. "EmailAddress".
    public struct ValueObject: Sendable, Hashable {
        public var name: String
        /// The name of a bounded context of this discovery.
        public var boundedContext: String
        public var attributes: [String]
        public init(name: String, boundedContext: String, attributes: [String] = []) {
            self.name = name
            self.boundedContext = boundedContext
            self.attributes = attributes
        }
    }

    /// Something that happened in the domain, raised by an aggregate, e.g. "UserRegistered".
    public struct DomainEvent: Sendable, Hashable {
        public var name: String
        /// The name of an aggregate of this discovery.
        public var aggregate: String
        public var description: String
        public init(name: String, aggregate: String, description: String) {
            self.name = name
            self.aggregate = aggregate
            self.description = description
        }
    }

    /// A stateless operation that belongs to no single aggregate, e.g. "TokenIssuer".
    public struct Service: Sendable, Hashable {
        public var name: String
        /// The name of a bounded context of this discovery.
        public var boundedContext: String
        public var description: String
        public var operations: [String]
        public init(name: String, boundedContext: String, description: String, operations: [String] = []) {
            self.name = name
            self.boundedContext = boundedContext
            self.description = description
            self.operations = operations
        }
    }

    /// A question the request left open, with the answer the planner assumed meanwhile.
    public struct Clarification: Sendable, Hashable {
        public var question: String
        public var assumedAnswer: String
        public init(question: String, assumedAnswer: String) {
            self.question = question
            self.assumedAnswer = assumedAnswer
        }
    }

    /// Something that could make the project fail, how likely or bad it is, and what reduces it.
    public struct Risk: Sendable, Hashable {
        public enum Severity: String, JSONEnumeration {
            case low
            case medium
            case high
        }
        public var description: String
        public var severity: Severity
        public var mitigation: String
        public init(description: String, severity: Severity, mitigation: String) {
            self.description = description
            self.severity = severity
            self.mitigation = mitigation
        }
    }

    public var domain: String
    public var boundedContexts: [BoundedContext]
    public var aggregates: [Aggregate]
    public var valueObjects: [ValueObject]
    public var domainEvents: [DomainEvent]
    public var services: [Service]
    public var assumptions: [String]
    public var clarifications: [Clarification]
    public var risks: [Risk]

    public init(domain: String, boundedContexts: [BoundedContext], aggregates: [Aggregate] = [],
                valueObjects: [ValueObject] = [], domainEvents: [DomainEvent] = [], services: [Service] = [],
                assumptions: [String] = [], clarifications: [Clarification] = [], risks: [Risk] = []) {
        self.domain = domain
        self.boundedContexts = boundedContexts
        self.aggregates = aggregates
        self.valueObjects = valueObjects
        self.domainEvents = domainEvents
        self.services = services
        self.assumptions = assumptions
        self.clarifications = clarifications
        self.risks = risks
    }
}
