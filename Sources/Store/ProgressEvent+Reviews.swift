import Foundation
import JSON
import PlanCore

extension ProgressEvent {
    /// `review_resolved`: a reviewer approved, edited, regenerated, rejected or waived a review.
    public struct ReviewResolved: Sendable, Equatable {
        public var reviewID: UUID
        public var status: ReviewStatus
        /// `atom` or `gate`.
        public var kind: String
        /// The atom reviewed; nil for a gate review.
        public var atomID: UUID?

        public init(reviewID: UUID, status: ReviewStatus, kind: String, atomID: UUID?) {
            self.reviewID = reviewID
            self.status = status
            self.kind = kind
            self.atomID = atomID
        }

        public var json: JSONObject {
            ["review_id": reviewID.feedJSON, "status": .string(status.rawValue), "kind": .string(kind),
             "atom_id": atomID.map(\.feedJSON) ?? .null]
        }
    }
}
