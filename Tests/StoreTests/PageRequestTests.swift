import Foundation
import Postgres
import Store
import TestSupport
import Testing

/// Sort keys from clients are checked before any statement sees them: what `PageKeyKind` accepts,
/// PostgreSQL casts; what PostgreSQL prints for a key column, `PageKeyKind` accepts.
@Suite(.dedicatedThreads) struct PageRequestTests {
    static let uuid = "6f1c3c1e-5b1f-4a36-9d7e-0c6a1f0e2b11"

    @Test func aKeyOfTheListsShapeIsAccepted() throws {
        let page = try PageRequest(limit: 10, after: ["2026-11-25 08:02:45.123456+00", Self.uuid.uppercased()], key: [.timestamp, .uuid])
        #expect(page.after == ["2026-11-25 08:02:45.123456+00", Self.uuid])
        #expect(page.limit == 10)
        #expect(PageRequest(limit: 3).after == nil)
    }

    @Test(arguments: [
        ["2026-02-30 10:00:00+00", uuid], ["2026-13-01 10:00:00+00", uuid], ["2026-01-01 24:00:00+00", uuid],
        ["2026-01-01 10:60:00+00", uuid], ["0000-01-01 00:00:00+00", uuid], ["infinity", uuid], ["yesterday", uuid],
        ["epoch", uuid], ["2026-01-01T10:00:00Z", uuid], ["2026-01-01 10:00:00", uuid], ["2026-01-01 10:00:00.1234567+00", uuid],
        ["2026-01-01 10:00:00+16", uuid], ["2026-01-01 10:00:00+00:60", uuid], [" 2026-01-01 10:00:00+00", uuid],
        ["2026-01-01 10:00:00+00", "not-a-uuid"], ["2026-01-01 10:00:00+00", uuid + "0"], ["2026-01-01 10:00:00+00"],
        ["2026-01-01 10:00:00+00", uuid, "x"], [],
    ])
    func aTimestampKeyThatIsNotOneTheListWroteIsRefused(_ values: [String]) {
        #expect(throws: PageKeyError.self) { try PageRequest(limit: 1, after: values, key: [.timestamp, .uuid]) }
    }

    @Test(arguments: ["abc", "1.5", "0", "-1", "2147483648", "99999999999", "1e3", " 1", "", "0x10"])
    func anIntegerKeyOutsideItsColumnIsRefused(_ value: String) {
        #expect(throws: PageKeyError.self) { try PageRequest(limit: 1, after: [value], key: [.int32(minimum: 1)]) }
    }

    @Test func aBigintKeyTakesTheWholeRangeAboveItsMinimum() throws {
        #expect(try PageRequest(limit: 1, after: ["9223372036854775807"], key: [.int64(minimum: 1)]).after == ["9223372036854775807"])
        #expect(throws: PageKeyError.self) { try PageRequest(limit: 1, after: ["9223372036854775808"], key: [.int64(minimum: 1)]) }
        #expect(throws: PageKeyError.self) { try PageRequest(limit: 1, after: ["0"], key: [.int64(minimum: 1)]) }
    }

    @Test func aTextKeyIsBoundedAndHasNoNUL() throws {
        #expect(try PageRequest(limit: 1, after: ["app/main.py"], key: [.text(maxBytes: 20)]).after == ["app/main.py"])
        #expect(throws: PageKeyError.self) { try PageRequest(limit: 1, after: ["a\u{0}b"], key: [.text(maxBytes: 20)]) }
        #expect(throws: PageKeyError.self) { try PageRequest(limit: 1, after: [String(repeating: "é", count: 11)], key: [.text(maxBytes: 20)]) }
    }

    @Test func whatPostgreSQLPrintsForTimestampsIsAcceptedAndWhatIsAcceptedPostgreSQLCasts() throws {
        let db = try Connection(try TestDatabase.migrated())
        var rng = SeededGenerator(state: 17)
        for _ in 0..<300 {
            // Any instant from year 1 to 9999, with and without microseconds.
            let seconds = Int64.random(in: -62_135_596_800...253_402_300_799, using: &rng)
            let micros = Bool.random(using: &rng) ? 0 : Int64.random(in: 0..<1_000_000, using: &rng)
            let printed = try db.query("SELECT (to_timestamp($1::float8) + make_interval(secs => $2::float8 / 1e6))::text",
                                       [Double(seconds), Double(micros)]).first!.decode(String.self, 0)
            let page = try PageRequest(limit: 1, after: [printed, Self.uuid], key: [.timestamp, .uuid])
            let cast = try db.query("SELECT $1::timestamptz::text", [page.after![0]]).first!.decode(String.self, 0)
            #expect(cast == printed)
        }
        // Accepted shapes PostgreSQL's own output does not use, cast all the same.
        for text in ["2024-02-29 23:59:59.9+05:30", "0001-01-01 00:00:00-15:59", "9999-12-31 23:59:59.999999+15", "2026-01-01 00:00:00.5-03", "0001-01-01 00:00:00+15"] {
            let page = try PageRequest(limit: 1, after: [text, Self.uuid], key: [.timestamp, .uuid])
            _ = try db.query("SELECT $1::timestamptz, $2::uuid", [page.after![0], page.after![1]])
        }
    }
}

/// A fixed-seed generator (SplitMix64), so the timestamps tried are the same on every run.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
