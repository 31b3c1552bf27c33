import Foundation
import JSON

/// A Swift type a column value (PostgreSQL text format) can be decoded to.
public protocol PostgresDecodable {
    /// Decodes `text`; nil means SQL NULL, which only Optional accepts.
    static func decodePostgres(_ text: String?, column: String) throws(PostgresError) -> Self
}

extension PostgresDecodable {
    static func notNull(_ text: String?, column: String) throws(PostgresError) -> String {
        guard let text else {
            throw PostgresError(kind: .decoding, message: "column \(column) is NULL but \(Self.self) was expected")
        }
        return text
    }

    static func mismatch(_ column: String) -> PostgresError {
        PostgresError(kind: .decoding, message: "column \(column) does not hold a \(Self.self)")
    }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public static func decodePostgres(_ text: String?, column: String) throws(PostgresError) -> Self {
        guard let text else { return nil }
        return try Wrapped.decodePostgres(text, column: column)
    }
}

extension String: PostgresDecodable {
    public static func decodePostgres(_ text: String?, column: String) throws(PostgresError) -> String {
        try notNull(text, column: column)
    }
}

extension Int: PostgresDecodable {
    public static func decodePostgres(_ text: String?, column: String) throws(PostgresError) -> Int {
        guard let v = Int(try notNull(text, column: column)) else { throw mismatch(column) }
        return v
    }
}

extension Int64: PostgresDecodable {
    public static func decodePostgres(_ text: String?, column: String) throws(PostgresError) -> Int64 {
        guard let v = Int64(try notNull(text, column: column)) else { throw mismatch(column) }
        return v
    }
}

extension Int32: PostgresDecodable {
    public static func decodePostgres(_ text: String?, column: String) throws(PostgresError) -> Int32 {
        guard let v = Int32(try notNull(text, column: column)) else { throw mismatch(column) }
        return v
    }
}

extension Bool: PostgresDecodable {
    public static func decodePostgres(_ text: String?, column: String) throws(PostgresError) -> Bool {
        switch try notNull(text, column: column) {
        case "t", "true": return true
        case "f", "false": return false
        default: throw mismatch(column)
        }
    }
}

extension Double: PostgresDecodable {
    /// Reads float8, float4 and numeric columns (numeric loses precision beyond a double's).
    public static func decodePostgres(_ text: String?, column: String) throws(PostgresError) -> Double {
        let t = try notNull(text, column: column)
        switch t {
        case "NaN": return .nan
        case "Infinity": return .infinity
        case "-Infinity": return -.infinity
        default:
            guard let v = Double(t) else { throw mismatch(column) }
            return v
        }
    }
}

extension UUID: PostgresDecodable {
    public static func decodePostgres(_ text: String?, column: String) throws(PostgresError) -> UUID {
        guard let v = UUID(uuidString: try notNull(text, column: column)) else { throw mismatch(column) }
        return v
    }
}

extension Date: PostgresDecodable {
    /// Reads timestamptz as the session prints it (ISO, UTC): `2026-11-25 08:02:45.123456+00`.
    public static func decodePostgres(_ text: String?, column: String) throws(PostgresError) -> Date {
        guard let v = PostgresTimestamp.parse(try notNull(text, column: column)) else { throw mismatch(column) }
        return v
    }
}

extension JSONValue: PostgresDecodable {
    /// Reads json and jsonb columns.
    public static func decodePostgres(_ text: String?, column: String) throws(PostgresError) -> JSONValue {
        let t = try notNull(text, column: column)
        do {
            return try JSONValue.parse(t, options: JSONParseOptions(maxDepth: 2048, maxBytes: Int.max))
        } catch {
            throw PostgresError(kind: .decoding, message: "column \(column) holds JSON that cannot be read: \(error)")
        }
    }
}

extension Array: PostgresDecodable where Element == String {
    /// Reads a one-dimensional text[] literal such as `{a,"b c",NULL}` (NULL elements are refused).
    public static func decodePostgres(_ text: String?, column: String) throws(PostgresError) -> [String] {
        guard let elements = PostgresArrayLiteral.parse(try notNull(text, column: column)) else {
            throw PostgresError(kind: .decoding, message: "column \(column) does not hold a one-dimensional text array without NULLs")
        }
        return elements
    }
}

