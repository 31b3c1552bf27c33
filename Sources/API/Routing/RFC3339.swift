import Foundation
import Store

/// RFC 3339 `date-time` (what the OpenAPI format `date-time` means): `YYYY-MM-DDTHH:MM:SS`, an
/// optional fraction of any length, then `Z` or `±HH:MM`; `T` and `Z` in either case.
enum RFC3339 {
    /// The instant `text` names, or nil when it is not an RFC 3339 date-time (a day the month does
    /// not have, an hour of 24, a missing offset, anything around it).
    static func date(_ text: String) -> Date? {
        var scan = TimestampScanner(text)
        guard let year = scan.digits(4), scan.literal("-"), let month = scan.digits(2), scan.literal("-"), let day = scan.digits(2),
              scan.literal("Tt"), let hour = scan.digits(2), scan.literal(":"), let minute = scan.digits(2), scan.literal(":"),
              let second = scan.digits(2) else { return nil }
        guard (1...12).contains(month), (1...TimestampScanner.days(inMonth: month, of: year)).contains(day), hour <= 23, minute <= 59,
              second <= 60 else { return nil }
        var fraction = 0.0
        if scan.literal(".") {
            let read = scan.fraction()
            guard read.digits > 0 else { return nil }
            fraction = read.value
        }
        var offsetSeconds = 0
        if scan.literal("Zz") {
            // UTC.
        } else if let sign = scan.sign() {
            guard let offsetHours = scan.digits(2), scan.literal(":"), let offsetMinutes = scan.digits(2), offsetHours <= 23,
                  offsetMinutes <= 59 else { return nil }
            offsetSeconds = sign * (offsetHours * 3600 + offsetMinutes * 60)
        } else {
            return nil
        }
        guard scan.isAtEnd else { return nil }
        let seconds = daysFromCivil(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    /// Days from 1970-01-01 to a date of the proleptic Gregorian calendar (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The instants PostgreSQL's `timestamptz` holds as `Connection` writes them (years 1 to 9999).
    static let postgresRange = Date(timeIntervalSince1970: -62_135_596_800)...Date(timeIntervalSince1970: 253_402_300_799)
}
