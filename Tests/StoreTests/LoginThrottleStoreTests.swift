import Foundation
import Postgres
import Store
import Testing
import TestSupport

/// `login_attempts` (0016) through `LoginThrottleStore`, on the real database.
@Suite(.dedicatedThreads) struct LoginThrottleStoreTests {
    let conninfo: String
    let connection: Connection
    /// 3 failures per account, 6 per address, a long first wait (so nothing opens during a test).
    let policy = LoginThrottlePolicy(accountFailures: 3, addressFailures: 6, windowSeconds: 3600,
                                     backoffSeconds: 600, maxBackoffSeconds: 3600)

    init() throws {
        conninfo = try TestDatabase.migrated()
        connection = try Connection(conninfo)
    }

    var store: LoginThrottleStore { LoginThrottleStore(connection, policy: policy) }

    func rows(_ condition: String, _ parameters: [any PostgresBindable]) throws -> Int {
        try connection.query("SELECT count(*) FROM login_attempts WHERE \(condition)", parameters).first!.decode(Int.self, 0)
    }

    /// Begins and fails one attempt; nil when it was refused.
    @discardableResult
    func fail(_ email: String, from address: String) throws -> Int? {
        switch try store.begin(email: email, address: address) {
        case .admitted(let attempt):
            try store.failed(attempt)
            return nil
        case .refused(let seconds):
            return seconds
        }
    }

    @Test(arguments: [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:aa:bb:1:2:3:4", "2001:db8:aa:bb::/64"),
        ("2001:db8:aa:bb:ffff::9", "2001:db8:aa:bb::/64"),
        ("::ffff:203.0.113.7", "::ffff:203.0.113.7"),
        ("unix:", "unix:"),
        ("", ""),
        ("not an address", "not an address"),
        (String(repeating: "x", count: 300), String(repeating: "x", count: 64)),
    ])
    func addressesAreCountedByHostOrIPv6Slash64(address: String, key: String) throws {
        #expect(try connection.query("SELECT masterplan_login_address_key($1)", [address]).first!.decode(String.self, 0) == key)
    }

    @Test func anAccountIsRefusedAfterItsLimitAndARefusalWritesNothing() throws {
        #expect(try fail("Ann@Example.org", from: "192.0.2.1") == nil)
        #expect(try fail("ann@example.org", from: "192.0.2.2") == nil)
        #expect(try fail("ANN@EXAMPLE.ORG", from: "192.0.2.3") == nil)
        let wait = try #require(try fail("ann@example.org", from: "192.0.2.4"), "the 4th attempt on one account (any case) is refused")
        #expect(wait > 590 && wait <= 600)
        #expect(try rows("account = $1", ["ann@example.org"]) == 3, "one row per password check; none for the refusal")
        #expect(try rows("address = $1", ["192.0.2.4"]) == 0)
        // Another account from the same addresses is not affected.
        #expect(try fail("bob@example.org", from: "192.0.2.1") == nil)
    }

    @Test func anAddressIsRefusedAfterItsLimitWhateverTheAccounts() throws {
        for n in 1...6 { #expect(try fail("spray-\(n)@example.org", from: "2001:db8:5::\(n)") == nil) }
        #expect(try fail("spray-7@example.org", from: "2001:db8:5::99") != nil, "one /64 is one address")
        #expect(try fail("spray-7@example.org", from: "2001:db8:6::1") == nil, "another /64 is another")
    }

    @Test func successForgivesTheAccountButItsFailuresStillCountForTheirAddresses() throws {
        try fail("cid@example.org", from: "198.51.100.1")
        try fail("cid@example.org", from: "198.51.100.2")
        guard case .admitted(let attempt) = try store.begin(email: "cid@example.org", address: "198.51.100.3") else {
            Issue.record("the third attempt should be admitted")
            return
        }
        #expect(try rows("account = $1", ["cid@example.org"]) == 3, "an attempt in flight counts already")
        try store.succeeded(attempt)
        #expect(try rows("account = $1", ["cid@example.org"]) == 0)
        #expect(try rows("address = $1", ["198.51.100.3"]) == 0, "a success is no failure")
        #expect(try rows("address IN ('198.51.100.1', '198.51.100.2') AND account IS NULL", []) == 2)
        for _ in 1...3 { #expect(try fail("cid@example.org", from: "198.51.100.4") == nil) }
        #expect(try fail("cid@example.org", from: "198.51.100.4") != nil)
    }

    @Test func failuresOutsideTheWindowNoLongerCountAndAreDeletedInBatches() throws {
        try connection.execute(
            """
            INSERT INTO login_attempts (account, address, attempted_at)
            SELECT 'old@example.org', '192.0.2.50', now() - interval '2 hours' - n * interval '1 second' FROM generate_series(1, 150) n
            """)
        #expect(try fail("old@example.org", from: "192.0.2.50") == nil, "150 failures two hours ago are outside a one-hour window")
        #expect(try rows("attempted_at < now() - interval '1 hour'", []) == 50, "an admitted attempt deletes at most 100 old rows")
        #expect(try fail("new@example.org", from: "192.0.2.51") == nil)
        #expect(try rows("attempted_at < now() - interval '1 hour'", []) == 0)
        #expect(try rows("true", []) == 2)
    }

    @Test func concurrentAttemptsOnOneAccountAdmitNoMoreThanItsLimit() throws {
        // Twelve workers at once, none finished: each admitted attempt is already counted when the
        // next worker decides, so exactly the limit gets to check a password.
        let admitted = Mutexed<Int>(0)
        let refused = Mutexed<Int>(0)
        let ready = DispatchGroup()
        let start = DispatchSemaphore(value: 0)
        let done = DispatchGroup()
        for worker in 0..<12 {
            ready.enter()
            done.enter()
            Thread { [conninfo, policy] in
                defer { done.leave() }
                let connection = try? Connection(conninfo)
                ready.leave()
                start.wait()
                guard let connection else { return }
                switch try? LoginThrottleStore(connection, policy: policy).begin(email: "race@example.org", address: "192.0.2.\(100 + worker)") {
                case .admitted: admitted.mutate { $0 += 1 }
                case .refused: refused.mutate { $0 += 1 }
                case nil: break
                }
            }.start()
        }
        ready.wait()
        for _ in 0..<12 { start.signal() }
        done.wait()
        #expect(admitted.value == 3)
        #expect(refused.value == 9)
        #expect(try rows("account = 'race@example.org'", []) == 3)
    }
}