/// Parser for the text form of one-dimensional arrays.
enum PostgresArrayLiteral {
    static func parse(_ text: String) -> [String]? {
        let scalars = Array(text.unicodeScalars)
        guard scalars.first == "{", scalars.last == "}" else { return nil }
        var elements: [String] = []
        var i = 1
        let end = scalars.count - 1
        if i == end { return [] }
        while i < end {
            var element = String.UnicodeScalarView()
            if scalars[i] == "\"" {
                i += 1
                while i < end, scalars[i] != "\"" {
                    if scalars[i] == "\\" { i += 1 }
                    guard i < end else { return nil }
                    element.append(scalars[i])
                    i += 1
                }
                guard i < end else { return nil }
                i += 1  // closing quote
            } else {
                while i < end, scalars[i] != "," {
                    if scalars[i] == "{" { return nil }  // nested arrays are not supported
                    element.append(scalars[i])
                    i += 1
                }
                if String(element) == "NULL" { return nil }
            }
            elements.append(String(element))
            if i < end {
                guard scalars[i] == "," else { return nil }
                i += 1
            }
        }
        return elements
    }
}

/// Conversion between `Date` and PostgreSQL's ISO timestamp text, without DateFormatter.
enum PostgresTimestamp {
    static func format(_ date: Date) -> String {
        let totalMicros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        var seconds = totalMicros / 1_000_000
        var micros = totalMicros % 1_000_000
        if micros < 0 { micros += 1_000_000; seconds -= 1 }
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 { secondOfDay += 86_400; days -= 1 }
        let (y, m, d) = civil(fromDays: days)
        func pad(_ v: Int64, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2)).\(pad(micros, 6))Z"
    }

    /// Parses `YYYY-MM-DD HH:MM:SS[.ffffff][+HH[:MM[:SS]]]` (also with `T` and `Z`).
    static func parse(_ text: String) -> Date? {
        let b = Array(text.utf8)
        var i = 0
        func number(_ width: Int) -> Int64? {
            guard i + width <= b.count else { return nil }
            var v: Int64 = 0
            for k in i..<(i + width) {
                guard b[k] >= 48, b[k] <= 57 else { return nil }
                v = v * 10 + Int64(b[k] - 48)
            }
            i += width
            return v
        }
        func expect(_ c: UInt8) -> Bool {
            guard i < b.count, b[i] == c else { return false }
            i += 1
            return true
        }
        guard let year = number(4), expect(UInt8(ascii: "-")), let month = number(2), expect(UInt8(ascii: "-")),
              let day = number(2) else { return nil }
        guard i < b.count, b[i] == UInt8(ascii: " ") || b[i] == UInt8(ascii: "T") else { return nil }
        i += 1
        guard let hour = number(2), expect(UInt8(ascii: ":")), let minute = number(2), expect(UInt8(ascii: ":")),
              let second = number(2) else { return nil }
        var fraction = 0.0
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            var scale = 0.1
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                fraction += Double(b[i] - 48) * scale
                scale /= 10
                i += 1
            }
        }
        var offsetSeconds: Int64 = 0
        if i < b.count {
            if b[i] == UInt8(ascii: "Z") {
                i += 1
            } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
                let sign: Int64 = b[i] == UInt8(ascii: "-") ? -1 : 1
                i += 1
                guard let oh = number(2) else { return nil }
                var om: Int64 = 0, os: Int64 = 0
                if expect(UInt8(ascii: ":")) { guard let v = number(2) else { return nil }; om = v }
                if expect(UInt8(ascii: ":")) { guard let v = number(2) else { return nil }; os = v }
                offsetSeconds = sign * (oh * 3600 + om * 60 + os)
            } else {
                return nil
            }
        }
        guard i == b.count else { return nil }
        let days = days(fromCivil: year, month, day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    // Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian).
    static func days(fromCivil y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp + (mp < 10 ? 3 : -9)
        return (m <= 2 ? y + 1 : y, m, d)
    }
}
