import Foundation
import Postgres
import Testing
import TestSupport

@Suite(.dedicatedThreads) struct NotificationTests {
    let conninfo: String

    init() throws {
        conninfo = try TestDatabase.empty()
    }

    @Test func committedNotifyReachesTheListenerAndRolledBackDoesNot() throws {
        let listener = try Connection(conninfo)
        let sender = try Connection(conninfo)
        try listener.listen("masterplan events")

        struct Abort: Error {}
        #expect(throws: Abort.self) {
            try sender.transaction { c in
                try c.notify("masterplan events", payload: "rolled-back")
                throw Abort()
            }
        }
        try sender.transaction { c in
            try c.notify("masterplan events", payload: "committed")
        }
        let received = try listener.waitForNotifications(timeout: .seconds(5))
        #expect(received.map(\.payload) == ["committed"])
        #expect(received.first?.channel == "masterplan events")
        #expect(received.first?.senderPID == sender.backendPID)
        // Nothing else arrives: the rolled-back one is gone for good.
        #expect(try listener.waitForNotifications(timeout: .milliseconds(300)).isEmpty)
    }

    @Test func notifyIsDeliveredAtCommitNotBefore() throws {
        let listener = try Connection(conninfo)
        let sender = try Connection(conninfo)
        try listener.listen("c1")
        try sender.simpleQuery("BEGIN")
        try sender.notify("c1", payload: "x")
        #expect(try listener.waitForNotifications(timeout: .milliseconds(200)).isEmpty)
        try sender.simpleQuery("COMMIT")
        #expect(try listener.waitForNotifications(timeout: .seconds(5)).map(\.payload) == ["x"])
    }

    @Test func waitTimesOutWithNothing() throws {
        let listener = try Connection(conninfo)
        try listener.listen("quiet")
        let clock = ContinuousClock()
        let start = clock.now
        #expect(try listener.waitForNotifications(timeout: .milliseconds(150)).isEmpty)
        #expect(clock.now - start >= .milliseconds(140))
    }

    @Test func waitCanBeInterruptedFromAnotherThread() throws {
        let listener = try Connection(conninfo)
        try listener.listen("never")
        let interrupter = WaitInterrupter()
        let thread = Thread { usleep(100_000); interrupter.interrupt() }
        thread.start()
        do {
            _ = try listener.waitForNotifications(timeout: .seconds(30), interrupter: interrupter)
            Issue.record("wait returned without being interrupted")
        } catch {
            #expect(error.kind == .interrupted)
        }
        // The interrupter was drained: a second wait blocks until its timeout.
        #expect(try listener.waitForNotifications(timeout: .milliseconds(50), interrupter: interrupter).isEmpty)
    }

    @Test func unlistenStopsDelivery() throws {
        let listener = try Connection(conninfo)
        let sender = try Connection(conninfo)
        try listener.listen("c2")
        try listener.unlisten("c2")
        try sender.notify("c2", payload: "ignored")
        #expect(try listener.waitForNotifications(timeout: .milliseconds(200)).isEmpty)
    }

    @Test func manyNotificationsArriveInOrder() throws {
        let listener = try Connection(conninfo)
        let sender = try Connection(conninfo)
        try listener.listen("bulk")
        for i in 1...50 { try sender.notify("bulk", payload: String(i)) }
        var payloads: [String] = []
        while payloads.count < 50 {
            let batch = try listener.waitForNotifications(timeout: .seconds(5))
            #expect(!batch.isEmpty)
            if batch.isEmpty { break }
            payloads += batch.map(\.payload)
        }
        #expect(payloads == (1...50).map(String.init))
    }
}
