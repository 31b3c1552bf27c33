@testable import API
import Foundation
import Store
import Testing
import TestSupport

@Suite(.dedicatedThreads) struct SSEFrameTests {
    @Test func framesIdEventAndCompactDataLines() {
        let event = FeedEvent(id: 42, ownerID: UUID(), planID: nil, type: "cost_warning",
                              json: #"{"id" : 42, "plan_id" : null, "type" : "cost_warning", "data" : {"spent" : 4.2}}"#)
        #expect(String(decoding: SSEFrame.frame(event), as: UTF8.self)
                == "id: 42\nevent: cost_warning\ndata: {\"id\":42,\"plan_id\":null,\"type\":\"cost_warning\",\"data\":{\"spent\":4.2}}\n\n")
    }

    @Test func retryAndHeartbeatFollowTheEventStreamFormat() {
        #expect(String(decoding: SSEFrame.retry(milliseconds: 3000), as: UTF8.self) == "retry: 3000\n\n")
        #expect(String(decoding: SSEFrame.heartbeat, as: UTF8.self).hasPrefix(":"))
    }
}

@Suite(.dedicatedThreads) struct PlanTreeCacheTests {
    @Test func hitsOnlyForTheStampItWasStoredWith() {
        let cache = PlanTreeCache(capacityBytes: 1000)
        let plan = UUID()
        cache.store([1, 2, 3], for: plan, stamp: "a")
        #expect(cache.body(for: plan, stamp: "a") == [1, 2, 3])
        #expect(cache.body(for: plan, stamp: "b") == nil)
        #expect(cache.body(for: UUID(), stamp: "a") == nil)
    }

    @Test func staysWithinItsCapacityDroppingTheOldestFirst() {
        let cache = PlanTreeCache(capacityBytes: 1000)
        let plans = (0..<5).map { _ in UUID() }
        for plan in plans { cache.store([UInt8](repeating: 7, count: 240), for: plan, stamp: "s") }
        #expect(cache.count == 4)
        #expect(cache.body(for: plans[0], stamp: "s") == nil)
        #expect(cache.body(for: plans[4], stamp: "s") != nil)
        cache.store([UInt8](repeating: 1, count: 600), for: UUID(), stamp: "s")
        #expect(cache.count == 4, "a body above a quarter of the capacity is not cached")
    }
}
