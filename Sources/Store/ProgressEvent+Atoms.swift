import Foundation
import JSON
import PlanCore

extension ProgressEvent {
    /// The atom an execution event is about: its `atom_id`, `wave`, `task_number` and `file`.
    public struct AtomReference: Sendable, Equatable {
        public var atomID: UUID
        public var wave: Int
        public var taskNumber: Int
        /// The file the atom writes, relative to the workspace.
        public var file: String

        public init(atomID: UUID, wave: Int, taskNumber: Int, file: String) {
            self.atomID = atomID
            self.wave = wave
            self.taskNumber = taskNumber
            self.file = file
        }

        /// The reference of a stored atom.
        public init(_ atom: StoredAtom) {
            self.init(atomID: atom.id, wave: atom.wave, taskNumber: atom.taskNumber, file: atom.path)
        }

        var json: JSONObject {
            ["atom_id": atomID.feedJSON, "wave": JSONValue(wave), "task_number": JSONValue(taskNumber), "file": .string(file)]
        }
    }

    /// `atom_execution_progress`: one attempt at an atom ended, validated or not.
    public struct AtomExecutionProgress: Sendable, Equatable {
        /// One validator's verdict on the attempt.
        public struct Validator: Sendable, Equatable {
            public var name: String
            public var passed: Bool

            public init(name: String, passed: Bool) {
                self.name = name
                self.passed = passed
            }
        }

        public var atom: AtomReference
        public var attempt: Int
        public var temperature: Double
        /// True when every validator passed.
        public var passed: Bool
        /// How the attempt came about: `generate`, `retry`, `gate_repair`, `regenerate`.
        public var origin: String
        public var validators: [Validator]
        /// The first errors sent back to the model, each cut to a readable length.
        public var errors: [String]

        public init(atom: AtomReference, attempt: Int, temperature: Double, passed: Bool, origin: String, validators: [Validator],
                    errors: [String]) {
            self.atom = atom
            self.attempt = attempt
            self.temperature = temperature
            self.passed = passed
            self.origin = origin
            self.validators = validators
            self.errors = errors
        }

        public var json: JSONObject {
            var object = atom.json
            object["attempt"] = JSONValue(attempt)
            object["temperature"] = .double(temperature)
            object["passed"] = .bool(passed)
            object["origin"] = .string(origin)
            object["validators"] = .array(validators.map { JSONValue(["name": .string($0.name), "passed": .bool($0.passed)]) })
            object["errors"] = .array(errors.map(JSONValue.string))
            return object
        }
    }

    /// `atom_execution_complete`: an atom ended — accepted, sent to a reviewer, approved or edited.
    /// Members that do not apply to the way it ended are left out.
    public struct AtomExecutionComplete: Sendable, Equatable {
        public var atom: AtomReference
        /// The status it ended in.
        public var status: AtomStatus
        /// How its content came about (`generate`, `review_approve`, `review_edit`, …).
        public var origin: String?
        /// The attempts its production took.
        public var attempts: Int?
        /// The attempt that holds a reviewer's edit.
        public var attempt: Int?
        public var confidence: Double?
        /// False when no attempt passed validation.
        public var validated: Bool?
        /// The review it was sent to (set by `ExecutionStore.finishAtom`, which creates the review).
        public var reviewID: UUID?

        public init(atom: AtomReference, status: AtomStatus, origin: String? = nil, attempts: Int? = nil, attempt: Int? = nil,
                    confidence: Double? = nil, validated: Bool? = nil, reviewID: UUID? = nil) {
            self.atom = atom
            self.status = status
            self.origin = origin
            self.attempts = attempts
            self.attempt = attempt
            self.confidence = confidence
            self.validated = validated
            self.reviewID = reviewID
        }

        public var json: JSONObject {
            var object = atom.json
            object["status"] = .string(status.rawValue)
            if let origin { object["origin"] = .string(origin) }
            if let attempts { object["attempts"] = JSONValue(attempts) }
            if let attempt { object["attempt"] = JSONValue(attempt) }
            if let confidence { object["confidence"] = .double(confidence) }
            if let validated { object["validated"] = .bool(validated) }
            if let reviewID { object["review_id"] = reviewID.feedJSON }
            return object
        }
    }

    /// `review_created`: an atom went to a reviewer.
    public struct ReviewCreated: Sendable, Equatable {
        public var reviewID: UUID
        public var atom: AtomReference
        /// `critical`, `high`, `medium` or `low`.
        public var priority: String
        public var confidence: Double
        public var reason: String
        /// True when the review holds its wave (and so the plan) until it is resolved.
        public var blocking: Bool
        /// True when a failing gate sent the atom, rather than its own validation or confidence.
        public var gate: Bool

        public init(reviewID: UUID, atom: AtomReference, priority: String, confidence: Double, reason: String, blocking: Bool,
                    gate: Bool) {
            self.reviewID = reviewID
            self.atom = atom
            self.priority = priority
            self.confidence = confidence
            self.reason = reason
            self.blocking = blocking
            self.gate = gate
        }

        public var json: JSONObject {
            var object = atom.json
            object["review_id"] = reviewID.feedJSON
            object["kind"] = "atom"
            object["priority"] = .string(priority)
            object["confidence"] = .double(confidence)
            object["reason"] = .string(reason)
            object["blocking"] = .bool(blocking)
            object["gate"] = .bool(gate)
            return object
        }
    }
}
